//! How a command's decisions print, and in which time zone: shared by `ticket`,
//! `tick` and `event`, which each record decisions and show what happened.

use crate::engine::{Decision, Ticket};
use crate::service::Service;

use super::args::{Format, Global};
use super::{EXIT_OK, output, ticket_json, timeline};

pub fn tz_of(svc: &mut Service) -> chrono_tz::Tz {
    svc.active_policy().map(|p| p.tz).unwrap_or(chrono_tz::UTC)
}

/// The decisions one ticket command made, as a timeline table or JSON.
pub fn print_decisions(svc: &Service, ticket: &Ticket, decisions: &[Decision], g: &Global) -> i32 {
    let tz = ticket_tz(svc, ticket);
    match g.format {
        Format::Json => output::json(&ticket_json::outcome(ticket, decisions, tz)),
        _ => output::print(&output::table(
            &["time", "ticket", "what happened", "rule"],
            &timeline::rows(ticket.id(), decisions, tz),
        )),
    }
    EXIT_OK
}

pub fn ticket_tz(svc: &Service, ticket: &Ticket) -> chrono_tz::Tz {
    policy_tz(svc, &ticket.fingerprint)
}

/// The time zone of the policy stored under `fingerprint` (UTC if unreadable).
fn policy_tz(svc: &Service, fingerprint: &str) -> chrono_tz::Tz {
    svc.store()
        .read(|tx| Ok::<_, crate::store::StoreError>(policy_tz_in(tx, fingerprint)))
        .unwrap_or(chrono_tz::UTC)
}

/// [`policy_tz`] inside an open transaction.
pub fn policy_tz_in(tx: &crate::store::Tx<'_>, fingerprint: &str) -> chrono_tz::Tz {
    #[derive(serde::Deserialize)]
    struct Head {
        timezone: String,
    }
    tx.policy(fingerprint)
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str::<Head>(&text).ok())
        .and_then(|p| p.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

pub fn print_batch(
    fired: &[(String, Vec<Decision>)],
    tz: chrono_tz::Tz,
    g: &Global,
    empty: &str,
) -> i32 {
    match g.format {
        Format::Json => {
            let v: Vec<_> = fired
                .iter()
                .map(|(id, d)| serde_json::json!({"ticket": id, "events": ticket_json::events(id, d, tz)}))
                .collect();
            output::json(&serde_json::Value::Array(v));
        }
        _ if fired.is_empty() => println!("{empty}"),
        _ => {
            let rows: Vec<Vec<String>> = fired
                .iter()
                .flat_map(|(id, d)| timeline::rows(id, d, tz))
                .collect();
            output::print(&output::table(
                &["time", "ticket", "what happened", "rule"],
                &rows,
            ));
        }
    }
    EXIT_OK
}
