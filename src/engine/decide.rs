//! The decision procedure for each command. `Run` holds the ticket as it evolves
//! while a command is decided: each fact is applied the moment it is emitted, so
//! later rules see the effect of earlier ones, exactly as a replay will.

use chrono::{DateTime, Utc};

use crate::limit_duration::LimitDuration;
use crate::policy::CompiledPolicy;
use crate::policy::hook_calls::{HookDeadline, HookOutcome};
use crate::policy::model::HookPoint;
use crate::policy::model::{Action, ClockStart, EscalateTo, Limit, RevisitAnchor, RevisitStep};
use crate::script::condition::{Condition, ConditionError, Facts};
use crate::script::facts::{FactCache, FactView, TicketFacts, weekday_name};
use crate::script::predicate::Hits;

use super::EngineError;
use super::clock::{self, ClockState};
use super::command::{Command, OpenTicket};
use super::fact::{Decision, Fact};
use super::revisit::SlotState;
use super::ticket::{Status, Ticket};
use super::timers::{NOTICE_CLOCK, NOTICE_MILESTONE, Target, earliest_timer, pending_timers};

mod classify;
mod clocks;
mod close;
mod dispatch;
mod pauses;
mod policy_move;
mod revisits;
mod steps;
mod timers;
mod waive;

pub use steps::{BUILTIN_STEPS, check_intake, step_names, unknown_step};

/// Decide what `cmd` at `now` does to `ticket` under `policy`. Returns the new
/// ticket and the facts, in order. A refused command returns an error and no facts.
pub fn decide(
    ticket: Option<&Ticket>,
    cmd: &Command,
    now: DateTime<Utc>,
    policy: &CompiledPolicy,
) -> Result<(Ticket, Vec<Decision>), EngineError> {
    let t = match (ticket, cmd) {
        (None, Command::Open(intake)) => return open(intake, now, policy),
        (Some(t), Command::Open(_)) => return Err(EngineError::Exists(t.id().to_string())),
        (None, _) => return Err(EngineError::Invalid("no such ticket".into())),
        (Some(t), _) => t.clone(),
    };
    if now < t.updated_at {
        return Err(EngineError::InThePast {
            now: steps::local(now, policy.tz),
            last: steps::local(t.updated_at, policy.tz),
        });
    }
    let mut run = Run::new(t, Vec::new(), policy);
    let inclusive = matches!(cmd, Command::Tick) || !policy.policy.ordering.action_before_deadline;
    run.catch_up(now, inclusive)?;
    run.command(cmd, now)?;
    run.catch_up(now, inclusive)?;
    Ok((run.t, run.out))
}

fn open(
    intake: &OpenTicket,
    now: DateTime<Utc>,
    p: &CompiledPolicy,
) -> Result<(Ticket, Vec<Decision>), EngineError> {
    if intake.id.trim().is_empty() || intake.estate.trim().is_empty() {
        return Err(EngineError::Invalid(
            "a ticket needs an `id` and an `estate`".into(),
        ));
    }
    if crate::policy::model::Kind::parse(&intake.kind).is_none() {
        return Err(EngineError::Invalid(format!(
            "unknown kind `{}`: expected inquiry, repair, complaint or suggestion",
            intake.kind
        )));
    }
    check_intake(intake, &p.policy)?;
    if intake.class > 3 {
        return Err(EngineError::Invalid(format!(
            "complaint class must be 1, 2 or 3, found {}",
            intake.class
        )));
    }
    let intake = std::sync::Arc::new(intake.clone());
    let opened = Decision {
        at: now,
        fact: Fact::Opened {
            intake: std::sync::Arc::clone(&intake),
            fingerprint: p.fingerprint.clone(),
        },
        rule: None,
    };
    let t = Ticket::new(intake, p.fingerprint.clone(), now);
    let mut run = Run::new(t, vec![opened], p);
    run.classify(now, None, None, None)?;
    run.catch_up(now, false)?;
    Ok((run.t, run.out))
}

/// What a classify hook said beyond the category.
#[derive(Default)]
struct Decided {
    hook: Option<String>,
    hook_id: Option<String>,
    urgency: Option<String>,
    major: Option<bool>,
    emergency: Option<bool>,
    class: Option<u8>,
}

struct Run<'a> {
    t: Ticket,
    out: Vec<Decision>,
    p: &'a CompiledPolicy,
    /// The ticket's facts and scope, built when first read (see [`FactCache`]).
    cache: std::cell::RefCell<FactCache>,
    /// The policy's keyword search over the ticket's text, run when first read;
    /// the text is the intake's, which no fact changes.
    hits: std::cell::OnceCell<Hits>,
    /// Local hour and weekday of intake, which no fact changes either.
    opened_local: std::cell::OnceCell<(i64, &'static str)>,
}

impl<'a> Run<'a> {
    fn new(t: Ticket, out: Vec<Decision>, p: &'a CompiledPolicy) -> Run<'a> {
        Run {
            t,
            out,
            p,
            cache: Default::default(),
            hits: Default::default(),
            opened_local: Default::default(),
        }
    }
}

impl Run<'_> {
    fn emit(&mut self, at: DateTime<Utc>, fact: Fact, rule: Option<&str>) {
        let d = Decision {
            at,
            fact,
            rule: rule.map(str::to_string),
        };
        self.t.apply(&d);
        self.out.push(d);
    }

