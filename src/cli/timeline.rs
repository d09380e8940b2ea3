//! Human text for facts and tickets: the timeline of `ticket show`, `tick`, the demo.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::engine::{ClockState, Decision, Fact, SlotState, Ticket};

pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn summary(fact: &Fact, tz: Tz) -> String {
    match fact {
        Fact::Opened { intake, .. } => format!(
            "opened {} via {}: {}",
            intake.kind, intake.channel, intake.text
        ),
        Fact::Classified {
            category,
            class,
            matched,
            hook,
            ..
        } => {
            let class = class.map(|c| format!(", class {c}")).unwrap_or_default();
            match (hook, matched) {
                (Some(h), _) => format!("classified {category}{class} by hook {h}"),
                (None, Some(m)) => format!(
                    "classified {category}{class} (matched `{}`)",
                    clip(&m.split_whitespace().collect::<Vec<_>>().join(" "), 40)
                ),
                (None, None) => format!("classified {category}{class}"),
            }
        }
        Fact::HookFailed {
            hook,
            error,
            fallback,
        } => format!("hook {hook} FAILED, fell back to {fallback}: {error}"),
        Fact::ConditionFailed { error, fallback } => {
            format!("condition failed, fell back to {fallback}: {error}")
        }
        Fact::ActionRecorded { action, by, note } => {
            let mut s = action.replace('_', " ");
            if !by.is_empty() {
                s.push_str(&format!(" by {by}"));
            }
            if !note.is_empty() {
                s.push_str(&format!(": {note}"));
            }
            s
        }
        Fact::MilestoneReached { milestone } => format!("milestone {milestone} reached"),
        Fact::ClockStarted {
            milestone,
            within,
            deadline,
            ..
        } => format!(
            "clock: {milestone} within {within}, due {}",
            local(*deadline, tz)
        ),
        Fact::ClockMet { on_time: true, .. } => "limit met on time".into(),
        Fact::ClockMet { on_time: false, .. } => "limit met late".into(),
        Fact::ClockCancelled { reason, .. } => format!("clock stopped: {reason}"),
        Fact::ClockPaused { used_minutes, .. } => {
            format!("clock paused after {used_minutes} min used")
        }
        Fact::ClockResumed { deadline, .. } => {
            format!("clock resumed, now due {}", local(*deadline, tz))
        }
        Fact::DeadlineSet {
            deadline,
            by,
            reason,
            ..
        } => format!("deadline set to {} by {by}: {reason}", local(*deadline, tz)),
        Fact::Warned { deadline, .. } => format!("warning: due {}", local(*deadline, tz)),
        Fact::Breached { deadline, .. } => format!("BREACHED (was due {})", local(*deadline, tz)),
        Fact::Escalated { from, to, notify } => {
            format!("escalated {from} → {to}, notified {}", notify.join(", "))
        }
        Fact::Notified { to, about } => format!("notified {}: {about}", to.join(", ")),
        Fact::Assigned {
            department,
            tier,
            lead,
        } => match lead {
            Some(l) => format!("assigned {department} ({tier}), lead {l}"),
            None => format!("assigned {department} ({tier})"),
        },
        Fact::Paused { reason } => format!("paused: {reason}"),
        Fact::Resumed { reason, minutes } => format!("resumed after {minutes} min ({reason})"),
        Fact::Resolved { note } if note.is_empty() => "resolved".into(),
        Fact::Resolved { note } => format!("resolved: {note}"),
        Fact::RevisitScheduled {
            key,
            due: Some(due),
            ..
        } => format!("revisit {key} due by {}", local(*due, tz)),
        Fact::RevisitScheduled {
            key,
            event: Some(e),
            ..
        } => format!("revisit {key} after the next {e}"),
        Fact::RevisitScheduled { key, .. } => format!("revisit {key} after the previous one"),
        Fact::RevisitDue { key, cause, .. } => format!("revisit {key} due now ({cause})"),
        Fact::RevisitOverdue { key, .. } => format!("revisit {key} OVERDUE"),
        Fact::RevisitDone {
            key,
            ok: true,
            channel,
            ..
        } => format!("revisit {key} by {channel}: ok"),
        Fact::RevisitDone {
            key,
            ok: false,
            channel,
            note,
            ..
        } => format!("revisit {key} by {channel}: PROBLEM {note}"),
        Fact::RevisitCancelled { key, .. } => format!("revisit {key} cancelled"),
        Fact::RevisitWaived {
            key, reason, by, ..
        } if by.is_empty() => {
            format!("revisit {key} waived: {reason}")
        }
        Fact::RevisitWaived {
            key, reason, by, ..
        } => format!("revisit {key} waived by {by}: {reason}"),
        Fact::Reopened { reason } => format!("reopened: {reason}"),
        Fact::Closed { invalid: None } => "closed".into(),
        Fact::Closed { invalid: Some(e) } => format!("closed as invalid: {e}"),
        Fact::CompensationClaimed { amount, note } => format!("compensation claim {amount} {note}"),
        Fact::PolicyMoved { from, to } => {
            format!("moved to policy {} (from {})", short(to), short(from))
        }
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

pub fn short(fp: &str) -> &str {
    fp.get(..12).unwrap_or(fp)
}

pub fn rows(id: &str, decisions: &[Decision], tz: Tz) -> Vec<Vec<String>> {
    decisions.iter().map(|d| row(id, d, tz)).collect()
}

/// time, ticket, what happened, rule.
pub fn row(id: &str, d: &Decision, tz: Tz) -> Vec<String> {
    vec![
        local(d.at, tz),
        id.to_string(),
        summary(&d.fact, tz),
        d.rule.clone().unwrap_or_default(),
    ]
}

/// The state block under a timeline: clocks, revisits, paused time.
pub fn state(t: &Ticket, tz: Tz) -> String {
    let mut out = format!(
        "ticket {}  {}  estate {}  category {}  step {}  policy {}\n",
        t.id(),
        t.status.as_str(),
        t.intake.estate,
        t.category.as_deref().unwrap_or("-"),
        t.ladder_id.as_deref().unwrap_or("specialist"),
        short(&t.fingerprint)
    );
    for c in t.clocks.values() {
        let state = match c.state {
            ClockState::Running => format!("running, due {}", local(c.deadline, tz)),
            ClockState::Paused => {
                format!("paused, {} of {} min used", c.used_minutes, c.total_minutes)
            }
            ClockState::Met => "met".into(),
            ClockState::Breached => format!("breached at {}", local(c.deadline, tz)),
            ClockState::Cancelled => "stopped".into(),
        };
        let state = match &c.set_by {
            Some(by) => format!("{state} (deadline set by {by})"),
            None => state,
        };
        out.push_str(&format!(
            "  limit {:<16} {:<18} {state}\n",
            c.limit, c.milestone
        ));
    }
    for s in &t.revisits {
        let when = match (s.due, &s.event) {
            (Some(d), _) => format!("due by {}", local(d, tz)),
            (None, Some(e)) => format!("after next {e}"),
            _ => "after previous".into(),
        };
        let state = match s.state {
            SlotState::Blocked => "waiting for previous",
            SlotState::Scheduled => "scheduled",
            SlotState::Waiting => "waiting for event",
            SlotState::Due => "due",
            SlotState::Overdue => "overdue",
            SlotState::Done => "done",
            SlotState::Failed => "found a problem",
            SlotState::Cancelled => "cancelled",
            SlotState::Waived => "waived",
        };
        match &s.waived {
            Some(why) => out.push_str(&format!("  revisit {:<8} {state} ({why}), {when}\n", s.key)),
            None => out.push_str(&format!("  revisit {:<8} {state}, {when}\n", s.key)),
        }
    }
    for (reason, minutes) in &t.paused_minutes {
        out.push_str(&format!("  paused {minutes} min: {reason}\n"));
    }
    out
}
