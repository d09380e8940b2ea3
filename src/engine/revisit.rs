//! Revisit slots: one per step of each revisit rule that applies to a resolved
//! ticket. Time steps are due by a deadline; event steps wait for the event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Waits for the previous step to be done (`after = "previous"`).
    Blocked,
    /// Due by `due`; may be done any time before.
    Scheduled,
    /// Waits for an event (e.g. the next rain).
    Waiting,
    /// The event came, or the deadline passed: the revisit should be made now.
    Due,
    Overdue,
    Done,
    Failed,
    Cancelled,
    /// Not to be made, with a reason (the owner declines; a policy fix removed the step).
    Waived,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisitSlot {
    /// `V4#1`, `V4#2`: rule id and step number; after a reopen the next round's
    /// slots are `V4#1.r2`, `V4#2.r2`, so no name is used twice on a ticket.
    pub key: String,
    pub rule: String,
    pub step: usize,
    pub state: SlotState,
    pub due: Option<DateTime<Utc>>,
    pub event: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    /// Why it was waived; absent from the state of other slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

impl RevisitSlot {
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            SlotState::Blocked
                | SlotState::Scheduled
                | SlotState::Waiting
                | SlotState::Due
                | SlotState::Overdue
        )
    }

    /// Can be done now (not blocked behind an earlier step).
    pub fn is_actionable(&self) -> bool {
        matches!(
            self.state,
            SlotState::Scheduled | SlotState::Due | SlotState::Overdue
        )
    }
}
