//! A scenario: a policy, a start time, steps at virtual times and expectations.
//! This file is the model; [`super::parse`] reads it from TOML with located errors,
//! [`super::runner`] runs it.
//!
//! ```toml
//! [scenario]
//! name = "leak repair is revisited after the next rain"
//! policy = ".."                       # relative to this file; default `..`
//! start = "2026-07-01T09:00:00+08:00"
//!
//! [[step]]
//! at = "+0m"
//! open = { ref = "T1", estate = "gardens", kind = "repair", text = "卫生间天花板渗水" }
//! rules = ["V4"]
//!
//! [[expect]]
//! at = "+2d1h"
//! ticket = "T1"
//! revisits_due = ["V4#1", "V4#2"]
//! ```

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::diagnostic::{Loc, SourceMap};
use crate::engine::{Command, OpenTicket};

#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    /// The company-wide policy directory (or file).
    pub policy: PathBuf,
    /// Estate overlays: `(estate, policy path)`.
    pub estate_policies: Vec<(String, PathBuf)>,
    pub start: DateTime<Utc>,
    pub steps: Vec<Step>,
    pub expects: Vec<Expect>,
    /// The scenario's text, to point at a step or expectation when it fails.
    pub sources: SourceMap,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub at: DateTime<Utc>,
    /// The time as written (`+5h`).
    pub when: String,
    pub action: StepAction,
    /// Rule ids the step exercises (for coverage).
    pub rules: Vec<String>,
    /// The command must be refused with an error containing this text.
    pub expect_error: Option<String>,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum StepAction {
    Open(OpenTicket),
    Command {
        ticket: String,
        cmd: Command,
    },
    Event {
        kind: String,
        estate: String,
    },
    /// Time passes: fire the timers due up to `at`.
    Tick,
}

impl StepAction {
    /// What the timeline shows for a refused step.
    pub fn describe(&self) -> String {
        match self {
            StepAction::Open(o) => format!("open {}", o.id),
            StepAction::Command { ticket, cmd } => format!("{} {ticket}", cmd.name()),
            StepAction::Event { kind, estate } => format!("{kind} at {estate}"),
            StepAction::Tick => "time passes".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub at: DateTime<Utc>,
    pub when: String,
    pub ticket: String,
    pub checks: Vec<Check>,
    pub rules: Vec<String>,
    pub loc: Loc,
}

/// One thing an expectation asserts about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `open`, `resolved`, `closed` or `invalid`.
    Status(String),
    Category(String),
    /// The department the ticket is routed or dispatched to.
    Department(String),
    /// The current ladder step (`specialist` before any escalation).
    Ladder(String),
    /// Exactly these limits have breached so far (sorted set).
    Breached(Vec<String>),
    /// Each of these was notified so far (escalation or notice).
    Notified(Vec<String>),
    /// None of these was notified so far.
    NotNotified(Vec<String>),
    /// Exactly these revisit slots can or must be made now (scheduled, due, overdue).
    RevisitsDue(Vec<String>),
    /// Slot key → state (`scheduled`, `waiting`, `due`, `overdue`, `done`, ...).
    Revisits(Vec<(String, String)>),
    /// Limit → clock state (`running`, `paused`, `met`, `breached`, `cancelled`).
    Clocks(Vec<(String, String)>),
    /// Limit → deadline of its clock.
    Deadlines(Vec<(String, DateTime<Utc>)>),
    /// The ladder steps escalated to so far, in order.
    Escalations(Vec<String>),
    /// Pause reason → minutes paused so far.
    PausedMinutes(Vec<(String, i64)>),
    Reopened(i64),
}

impl Check {
    pub fn name(&self) -> &'static str {
        match self {
            Check::Status(_) => "status",
            Check::Category(_) => "category",
            Check::Department(_) => "department",
            Check::Ladder(_) => "ladder",
            Check::Breached(_) => "breached",
            Check::Notified(_) => "notified",
            Check::NotNotified(_) => "not_notified",
            Check::RevisitsDue(_) => "revisits_due",
            Check::Revisits(_) => "revisits",
            Check::Clocks(_) => "clocks",
            Check::Deadlines(_) => "deadlines",
            Check::Escalations(_) => "escalations",
            Check::PausedMinutes(_) => "paused_minutes",
            Check::Reopened(_) => "reopened",
        }
    }
}
