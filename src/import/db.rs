//! A register into a database as real history: its actions in time order across
//! all tickets, each through the service (so the engine decides it under the
//! policy in force for the ticket's estate, and the log is chained as in live
//! use), and every timer that fell due between two actions fired at its own
//! instant before the later one, so the log reads in time order.
//!
//! Batches commit whole: each is one transaction holding its tickets' events and
//! a `register_imported` mark with the import's identity (the file's and the
//! mapping's digests) and how far it got. A run that stopped part-way is resumed
//! from its last mark; a finished import is refused, as is a second register
//! while another is unfinished, or a register older than history already logged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{Command, Ticket, pending_timers};
use crate::service::{AppError, Batch, Service};
use crate::sim::history::{Op, Record};

use super::Register;

/// The kind of the log's progress marks.
pub const MARK: &str = "register_imported";

/// What a mark records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    /// The import's identity: see [`Register::identity`].
    pub import: String,
    pub file: String,
    pub file_sha256: String,
    /// Records (intakes and actions) written so far, in the register's time order.
    pub records: u64,
    pub total: u64,
    /// The `now` the register was checked against and timers are fired up to.
    pub now: DateTime<Utc>,
    pub complete: bool,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    /// Records per transaction.
    pub batch: usize,
    /// Stop after this many batches (an import in several sittings); a later
    /// run resumes where this one stopped.
    pub max_batches: Option<u64>,
}

/// A command the policy refused: the row stays in the register, the log
/// records what the engine would accept.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub row: u64,
    pub ticket: String,
    pub action: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Records already written by an earlier run of the same import.
    pub resumed_from: u64,
    pub records: u64,
    pub opened: u64,
    pub decisions: u64,
    pub timers_fired: u64,
    pub batches: u64,
    pub refused: u64,
    pub refusals: Vec<Refusal>,
    /// Tickets opened per policy fingerprint.
    pub policies: BTreeMap<String, u64>,
}

const REFUSAL_SAMPLE: usize = 100;

/// The state of earlier imports in the log: per identity, its last mark.
pub fn progress(svc: &Service) -> Result<Vec<Progress>, String> {
    let marks = svc
        .store()
        .read(|tx| tx.marks(MARK))
        .map_err(|e| e.to_string())?;
    let mut last: Vec<Progress> = Vec::new();
    for m in marks {
        let p: Progress = serde_json::from_str(&m.payload)
            .map_err(|e| format!("import mark {} is unreadable: {e}", m.seq))?;
        last.retain(|o| o.import != p.import);
        last.push(p);
    }
    Ok(last)
}

/// Why an import cannot start (or go on); `Ok(from)` is where to resume.
pub fn admit(svc: &Service, reg: &Register) -> Result<u64, String> {
    let earlier = progress(svc)?;
    if let Some(p) = earlier.iter().find(|p| p.import == reg.identity) {
        if p.complete {
            return Err(format!(
                "{} was already imported into this database ({} records; file sha256:{}): nothing was written",
                reg.name, p.total, p.file_sha256
            ));
        }
        return Ok(p.records);
    }
    if let Some(p) = earlier.iter().find(|p| !p.complete) {
        return Err(format!(
            "the import of {} stopped after {} of {} records: run it again (same file and mapping) to finish it before importing another register",
            p.file, p.records, p.total
        ));
    }
    let last = svc
        .store()
        .read(|tx| tx.last_ticket_event_at())
        .map_err(|e| e.to_string())?;
    if let (Some(last), Some(first)) = (last, reg.first_opened)
        && first < last
    {
        // In the company's local time, as the register and the log are read.
        let tz = svc.active_timezone().unwrap_or(chrono_tz::UTC);
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %:z")
                .to_string()
        };
        return Err(format!(
            "the database already holds ticket history up to {}, and the register starts at {}: its events would land behind newer ones. Import into a database that holds no later history (e.g. a new one after `policy apply`)",
            local(last),
            local(first)
        ));
    }
    Ok(0)
}

/// Each open ticket's next timer, in time order.
#[derive(Default)]
struct Timers {
    by_time: BTreeSet<(DateTime<Utc>, String)>,
    next: HashMap<String, DateTime<Utc>>,
}

impl Timers {
    fn update(&mut self, t: &Ticket) {
        let id = t.id();
        if let Some(old) = self.next.remove(id) {
            self.by_time.remove(&(old, id.to_string()));
        }
        if let Some(due) = pending_timers(t).0.iter().map(|d| d.at).min() {
            self.next.insert(id.to_string(), due);
            self.by_time.insert((due, id.to_string()));
        }
    }

    fn drop(&mut self, id: &str) {
        if let Some(old) = self.next.remove(id) {
            self.by_time.remove(&(old, id.to_string()));
        }
    }

    /// The first timer due before `t` (or at it, when `inclusive`).
    fn due(&self, t: DateTime<Utc>, inclusive: bool) -> Option<(DateTime<Utc>, String)> {
        self.by_time
            .first()
            .filter(|(at, _)| *at < t || (inclusive && *at == t))
            .cloned()
    }
}

struct Run<'r> {
    out: Outcome,
    timers: Timers,
    /// Tickets whose intake the engine refused: their later rows are skipped.
    unopened: HashSet<String>,
    last_at: Option<DateTime<Utc>>,
    reg: &'r Register,
}

