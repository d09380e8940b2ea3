//! What a user or an event source asks of a ticket.

use serde::{Deserialize, Serialize};

use crate::policy::model::Action;

/// Intake fields (D1, D2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTicket {
    pub id: String,
    pub estate: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default = "default_channel")]
    pub channel: String,
    pub kind: String,
    pub text: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub major: bool,
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Complaint class given at intake (D4); 0 when not yet known.
    #[serde(default)]
    pub class: u8,
}

fn default_channel() -> String {
    "hotline".into()
}

/// A deadline as a person states it.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// At this instant (counted wall-clock).
    At(chrono::DateTime<chrono::Utc>),
    /// This long from now, counted in the limit's calendar like a policy span.
    Within(crate::limit_duration::LimitDuration),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Open(OpenTicket),
    /// Re-classify; `None` fields keep their value, an explicit category wins over conditions.
    Classify {
        category: Option<String>,
        class: Option<u8>,
        major: Option<bool>,
    },
    /// respond, plan, report, expert_reply, update, notice
    Act {
        action: Action,
        by: String,
        note: String,
    },
    /// A step the policy declares in an `[[action]]` table.
    Step {
        step: String,
        by: String,
        note: String,
    },
    /// A person sets the deadline of a limit on this ticket (E2), with why.
    SetDeadline {
        limit: String,
        due: Due,
        by: String,
        reason: String,
    },
    Assign {
        department: String,
        tier: String,
        lead: Option<String>,
    },
    Pause {
        reason: String,
    },
    Resume,
    Resolve {
        note: String,
    },
    /// A revisit or callback (V6): `ok = false` reopens the ticket (V5).
    Revisit {
        ok: bool,
        channel: String,
        note: String,
    },
    Close {
        invalid: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Compensation {
        amount: String,
        note: String,
    },
    /// Waive a revisit slot (`slot` its key; `None`: every open slot) with a reason.
    WaiveRevisit {
        slot: Option<String>,
        reason: String,
        by: String,
    },
    /// Fire timers due at `now`.
    Tick,
    /// An external event for the ticket's estate, e.g. `rain`.
    Event {
        kind: String,
    },
    /// Move an open ticket to the active policy.
    MovePolicy,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Open(_) => "open",
            Command::Classify { .. } => "classify",
            Command::Act { action, .. } => action.as_str(),
            Command::Step { .. } => "record a step on",
            Command::SetDeadline { .. } => "set a deadline on",
            Command::Assign { .. } => "assign",
            Command::Pause { .. } => "pause",
            Command::Resume => "resume",
            Command::Resolve { .. } => "resolve",
            Command::Revisit { .. } => "revisit",
            Command::Close { .. } => "close",
            Command::Reopen { .. } => "reopen",
            Command::Compensation { .. } => "record compensation for",
            Command::WaiveRevisit { .. } => "waive a revisit of",
            Command::Tick => "tick",
            Command::Event { .. } => "apply an event to",
            Command::MovePolicy => "move",
        }
    }
}