    /// Record that a hook or plug-in failed and what was used instead.
    fn hook_failed(&mut self, now: DateTime<Utc>, hook: String, error: String, fallback: String) {
        let rule = hook.clone();
        self.emit(
            now,
            Fact::HookFailed {
                hook,
                error,
                fallback,
            },
            Some(&rule),
        );
    }

    fn refuse(&self, action: &str, reason: impl Into<String>) -> EngineError {
        EngineError::Refused {
            ticket: self.t.id().to_string(),
            action: action.to_string(),
            reason: reason.into(),
        }
    }

    fn transition(&self, action: &str) -> EngineError {
        EngineError::InvalidTransition {
            ticket: self.t.id().to_string(),
            action: action.to_string(),
            status: self.t.status.as_str().to_string(),
        }
    }

    /// What conditions and hooks know of the ticket, read in place.
    fn view(&self) -> FactView<'_> {
        let t = &self.t;
        let (hour, weekday) = *self.opened_local.get_or_init(|| {
            let local = t.opened_at.with_timezone(&self.p.tz);
            (
                i64::from(chrono::Timelike::hour(&local)),
                weekday_name(chrono::Datelike::weekday(&local)),
            )
        });
        FactView {
            kind: &t.intake.kind,
            category: t.category.as_deref().unwrap_or_default(),
            class: i64::from(t.class.unwrap_or(0)),
            text: &t.intake.text,
            estate: &t.intake.estate,
            unit: &t.intake.unit,
            channel: &t.intake.channel,
            urgency: &t.intake.urgency,
            major: t.major,
            emergency: t.emergency,
            phase: &t.intake.phase,
            tags: &t.intake.tags,
            hour,
            weekday,
            revisits: i64::from(t.callbacks),
            department: t.department.as_deref().unwrap_or_default(),
        }
    }

    /// The facts as hooks and plug-ins take them (owned), built once while unchanged.
    fn facts(&self) -> TicketFacts {
        self.cache.borrow_mut().facts(&self.view()).clone()
    }

    /// Start a group of conditions that once shared a scope (see [`FactCache`]).
    fn new_group(&self) {
        self.cache.borrow_mut().new_group();
    }

    /// Does `condition` hold for the ticket as it stands (`None`: no condition)?
    fn holds(&self, condition: Option<&Condition>) -> Result<bool, ConditionError> {
        let Some(c) = condition else {
            return Ok(true);
        };
        let facts = Facts::new(self.view(), self.p.keywords(), &self.hits);
        self.p.holds(Some(c), &facts, &mut self.cache.borrow_mut())
    }
}

fn keys<V>(map: &std::collections::BTreeMap<String, V>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// Shared helpers of the unit tests beside each part of the decision.
#[cfg(test)]
mod testing {
    use chrono::{DateTime, Duration, Utc};

    use super::{Command, Decision, EngineError, OpenTicket, Ticket, decide};
    use crate::policy::CompiledPolicy;

    /// A shipped policy, compiled as the engine runs it.
    pub fn policy(name: &str) -> CompiledPolicy {
        let Ok(loaded) = crate::policy::embedded::load(name) else {
            panic!("shipped policy `{name}` does not load");
        };
        CompiledPolicy::new(loaded.policy).expect("shipped policy compiles")
    }

    /// Monday 2026-07-06 10:00 Shanghai (a working day), plus `minutes`.
    pub fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-06T10:00:00+08:00")
            .expect("valid time")
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    pub fn intake(kind: &str, text: &str) -> OpenTicket {
        OpenTicket {
            id: "T1".into(),
            estate: "east".into(),
            channel: "hotline".into(),
            kind: kind.into(),
            text: text.into(),
            ..OpenTicket::default()
        }
    }

    pub fn open(p: &CompiledPolicy, kind: &str, text: &str) -> (Ticket, Vec<Decision>) {
        decide(None, &Command::Open(intake(kind, text)), at(0), p).expect("ticket opens")
    }

    pub fn run(
        p: &CompiledPolicy,
        t: &Ticket,
        cmd: Command,
        minutes: i64,
    ) -> Result<(Ticket, Vec<Decision>), EngineError> {
        decide(Some(t), &cmd, at(minutes), p)
    }

    /// `kind` or `kind:rule` of each decision, in order.
    pub fn kinds(ds: &[Decision]) -> Vec<String> {
        ds.iter()
            .map(|d| match &d.rule {
                Some(r) => format!("{}:{r}", d.fact.kind()),
                None => d.fact.kind().to_string(),
            })
            .collect()
    }

    pub fn respond() -> Command {
        Command::Act {
            action: crate::policy::model::Action::Respond,
            by: "客服".into(),
            note: String::new(),
        }
    }

    pub fn resolve() -> Command {
        Command::Resolve {
            note: "done".into(),
        }
    }
}