impl Run<'_> {
    fn refuse(&mut self, row: u64, ticket: &str, action: &str, reason: String) {
        self.out.refused += 1;
        if self.out.refusals.len() < REFUSAL_SAMPLE {
            self.out.refusals.push(Refusal {
                row,
                ticket: ticket.to_string(),
                action: action.to_string(),
                reason,
            });
        }
    }

    fn seen(&mut self, at: DateTime<Utc>) {
        self.last_at = Some(self.last_at.map_or(at, |l| l.max(at)));
    }

    /// Fire every timer due before `t` (at `t` too when `inclusive`), oldest first.
    fn fire(
        &mut self,
        b: &mut Batch<'_, '_>,
        t: DateTime<Utc>,
        inclusive: bool,
    ) -> Result<(), AppError> {
        while let Some((due, id)) = self.timers.due(t, inclusive) {
            match b.execute(&id, &Command::Tick, due) {
                Ok((ticket, ds)) => {
                    self.out.decisions += ds.len() as u64;
                    self.out.timers_fired += 1;
                    self.seen(due);
                    self.timers.update(&ticket);
                    // A timer that did not move on would be fired forever.
                    if self.timers.next.get(&id).is_some_and(|n| *n <= due) {
                        self.timers.drop(&id);
                    }
                }
                Err(AppError::Engine(e)) => {
                    self.timers.drop(&id);
                    self.refuse(0, &id, "tick", e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn apply(&mut self, b: &mut Batch<'_, '_>, r: Record) -> Result<(), AppError> {
        self.fire(b, r.at, false)?;
        self.seen(r.at);
        match r.op {
            Op::Open { intake, category } => match b.open_ticket(intake, r.at) {
                Ok((t, ds)) => {
                    self.out.opened += 1;
                    self.out.decisions += ds.len() as u64;
                    *self.out.policies.entry(t.fingerprint.clone()).or_insert(0) += 1;
                    let recorded = category.filter(|c| t.category.as_deref() != Some(c.as_str()));
                    self.timers.update(&t);
                    if let Some(c) = recorded {
                        let cmd = Command::Classify {
                            category: Some(c),
                            class: None,
                            major: None,
                        };
                        self.command(b, r.line, &r.ticket, &cmd, r.at)?;
                    }
                }
                Err(AppError::Engine(e)) => {
                    self.unopened.insert(r.ticket.clone());
                    self.refuse(r.line, &r.ticket, "open", e.to_string());
                }
                Err(e @ AppError::UnknownEstate(_)) => {
                    self.unopened.insert(r.ticket.clone());
                    self.refuse(r.line, &r.ticket, "open", e.to_string());
                }
                Err(e) => return Err(e),
            },
            Op::Command(cmd) => {
                if !self.unopened.contains(&r.ticket) {
                    self.command(b, r.line, &r.ticket, &cmd, r.at)?;
                }
            }
            // Registers hold no estate events or reclassifications of their own.
            Op::Classify { .. } | Op::Event { .. } => {}
        }
        Ok(())
    }

    fn command(
        &mut self,
        b: &mut Batch<'_, '_>,
        row: u64,
        id: &str,
        cmd: &Command,
        at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        match b.execute(id, cmd, at) {
            Ok((t, ds)) => {
                self.out.decisions += ds.len() as u64;
                self.timers.update(&t);
            }
            Err(AppError::Engine(e)) => self.refuse(row, id, cmd.name(), e.to_string()),
            Err(e @ AppError::UnknownTicket(_)) => self.refuse(row, id, cmd.name(), e.to_string()),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn progress(&self, records: u64, total: u64, now: DateTime<Utc>, complete: bool) -> Progress {
        Progress {
            import: self.reg.identity.clone(),
            file: self.reg.name.clone(),
            file_sha256: self.reg.file_digest.clone(),
            records,
            total,
            now,
            complete,
        }
    }
}

/// Import `reg` (checked against `opts.now`) from `from` on (see [`admit`]).
pub fn import(
    svc: &mut Service,
    reg: &Register,
    from: u64,
    opts: &Options,
) -> Result<Outcome, String> {
    let total = reg.tickets + reg.actions;
    let mut run = Run {
        out: Outcome {
            resumed_from: from,
            records: total,
            ..Outcome::default()
        },
        timers: Timers::default(),
        unopened: HashSet::new(),
        last_at: None,
        reg,
    };
    if from > 0 {
        for status in ["open", "resolved"] {
            for t in svc
                .tickets(None, Some(status), None)
                .map_err(|e| e.to_string())?
            {
                run.timers.update(&t);
            }
        }
    }
    let mut records = reg.records()?.skip(from as usize).peekable();
    let mut done = from;
    let batch = opts.batch.max(1);
    let mut finished = false;
    while !finished {
        let result = svc.batch(|b| -> Result<u64, AppError> {
            let mut n: u64 = 0;
            while n < batch as u64 {
                let Some(r) = records.next() else { break };
                run.apply(b, r)?;
                n += 1;
            }
            let all = records.peek().is_none();
            if all {
                // The register is history up to `now`: what fell due since fires now.
                run.fire(b, opts.now, true)?;
            }
            let p = run.progress(done + n, total, opts.now, all);
            let payload = serde_json::to_string(&p).map_err(|e| AppError::System(e.to_string()))?;
            b.mark(MARK, &payload, run.last_at.unwrap_or(opts.now))?;
            Ok(n)
        });
        match result {
            Ok(n) => {
                done += n;
                run.out.batches += 1;
                finished = records.peek().is_none()
                    || opts.max_batches.is_some_and(|m| run.out.batches >= m);
            }
            Err(e) => {
                return Err(format!(
                    "stopped after {done} of {total} records ({} batches committed, the failing one rolled back): {e}. Run the same import again to resume",
                    run.out.batches
                ));
            }
        }
    }
    Ok(run.out)
}
