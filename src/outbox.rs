//! Notifications out: the outbox is a projection of the log (one row per
//! `notified` or `escalated` event and recipient, written by a trigger in the
//! event's own transaction; `audit verify` rebuilds it), the deployment file
//! maps recipients to channels, and [`channels`] sends one attempt. The
//! dispatcher that drives them is `serve::dispatch`.

pub mod channels;
pub mod deploy;
mod mail;

use crate::engine::Decision;
use crate::store::OutboxEntry;

pub use deploy::{Channel, Deployment};

/// The text of a notification as a person reads it: the same sentence the
/// ticket's timeline shows for the event.
pub fn text(e: &OutboxEntry, tz: chrono_tz::Tz) -> String {
    let what = serde_json::from_str::<Decision>(&e.payload)
        .map(|d| crate::cli::timeline::summary(&d.fact, tz))
        .unwrap_or_else(|_| e.kind.clone());
    let rule = e
        .rule
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!(
        "[steward] {} · {} → {}: {what}{rule}",
        e.ticket, e.estate, e.recipient
    )
}
