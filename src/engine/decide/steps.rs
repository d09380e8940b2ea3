//! The steps a policy declares (`[[action]]`), deadlines a person sets for a
//! limit (E2: the department head sets one for what cannot be solved on the
//! spot), and the intake values a policy declares.

use super::*;
use crate::diagnostic::did_you_mean;

impl Run<'_> {
    /// A declared step: recorded like a built-in action, it reaches the
    /// milestones that name it and starts the clocks that run from them.
    pub(super) fn step(
        &mut self,
        now: DateTime<Utc>,
        step: &str,
        by: &str,
        note: &str,
    ) -> Result<(), EngineError> {
        if !self.p.policy.actions.contains_key(step) {
            return Err(EngineError::Invalid(unknown_step(&self.p.policy, step)));
        }
        if self.t.status != Status::Open {
            return Err(self.transition(step));
        }
        self.act(now, step, by, note)
    }

    /// Set the deadline of `limit` on this ticket: its clock (re)starts now and
    /// runs to the deadline given, whatever the limit's own span was. A span
    /// counts in the limit's calendar (so pauses and working hours apply as to a
    /// policy span); an instant counts wall-clock.
    pub(super) fn set_deadline(
        &mut self,
        now: DateTime<Utc>,
        limit: &str,
        due: &super::super::command::Due,
        by: &str,
        reason: &str,
    ) -> Result<(), EngineError> {
        use super::super::command::Due;
        const NAME: &str = "set a deadline on";
        let p = self.p;
        let Some((id, l, condition)) = p.limit_rules().find(|(id, ..)| id.as_str() == limit) else {
            let ids = p.policy.limits.keys().map(String::as_str);
            let hint = match did_you_mean(limit, ids) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("limits: {}", keys(&p.policy.limits)),
            };
            return Err(EngineError::Invalid(format!(
                "policy `{}` has no limit `{limit}`; {hint}",
                p.policy.id
            )));
        };
        if self.t.status != Status::Open {
            return Err(self.transition(NAME));
        }
        if by.trim().is_empty() || reason.trim().is_empty() {
            return Err(self.refuse(
                NAME,
                "a deadline needs who set it (--by) and why (--reason)",
            ));
        }
        if self.t.milestones.contains_key(&l.milestone) {
            return Err(self.refuse(
                NAME,
                format!(
                    "limit `{id}` is met: milestone `{}` was reached",
                    l.milestone
                ),
            ));
        }
        if let Some((reason, _)) = &self.t.pause {
            return Err(self.refuse(NAME, format!("it is paused ({reason}); resume it first")));
        }
        self.new_group();
        match self.holds(condition) {
            Ok(true) => {}
            Ok(false) => {
                return Err(self.refuse(NAME, format!("limit `{id}` does not apply to it")));
            }
            Err(e) => return Err(EngineError::Invalid(format!("limit `{id}`: {e}"))),
        }
        let (within, at, warn_at, total) = match due {
            Due::At(at) => {
                let total = (*at - now).num_minutes().max(1);
                let warn_at = l
                    .warn_at
                    .map(|pct| now + chrono::Duration::minutes(total * i64::from(pct) / 100));
                (LimitDuration::Wall { minutes: total }, *at, warn_at, total)
            }
            Due::Within(span) => {
                let (at, warn_at, total) = clock::start(p.calendar_for(l), span, l.warn_at, now)
                    .map_err(|e| EngineError::Invalid(format!("limit `{id}`: {e}")))?;
                (*span, at, warn_at, total)
            }
        };
        if at <= now {
            let tz = p.tz;
            return Err(self.refuse(
                NAME,
                format!(
                    "the deadline {} is not after now ({})",
                    local(at, tz),
                    local(now, tz)
                ),
            ));
        }
        self.emit(
            now,
            Fact::ClockStarted {
                limit: id.clone(),
                milestone: l.milestone.clone(),
                within,
                start: now,
                deadline: at,
                warn_at,
                total_minutes: total,
            },
            Some(id),
        );
        self.emit(
            now,
            Fact::DeadlineSet {
                limit: id.clone(),
                deadline: at,
                by: by.into(),
                reason: reason.into(),
            },
            Some(id),
        );
        Ok(())
    }
}

