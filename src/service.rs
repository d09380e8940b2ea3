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

const ACTIVE_POLICY: &str = "active_policy";

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
    #[error("{0}")]
    Policy(String),
    #[error("stored ticket `{0}` is unreadable: {1}")]
    Corrupt(String, String),
}

pub struct Service {
    store: Store,
    policies: HashMap<String, CompiledPolicy>,
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
}

/// What `audit verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub events: i64,
    pub chain_ok: bool,
    pub chain_problem: Option<String>,
    pub tickets: usize,
    pub mismatched: Vec<String>,
}

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
        self.apply_policy_with_plugins(policy, &[], source, estate, now)
    }

    /// [`Service::apply_policy`] for a policy with plug-ins: `modules` are
    /// `(plug-in id, module bytes)` as the loader returns them. The modules are
    /// stored beside the canonical text, so tickets run from the database alone.
    pub fn apply_policy_with_plugins(
        &mut self,
        policy: &Policy,
        modules: &[(String, Vec<u8>)],
        source: Option<&str>,
        estate: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied, AppError> {
        let meta_key = active_key(estate);
        let canonical = policy::canonical(policy);
        let compiled =
            CompiledPolicy::with_plugins(policy.clone(), modules).map_err(AppError::Policy)?;
        let fp = compiled.fingerprint.clone();
        let applied = self.store.write(|tx| -> Result<Applied, AppError> {
            let previous = tx.meta(&meta_key)?;
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
            let payload = serde_json::json!({"fingerprint": fp, "previous": previous, "source": source, "estate": estate}).to_string();
            tx.append_event(&NewEvent { ticket: None, at: now, kind: "policy_applied", payload: &payload, fingerprint: &fp, rule: None })?;
            let mut moved = 0;
            for status in ["open", "resolved"] {
                for row in tx.tickets(&TicketFilter { status: Some(status), estate, limit: None })? {
                    // A company-wide apply leaves estates that have their own policy alone.
                    if row.fingerprint == fp || (estate.is_none() && tx.meta(&active_key(Some(&row.estate)))?.is_some()) {
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
            };
            let result = f(&mut batch)?;
            batch.flush()?;
            Ok(result)
        })
    }

    /// Fire every timer due at `now`, across all tickets, in one transaction.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        let due = self.store.read(|tx| tx.due_tickets(now))?;
        self.run_many(&due, &Command::Tick, now, None)
    }

    /// Turn a feed into events with the active policy's event-source plug-in `plugin`
    /// and apply each event (at its own hour, in the policy's time zone) that is not
    /// later than `now`. Returns the events applied and what they did.
    pub fn feed(
        &mut self,
        plugin: &str,
        input: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<FedEvent>, AppError> {
        let policy = self.active_policy()?;
        let tz = policy.tz;
        let mut events = policy
            .plugin_events(plugin, input)
            .map_err(AppError::Policy)?;
        events.sort_by_key(|e| e.hour);
        let mut out = Vec::new();
        for e in events {
            let Some(at) = e
                .hour
                .and_local_timezone(tz)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
            else {
                continue;
            };
            if at > now {
                continue;
            }
            let fired = self.event(&e.estate, &e.kind, at)?;
            out.push(FedEvent {
                estate: e.estate,
                kind: e.kind,
                at,
                fired,
            });
        }
        Ok(out)
    }

    /// An external event (e.g. rain) for every ticket of an estate waiting on it.
    pub fn event(
        &mut self,
        estate: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        let waiting = self.store.read(|tx| tx.tickets_waiting_for(estate, kind))?;
        let payload = serde_json::json!({"event": kind, "estate": estate}).to_string();
        self.run_many(
            &waiting,
            &Command::Event { kind: kind.into() },
            now,
            Some(payload),
        )
    }

    fn run_many(
        &mut self,
        ids: &[String],
        cmd: &Command,
        now: DateTime<Utc>,
        header: Option<String>,
    ) -> Result<Vec<(String, Vec<Decision>)>, AppError> {
        let Service { store, policies } = self;
        store.write(|tx| -> Result<_, AppError> {
            if let Some(payload) = &header {
                let fp = tx.meta(ACTIVE_POLICY)?.unwrap_or_default();
                tx.append_event(&NewEvent {
                    ticket: None,
                    at: now,
                    kind: "external_event",
                    payload,
                    fingerprint: &fp,
                    rule: None,
                })?;
            }
            let mut out = Vec::new();
            for id in ids {
                let Some(row) = tx.ticket(id)? else { continue };
                let ticket = parse_ticket(&row)?;
                // Timers fire at their own time, never before the ticket's last event.
                let at = now.max(ticket.updated_at);
                let (_, decisions) =
                    decide_and_persist(tx, policies, Some(&ticket), &row.fingerprint, cmd, at)?;
                if !decisions.is_empty() {
                    out.push((id.clone(), decisions));
                }
            }
            Ok(out)
        })
    }

    pub fn ticket(&self, id: &str) -> Result<(Ticket, Vec<Decision>), AppError> {
        self.store.read(|tx| -> Result<_, AppError> {
            let row = tx
                .ticket(id)?
                .ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
            let ticket = parse_ticket(&row)?;
            let mut decisions = Vec::new();
            for e in tx.events_for_ticket(id)? {
                decisions.push(parse_decision(id, &e.payload)?);
            }
            Ok((ticket, decisions))
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

    /// Check the hash chain and rebuild every ticket from the log, comparing with
    /// the stored projection.
    pub fn verify(&self) -> Result<Verification, AppError> {
        self.store.read(|tx| -> Result<_, AppError> {
            let chain = tx.verify_chain()?;
            let mut logs: std::collections::BTreeMap<String, Vec<Decision>> = Default::default();
            tx.for_each_event(|e| {
                if let Some(t) = &e.ticket
                    && let Ok(d) = serde_json::from_str::<Decision>(&e.payload)
                {
                    logs.entry(t.clone()).or_default().push(d);
                }
                Ok(())
            })?;
            let mut mismatched = Vec::new();
            for (id, log) in &logs {
                let rebuilt = Ticket::replay(log);
                let stored = tx.ticket(id)?.map(|r| parse_ticket(&r)).transpose()?;
                let timers_ok = match &rebuilt {
                    Some(t) => same_timers(&tx.timers_for(id)?, &timers_of(t)),
                    None => false,
                };
                if rebuilt != stored || !timers_ok {
                    mismatched.push(id.clone());
                }
            }
            let projected = tx.tickets(&TicketFilter::default())?.len();
            if projected != logs.len() {
                mismatched.push(format!(
                    "{} projected tickets but {} in the log",
                    projected,
                    logs.len()
                ));
            }
            Ok(Verification {
                events: chain.events,
                chain_ok: chain.first_bad.is_none(),
                chain_problem: chain
                    .first_bad
                    .map(|(seq, why)| format!("event {seq}: {why}")),
                tickets: logs.len(),
                mismatched,
            })
        })
    }
}

/// Commands inside one transaction of [`Service::batch`].
pub struct Batch<'a, 'c> {
    tx: &'a mut Tx<'c>,
    policies: &'a mut HashMap<String, CompiledPolicy>,
    /// Tickets this batch touched, as they stand now. The transaction is ours
    /// alone (BEGIN IMMEDIATE), so a ticket is read and parsed once per batch, and
    /// its projections are written once, when the batch ends.
    written: HashMap<String, Touched>,
}

struct Touched {
    ticket: Ticket,
    /// The timers stored for it before the batch; `None` for a ticket it opened.
    stored_timers: Option<Vec<Timer>>,
    dirty: bool,
}

impl Batch<'_, '_> {
    /// [`Service::open_ticket`] inside the batch.
    pub fn open_ticket(
        &mut self,
        intake: engine::OpenTicket,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        // Read in the writing transaction, so an `apply_policy` by another process
        // cannot slip in between choosing the policy and opening under it.
        let fp = active_fingerprint(self.tx, Some(&intake.estate))?;
        let mut intake = intake;
        if intake.id.is_empty() {
            intake.id = next_ticket_id(self.tx)?;
        }
        if self.written.contains_key(&intake.id) || self.tx.ticket(&intake.id)?.is_some() {
            return Err(EngineError::Exists(intake.id).into());
        }
        let policy = compiled(self.policies, self.tx, &fp)?;
        let (ticket, decisions) = engine::decide(None, &Command::Open(intake), now, policy)?;
        append(self.tx, ticket.id(), &decisions, &fp)?;
        let touched = Touched {
            ticket: ticket.clone(),
            stored_timers: None,
            dirty: true,
        };
        self.written.insert(ticket.id().to_string(), touched);
        Ok((ticket, decisions))
    }

    /// [`Service::execute`] inside the batch; sees what earlier commands of the batch wrote.
    pub fn execute(
        &mut self,
        id: &str,
        cmd: &Command,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        if !self.written.contains_key(id) {
            let row = self
                .tx
                .ticket(id)?
                .ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
            let ticket = parse_ticket(&row)?;
            let stored_timers = Some(timers_of(&ticket));
            self.written.insert(
                id.to_string(),
                Touched {
                    ticket,
                    stored_timers,
                    dirty: false,
                },
            );
        }
        let Some(touched) = self.written.get_mut(id) else {
            return Err(AppError::UnknownTicket(id.to_string()));
        };
        let fp = touched.ticket.fingerprint.clone();
        let policy = compiled(self.policies, self.tx, &fp)?;
        let (ticket, decisions) = engine::decide(Some(&touched.ticket), cmd, now, policy)?;
        if !decisions.is_empty() {
            append(self.tx, id, &decisions, &fp)?;
            touched.ticket = ticket.clone();
            touched.dirty = true;
        }
        Ok((ticket, decisions))
    }

    /// Write the projections of every ticket the batch changed.
    fn flush(&mut self) -> Result<(), AppError> {
        for touched in self.written.values().filter(|t| t.dirty) {
            project(self.tx, touched.stored_timers.as_deref(), &touched.ticket)?;
        }
        Ok(())
    }
}

/// The policy stored under `fp`, compiled once per [`Service`].
fn compiled<'p>(
    policies: &'p mut HashMap<String, CompiledPolicy>,
    tx: &Tx<'_>,
    fp: &str,
) -> Result<&'p CompiledPolicy, AppError> {
    if !policies.contains_key(fp) {
        let text = tx
            .policy(fp)?
            .ok_or_else(|| AppError::Policy(format!("policy {fp} is not in the database")))?;
        let c = CompiledPolicy::from_canonical(&text, |sha| tx.blob(sha).ok().flatten())
            .map_err(AppError::Policy)?;
        policies.insert(fp.to_string(), c);
    }
    policies.get(fp).ok_or(AppError::NoPolicy)
}

/// Decide `cmd` under policy `fp` and persist the outcome: the one write path of
/// every ticket command.
fn decide_and_persist(
    tx: &mut Tx<'_>,
    policies: &mut HashMap<String, CompiledPolicy>,
    current: Option<&Ticket>,
    fp: &str,
    cmd: &Command,
    now: DateTime<Utc>,
) -> Result<(Ticket, Vec<Decision>), AppError> {
    let policy = compiled(policies, tx, fp)?;
    let (ticket, decisions) = engine::decide(current, cmd, now, policy)?;
    persist(tx, current, &ticket, &decisions, fp)?;
    Ok((ticket, decisions))
}

/// `T00001`, `T00002`, ...: the next number of the store's sequence, skipping
/// numbers already taken by tickets opened with an explicit `--id`.
fn next_ticket_id(tx: &mut Tx<'_>) -> Result<String, AppError> {
    loop {
        let id = format!("T{:05}", tx.next_ticket_number()?);
        if tx.ticket(&id)?.is_none() {
            return Ok(id);
        }
    }
}

fn active_key(estate: Option<&str>) -> String {
    match estate {
        Some(e) => format!("{ACTIVE_POLICY}:{e}"),
        None => ACTIVE_POLICY.to_string(),
    }
}

fn active_fingerprint(tx: &Tx<'_>, estate: Option<&str>) -> Result<String, AppError> {
    if let Some(e) = estate
        && let Some(fp) = tx.meta(&active_key(Some(e)))?
    {
        return Ok(fp);
    }
    tx.meta(ACTIVE_POLICY)?.ok_or(AppError::NoPolicy)
}

fn parse_ticket(row: &TicketRow) -> Result<Ticket, AppError> {
    serde_json::from_str(&row.state).map_err(|e| AppError::Corrupt(row.id.clone(), e.to_string()))
}

fn parse_decision(id: &str, payload: &str) -> Result<Decision, AppError> {
    serde_json::from_str(payload).map_err(|e| AppError::Corrupt(id.to_string(), e.to_string()))
}

/// Append the decisions and refresh the ticket's projections. Nothing decided
/// means nothing changed.
fn persist(
    tx: &mut Tx<'_>,
    previous: Option<&Ticket>,
    ticket: &Ticket,
    decisions: &[Decision],
    fp: &str,
) -> Result<(), AppError> {
    if decisions.is_empty() && previous.is_some() {
        return Ok(());
    }
    append(tx, ticket.id(), decisions, fp)?;
    project(tx, previous.map(timers_of).as_deref(), ticket)
}

/// Append decided facts to the hash-chained log.
fn append(tx: &mut Tx<'_>, id: &str, decisions: &[Decision], fp: &str) -> Result<(), AppError> {
    for d in decisions {
        let payload =
            serde_json::to_string(d).map_err(|e| AppError::Corrupt(id.into(), e.to_string()))?;
        tx.append_event(&NewEvent {
            ticket: Some(id),
            at: d.at,
            kind: d.fact.kind(),
            payload: &payload,
            fingerprint: fp,
            rule: d.rule.as_deref(),
        })?;
    }
    Ok(())
}

/// Write the ticket's row, and its timers when they differ from `stored_timers`
/// (`None`: the ticket has no timers stored yet).
fn project(
    tx: &mut Tx<'_>,
    stored_timers: Option<&[Timer]>,
    ticket: &Ticket,
) -> Result<(), AppError> {
    let state = serde_json::to_string(ticket)
        .map_err(|e| AppError::Corrupt(ticket.id().into(), e.to_string()))?;
    tx.put_ticket(&TicketRow {
        id: ticket.id().to_string(),
        estate: ticket.intake.estate.clone(),
        status: ticket.status.as_str().to_string(),
        fingerprint: ticket.fingerprint.clone(),
        opened_at: ticket.opened_at,
        updated_at: ticket.updated_at,
        state,
    })?;
    let timers = timers_of(ticket);
    if stored_timers != Some(timers.as_slice()) {
        tx.replace_timers(ticket.id(), &ticket.intake.estate, &timers)?;
    }
    Ok(())
}

fn timers_of(ticket: &Ticket) -> Vec<Timer> {
    let (due, waiting) = engine::pending_timers(ticket);
    let mut out: Vec<Timer> = due
        .iter()
        .map(|d| Timer {
            key: d.key(),
            kind: d.kind.as_str().to_string(),
            due_at: Some(d.at),
            event: None,
        })
        .collect();
    out.extend(waiting.into_iter().map(|(slot, event)| Timer {
        key: format!("event:{slot}"),
        kind: "revisit".into(),
        due_at: None,
        event: Some(event),
    }));
    out
}

fn same_timers(stored: &[Timer], rebuilt: &[Timer]) -> bool {
    let key = |t: &Timer| {
        (
            t.key.clone(),
            t.due_at.map(|d| d.timestamp()),
            t.event.clone(),
        )
    };
    let mut a: Vec<_> = stored.iter().map(key).collect();
    let mut b: Vec<_> = rebuilt.iter().map(key).collect();
    a.sort();
    b.sort();
    a == b
}
