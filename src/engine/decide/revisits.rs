//! Revisits (回访): scheduling them on resolve, recording them, and a failed
//! revisit's reopening with a written notice (V5).

use super::*;

impl Run<'_> {
    pub(super) fn cancel_revisits(&mut self, now: DateTime<Utc>) {
        let open: Vec<(usize, String, String)> = self
            .t
            .revisits
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_open())
            .map(|(i, s)| (i, s.key.clone(), s.rule.clone()))
            .collect();
        for (slot, key, rule) in open {
            self.emit(now, Fact::RevisitCancelled { slot, key }, Some(&rule));
        }
    }

    pub(super) fn schedule_revisits(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
        let p = self.p;
        self.new_group();
        for (id, rule, condition) in p.revisit_rules() {
            match self.holds(condition) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    self.emit(
                        now,
                        Fact::ConditionFailed {
                            error: format!("revisit `{id}`: {e}"),
                            fallback: "not scheduled".into(),
                        },
                        Some(id),
                    );
                    continue;
                }
            }
            // A reopened ticket is resolved again: its new slots are a new round.
            let round = 1 + self
                .t
                .revisits
                .iter()
                .filter(|s| s.rule == *id && s.step == 1)
                .count();
            for (i, step) in rule.steps.iter().enumerate() {
                let slot = self.t.revisits.len();
                let key = if round == 1 {
                    format!("{id}#{}", i + 1)
                } else {
                    format!("{id}#{}.r{round}", i + 1)
                };
                let (due, event) = match step {
                    RevisitStep::Within {
                        within,
                        after: RevisitAnchor::Resolved,
                    } => (Some(self.due(within, now, id)?), None),
                    RevisitStep::Within {
                        after: RevisitAnchor::Previous,
                        ..
                    } => (None, None),
                    RevisitStep::OnEvent { event } => (None, Some(event.clone())),
                };
                self.emit(
                    now,
                    Fact::RevisitScheduled {
                        slot,
                        key,
                        due,
                        event,
                    },
                    Some(id),
                );
            }
        }
        Ok(())
    }

    pub(super) fn due(
        &self,
        within: &LimitDuration,
        from: DateTime<Utc>,
        rule: &str,
    ) -> Result<DateTime<Utc>, EngineError> {
        self.p
            .default_calendar()
            .deadline(within, from)
            .map_err(|e| EngineError::Invalid(format!("revisit `{rule}`: {e}")))
    }

    pub(super) fn revisit(
        &mut self,
        now: DateTime<Utc>,
        ok: bool,
        channel: &str,
        note: &str,
    ) -> Result<(), EngineError> {
        if self.t.status != Status::Resolved {
            return Err(self.refuse(
                "revisit",
                format!(
                    "it is {}; revisits follow resolution",
                    self.t.status.as_str()
                ),
            ));
        }
        let channels = &self.p.policy.closing.callback_channels;
        if !channels.is_empty() && !channels.iter().any(|c| c == channel) {
            return Err(EngineError::Invalid(format!(
                "unknown callback channel `{channel}`; expected one of: {}",
                channels.join(", ")
            )));
        }
        let slot = self.t.revisits.iter().position(|s| s.is_actionable());
        let (key, rule) = match slot.and_then(|i| self.t.revisits.get(i)) {
            Some(s) => (s.key.clone(), Some(s.rule.clone())),
            None => (
                "callback".to_string(),
                self.p
                    .policy
                    .closing
                    .rules
                    .iter()
                    .find(|r| r.as_str() == "V6")
                    .cloned(),
            ),
        };
        let fact = Fact::RevisitDone {
            slot,
            key: key.clone(),
            ok,
            channel: channel.into(),
            note: note.into(),
        };
        self.emit(now, fact, rule.as_deref());
        if ok {
            // Unblock the next step counted from this one ("again 2 days later").
            if let (Some(i), Some(rule)) = (slot, rule) {
                let next = i + 1;
                let blocked = self
                    .t
                    .revisits
                    .get(next)
                    .is_some_and(|s| s.rule == rule && s.state == SlotState::Blocked);
                if blocked
                    && let Some(RevisitStep::Within { within, .. }) = self.step_of(&rule, next)
                {
                    let due = self.due(&within, now, &rule)?;
                    let key = self.t.revisits[next].key.clone();
                    self.emit(
                        now,
                        Fact::RevisitScheduled {
                            slot: next,
                            key,
                            due: Some(due),
                            event: None,
                        },
                        Some(&rule),
                    );
                }
            }
            return Ok(());
        }
        // V5: a problem found on a revisit reopens the ticket with a written notice.
        self.cancel_revisits(now);
        let rule = self.p.policy.reopen.rules.first().cloned();
        self.emit(
            now,
            Fact::Reopened {
                reason: format!("revisit {key} found a problem: {note}"),
            },
            rule.as_deref(),
        );
        if let Some(within) = self.p.policy.reopen.notice_within {
            let cal = self.p.default_calendar();
            let (deadline, _, total) = clock::start(cal, &within, None, now)
                .map_err(|e| EngineError::Invalid(e.to_string()))?;
            let fact = Fact::ClockStarted {
                limit: NOTICE_CLOCK.into(),
                milestone: NOTICE_MILESTONE.into(),
                within,
                start: now,
                deadline,
                warn_at: None,
                total_minutes: total,
            };
            self.emit(now, fact, rule.as_deref());
        }
        let to = self.p.policy.reopen.notify.clone();
        if !to.is_empty() {
            self.emit(
                now,
                Fact::Notified {
                    to,
                    about: format!("written notice: revisit {key} found a problem"),
                },
                rule.as_deref(),
            );
        }
        Ok(())
    }

    pub(super) fn step_of(&self, rule: &str, slot: usize) -> Option<RevisitStep> {
        let s = self.t.revisits.get(slot)?;
        self.p
            .policy
            .revisits
            .get(rule)?
            .steps
            .get(s.step.checked_sub(1)?)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{at, kinds, open, policy, resolve, run};
    use super::*;

    fn revisit(ok: bool) -> Command {
        Command::Revisit {
            ok,
            channel: "phone".into(),
            note: "业主反馈".into(),
        }
    }

    #[test]
    fn resolving_a_leak_schedules_its_two_revisit_steps() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "卫生间渗水");
        let (t, ds) = run(&p, &t, resolve(), 60).expect("resolved");
        let scheduled: Vec<_> = ds
            .iter()
            .filter_map(|d| match &d.fact {
                Fact::RevisitScheduled {
                    key, due, event, ..
                } => Some((key.clone(), due.is_some(), event.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            scheduled,
            vec![
                ("V4#1".to_string(), true, None),
                ("V4#2".to_string(), false, Some("rain".to_string())),
            ]
        );
        assert!(t.revisits[0].due.is_some_and(|d| d > at(60)));
    }

    #[test]
    fn a_revisit_before_resolution_is_refused() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "卫生间渗水");
        assert!(matches!(
            run(&p, &t, revisit(true), 5),
            Err(EngineError::Refused { .. })
        ));
    }

    #[test]
    fn a_failed_revisit_reopens_with_a_written_notice() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "门锁坏了");
        let (t, _) = run(&p, &t, resolve(), 60).expect("resolved");
        let (t, ds) = run(&p, &t, revisit(false), 120).expect("revisited");
        let k = kinds(&ds);
        assert!(k.iter().any(|x| x.starts_with("reopened")), "{k:?}");
        assert!(
            t.clocks.get(NOTICE_CLOCK).is_some_and(|c| c.is_live()),
            "{k:?}"
        );
        assert!(t.is_open());
    }
}
