//! The dispatcher: routes new outbox entries to channels (one delivery row per
//! channel) and sends due deliveries, each in its own task with a timeout, so
//! a receiver that hangs or fails holds up only its own deliveries. Outcomes
//! are written through the writer: delivered, or retried later with backoff,
//! or dead after the last attempt. State lives in the database, so a restart
//! resends what was in flight: at least once, never lost.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::outbox::{self, Deployment, channels};
use crate::service::AppError;
use crate::store::{Delivery, OutboxEntry};

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
        let due = state
            .readers
            .with(move |svc| Ok(svc.store().read(|tx| tx.due_deliveries(now, 256))?))
            .await
            .unwrap_or_default();
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
            let (state, deployment, client, in_flight) = (
                state.clone(),
                deployment.clone(),
                client.clone(),
                in_flight.clone(),
            );
            tokio::spawn(async move {
                attempt(&state, &deployment, &client, entry, delivery, tz).await;
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
) {
    let Some(channel) = deployment.channels.get(&d.channel) else {
        d.state = "dead".into();
        d.last_error = Some(format!(
            "channel `{}` is no longer in the deployment file",
            d.channel
        ));
        save(state, d).await;
        return;
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
    save(state, d).await;
}

async fn save(state: &State, d: Delivery) {
    let saved = state
        .writer
        .run(move |svc| svc.batch(|b| b.tx().update_delivery(&d).map_err(AppError::from)))
        .await;
    if let Some(Err(e)) = saved {
        // Still pending in the database: it is sent again (at least once).
        tracing::error!(error = %e, "cannot record a delivery's outcome");
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
