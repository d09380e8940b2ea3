//! The application façade over the pure engine and the SQLite store: one command,
//! one transaction. Loads each ticket's own policy by fingerprint (open tickets keep
//! their policy until `policy apply` moves them), appends the decided facts to the
//! hash-chained log and updates the ticket and timer projections.
//!
//! [`Service::batch`] runs several commands in one transaction for bulk work
//! (imports, load tests), where a commit per command costs more than the command.
//! Single commands and batches go through the same functions over a [`Tx`].

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::engine::{self, Command, Decision, EngineError, Ticket};
use crate::policy::{self, CompiledPolicy, Policy};
use crate::store::{NewEvent, Store, StoreError, TicketFilter, TicketRow, Timer, Tx};

mod batch;
mod events;
pub mod registry;
mod rows;
pub mod visits;

pub use events::EventSeq;
pub use registry::{Estate, EstateChange};

pub use batch::Batch;
use rows::{append, parse_decision, persist, project};
pub(crate) use rows::{parse_ticket, timers_of};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("unknown ticket `{0}`")]
    UnknownTicket(String),
    #[error("no policy has been applied to this database: run `steward policy apply PATH`")]
    NoPolicy,
    /// An estate the registry does not declare (once it declares any); the text
    /// has the did-you-mean.
    #[error("{0}")]
    UnknownEstate(String),
    /// The input names something that cannot be (an unknown role, an ambiguous
    /// fingerprint): the caller's mistake, nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// A policy the log names is not stored: the database is damaged.
    #[error("policy {0} is not in the database")]
    MissingPolicy(String),
    #[error("stored policy {0} is unreadable: {1}")]
    UnreadablePolicy(String, String),
    /// Some tickets of a batch failed; the others were processed and committed.
    #[error("{count} ticket(s) failed, the others were processed: {list}")]
    PartlyFailed { count: usize, list: String },
    /// The machine failed us (the OS random source, serializing a value).
    #[error("{0}")]
    System(String),
    #[error(transparent)]
    Compile(#[from] crate::policy::compiled::CompileError),
    #[error("stored ticket `{0}` is unreadable: {1}")]
    Corrupt(String, String),
    #[error(
        "ticket `{0}` was changed outside steward: its column {1} disagrees with its state; nothing was written (run `steward audit verify`)"
    )]
    Tampered(String, String),
}

pub struct Service {
    store: Store,
    policies: HashMap<String, CompiledPolicy>,
}

/// One decision of a ticket's timeline as the log holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    pub seq: i64,
    #[serde(flatten)]
    pub decision: Decision,
    /// The policy that made the decision.
    pub fingerprint: String,
}

/// How a policy is applied: see [`Service::apply`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Applying<'a> {
    /// `(plug-in id, module bytes)` as the loader returns them.
    pub modules: &'a [(String, Vec<u8>)],
    pub source: Option<&'a str>,
    /// One estate only (an overlay); `None` company-wide.
    pub estate: Option<&'a str>,
    /// Who applied it, recorded in the event.
    pub by: &'a str,
}

/// What `policy apply` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub fingerprint: String,
    pub previous: Option<String>,
    pub moved: usize,
}

/// One event a feed produced, and what it did to the tickets waiting on it.
#[derive(Debug, Clone)]
pub struct FedEvent {
    pub estate: String,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub fired: Vec<(String, Vec<Decision>)>,
    /// Why it was not recorded, or that it had been already.
    pub note: Option<String>,
}

pub use crate::audit::Verification;

impl Service {
    pub fn open(path: &Path) -> Result<Service, AppError> {
        Ok(Service {
            store: Store::open(path)?,
            policies: HashMap::new(),
        })
    }

    pub fn open_read_only(path: &Path) -> Result<Service, AppError> {
        Ok(Service {
            store: Store::open_read_only(path)?,
            policies: HashMap::new(),
        })
    }

