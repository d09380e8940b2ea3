//! What became of one ticket under one policy, in a few comparable fields, and the
//! per-ticket bookkeeping replay keeps while the ticket is open.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::engine::{Decision, Fact, SlotState, Ticket};

/// Bookkeeping for one ticket under one policy while it is replayed.
#[derive(Debug, Clone, Default)]
pub struct Acc {
    pub breached: BTreeSet<String>,
    pub escalations: u32,
    pub refused: u32,
    pub routed: bool,
}

impl Acc {
    pub fn note(&mut self, d: &Decision) {
        match &d.fact {
            Fact::Breached { limit, .. } => {
                self.breached.insert(limit.clone());
            }
            Fact::Escalated { .. } => self.escalations += 1,
            _ => {}
        }
    }
}

/// The comparable outcome of a ticket under one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub status: String,
    pub category: String,
    pub breached: Vec<String>,
    /// The ladder step it ended at.
    pub ladder: String,
    pub revisits_overdue: Vec<String>,
    pub reopened: u32,
    /// Commands from the history this policy refused.
    pub refused: u32,
}

impl Summary {
    pub fn of(t: &Ticket, acc: &Acc) -> Summary {
        Summary {
            status: t.status.as_str().to_string(),
            category: t.category.clone().unwrap_or_default(),
            breached: acc.breached.iter().cloned().collect(),
            ladder: t.ladder_id.clone().unwrap_or_else(|| "specialist".into()),
            revisits_overdue: t
                .revisits
                .iter()
                .filter(|s| s.state == SlotState::Overdue)
                .map(|s| s.key.clone())
                .collect(),
            reopened: t.reopened,
            refused: acc.refused,
        }
    }

    /// One line: `closed repair.leak; breached L4; at service_center`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} {}", self.status, self.category)];
        if !self.breached.is_empty() {
            parts.push(format!("breached {}", self.breached.join(" ")));
        }
        if self.ladder != "specialist" {
            parts.push(format!("at {}", self.ladder));
        }
        if !self.revisits_overdue.is_empty() {
            parts.push(format!(
                "revisits overdue {}",
                self.revisits_overdue.join(" ")
            ));
        }
        if self.reopened > 0 {
            parts.push(format!("reopened {}x", self.reopened));
        }
        if self.refused > 0 {
            parts.push(format!("{} command(s) refused", self.refused));
        }
        parts.join("; ")
    }

    /// The names of the fields that differ.
    pub fn differences(&self, other: &Summary) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.status != other.status {
            v.push("status");
        }
        if self.category != other.category {
            v.push("category");
        }
        if self.breached != other.breached {
            v.push("breached");
        }
        if self.ladder != other.ladder {
            v.push("ladder");
        }
        if self.revisits_overdue != other.revisits_overdue {
            v.push("revisits_overdue");
        }
        if self.reopened != other.reopened {
            v.push("reopened");
        }
        if self.refused != other.refused {
            v.push("refused");
        }
        v
    }
}

/// A ticket whose outcome differs between policy A and B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub ticket: String,
    pub estate: String,
    /// The history line that opened it.
    pub line: u64,
    pub fields: Vec<String>,
    pub a: Summary,
    pub b: Summary,
}
