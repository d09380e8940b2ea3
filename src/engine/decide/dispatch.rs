//! Dispatching a command to the step that decides it, with the status checks
//! every command shares.

use super::*;

impl Run<'_> {
    pub(super) fn command(&mut self, cmd: &Command, now: DateTime<Utc>) -> Result<(), EngineError> {
        let name = cmd.name();
        let open_only = |run: &Self| {
            if run.t.status == Status::Open {
                Ok(())
            } else {
                Err(run.transition(name))
            }
        };
        match cmd {
            Command::Open(_) | Command::Tick => Ok(()),
            Command::Classify {
                category,
                class,
                major,
            } => {
                if !self.t.is_open() {
                    return Err(self.transition(name));
                }
                if let Some(c) = category
                    && !self.p.policy.categories.contains_key(c)
                {
                    return Err(EngineError::Invalid(format!(
                        "unknown category `{c}` in policy `{}`",
                        self.p.policy.id
                    )));
                }
                if let Some(c) = class
                    && !(1..=3).contains(c)
                {
                    return Err(EngineError::Invalid(format!(
                        "complaint class must be 1, 2 or 3, found {c}"
                    )));
                }
                self.classify(now, category.clone(), *class, *major)
            }
            Command::Act { action, by, note } => {
                let allowed = if *action == Action::Notice || *action == Action::Update {
                    self.t.is_open()
                } else {
                    self.t.status == Status::Open
                };
                if !allowed {
                    return Err(self.transition(name));
                }
                self.act(now, action.as_str(), by, note)
            }
            Command::Step { step, by, note } => self.step(now, step, by, note),
            Command::SetDeadline {
                limit,
                due,
                by,
                reason,
            } => self.set_deadline(now, limit, due, by, reason),
            Command::Assign {
                department,
                tier,
                lead,
            } => {
                open_only(self)?;
                self.assign(now, department, tier, lead.as_deref())
            }
            Command::Pause { reason } => {
                open_only(self)?;
                self.pause(now, reason)
            }
            Command::Resume => {
                if self.t.pause.is_none() {
                    return Err(self.refuse(name, "it is not paused"));
                }
                self.resume(now);
                Ok(())
            }
            Command::Resolve { note } => {
                open_only(self)?;
                if self.t.pause.is_some() {
                    self.resume(now);
                }
                self.act(now, Action::Resolve.as_str(), "", note)?;
                self.emit(now, Fact::Resolved { note: note.clone() }, None);
                self.cancel_clocks(now, "resolved");
                self.schedule_revisits(now)
            }
            Command::Revisit { ok, channel, note } => self.revisit(now, *ok, channel, note),
            Command::Close { invalid } => self.close(now, invalid.as_deref()),
            Command::Reopen { reason } => {
                if !matches!(self.t.status, Status::Resolved | Status::Closed) {
                    return Err(self.transition(name));
                }
                self.cancel_revisits(now);
                self.emit(
                    now,
                    Fact::Reopened {
                        reason: reason.clone(),
                    },
                    None,
                );
                Ok(())
            }
            Command::Compensation { amount, note } => {
                let rule = self.p.policy.compensation.rules.first().cloned();
                self.emit(
                    now,
                    Fact::CompensationClaimed {
                        amount: amount.clone(),
                        note: note.clone(),
                    },
                    rule.as_deref(),
                );
                let to = self.p.policy.compensation.notify.clone();
                if !to.is_empty() {
                    self.emit(
                        now,
                        Fact::Notified {
                            to,
                            about: format!("compensation claim {amount}"),
                        },
                        rule.as_deref(),
                    );
                }
                Ok(())
            }
            Command::Event { kind } => {
                if self.t.status != Status::Resolved {
                    return Ok(());
                }
                let waiting: Vec<(usize, String, String)> = self
                    .t
                    .revisits
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        s.state == SlotState::Waiting && s.event.as_deref() == Some(kind)
                    })
                    .map(|(i, s)| (i, s.key.clone(), s.rule.clone()))
                    .collect();
                for (slot, key, rule) in waiting {
                    self.emit(
                        now,
                        Fact::RevisitDue {
                            slot,
                            key,
                            cause: kind.clone(),
                        },
                        Some(&rule),
                    );
                }
                Ok(())
            }
            Command::WaiveRevisit { slot, reason, by } => {
                self.waive_revisits(now, slot.as_deref(), reason, by)
            }
            Command::MovePolicy => self.move_policy(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{open, policy, run};
    use super::*;

    #[test]
    fn resuming_an_unpaused_ticket_is_refused() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        assert!(matches!(
            run(&p, &t, Command::Resume, 1),
            Err(EngineError::Refused { .. })
        ));
    }

    #[test]
    fn a_second_open_and_a_command_in_the_past_are_refused() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        let again = Command::Open(super::super::testing::intake("complaint", "噪音"));
        assert!(matches!(run(&p, &t, again, 1), Err(EngineError::Exists(_))));
        assert!(matches!(
            run(&p, &t, Command::Tick, -1),
            Err(EngineError::InThePast { .. })
        ));
    }

    #[test]
    fn an_event_makes_waiting_revisits_due() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "卫生间渗水");
        let (t, _) = run(&p, &t, super::super::testing::resolve(), 60).expect("resolved");
        let rain = Command::Event {
            kind: "rain".into(),
        };
        let (_, ds) = run(&p, &t, rain, 90).expect("decided");
        let due: Vec<_> = ds
            .iter()
            .filter_map(|d| match &d.fact {
                Fact::RevisitDue { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(due, vec!["V4#2".to_string()]);
    }
}
