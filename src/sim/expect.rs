//! Checking an expectation against a ticket's state and its logged facts. Each
//! mismatch gives what was expected and what is, in the same words, so the
//! difference reads at a glance.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::engine::{ClockState, Decision, Fact, SlotState, Ticket};

use super::scenario::Check;

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub check: String,
    pub expected: String,
    pub actual: String,
}

pub fn check(c: &Check, t: &Ticket, log: &[Decision], tz: Tz) -> Option<Mismatch> {
    let (expected, actual) = match c {
        Check::Status(s) => (s.clone(), t.status.as_str().to_string()),
        Check::Category(s) => (s.clone(), t.category.clone().unwrap_or_else(|| "-".into())),
        Check::Department(s) => (
            s.clone(),
            t.department.clone().unwrap_or_else(|| "-".into()),
        ),
        Check::Ladder(s) => (
            s.clone(),
            t.ladder_id.clone().unwrap_or_else(|| "specialist".into()),
        ),
        Check::Breached(want) => (list(want), list(&breached(log))),
        Check::Escalations(want) => (list(want), list(&escalations(log))),
        Check::RevisitsDue(want) => (list(want), list(&revisits_due(t))),
        Check::Notified(want) => {
            let got = notified(log);
            let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
            if missing.is_empty() {
                return None;
            }
            (format!("including {}", list(want)), list(&got))
        }
        Check::NotNotified(unwanted) => {
            let got = notified(log);
            if !unwanted.iter().any(|w| got.contains(w)) {
                return None;
            }
            (format!("none of {}", list(unwanted)), list(&got))
        }
        Check::Revisits(want) => pairs(want, |key| {
            t.revisits
                .iter()
                .find(|s| s.key == key)
                .map(|s| slot_state(s.state).to_string())
        }),
        Check::Clocks(want) => pairs(want, |limit| {
            let c = t.clocks.get(limit)?;
            let late = log.iter().rev().find_map(|d| match &d.fact {
                Fact::ClockMet { limit: l, on_time } if l == limit => Some(!on_time),
                _ => None,
            });
            Some(match (c.state, late) {
                (ClockState::Met, Some(true)) => "met_late".to_string(),
                (s, _) => clock_state(s).to_string(),
            })
        }),
        Check::Deadlines(want) => {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, d)| (k.clone(), local(*d, tz)))
                .collect();
            pairs(&want, |limit| {
                t.clocks.get(limit).map(|c| local(c.deadline, tz))
            })
        }
        Check::PausedMinutes(want) => {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, m)| (k.clone(), m.to_string()))
                .collect();
            pairs(&want, |reason| {
                Some(
                    t.paused_minutes
                        .get(reason)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                )
            })
        }
        Check::Reopened(n) => (n.to_string(), t.reopened.to_string()),
    };
    (expected != actual).then(|| Mismatch {
        check: c.name().to_string(),
        expected,
        actual,
    })
}

fn pairs(want: &[(String, String)], actual: impl Fn(&str) -> Option<String>) -> (String, String) {
    let render = |v: Vec<String>| format!("{{ {} }}", v.join(", "));
    let expected = want.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let got = want
        .iter()
        .map(|(k, _)| format!("{k} = {}", actual(k).unwrap_or_else(|| "(none)".into())))
        .collect();
    (render(expected), render(got))
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// Limits that breached at least once, sorted.
pub fn breached(log: &[Decision]) -> Vec<String> {
    let mut v: Vec<String> = log
        .iter()
        .filter_map(|d| match &d.fact {
            Fact::Breached { limit, .. } => Some(limit.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

pub fn escalations(log: &[Decision]) -> Vec<String> {
    log.iter()
        .filter_map(|d| match &d.fact {
            Fact::Escalated { to, .. } => Some(to.clone()),
            _ => None,
        })
        .collect()
}

/// Everyone notified so far, by an escalation or a notice, sorted.
pub fn notified(log: &[Decision]) -> Vec<String> {
    let mut v: Vec<String> = log
        .iter()
        .flat_map(|d| match &d.fact {
            Fact::Escalated { notify, .. } => notify.clone(),
            Fact::Notified { to, .. } => to.clone(),
            _ => Vec::new(),
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Revisit slots that can or must be made now, sorted.
pub fn revisits_due(t: &Ticket) -> Vec<String> {
    let mut v: Vec<String> = t
        .revisits
        .iter()
        .filter(|s| s.is_actionable())
        .map(|s| s.key.clone())
        .collect();
    v.sort();
    v
}

pub fn slot_state(s: SlotState) -> &'static str {
    match s {
        SlotState::Blocked => "blocked",
        SlotState::Scheduled => "scheduled",
        SlotState::Waiting => "waiting",
        SlotState::Due => "due",
        SlotState::Overdue => "overdue",
        SlotState::Done => "done",
        SlotState::Failed => "failed",
        SlotState::Cancelled => "cancelled",
        SlotState::Waived => "waived",
    }
}

pub fn clock_state(s: ClockState) -> &'static str {
    match s {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Met => "met",
        ClockState::Breached => "breached",
        ClockState::Cancelled => "cancelled",
    }
}