    pub fn in_memory() -> Result<Service, AppError> {
        Ok(Service {
            store: Store::open_in_memory()?,
            policies: HashMap::new(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Make `policy` the active one; move every open ticket onto it (an event per ticket).
    /// With `estate`, the policy applies to that estate only (an estate overlay);
    /// other estates keep the company-wide active policy.
    pub fn apply_policy(
        &mut self,
        policy: &Policy,
        source: Option<&str>,
        estate: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied, AppError> {
        let how = Applying {
            source,
            estate,
            ..Applying::default()
        };
        self.apply(policy, &how, now)
    }

    /// [`Service::apply_policy`] with everything `policy apply` records: the
    /// plug-in modules (stored beside the canonical text, so tickets run from the
    /// database alone) and who applied it.
    pub fn apply(
        &mut self,
        policy: &Policy,
        how: &Applying<'_>,
        now: DateTime<Utc>,
    ) -> Result<Applied, AppError> {
        let Applying {
            modules,
            source,
            estate,
            by,
        } = *how;
        let meta_key = crate::store::active_setting_key(estate);
        let canonical = policy::canonical(policy);
        let compiled = CompiledPolicy::with_plugins(policy.clone(), modules)?;
        let fp = compiled.fingerprint.clone();
        let applied = self.store.write(|tx| -> Result<Applied, AppError> {
            if let Some(e) = estate {
                registry::check_known(tx, e)?;
            }
            let previous = tx.applied_policy(estate)?;
            for (id, bytes) in modules {
                if let Some(p) = policy.plugins.get(id) {
                    tx.put_blob(&p.sha256, bytes)?;
                }
            }
            tx.put_policy(&fp, &canonical, source, now)?;
            if previous.as_deref() == Some(fp.as_str()) {
                return Ok(Applied { fingerprint: fp.clone(), previous, moved: 0 });
            }
            tx.set_meta(&meta_key, &fp)?;
            let payload = serde_json::json!({"fingerprint": fp, "previous": previous, "source": source, "estate": estate, "by": by}).to_string();
            tx.append_event(&NewEvent { ticket: None, at: now, kind: "policy_applied", payload: &payload, fingerprint: &fp, rule: None })?;
            let mut moved = 0;
            for status in ["open", "resolved"] {
                for row in tx.tickets(&TicketFilter { status: Some(status), estate, limit: None })? {
                    // A company-wide apply leaves estates that have their own policy alone.
                    if row.fingerprint == fp || (estate.is_none() && tx.applied_policy(Some(&row.estate))?.is_some()) {
                        continue;
                    }
                    let old = parse_ticket(&row)?;
                    let (ticket, decisions) = engine::decide(Some(&old), &Command::MovePolicy, now.max(old.updated_at), &compiled)?;
                    persist(tx, Some(&old), &ticket, &decisions, &fp)?;
                    moved += 1;
                }
            }
            Ok(Applied { fingerprint: fp.clone(), previous, moved })
        })?;
        self.policies.insert(fp, compiled);
        Ok(applied)
    }

    /// The active policy for an estate (its own, else the company-wide one).
    pub fn active_policy_for(&mut self, estate: Option<&str>) -> Result<&CompiledPolicy, AppError> {
        let Service { store, policies } = self;
        store.read(move |tx| -> Result<_, AppError> {
            let fp = active_fingerprint(tx, estate)?;
            compiled(policies, tx, &fp)
        })
    }

    pub fn active_policy(&mut self) -> Result<&CompiledPolicy, AppError> {
        self.active_policy_for(None)
    }

    /// Open a ticket under the active policy of its estate.
    pub fn open_ticket(
        &mut self,
        intake: engine::OpenTicket,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        self.batch(|b| b.open_ticket(intake, now))
    }

    /// Run one command on one ticket, under the ticket's own policy.
    pub fn execute(
        &mut self,
        id: &str,
        cmd: &Command,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        self.batch(|b| b.execute(id, cmd, now))
    }

    /// Run `f` in one transaction: everything its commands decide is kept if it
    /// returns `Ok`, nothing if it returns `Err`.
    ///
    /// Return the first error a command gives rather than carrying on: a command
    /// that failed in the store may have appended part of its facts, and only
    /// rolling back the whole batch removes them.
    pub fn batch<T>(
        &mut self,
        f: impl FnOnce(&mut Batch<'_, '_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let Service { store, policies } = self;
        store.write(|tx| {
            let mut batch = Batch {
                tx,
                policies,
                written: HashMap::new(),
                active: HashMap::new(),
            };
            let result = f(&mut batch)?;
            batch.flush()?;
            Ok(result)
        })
    }

    /// Fire every timer due at `now`, across all tickets. A ticket whose timers
    /// cannot fire (e.g. a repeating limit overdue for decades) fails alone: the
    /// others are decided and kept, and the error names each ticket that failed.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        Self::all_or_failures(self.tick_report(now)?)
    }

    /// [`Service::tick`], reporting failed tickets beside the fired ones.
    pub fn tick_report(&mut self, now: DateTime<Utc>) -> Result<Ran, AppError> {
        let due = self.store.read(|tx| tx.due_tickets(now))?;
        self.run_many(&due, &Command::Tick, now, None, None)
    }

    /// [`Service::tick_report`] recording who fired the timers: after the facts
    /// of each transaction that fired any, a `request` event
    /// `{"actor", "role", "command": "tick", "at", "tickets"}` in the same
    /// transaction, as a command through the server records its caller.
    pub fn tick_report_by(
        &mut self,
        now: DateTime<Utc>,
        actor: &str,
        role: &str,
    ) -> Result<Ran, AppError> {
        let due = self.store.read(|tx| tx.due_tickets(now))?;
        self.run_many(&due, &Command::Tick, now, None, Some((actor, role)))
    }

    fn all_or_failures(ran: Ran) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        if ran.failed.is_empty() {
            return Ok(ran.fired);
        }
        let list: Vec<String> = ran
            .failed
            .iter()
            .map(|(id, why)| format!("ticket `{id}`: {why}"))
            .collect();
        Err(AppError::PartlyFailed {
            count: ran.failed.len(),
            list: list.join("; "),
        })
    }

    /// Run `cmd` on many tickets, a chunk at a time: each chunk is decided from a
    /// read snapshot *before* taking the write lock (hooks and plug-ins run
    /// without it), then written in one short transaction. A ticket changed by
    /// another writer in between is decided again inside the transaction, where
    /// the sandboxes' time ceilings bound how long that can hold the lock.
    fn run_many(
        &mut self,
        ids: &[String],
        cmd: &Command,
        now: DateTime<Utc>,
        header: Option<events::Header<'_>>,
        by: Option<(&str, &str)>,
    ) -> Result<Ran, AppError> {
        const CHUNK: usize = 256;
        let Service { store, policies } = self;
        let mut ran = Ran::default();
        let mut header = header;
        let chunks: Vec<&[String]> = if ids.is_empty() {
            vec![ids]
        } else {
            ids.chunks(CHUNK).collect()
        };
        for chunk in chunks {
            let decided = store.read(|tx| -> Result<Vec<Decided>, AppError> {
                let mut out = Vec::new();
                for id in chunk {
                    let Some(row) = tx.ticket(id)? else { continue };
                    let outcome = parse_ticket(&row).and_then(|ticket| {
                        // Timers fire at their own time, never before the ticket's last event.
                        let at = now.max(ticket.updated_at);
                        let policy = compiled(policies, tx, &row.fingerprint)?;
                        let (next, decisions) = engine::decide(Some(&ticket), cmd, at, policy)?;
                        Ok((ticket, next, decisions))
                    });
                    out.push(Decided { row, outcome });
                }
                Ok(out)
            })?;
            let header_now = header.take();
            let mut duplicate = false;
            let fired_before = ran.fired.len();
            store.write(|tx| -> Result<(), AppError> {
                if let Some(h) = &header_now {
                    let seq = events::append_header(tx, h.fp, h.estate, h.kind, now)?;
                    ran.event = Some(seq);
                    // Another writer recorded it since our read: it counts once.
                    if seq.duplicate {
                        duplicate = true;
                        return Ok(());
                    }
                }
                for d in decided {
                    let id = d.row.id.clone();
                    let Some(current) = tx.ticket(&id)? else {
                        continue;
                    };
                    let outcome = if current.state == d.row.state {
                        d.outcome
                    } else {
                        parse_ticket(&current).and_then(|ticket| {
                            let at = now.max(ticket.updated_at);
                            let policy = compiled(policies, tx, &current.fingerprint)?;
                            let (next, decisions) = engine::decide(Some(&ticket), cmd, at, policy)?;
                            Ok((ticket, next, decisions))
                        })
                    };
                    match outcome {
                        Ok((old, next, decisions)) => {
                            persist(tx, Some(&old), &next, &decisions, &current.fingerprint)?;
                            if !decisions.is_empty() {
                                ran.fired.push((id, decisions));
                            }
                        }
                        Err(e @ (AppError::Engine(_) | AppError::Corrupt(..))) => {
                            ran.failed.push((id, e.to_string()));
                        }
                        Err(e) => return Err(e),
                    }
                }
                if let Some((actor, role)) = by
                    && ran.fired.len() > fired_before
                {
                    let tickets: Vec<&str> = ran.fired[fired_before..]
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .collect();
                    let payload = serde_json::json!({
                        "actor": actor, "role": role, "command": cmd.name(),
                        "at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "tickets": tickets,
                    })
                    .to_string();
                    let fp = tx.applied_policy(None)?.unwrap_or_default();
                    tx.append_event(&NewEvent {
                        ticket: None,
                        at: now,
                        kind: "request",
                        payload: &payload,
                        fingerprint: &fp,
                        rule: None,
                    })?;
                }
                Ok(())
            })?;
            if duplicate {
                break;
            }
        }
        Ok(ran)
    }

    /// The time zone of the company-wide active policy, read without compiling it.
    pub fn active_timezone(&self) -> Option<chrono_tz::Tz> {
        #[derive(serde::Deserialize)]
        struct Head {
            timezone: String,
        }
        let text = self
            .store
            .read(|tx| -> Result<_, StoreError> {
                match tx.meta("active_policy")? {
                    Some(fp) => tx.policy(&fp),
                    None => Ok(None),
                }
            })
            .ok()??;
        serde_json::from_str::<Head>(&text)
            .ok()?
            .timezone
            .parse()
            .ok()
    }

    pub fn ticket(&self, id: &str) -> Result<(Ticket, Vec<Decision>), AppError> {
        let (ticket, recorded) = self.timeline(id)?;
        Ok((ticket, recorded.into_iter().map(|r| r.decision).collect()))
    }

    /// [`Service::ticket`] with each event's sequence number and the fingerprint
    /// of the policy that decided it, as the log records them.
    pub fn timeline(&self, id: &str) -> Result<(Ticket, Vec<Recorded>), AppError> {
        self.store.read(|tx| -> Result<_, AppError> {
            let row = tx
                .ticket(id)?
                .ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
            let ticket = parse_ticket(&row)?;
            let mut out = Vec::new();
            for e in tx.events_for_ticket(id)? {
                out.push(Recorded {
                    seq: e.seq,
                    decision: parse_decision(id, &e.payload)?,
                    fingerprint: e.fingerprint,
                });
            }
            Ok((ticket, out))
        })
    }

    pub fn tickets(
        &self,
        estate: Option<&str>,
        status: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Ticket>, AppError> {
        self.store.read(|tx| -> Result<_, AppError> {
            tx.tickets(&TicketFilter {
                estate,
                status,
                limit,
            })?
            .iter()
            .map(parse_ticket)
            .collect()
        })
    }

    /// Everything `audit verify` checks; see [`crate::audit`].
    pub fn verify(&self) -> Result<Verification, AppError> {
        crate::audit::verify(&self.store, None)
    }

    /// [`Service::verify`] against a checkpoint kept outside the database.
    pub fn verify_against(
        &self,
        against: crate::audit::Against<'_>,
    ) -> Result<Verification, AppError> {
        crate::audit::verify(&self.store, Some(against))
    }
}

/// What a command run over many tickets did: the decisions per ticket that
/// changed, and the tickets that failed alone (with why) while the others went on.
#[derive(Debug, Default)]
pub struct Ran {
    pub fired: Vec<(String, Vec<Decision>)>,
    pub failed: Vec<(String, String)>,
    /// For an external event: its entry in the log, and whether it was there already.
    pub event: Option<EventSeq>,
}

struct Decided {
    row: TicketRow,
    outcome: Result<(Ticket, Ticket, Vec<Decision>), AppError>,
}

/// The policy stored under `fp`, compiled once per [`Service`].
fn compiled<'p>(
    policies: &'p mut HashMap<String, CompiledPolicy>,
    tx: &Tx<'_>,
    fp: &str,
) -> Result<&'p CompiledPolicy, AppError> {
    if !policies.contains_key(fp) {
        // `tx.policy` and `tx.blob` refuse text and modules that no longer hash
        // to their keys, so what runs is what the events will be stamped with.
        let text = tx
            .policy(fp)?
            .ok_or_else(|| AppError::MissingPolicy(fp.to_string()))?;
        let mut blob_error = None;
        let c = CompiledPolicy::from_canonical(&text, |sha| match tx.blob(sha) {
            Ok(bytes) => bytes,
            Err(e) => {
                blob_error.get_or_insert(e);
                None
            }
        });
        if let Some(e) = blob_error {
            return Err(e.into());
        }
        let c = c?;
        if c.fingerprint != fp {
            // The text hashes to `fp` but does not read back to the same model:
            // a hand-written text under a real digest, or a steward bug.
            return Err(AppError::Store(StoreError::Tampered {
                path: tx.name().to_owned(),
                what: format!("stored policy {fp} (it reads back as {})", c.fingerprint),
            }));
        }
        policies.insert(fp.to_string(), c);
    }
    policies.get(fp).ok_or(AppError::NoPolicy)
}

/// `T00001`, `T00002`, ...: the next number of the store's sequence, skipping
/// numbers already taken by tickets opened with an explicit `--id`.
fn next_ticket_id(tx: &mut Tx<'_>) -> Result<(String, i64), AppError> {
    loop {
        let n = tx.next_ticket_number()?;
        let id = format!("T{n:05}");
        if tx.ticket(&id)?.is_none() {
            return Ok((id, n));
        }
    }
}

/// The policy a new ticket of `estate` opens under, from the log (the setting
/// beside it is a projection that `audit verify` checks, never an input).
fn active_fingerprint(tx: &Tx<'_>, estate: Option<&str>) -> Result<String, AppError> {
    tx.active_policy(estate)?.ok_or(AppError::NoPolicy)
}
