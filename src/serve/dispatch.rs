//! The dispatcher: routes new outbox entries to channels (one delivery row per
//! channel) and sends due deliveries, each in its own task with a timeout, so
//! a receiver that hangs or fails holds up only its own deliveries. Outcomes
//! are written through the writer: delivered, or retried later with backoff,
//! or dead after the last attempt. State lives in the database, so a restart
//! resends what was in flight: at least once, never lost.
//!
//! Several servers may dispatch from one database. Each claims the due
//! deliveries it sends with a lease (its name and an expiry) in one short
//! transaction, sends outside it, and records the outcome only if the lease
//! is still its own. A server that dies mid-send leaves leases that lapse,
//! after which another server claims and sends those deliveries.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::outbox::{self, Deployment, channels};
use crate::service::AppError;
use crate::store::{Delivery, Lease, OutboxEntry};

use super::State;

type Key = (i64, String, String);

pub async fn run(state: State, deployment: Arc<Deployment>, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder().build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "dispatcher: cannot build the HTTP client; nothing is delivered");
            return;
        }
    };
    let worker = Arc::new(worker_name());
    tracing::info!(worker = %worker, lease_seconds = deployment.dispatch.lease_seconds, "dispatcher started");
    let in_flight: Arc<Mutex<HashSet<Key>>> = Arc::default();
    let tz = state
        .readers
        .with(|svc| {
            Ok(svc
                .store()
                .read(|tx| -> Result<_, crate::store::StoreError> {
                    let fp = tx.active_policy(None)?.unwrap_or_default();
                    Ok(super::writer::policy_tz(tx, &fp))
                })?)
        })
        .await
        .unwrap_or(chrono_tz::UTC);
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(p) = route(&state, &deployment).await {
            tracing::warn!(detail = %p, "dispatcher: routing failed");
        }
        let now = state.clock.now();
        let due = match claim(&state, &deployment, &worker, now).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(detail = %e, "dispatcher: claiming due deliveries failed");
                Vec::new()
            }
        };
        for (entry, delivery) in due {
            let key = (
                delivery.seq,
                delivery.recipient.clone(),
                delivery.channel.clone(),
            );
            let fresh = in_flight
                .lock()
                .map(|mut s| s.insert(key.clone()))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let (state, deployment, client, in_flight, worker) = (
                state.clone(),
                deployment.clone(),
                client.clone(),
                in_flight.clone(),
                worker.clone(),
            );
            tokio::spawn(async move {
                let d = attempt(&state, &deployment, &client, entry, delivery, tz).await;
                save(&state, d, &worker).await;
                if let Ok(mut s) = in_flight.lock() {
                    s.remove(&key);
                }
            });
        }
        let woken = state.wakers.outbox.clone();
        // The real-time bound catches what another process wrote (`outbox
        // release`, `tick` from cron) whatever the server's clock does.
        tokio::select! {
            _ = state.clock.sleep_until(now + chrono::Duration::seconds(1)) => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = woken.notified() => {}
            _ = stop.changed() => {}
        }
        // A real-time floor between rounds, whatever the clock does.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Leases the deliveries due at `now` to this server, through the writer (on
