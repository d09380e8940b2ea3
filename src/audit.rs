//! `audit verify`: proof, from the database alone, that nothing in it changed
//! without steward — or the name of each thing that did.
//!
//! What is checked, in one read snapshot:
//! - the hash chain of the event log, event by event ([`crate::store::ChainReport`]);
//! - with a [`Checkpoint`] kept outside the database, that the log still contains
//!   that head unchanged (a truncated or re-chained log fails);
//! - every stored policy text and plug-in module against the digest it is stored
//!   under, and every fingerprint an event names is stored ([`stored`]);
//! - the schema against the one this steward creates, append-only triggers included;
//! - every projection column (tickets, timers) and setting (active policy per scope)
//!   rebuilt from the log and compared ([`projections`]), and the outbox ([`outbox`]).
//!
//! Memory is bounded by one ticket's events: the chain is read in `seq` order and
//! the projections are merged with the events ticket by ticket.

pub mod checkpoint;
mod outbox;
pub mod policies;
mod projections;
mod stored;

use serde::Serialize;

use std::path::Path;

use crate::service::AppError;
use crate::store::{ChainReport, Store, StoreError, TicketRecord};

pub use checkpoint::{Checkpoint, CheckpointCheck};

/// Tickets a batch from the scan to the rebuild worker: memory stays bounded
/// (8 batches in flight) and hand-overs are few.
const BATCH: usize = 64;

/// One thing that is not as the log says it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `chain`, `checkpoint`, `policy`, `module`, `schema`, `setting`, `ticket`, `timer` or `outbox`.
    pub area: &'static str,
    /// What it is about: an event seq, a fingerprint, a ticket id, a setting key.
    pub subject: String,
    /// What is wrong, for a person.
    pub problem: String,
}

impl Finding {
    pub(crate) fn new(
        area: &'static str,
        subject: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Finding {
            area,
            subject: subject.into(),
            problem: problem.into(),
        }
    }
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Nothing found.
    pub ok: bool,
    pub events: i64,
    /// Tickets rebuilt from the log.
    pub tickets: usize,
    pub chain_ok: bool,
    /// The first broken link: `event N: why`.
    pub chain_problem: Option<String>,
    /// Ticket ids whose projection (row or timers) differs from the log.
    pub mismatched: Vec<String>,
    pub findings: Vec<Finding>,
    /// The head of the log as verified: what `audit checkpoint` would print now.
    pub head: Option<checkpoint::Head>,
    /// The outcome for the checkpoint given, if one was.
    pub checkpoint: Option<CheckpointCheck>,
}

/// A checkpoint to verify the log against, and the key it must be signed with.
#[derive(Debug, Clone, Copy)]
pub struct Against<'a> {
    pub checkpoint: &'a Checkpoint,
    pub public_key: Option<&'a str>,
}

/// Runs every check; see the module documentation.
///
/// Three threads share the work, because a proof of a large log is bound by
/// CPU, not by the disk: the chain pass on a second read-only connection, the
/// projection scan on this one, and the rebuild and comparison of each ticket
/// on a worker fed by the scan. The two connections must see the same log: the
/// chain thread's head is compared with this snapshot's, and on a difference
/// (a command committed in between) the chain is verified again here.
pub fn verify(store: &Store, against: Option<Against<'_>>) -> Result<Verification, AppError> {
    store.read(|tx| -> Result<_, AppError> {
        let head_here = tx.head_seq()?;
        let path = (store.path() != Path::new(":memory:")).then(|| store.path().to_path_buf());
        let (chain, projected) = std::thread::scope(|s| -> Result<_, AppError> {
            let chain = s.spawn(move || chain_elsewhere(path.as_deref()));
            // Tickets go to the worker in batches: a hand-over per ticket cost
            // more in thread wake-ups than the comparison of a small ticket.
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<TicketRecord>>(8);
            let worker = s.spawn(move || {
                let mut findings = Vec::new();
                let mut rebuilt = 0usize;
                for batch in receive {
                    for record in batch {
                        rebuilt += usize::from(projections::check_record(record, &mut findings)?);
                    }
                }
                Ok::<_, StoreError>((findings, rebuilt))
            });
            let mut batch = Vec::with_capacity(BATCH);
            let scanned = tx.scan_tickets(|record| {
                batch.push(record);
                if batch.len() == BATCH {
                    // A closed channel means the worker stopped on an error,
                    // which its join below reports.
                    let _ = send.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
                Ok::<_, StoreError>(())
            });
            if !batch.is_empty() {
                let _ = send.send(batch);
            }
            drop(send);
            let projected = join(worker)?;
            scanned?;
            let chain = match join(chain) {
                Ok(Some(c)) if c.head.as_ref().map_or(0, |h| h.seq) == head_here => c,
                _ => tx.verify_chain()?,
            };
            Ok((chain, projected))
        })?;
        let (projection_findings, rebuilt) = projected;
        let mut findings = Vec::new();
        if let Some((seq, why)) = &chain.first_bad {
            findings.push(Finding::new("chain", format!("event {seq}"), why.clone()));
        }
        let head = chain.head.clone().map(checkpoint::Head::from);
        let checkpoint = against.map(|a| checkpoint::check(tx, a.checkpoint, a.public_key, &chain));
        if let Some(c) = &checkpoint
            && !c.ok
        {
            findings.push(Finding::new(
                "checkpoint",
                format!("event {}", c.seq),
                c.problem.clone(),
            ));
        }
        stored::check(tx, &chain, &mut findings)?;
        outbox::check(tx, &mut findings)?;
        findings.extend(projection_findings);
        let mut mismatched: Vec<String> = findings
            .iter()
            .filter(|f| f.area == "ticket" || f.area == "timer")
            .map(|f| f.subject.clone())
            .collect();
        mismatched.dedup();
        Ok(Verification {
            ok: findings.is_empty(),
            events: chain.events,
            tickets: rebuilt,
            chain_ok: chain.first_bad.is_none(),
            chain_problem: chain
                .first_bad
                .map(|(seq, why)| format!("event {seq}: {why}")),
            mismatched,
            findings,
            head,
            checkpoint,
        })
    })
}

/// The chain verified on a connection of its own; `None` where there can be
/// no second connection to the same data (an in-memory store) or it fails to
/// open, and the caller verifies on its own connection.
fn chain_elsewhere(path: Option<&Path>) -> Result<Option<ChainReport>, StoreError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let Ok(other) = Store::open_read_only(path) else {
        return Ok(None);
    };
    other.read(|tx| tx.verify_chain()).map(Some)
}

fn join<T>(
    handle: std::thread::ScopedJoinHandle<'_, Result<T, StoreError>>,
) -> Result<T, StoreError> {
    handle.join().unwrap_or_else(|_| {
        Err(StoreError::Invalid(
            "audit verify: a worker thread panicked".into(),
        ))
    })
}
