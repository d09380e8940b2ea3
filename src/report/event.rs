//! The few fields of each fact the fold reads, borrowed where possible. Built
//! either from a parsed [`Fact`] (tests, simulations) or straight from a log
//! row's JSON payload with a light per-kind struct: the row's `kind` column
//! already says which fact it is, so the payload is read without serde's
//! buffering of internally tagged enums and without parsing fields the
//! reports never use. This is most of the report's speed on large logs.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::engine::Fact;

type S<'a> = Cow<'a, str>;

/// A fact as the fold sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev<'a> {
    Opened {
        estate: S<'a>,
        kind: S<'a>,
        text: S<'a>,
    },
    Classified {
        category: S<'a>,
        route: Option<S<'a>>,
    },
    Assigned {
        department: S<'a>,
    },
    Action {
        action: S<'a>,
        by: S<'a>,
        note: S<'a>,
    },
    ClockStarted {
        limit: S<'a>,
        milestone: S<'a>,
        deadline: DateTime<Utc>,
    },
    ClockResumed {
        limit: S<'a>,
        deadline: DateTime<Utc>,
    },
    ClockCancelled {
        limit: S<'a>,
    },
    ClockMet {
        limit: S<'a>,
        on_time: bool,
    },
    Breached {
        limit: S<'a>,
    },
    Escalated {
        to: S<'a>,
    },
    Resolved,
    RevisitScheduled {
        due: Option<DateTime<Utc>>,
    },
    RevisitDone,
    RevisitOverdue,
    Reopened,
    Closed {
        invalid: bool,
    },
    Compensation,
    Other,
}

impl<'a> Ev<'a> {
    pub fn from_fact(fact: &'a Fact) -> Ev<'a> {
        let b = |s: &'a String| Cow::Borrowed(s.as_str());
        match fact {
            Fact::Opened { intake, .. } => Ev::Opened {
                estate: b(&intake.estate),
                kind: b(&intake.kind),
                text: b(&intake.text),
            },
            Fact::Classified {
                category, route, ..
            } => Ev::Classified {
                category: b(category),
                route: route.as_ref().map(b),
            },
            Fact::Assigned { department, .. } => Ev::Assigned {
                department: b(department),
            },
            Fact::ActionRecorded { action, by, note } => Ev::Action {
                action: b(action),
                by: b(by),
                note: b(note),
            },
            Fact::ClockStarted {
                limit,
                milestone,
                deadline,
                ..
            } => Ev::ClockStarted {
                limit: b(limit),
                milestone: b(milestone),
                deadline: *deadline,
            },
            Fact::ClockResumed {
                limit, deadline, ..
            } => Ev::ClockResumed {
                limit: b(limit),
                deadline: *deadline,
            },
            Fact::ClockCancelled { limit, .. } => Ev::ClockCancelled { limit: b(limit) },
            Fact::ClockMet { limit, on_time } => Ev::ClockMet {
                limit: b(limit),
                on_time: *on_time,
            },
            Fact::Breached { limit, .. } => Ev::Breached { limit: b(limit) },
            Fact::Escalated { to, .. } => Ev::Escalated { to: b(to) },
            Fact::Resolved { .. } => Ev::Resolved,
            Fact::RevisitScheduled { due, .. } => Ev::RevisitScheduled { due: *due },
            Fact::RevisitDone { .. } => Ev::RevisitDone,
            Fact::RevisitOverdue { .. } => Ev::RevisitOverdue,
            Fact::Reopened { .. } => Ev::Reopened,
            Fact::Closed { invalid } => Ev::Closed {
                invalid: invalid.is_some(),
            },
            Fact::CompensationClaimed { .. } => Ev::Compensation,
            _ => Ev::Other,
        }
    }

    /// Reads the fields the fold needs from the JSON payload of a row whose
    /// `kind` column is `kind` (see [`Fact::kind`]).
    pub fn from_payload(kind: &str, payload: &'a str) -> Result<Ev<'a>, serde_json::Error> {
        fn read<'a, T: Deserialize<'a>>(payload: &'a str) -> Result<T, serde_json::Error> {
            serde_json::from_str::<Wrap<T>>(payload).map(|w| w.fact)
        }
        Ok(match kind {
            "opened" => {
                let o: OpenedP = read(payload)?;
                Ev::Opened {
                    estate: o.intake.estate,
                    kind: o.intake.kind,
                    text: o.intake.text,
                }
            }
            "classified" => {
                let c: ClassifiedP = read(payload)?;
                Ev::Classified {
                    category: c.category,
                    route: c.route,
                }
            }
            "assigned" => Ev::Assigned {
                department: read::<AssignedP>(payload)?.department,
            },
            "action_recorded" => {
                let a: ActionP = read(payload)?;
                Ev::Action {
                    action: a.action,
                    by: a.by,
                    note: a.note,
                }
            }
            "clock_started" => {
                let c: ClockP = read(payload)?;
                Ev::ClockStarted {
                    limit: c.limit,
                    milestone: c.milestone.unwrap_or_default(),
                    deadline: c.deadline.unwrap_or_default(),
                }
            }
            "clock_resumed" => {
                let c: ClockP = read(payload)?;
                Ev::ClockResumed {
                    limit: c.limit,
                    deadline: c.deadline.unwrap_or_default(),
                }
            }
            "clock_cancelled" => Ev::ClockCancelled {
                limit: read::<ClockP>(payload)?.limit,
            },
            "clock_met" => {
                let c: ClockP = read(payload)?;
                Ev::ClockMet {
                    limit: c.limit,
                    on_time: c.on_time.unwrap_or(false),
                }
            }
            "breached" => Ev::Breached {
                limit: read::<ClockP>(payload)?.limit,
            },
            "escalated" => Ev::Escalated {
                to: read::<EscalatedP>(payload)?.to,
            },
            "resolved" => Ev::Resolved,
            "revisit_scheduled" => Ev::RevisitScheduled {
                due: read::<RevisitP>(payload)?.due,
            },
            "revisit_done" => Ev::RevisitDone,
            "revisit_overdue" => Ev::RevisitOverdue,
            "reopened" => Ev::Reopened,
            "closed" => Ev::Closed {
                invalid: read::<ClosedP>(payload)?.invalid.is_some(),
            },
            "compensation_claimed" => Ev::Compensation,
            _ => Ev::Other,
        })
    }
}

#[derive(Deserialize)]
struct Wrap<T> {
    fact: T,
}

#[derive(Deserialize)]
struct OpenedP<'a> {
    #[serde(borrow)]
    intake: IntakeP<'a>,
}

#[derive(Deserialize)]
struct IntakeP<'a> {
    #[serde(borrow)]
    estate: S<'a>,
    #[serde(borrow)]
    kind: S<'a>,
    #[serde(borrow, default)]
    text: S<'a>,
}

