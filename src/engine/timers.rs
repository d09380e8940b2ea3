//! The timers a ticket has pending, derived from its state alone: warnings and
//! breaches of live clocks, revisit deadlines, and revisits waiting for an event.
//! The store mirrors them so `tick` only visits tickets that have something due.

use chrono::{DateTime, Utc};

use crate::policy::model::TimerKind;

use super::clock::ClockState;
use super::revisit::SlotState;
use super::ticket::Ticket;

/// The limit id of the written notice after a failed revisit (V5).
pub const NOTICE_CLOCK: &str = "reopen.notice";
pub const NOTICE_MILESTONE: &str = "written_notice";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Warn(String),
    Breach(String),
    RevisitOverdue(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    pub at: DateTime<Utc>,
    pub kind: TimerKind,
    pub target: Target,
}

impl DueTimer {
    /// Unique per ticket; the store's timer key.
    pub fn key(&self) -> String {
        match &self.target {
            Target::Warn(l) => format!("warn:{l}"),
            Target::Breach(l) => format!("breach:{l}"),
            Target::RevisitOverdue(i) => format!("revisit:{i}"),
        }
    }
}

/// The earliest of the ticket's time timers, without building them: the engine
/// asks before and after every command, and most of the time nothing is due.
pub fn earliest_timer(t: &Ticket) -> Option<DateTime<Utc>> {
    let clocks = t
        .clocks
        .values()
        .filter(|c| c.state == ClockState::Running)
        .flat_map(|c| [c.warn_at.filter(|_| !c.warned), Some(c.deadline)]);
    let revisits = t
        .revisits
        .iter()
        .filter(|s| s.state == SlotState::Scheduled)
        .map(|s| s.due);
    clocks.chain(revisits).flatten().min()
}

/// Time timers, and `(slot, event)` pairs waiting for an event.
pub fn pending_timers(t: &Ticket) -> (Vec<DueTimer>, Vec<(usize, String)>) {
    let mut timers = Vec::new();
    for c in t.clocks.values().filter(|c| c.state == ClockState::Running) {
        if let Some(w) = c.warn_at
            && !c.warned
        {
            timers.push(DueTimer {
                at: w,
                kind: TimerKind::Warning,
                target: Target::Warn(c.limit.clone()),
            });
        }
        let kind = if c.limit == NOTICE_CLOCK {
            TimerKind::Notice
        } else {
            TimerKind::Breach
        };
        timers.push(DueTimer {
            at: c.deadline,
            kind,
            target: Target::Breach(c.limit.clone()),
        });
    }
    let mut waiting = Vec::new();
    for (i, s) in t.revisits.iter().enumerate() {
        match s.state {
            SlotState::Scheduled => {
                if let Some(due) = s.due {
                    timers.push(DueTimer {
                        at: due,
                        kind: TimerKind::Revisit,
                        target: Target::RevisitOverdue(i),
                    });
                }
            }
            SlotState::Waiting => {
                if let Some(e) = &s.event {
                    waiting.push((i, e.clone()));
                }
            }
            _ => {}
        }
    }
    (timers, waiting)
}
