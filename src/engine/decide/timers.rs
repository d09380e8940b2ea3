//! Timers falling due: catch-up before and after a command, warnings, breaches
//! with their escalation, and overdue revisits.

use super::*;

impl Run<'_> {
    /// Fire every timer due before `now` (or at `now` when `inclusive`), oldest first.
    pub(super) fn catch_up(
        &mut self,
        now: DateTime<Utc>,
        inclusive: bool,
    ) -> Result<(), EngineError> {
        let p = self.p;
        let order = &p.policy.ordering.timers;
        let due = |at: DateTime<Utc>| if inclusive { at <= now } else { at < now };
        // Each firing removes its timer; a repeating limit adds one further ahead.
        // The bound only guards against a policy that would loop on itself.
        for _ in 0..10_000 {
            if !earliest_timer(&self.t).is_some_and(due) {
                return Ok(());
            }
            let (timers, _) = pending_timers(&self.t);
            let next = timers.into_iter().filter(|d| due(d.at)).min_by_key(|d| {
                (
                    d.at,
                    order
                        .iter()
                        .position(|k| *k == d.kind)
                        .unwrap_or(usize::MAX),
                    d.key(),
                )
            });
            let Some(timer) = next else {
                return Ok(());
            };
            self.fire(timer.at, &timer.target)?;
        }
        Err(EngineError::Invalid(
            "more than 10000 timers fell due at once (a repeating limit overdue for years?): tick with earlier `--now` times first to catch up in steps".into(),
        ))
    }

    pub(super) fn fire(&mut self, at: DateTime<Utc>, target: &Target) -> Result<(), EngineError> {
        match target {
            Target::Warn(limit) => {
                let Some(c) = self.t.clocks.get(limit) else {
                    return Ok(());
                };
                let deadline = c.deadline;
                self.emit(
                    at,
                    Fact::Warned {
                        limit: limit.clone(),
                        deadline,
                    },
                    Some(limit),
                );
                let holder = self.holder();
                self.emit(
                    at,
                    Fact::Notified {
                        to: vec![holder],
                        about: format!("limit {limit} nears its deadline"),
                    },
                    Some(limit),
                );
            }
            Target::Breach(limit) => {
                let Some(c) = self.t.clocks.get(limit) else {
                    return Ok(());
                };
                let deadline = c.deadline;
                self.emit(
                    at,
                    Fact::Breached {
                        limit: limit.clone(),
                        deadline,
                    },
                    Some(limit),
                );
                if limit == NOTICE_CLOCK {
                    let to = self.p.policy.reopen.notify.clone();
                    self.emit(
                        at,
                        Fact::Notified {
                            to,
                            about: "written notice to maintenance is overdue (V5)".into(),
                        },
                        Some(limit),
                    );
                    return Ok(());
                }
                self.on_breach(at, limit)?;
                self.restart_if_repeating(at, limit)?;
            }
            Target::RevisitOverdue(slot) => {
                let Some(s) = self.t.revisits.get(*slot) else {
                    return Ok(());
                };
                let (key, rule) = (s.key.clone(), s.rule.clone());
                self.emit(
                    at,
                    Fact::RevisitOverdue {
                        slot: *slot,
                        key: key.clone(),
                    },
                    Some(&rule),
                );
                let holder = self.holder();
                self.emit(
                    at,
                    Fact::Notified {
                        to: vec![holder],
                        about: format!("revisit {key} is overdue"),
                    },
                    Some(&rule),
                );
            }
        }
        Ok(())
    }

    /// Who holds the ticket now: the current ladder step, else its department.
    pub(super) fn holder(&self) -> String {
        self.t
            .ladder_id
            .clone()
            .or_else(|| self.t.department.clone())
            .or_else(|| {
                self.p
                    .policy
                    .escalation
                    .ladder
                    .first()
                    .map(|s| s.id.clone())
            })
            .unwrap_or_else(|| "owner".into())
    }

    pub(super) fn on_breach(&mut self, at: DateTime<Utc>, limit: &str) -> Result<(), EngineError> {
        let p = self.p;
        let Some(l) = p.policy.limits.get(limit) else {
            return Ok(());
        };
        let ladder = &self.p.policy.escalation.ladder;
        let current = self
            .t
            .ladder_id
            .as_ref()
            .and_then(|id| ladder.iter().position(|s| &s.id == id))
            .unwrap_or(0);
        let target = match &l.on_breach.escalate {
            // Several limits missed at the same instant are one failure to act:
            // the ticket moves up one step, and the other breaches notify.
            Some(EscalateTo::Next) if self.t.escalated_at == Some(at) => None,
            Some(EscalateTo::Next) => Some(current + 1),
            Some(EscalateTo::Step(s)) => ladder
                .iter()
                .position(|x| &x.id == s)
                .filter(|i| *i > current),
            None => None,
        };
        match target.and_then(|i| ladder.get(i)).cloned() {
            Some(step) => {
                let mut notify = step.notify.clone();
                for n in &l.on_breach.notify {
                    if !notify.contains(n) {
                        notify.push(n.clone());
                    }
                }
                let from = ladder
                    .get(current)
                    .map(|s| s.id.clone())
                    .unwrap_or_default();
                self.emit(
                    at,
                    Fact::Escalated {
                        from,
                        to: step.id.clone(),
                        notify,
                    },
                    Some(limit),
                );
                let to = step.id.clone();
                self.start_dependent(at, |f| matches!(f, ClockStart::Escalated(s) if *s == to))?;
            }
            None => {
                let mut to = l.on_breach.notify.clone();
                if to.is_empty() {
                    to.push(self.holder());
                }
                self.emit(
                    at,
                    Fact::Notified {
                        to,
                        about: format!("limit {limit} breached"),
                    },
                    Some(limit),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{kinds, open, policy, run};
    use super::*;

    #[test]
    fn a_missed_emergency_limit_breaches_and_escalates_one_step() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "3号楼电梯困人");
        let deadline = t.clocks["L2.emergency"].deadline;
        let (t, ds) = run(&p, &t, Command::Tick, 31).expect("ticked");
        let k = kinds(&ds);
        assert!(k.contains(&"breached:L2.emergency".to_string()), "{k:?}");
        assert!(k.contains(&"escalated:L2.emergency".to_string()), "{k:?}");
        assert_eq!(t.ladder_id.as_deref(), Some("service_center"));
        let at = ds
            .iter()
            .find(|d| d.fact.kind() == "breached")
            .map(|d| d.at);
        assert_eq!(at, Some(deadline));
    }

    #[test]
    fn timers_fire_before_a_later_command() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "3号楼电梯困人");
        let (_, ds) = run(&p, &t, super::super::testing::respond(), 45).expect("responded");
        let k = kinds(&ds);
        let breach = k.iter().position(|x| x == "breached:L2.emergency");
        let action = k.iter().position(|x| x == "action_recorded");
        assert!(breach < action && breach.is_some(), "{k:?}");
    }
}
