//! External events (rain, a typhoon warning, ...): what `steward event KIND`, the
//! server's `POST /v1/events` and `event feed` share. An event names an estate
//! the registry knows and a kind the estate's policy declares; the same event
//! (kind, estate, time) recorded twice counts once.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::diagnostic::did_you_mean;
use crate::engine::{Command, Decision};
use crate::policy::CompiledPolicy;
use crate::store::{EXTERNAL_EVENT, NewEvent, Tx};

use super::{AppError, Batch, FedEvent, Ran, Service, compiled, registry};

/// Where an event stands in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EventSeq {
    /// The `seq` of its `external_event` entry.
    pub seq: i64,
    /// It had been recorded before: nothing was written or fired this time.
    pub duplicate: bool,
}

/// Refuse an estate the registry does not know or a kind the estate's policy
/// does not declare; returns the fingerprint of that policy.
pub(super) fn validate(
    tx: &Tx<'_>,
    policies: &mut HashMap<String, CompiledPolicy>,
    estate: &str,
    kind: &str,
) -> Result<String, AppError> {
    if estate.is_empty() || kind.is_empty() {
        return Err(AppError::Invalid(
            "an event needs an estate and a kind, e.g. {\"estate\": \"riverside\", \"kind\": \"rain\"}".into(),
        ));
    }
    registry::check_known(tx, estate)?;
    let fp = tx.active_policy(Some(estate))?.ok_or(AppError::NoPolicy)?;
    let p = &compiled(policies, tx, &fp)?.policy;
    let kinds = p.event_kinds();
    if kinds.contains(kind) {
        return Ok(fp);
    }
    let hint = match did_you_mean(kind, kinds.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if kinds.is_empty() => "it declares no event kind ([[event]])".to_owned(),
        None => format!(
            "it declares: {}",
            kinds.iter().copied().collect::<Vec<_>>().join(", ")
        ),
    };
    Err(AppError::Invalid(format!(
        "event kind `{kind}` is not declared by policy `{}`, which governs estate `{estate}`: {hint}",
        p.id
    )))
}

