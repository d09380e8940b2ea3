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
//!   rebuilt from the log and compared ([`projections`]).
//!
//! Memory is bounded by one ticket's events: the chain is read in `seq` order and
//! the projections are merged with the events ticket by ticket.

pub mod checkpoint;
pub mod policies;
mod projections;
mod stored;

use serde::Serialize;

use crate::service::AppError;
use crate::store::Store;

pub use checkpoint::{Checkpoint, CheckpointCheck};

/// One thing that is not as the log says it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `chain`, `checkpoint`, `policy`, `module`, `schema`, `setting`, `ticket` or `timer`.
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
pub fn verify(store: &Store, against: Option<Against<'_>>) -> Result<Verification, AppError> {
    store.read(|tx| -> Result<_, AppError> {
        let chain = tx.verify_chain()?;
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
        let rebuilt = projections::check(tx, &mut findings)?;
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