/// A time as a person reads it: local to the policy, with the zone's offset.
pub(crate) fn local(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// The message for a step the policy does not declare, with the closest one.
pub fn unknown_step(p: &crate::policy::model::Policy, step: &str) -> String {
    let steps = step_names(p);
    let d = format!("policy `{}` declares no step `{step}`", p.id);
    match did_you_mean(step, steps.iter().copied()) {
        Some(s) => format!("{d}; did you mean `{s}`?"),
        None => format!("{d}; steps: {}", steps.join(", ")),
    }
}

/// The steps `ticket act` takes: built-in actions recorded as such, then the
/// policy's declared steps.
pub fn step_names(p: &crate::policy::model::Policy) -> Vec<&str> {
    BUILTIN_STEPS
        .iter()
        .copied()
        .chain(p.actions.keys().map(String::as_str))
        .collect()
}

/// Built-in actions a person records with `ticket act` (the others —
/// classify, assign, resolve, close — have commands of their own).
pub const BUILTIN_STEPS: [&str; 6] = [
    "respond",
    "plan",
    "report",
    "expert_reply",
    "update",
    "notice",
];

/// Check intake values against what the policy declares (D1, D2, 000 §5.2.1):
/// a channel or urgency the policy does not list, or an unknown phase, is
/// refused before anything is written.
pub fn check_intake(
    intake: &OpenTicket,
    p: &crate::policy::model::Policy,
) -> Result<(), EngineError> {
    let value = |field: &str, v: &str, known: Vec<&str>| -> Result<(), EngineError> {
        if v.is_empty() || known.is_empty() || known.contains(&v) {
            return Ok(());
        }
        let hint = match did_you_mean(v, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("declared: {}", known.join(", ")),
        };
        Err(EngineError::Invalid(format!(
            "unknown {field} `{v}` in policy `{}`; {hint}",
            p.id
        )))
    };
    value(
        "channel",
        &intake.channel,
        p.channels.keys().map(String::as_str).collect(),
    )?;
    value(
        "urgency",
        &intake.urgency,
        p.urgencies.keys().map(String::as_str).collect(),
    )?;
    value(
        "phase",
        &intake.phase,
        crate::policy::model::Phase::ALL.to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{kinds, open, policy, run};
    use super::*;
    use crate::engine::Due;

    fn set(limit: &str, minutes: i64) -> Command {
        Command::SetDeadline {
            limit: limit.into(),
            due: Due::At(super::super::testing::at(minutes)),
            by: "王经理".into(),
            reason: "协调".into(),
        }
    }

    #[test]
    fn a_limit_without_a_span_has_no_clock_until_a_deadline_is_set() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "complaint", "物业服务差");
        assert!(!t.clocks.contains_key("E2.deadline"));
        let (t, ds) = run(&p, &t, set("E2.deadline", 600), 10).expect("set");
        assert_eq!(
            kinds(&ds),
            ["clock_started:E2.deadline", "deadline_set:E2.deadline"]
        );
        let c = &t.clocks["E2.deadline"];
        assert_eq!(c.deadline, super::super::testing::at(600));
        assert_eq!(c.set_by.as_deref(), Some("王经理"));
        // Reclassifying does not undo a deadline a person set.
        let re = Command::Classify {
            category: Some("complaint.major".into()),
            class: None,
            major: None,
        };
        let (t, _) = run(&p, &t, re, 20).expect("reclassified");
        assert_eq!(
            t.clocks["E2.deadline"].deadline,
            super::super::testing::at(600)
        );
    }

    #[test]
    fn a_deadline_is_refused_while_paused_and_in_the_past() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "complaint", "物业服务差");
        assert!(matches!(
            run(&p, &t, set("E2.deadline", 5), 10),
            Err(EngineError::Refused { .. })
        ));
        let pause = Command::Pause {
            reason: "waiting_owner".into(),
        };
        let (t, _) = run(&p, &t, pause, 10).expect("paused");
        let err = run(&p, &t, set("E2.deadline", 600), 20).expect_err("refused");
        assert!(err.to_string().contains("resume it first"), "{err}");
    }

    #[test]
    fn a_clock_with_two_starts_runs_from_the_first() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "complaint", "集体投诉停车收费");
        let contact = Command::Step {
            step: "contact_experts".into(),
            by: "客户服务中心".into(),
            note: String::new(),
        };
        let (t, ds) = run(&p, &t, contact, 60).expect("contacted");
        assert!(kinds(&ds).contains(&"clock_started:L6.expert".to_string()));
        let started = t.clocks["L6.expert"].started_at;
        // The breach that brings the ticket to the panel a day later does not restart it.
        let (t, _) = run(&p, &t, Command::Tick, 24 * 60 + 1).expect("ticked");
        assert_eq!(t.ladder_id.as_deref(), Some("expert_panel"));
        assert_eq!(t.clocks["L6.expert"].started_at, started);
    }

    #[test]
    fn intake_values_are_checked_when_the_policy_declares_them() {
        let p = policy("vk-shanghai");
        let mut intake = super::super::testing::intake("complaint", "x");
        intake.channel = "wechar".into();
        let err = check_intake(&intake, &p.policy).expect_err("refused");
        assert!(err.to_string().contains("did you mean `wechat`?"), "{err}");
        intake.channel = "wechat".into();
        intake.phase = "after_occupancy".into();
        assert!(check_intake(&intake, &p.policy).is_ok());
        // A policy that declares no channels takes any.
        let mut bare = p.policy.clone();
        bare.channels.clear();
        intake.channel = "carrier_pigeon".into();
        assert!(check_intake(&intake, &bare).is_ok());
    }
}