/// Append the `external_event` entry unless the same one is there already.
pub(super) fn append_header(
    tx: &mut Tx<'_>,
    fp: &str,
    estate: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<EventSeq, AppError> {
    if let Some(seq) = tx.external_event(estate, kind, at)? {
        return Ok(EventSeq {
            seq,
            duplicate: true,
        });
    }
    let payload = serde_json::json!({"event": kind, "estate": estate}).to_string();
    let row = tx.append_event(&NewEvent {
        ticket: None,
        at,
        kind: EXTERNAL_EVENT,
        payload: &payload,
        fingerprint: fp,
        rule: None,
    })?;
    Ok(EventSeq {
        seq: row.seq,
        duplicate: false,
    })
}

impl Batch<'_, '_> {
    /// [`Service::record_event`] inside the batch's transaction (the server's
    /// writer groups requests this way): the entry, then the event on every
    /// ticket of the estate waiting for it; a ticket the engine cannot decide
    /// fails alone.
    pub fn event(&mut self, estate: &str, kind: &str, now: DateTime<Utc>) -> Result<Ran, AppError> {
        let fp = validate(self.tx, self.policies, estate, kind)?;
        let seq = append_header(self.tx, &fp, estate, kind, now)?;
        let mut ran = Ran {
            event: Some(seq),
            ..Ran::default()
        };
        if seq.duplicate {
            return Ok(ran);
        }
        let cmd = Command::Event {
            kind: kind.to_owned(),
        };
        // The waiting list as the batch stands (see [`Batch::tickets_waiting_for`]);
        // each ticket takes the event at `now` or its own last event if later.
        for id in self.tickets_waiting_for(estate, kind)? {
            let at = self.last_event_at(&id)?.map_or(now, |last| now.max(last));
            match self.execute(&id, &cmd, at) {
                Ok((_, d)) if !d.is_empty() => ran.fired.push((id, d)),
                Ok(_) => {}
                Err(AppError::Store(e)) => return Err(AppError::Store(e)),
                Err(e) => ran.failed.push((id, e.to_string())),
            }
        }
        Ok(ran)
    }
}

impl Service {
    /// An external event for every ticket of an estate waiting on it; see
    /// [`Service::record_event`].
    pub fn event(
        &mut self,
        estate: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        let ran = self.record_event(estate, kind, now)?;
        Self::all_or_failures(Ran { event: None, ..ran })
    }

    /// Record the event `kind` at `estate` at `now`, and make due every revisit
    /// of the estate waiting for it. Recorded already: nothing changes, and
    /// [`Ran::event`] says it was a duplicate.
    pub fn record_event(
        &mut self,
        estate: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Ran, AppError> {
        let Service { store, policies } = self;
        let (fp, seen) = store.read(|tx| -> Result<_, AppError> {
            let fp = validate(tx, policies, estate, kind)?;
            Ok((fp, tx.external_event(estate, kind, now)?))
        })?;
        if let Some(seq) = seen {
            return Ok(Ran {
                event: Some(EventSeq {
                    seq,
                    duplicate: true,
                }),
                ..Ran::default()
            });
        }
        let waiting = self.store.read(|tx| tx.tickets_waiting_for(estate, kind))?;
        let header = Header {
            fp: &fp,
            estate,
            kind,
        };
        self.run_many(
            &waiting,
            &Command::Event { kind: kind.into() },
            now,
            Some(header),
            None,
        )
    }

    /// Turn a feed into events with the event-source plug-in `plugin` of each
    /// estate's own policy, and record each event (at its own hour, in that
    /// policy's time zone) that is not later than `now`. An event for an estate
    /// whose policy has no such plug-in, or that the registry or the policy
    /// refuses, is listed with the reason and not recorded.
    pub fn feed(
        &mut self,
        plugin: &str,
        input: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<FedEvent>, AppError> {
        let scopes = self.store.read(|tx| -> Result<_, AppError> {
            let mut fps: Vec<String> = tx.applied_policy(None)?.into_iter().collect();
            for a in tx.applications()? {
                if let Some(e) = a.estate
                    && let Some(fp) = tx.active_policy(Some(&e))?
                    && !fps.contains(&fp)
                {
                    fps.push(fp);
                }
            }
            Ok(fps)
        })?;
        if scopes.is_empty() {
            return Err(AppError::NoPolicy);
        }
        // Each policy's events, kept for the estates that policy governs.
        let mut produced: Vec<(String, chrono_tz::Tz, crate::plugin::PluginEvent)> = Vec::new();
        let mut errors = Vec::new();
        let mut found = false;
        for fp in &scopes {
            let Service { store, policies } = &mut *self;
            let got = store.read(|tx| -> Result<_, AppError> {
                let p = compiled(policies, tx, fp)?;
                if !p.policy.plugins.contains_key(plugin) {
                    return Ok(None);
                }
                Ok(Some((p.tz, p.plugin_events(plugin, input))))
            })?;
            match got {
                None => {}
                Some(_)
                    if {
                        found = true;
                        false
                    } => {}
                Some((tz, Ok(events))) => {
                    produced.extend(events.into_iter().map(|e| (fp.clone(), tz, e)));
                }
                Some((_, Err(e))) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors.join("; ")));
        }
        if !found {
            // No policy in force has the plug-in: let the company's say which it has.
            let fp = scopes.first().cloned().unwrap_or_default();
            let Service { store, policies } = &mut *self;
            let message = store.read(|tx| -> Result<_, AppError> {
                let p = compiled(policies, tx, &fp)?;
                Ok(p.plugin_events(plugin, input).err())
            })?;
            if let Some(m) = message {
                return Err(AppError::Invalid(m));
            }
        }
        let governing = self.store.read(|tx| -> Result<_, AppError> {
            let mut by_estate = BTreeMap::new();
            for (_, _, e) in &produced {
                if !by_estate.contains_key(&e.estate) {
                    by_estate.insert(e.estate.clone(), tx.active_policy(Some(&e.estate))?);
                }
            }
            Ok(by_estate)
        })?;
        produced.retain(|(fp, _, e)| governing.get(&e.estate).and_then(Option::as_ref) == Some(fp));
        produced.sort_by_key(|(_, _, e)| e.hour);
        let mut out = Vec::new();
        for (_, tz, e) in produced {
            let Some(at) = e.instant(tz, now) else {
                continue;
            };
            let (fired, note) = match self.record_event(&e.estate, &e.kind, at) {
                Ok(ran) => {
                    let note = match ran.event {
                        Some(s) if s.duplicate => {
                            Some(format!("already recorded (event {})", s.seq))
                        }
                        _ => None,
                    };
                    let failed: Vec<String> = ran
                        .failed
                        .iter()
                        .map(|(id, why)| format!("ticket `{id}`: {why}"))
                        .collect();
                    let note = if failed.is_empty() {
                        note
                    } else {
                        Some(failed.join("; "))
                    };
                    (ran.fired, note)
                }
                Err(AppError::Invalid(why) | AppError::UnknownEstate(why)) => {
                    (Vec::new(), Some(why))
                }
                Err(err) => return Err(err),
            };
            out.push(FedEvent {
                estate: e.estate,
                kind: e.kind,
                at,
                fired,
                note,
            });
        }
        Ok(out)
    }
}

/// The `external_event` entry [`Service::run_many`] writes with its first chunk.
pub(super) struct Header<'a> {
    pub fp: &'a str,
    pub estate: &'a str,
    pub kind: &'a str,
}