#[derive(Deserialize)]
struct ClassifiedP<'a> {
    #[serde(borrow)]
    category: S<'a>,
    #[serde(borrow, default)]
    route: Option<S<'a>>,
}

#[derive(Deserialize)]
struct AssignedP<'a> {
    #[serde(borrow)]
    department: S<'a>,
}

#[derive(Deserialize)]
struct ActionP<'a> {
    #[serde(borrow)]
    action: S<'a>,
    #[serde(borrow, default)]
    by: S<'a>,
    #[serde(borrow, default)]
    note: S<'a>,
}

#[derive(Deserialize)]
struct ClockP<'a> {
    #[serde(borrow)]
    limit: S<'a>,
    #[serde(borrow, default)]
    milestone: Option<S<'a>>,
    #[serde(default)]
    deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    on_time: Option<bool>,
}

#[derive(Deserialize)]
struct EscalatedP<'a> {
    #[serde(borrow)]
    to: S<'a>,
}

#[derive(Deserialize)]
struct RevisitP {
    #[serde(default)]
    due: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct ClosedP {
    #[serde(default)]
    invalid: Option<serde::de::IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Decision, OpenTicket};

    /// Both ways of reading a fact agree, for every kind the fold uses.
    #[test]
    fn payload_and_fact_agree() {
        let at = DateTime::parse_from_rfc3339("2026-07-06T09:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let facts = vec![
            Fact::Opened {
                intake: OpenTicket {
                    id: "T1".into(),
                    estate: "河畔\"苑".into(),
                    kind: "repair".into(),
                    text: "漏水\n严重".into(),
                    ..OpenTicket::default()
                }
                .into(),
                fingerprint: "f".into(),
            },
            Fact::Classified {
                category: "repair.leak".into(),
                class: None,
                emergency: false,
                major: false,
                route: Some("engineering".into()),
                matched: None,
                hook: None,
            },
            Fact::Assigned {
                department: "cleaning".into(),
                tier: "L2".into(),
                lead: None,
            },
            Fact::ActionRecorded {
                action: "plan".into(),
                by: "张三".into(),
                note: "明天".into(),
            },
            Fact::ClockStarted {
                limit: "L3".into(),
                milestone: "initial_plan".into(),
                within: "24h".parse().unwrap(),
                start: at,
                deadline: at,
                warn_at: None,
                total_minutes: 1440,
            },
            Fact::ClockResumed {
                limit: "L3".into(),
                deadline: at,
                warn_at: None,
            },
            Fact::ClockCancelled {
                limit: "L3".into(),
                reason: "x".into(),
            },
            Fact::ClockMet {
                limit: "L1".into(),
                on_time: true,
            },
            Fact::Breached {
                limit: "L1".into(),
                deadline: at,
            },
            Fact::Escalated {
                from: "a".into(),
                to: "b".into(),
                notify: vec![],
            },
            Fact::Resolved {
                note: String::new(),
            },
            Fact::RevisitScheduled {
                slot: 0,
                key: "k".into(),
                due: Some(at),
                event: None,
            },
            Fact::RevisitDone {
                slot: None,
                key: "k".into(),
                ok: false,
                channel: "phone".into(),
                note: String::new(),
            },
            Fact::RevisitOverdue {
                slot: 0,
                key: "k".into(),
            },
            Fact::Reopened {
                reason: String::new(),
            },
            Fact::Closed {
                invalid: Some("no fault".into()),
            },
            Fact::Closed { invalid: None },
            Fact::CompensationClaimed {
                amount: "1".into(),
                note: String::new(),
            },
            Fact::MilestoneReached {
                milestone: "m".into(),
            },
        ];
        for fact in facts {
            let d = Decision {
                at,
                fact,
                rule: None,
            };
            let json = serde_json::to_string(&d).unwrap();
            let light = Ev::from_payload(d.fact.kind(), &json).unwrap();
            assert_eq!(light, Ev::from_fact(&d.fact), "{json}");
        }
    }
}