/// SQLite the one write connection; on PostgreSQL a short transaction).
async fn claim(
    state: &State,
    deployment: &Deployment,
    worker: &Arc<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(OutboxEntry, Delivery)>, String> {
    let lease = i64::try_from(deployment.dispatch.lease_seconds).unwrap_or(i64::MAX);
    let until = now + chrono::Duration::seconds(lease);
    let worker = worker.clone();
    let claimed = state
        .writer
        .run(move |svc| {
            svc.batch(|b| {
                let lease = Lease {
                    worker: &worker,
                    now,
                    until,
                };
                b.tx().claim_deliveries(&lease, 256).map_err(AppError::from)
            })
        })
        .await;
    match claimed {
        Some(Ok(due)) => Ok(due),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the writer stopped".into()),
    }
}

/// A name for this dispatcher in the leases it takes: unique per process
/// start, so that a restarted server does not take its predecessor's leases
/// for its own.
fn worker_name() -> String {
    let mut b = [0u8; 4];
    let tag = match getrandom::fill(&mut b) {
        Ok(()) => crate::digest::hex(&b),
        Err(_) => "0".repeat(8),
    };
    format!("serve-{}-{tag}", std::process::id())
}

/// Routes every unrouted entry (a batch at a time) in one write.
async fn route(state: &State, deployment: &Arc<Deployment>) -> Result<(), String> {
    loop {
        let entries = state
            .readers
            .with(|svc| Ok(svc.store().read(|tx| tx.outbox_unrouted(256))?))
            .await
            .map_err(|p| p.detail)?;
        if entries.is_empty() {
            return Ok(());
        }
        let d = deployment.clone();
        let now = state.clock.now();
        let routed = state
            .writer
            .run(move |svc| {
                svc.batch(|b| {
                    for e in &entries {
                        let chans = d.channels_for(&e.estate, &e.recipient);
                        if chans.is_empty() {
                            tracing::warn!(seq = e.seq, recipient = %e.recipient, estate = %e.estate,
                                "no channel in the deployment file reaches this recipient");
                        }
                        b.tx().route_entry(e.seq, &e.recipient, &chans, now)?;
                    }
                    Ok::<_, AppError>(())
                })
            })
            .await;
        match routed {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the writer stopped".into()),
        }
    }
}

async fn attempt(
    state: &State,
    deployment: &Deployment,
    client: &reqwest::Client,
    entry: OutboxEntry,
    mut d: Delivery,
    tz: chrono_tz::Tz,
) -> Delivery {
    let Some(channel) = deployment.channels.get(&d.channel) else {
        d.state = "dead".into();
        d.last_error = Some(format!(
            "channel `{}` is no longer in the deployment file",
            d.channel
        ));
        return d;
    };
    let message = channels::Message::new(&entry, &d.channel, outbox::text(&entry, tz), tz);
    let timeout = Duration::from_secs(deployment.dispatch.timeout_seconds.max(1));
    let now = state.clock.now();
    let result = channels::send(
        client,
        &d.channel,
        channel,
        &message,
        now.timestamp(),
        timeout,
    )
    .await;
    d.attempts += 1;
    match result {
        Ok(()) => {
            state.metrics.deliveries_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(delivery = %message.delivery_id, attempts = d.attempts, "delivered");
            d.state = "delivered".into();
            d.delivered_at = Some(state.clock.now());
            d.last_error = None;
        }
        Err(why) => {
            state
                .metrics
                .deliveries_failed
                .fetch_add(1, Ordering::Relaxed);
            let attempts = u32::try_from(d.attempts).unwrap_or(u32::MAX);
            if attempts >= deployment.dispatch.max_attempts {
                tracing::error!(delivery = %message.delivery_id, attempts, error = %why, "dead-lettered");
                d.state = "dead".into();
            } else {
                let wait = deployment.backoff(attempts, jitter());
                tracing::warn!(delivery = %message.delivery_id, attempts, error = %why, retry_in = ?wait, "delivery failed");
                d.next_at =
                    state.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
            }
            d.last_error = Some(why);
        }
    }
    d
}

async fn save(state: &State, d: Delivery, worker: &Arc<String>) {
    let id = channels::delivery_id(d.seq, &d.recipient, &d.channel);
    let worker = worker.clone();
    let saved = state
        .writer
        .run(move |svc| svc.batch(|b| b.tx().finish_delivery(&d, &worker).map_err(AppError::from)))
        .await;
    match saved {
        Some(Ok(true)) => {}
        // The lease lapsed and another server claimed the delivery: its
        // attempt decides (the receiver may see this one twice).
        Some(Ok(false)) => {
            tracing::warn!(delivery = %id, "lease lost before the outcome was recorded; another server has it");
        }
        // Still pending and leased in the database: sent again once the
        // lease lapses (at least once).
        Some(Err(e)) => {
            tracing::error!(delivery = %id, error = %e, "cannot record a delivery's outcome")
        }
        None => {
            tracing::error!(delivery = %id, "cannot record a delivery's outcome: the writer stopped")
        }
    }
}

/// A random number in [0, 1) from the OS source; 1.0 (no shortening) if it fails.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 1.0,
    }
}
