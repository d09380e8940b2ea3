//! Fires timers at their due minute. It asks the store for the earliest due
//! time (one read of the partial index `timers_due`, never a scan of open
//! tickets), sleeps until then on the server's clock, and runs
//! [`Service::tick_report`] on the writer: the same engine path as `steward
//! tick`, so the outcomes are the same. After downtime the first wake-up finds
//! everything overdue and the engine fires each timer at its own time, in order.
//!
//! A command through the server wakes it at once (the timers may have moved
//! earlier); a command from the CLI on the same database is seen at the next
//! poll, at most [`POLL`] later. Both write under `BEGIN IMMEDIATE` and a
//! ticket changed in between is decided again inside the transaction, so a
//! timer never fires twice.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use super::State;

/// The longest the scheduler sleeps without looking at the database again.
pub const POLL: Duration = Duration::from_secs(15);

pub async fn run(state: State, woken: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let now = state.clock.now();
        let next = state
            .readers
            .with(|svc| Ok(svc.store().read(|tx| tx.next_due())?))
            .await;
        match next {
            Ok(Some(due)) if due <= now => {
                if !fire(&state, now).await {
                    // Due but nothing fired (a ticket that fails alone, a timer
                    // the engine holds back): wait for the clock or a command.
                    tokio::select! {
                        _ = state.clock.sleep_until(now + chrono::Duration::minutes(1)) => {}
                        _ = tokio::time::sleep(POLL) => {}
                        _ = woken.notified() => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            Ok(next) => {
                let until = next.unwrap_or(now + chrono::Duration::days(1));
                let poll = now + chrono::Duration::from_std(POLL).unwrap_or_default();
                tokio::select! {
                    _ = state.clock.sleep_until(until.min(poll)) => {}
                    _ = woken.notified() => {}
                    _ = stop.changed() => {}
                }
            }
            Err(p) => {
                tracing::warn!(detail = %p.detail, "scheduler: cannot read the due timers");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// `true` when some ticket changed.
async fn fire(state: &State, now: DateTime<Utc>) -> bool {
    let ran = state
        .writer
        .run(move |svc| svc.tick_report_by(now, "scheduler", "scheduler"))
        .await;
    match ran {
        Some(Ok(ran)) => {
            state
                .metrics
                .timers_fired
                .fetch_add(ran.fired.len() as u64, Ordering::Relaxed);
            for (id, decisions) in &ran.fired {
                tracing::info!(ticket = %id, facts = decisions.len(), at = %now, "timers fired");
            }
            for (id, why) in &ran.failed {
                tracing::error!(ticket = %id, error = %why, "timer could not fire");
            }
            state.wakers.outbox.notify_one();
            !ran.fired.is_empty()
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, "tick failed");
            false
        }
        None => false,
    }
}
