//! Facts: everything that happens to a ticket, as logged. Each carries the rule id
//! that caused it (when a rule did) and, in the log, the policy fingerprint.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command::OpenTicket;
use crate::limit_duration::LimitDuration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    Opened {
        /// Shared with the ticket it opens.
        #[serde(with = "super::ticket::shared")]
        intake: Arc<OpenTicket>,
        fingerprint: String,
    },
    Classified {
        category: String,
        class: Option<u8>,
        emergency: bool,
        major: bool,
        route: Option<String>,
        matched: Option<String>,
        /// The hook (and script line) that chose the category, when one did.
        #[serde(default)]
        hook: Option<String>,
    },
    /// A hook script failed or returned something the policy rejects; `fallback`
    /// says what the engine did instead.
    HookFailed {
        hook: String,
        error: String,
        fallback: String,
    },
    ConditionFailed {
        error: String,
        fallback: String,
    },
    ActionRecorded {
        action: String,
        by: String,
        note: String,
    },
    MilestoneReached {
        milestone: String,
    },
    ClockStarted {
        limit: String,
        milestone: String,
        within: LimitDuration,
        start: DateTime<Utc>,
        deadline: DateTime<Utc>,
        warn_at: Option<DateTime<Utc>>,
        total_minutes: i64,
    },
    ClockMet {
        limit: String,
        on_time: bool,
    },
    ClockCancelled {
        limit: String,
        reason: String,
    },
    ClockPaused {
        limit: String,
        used_minutes: i64,
    },
    ClockResumed {
        limit: String,
        deadline: DateTime<Utc>,
        warn_at: Option<DateTime<Utc>>,
    },
    /// A person set the deadline of a limit (the clock started just before).
    DeadlineSet {
        limit: String,
        deadline: DateTime<Utc>,
        by: String,
        reason: String,
    },
    Warned {
        limit: String,
        deadline: DateTime<Utc>,
    },
    Breached {
        limit: String,
        deadline: DateTime<Utc>,
    },
    Escalated {
        from: String,
        to: String,
        notify: Vec<String>,
    },
    Notified {
        to: Vec<String>,
        about: String,
    },
    Assigned {
        department: String,
        tier: String,
        lead: Option<String>,
    },
    Paused {
        reason: String,
    },
    Resumed {
        reason: String,
        minutes: i64,
    },
    Resolved {
        note: String,
    },
    RevisitScheduled {
        slot: usize,
        key: String,
        due: Option<DateTime<Utc>>,
        event: Option<String>,
    },
    RevisitDue {
        slot: usize,
        key: String,
        cause: String,
    },
    RevisitOverdue {
        slot: usize,
        key: String,
    },
    RevisitDone {
        slot: Option<usize>,
        key: String,
        ok: bool,
        channel: String,
        note: String,
    },
    RevisitCancelled {
        slot: usize,
        key: String,
    },
    /// A revisit that will not be made, and why (`ticket waive-revisit`).
    RevisitWaived {
        slot: usize,
        key: String,
        reason: String,
        by: String,
    },
    Reopened {
        reason: String,
    },
    Closed {
        invalid: Option<String>,
    },
    CompensationClaimed {
        amount: String,
        note: String,
    },
    PolicyMoved {
        from: String,
        to: String,
    },
}

impl Fact {
    /// The name stored in the log's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::Opened { .. } => "opened",
            Fact::Classified { .. } => "classified",
            Fact::ConditionFailed { .. } => "condition_failed",
            Fact::HookFailed { .. } => "hook_failed",
            Fact::ActionRecorded { .. } => "action_recorded",
            Fact::MilestoneReached { .. } => "milestone_reached",
            Fact::ClockStarted { .. } => "clock_started",
            Fact::ClockMet { .. } => "clock_met",
            Fact::ClockCancelled { .. } => "clock_cancelled",
            Fact::ClockPaused { .. } => "clock_paused",
            Fact::ClockResumed { .. } => "clock_resumed",
            Fact::DeadlineSet { .. } => "deadline_set",
            Fact::Warned { .. } => "warned",
            Fact::Breached { .. } => "breached",
            Fact::Escalated { .. } => "escalated",
            Fact::Notified { .. } => "notified",
            Fact::Assigned { .. } => "assigned",
            Fact::Paused { .. } => "paused",
            Fact::Resumed { .. } => "resumed",
            Fact::Resolved { .. } => "resolved",
            Fact::RevisitScheduled { .. } => "revisit_scheduled",
            Fact::RevisitDue { .. } => "revisit_due",
            Fact::RevisitOverdue { .. } => "revisit_overdue",
            Fact::RevisitDone { .. } => "revisit_done",
            Fact::RevisitCancelled { .. } => "revisit_cancelled",
            Fact::RevisitWaived { .. } => "revisit_waived",
            Fact::Reopened { .. } => "reopened",
            Fact::Closed { .. } => "closed",
            Fact::CompensationClaimed { .. } => "compensation_claimed",
            Fact::PolicyMoved { .. } => "policy_moved",
        }
    }
}

/// A fact as decided: when it happened and which rule made it happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub at: DateTime<Utc>,
    pub fact: Fact,
    pub rule: Option<String>,
}
