//! Waiving a revisit slot: the owner declines the call, or a policy fix removed
//! the step. The slot is closed with the reason in the log, so the ticket can
//! close (V1 counts it as not revisited, which it was not).

use super::*;

impl Run<'_> {
    pub(super) fn waive_revisits(
        &mut self,
        now: DateTime<Utc>,
        slot: Option<&str>,
        reason: &str,
        by: &str,
    ) -> Result<(), EngineError> {
        if self.t.status != Status::Resolved {
            return Err(self.refuse(
                "waive a revisit of",
                format!(
                    "it is {}; revisits are waived after resolution",
                    self.t.status.as_str()
                ),
            ));
        }
        if reason.trim().is_empty() {
            return Err(self.refuse(
                "waive a revisit of",
                "a waived revisit needs a reason (the owner declines, the step was removed)",
            ));
        }
        let open: Vec<usize> = self
            .t
            .revisits
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_open())
            .map(|(i, _)| i)
            .collect();
        let chosen: Vec<usize> = match slot {
            None => open,
            Some(key) => match self.t.revisits.iter().position(|s| s.key == key) {
                Some(i) if open.contains(&i) => vec![i],
                Some(i) => {
                    let state = self.t.revisits.get(i).map(|s| s.state);
                    return Err(self.refuse(
                        "waive a revisit of",
                        format!("revisit {key} is not pending ({state:?})").to_lowercase(),
                    ));
                }
                None => {
                    let keys: Vec<&str> = open
                        .iter()
                        .filter_map(|i| self.t.revisits.get(*i).map(|s| s.key.as_str()))
                        .collect();
                    let hint = match crate::diagnostic::did_you_mean(key, keys.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if keys.is_empty() => "no revisit is pending".to_owned(),
                        None => format!("pending: {}", keys.join(", ")),
                    };
                    return Err(EngineError::Invalid(format!(
                        "ticket `{}` has no revisit `{key}`: {hint}",
                        self.t.id()
                    )));
                }
            },
        };
        if chosen.is_empty() {
            return Err(self.refuse("waive a revisit of", "no revisit is pending"));
        }
        for i in chosen {
            let Some(s) = self.t.revisits.get(i) else {
                continue;
            };
            if !s.is_open() {
                continue;
            }
            let (key, rule) = (s.key.clone(), s.rule.clone());
            self.emit(
                now,
                Fact::RevisitWaived {
                    slot: i,
                    key,
                    reason: reason.to_owned(),
                    by: by.to_owned(),
                },
                Some(&rule),
            );
            self.unblock_after(now, i, &rule)?;
        }
        Ok(())
    }

    /// A step counted from the previous one (`after = "previous"`) counts from
    /// the waiver when the previous one is waived, as it would from a revisit.
    fn unblock_after(
        &mut self,
        now: DateTime<Utc>,
        slot: usize,
        rule: &str,
    ) -> Result<(), EngineError> {
        let next = slot + 1;
        let blocked = self
            .t
            .revisits
            .get(next)
            .is_some_and(|s| s.rule == rule && s.state == SlotState::Blocked);
        if !blocked {
            return Ok(());
        }
        if let Some(RevisitStep::Within { within, .. }) = self.step_of(rule, next) {
            let due = self.due(&within, now, rule)?;
            let key = self.t.revisits[next].key.clone();
            self.emit(
                now,
                Fact::RevisitScheduled {
                    slot: next,
                    key,
                    due: Some(due),
                    event: None,
                },
                Some(rule),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{open, policy, resolve, run};
    use super::*;

    fn waive(slot: Option<&str>, reason: &str) -> Command {
        Command::WaiveRevisit {
            slot: slot.map(str::to_owned),
            reason: reason.into(),
            by: "客服".into(),
        }
    }

    fn close() -> Command {
        Command::Close { invalid: None }
    }

    fn callback() -> Command {
        Command::Revisit {
            ok: true,
            channel: "phone".into(),
            note: "ok".into(),
        }
    }

    #[test]
    fn a_waived_after_rain_revisit_lets_the_ticket_close() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "卫生间渗水");
        let (t, _) = run(&p, &t, resolve(), 60).expect("resolved");
        let (t, _) = run(&p, &t, callback(), 90).expect("first revisit");
        assert!(
            run(&p, &t, close(), 95).is_err(),
            "V4#2 still waits for rain"
        );
        let (t, ds) =
            run(&p, &t, waive(Some("V4#2"), "业主表示无需雨后回访"), 100).expect("waived");
        assert!(ds.iter().any(
            |d| matches!(&d.fact, Fact::RevisitWaived { key, .. } if key == "V4#2")
                && d.rule.as_deref() == Some("V4")
        ));
        assert_eq!(t.revisits[1].state, SlotState::Waived);
        let (t, _) = run(&p, &t, close(), 110).expect("closes");
        assert_eq!(t.status, Status::Closed);
    }

    #[test]
    fn waiving_needs_a_reason_a_known_slot_and_a_resolved_ticket() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "卫生间渗水");
        assert!(matches!(
            run(&p, &t, waive(None, "x"), 1),
            Err(EngineError::Refused { .. })
        ));
        let (t, _) = run(&p, &t, resolve(), 60).expect("resolved");
        assert!(matches!(
            run(&p, &t, waive(None, "  "), 61),
            Err(EngineError::Refused { .. })
        ));
        let Err(EngineError::Invalid(m)) = run(&p, &t, waive(Some("V4#3"), "x"), 61) else {
            panic!("an unknown slot is refused");
        };
        assert!(
            m.contains("did you mean `V4#1`?") || m.contains("V4#2"),
            "{m}"
        );
    }

    #[test]
    fn waiving_the_first_emergency_revisit_schedules_the_second_from_then() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "电梯困人");
        let (t, _) = run(&p, &t, resolve(), 60).expect("resolved");
        let first = t
            .revisits
            .iter()
            .position(|s| s.key == "V3#1")
            .expect("V3#1");
        assert_eq!(t.revisits[first + 1].state, SlotState::Blocked);
        let (t, _) = run(&p, &t, waive(Some("V3#1"), "业主拒绝回访"), 70).expect("waived");
        assert_eq!(t.revisits[first + 1].state, SlotState::Scheduled);
    }

    #[test]
    fn slots_after_a_reopen_get_names_of_their_own() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "repair", "门锁坏了");
        let (t, _) = run(&p, &t, resolve(), 60).expect("resolved");
        let problem = Command::Revisit {
            ok: false,
            channel: "phone".into(),
            note: "仍然坏".into(),
        };
        let (t, _) = run(&p, &t, problem, 90).expect("reopened");
        let notice = Command::Act {
            action: crate::policy::model::Action::Notice,
            by: "客服".into(),
            note: String::new(),
        };
        let (t, _) = run(&p, &t, notice, 95).expect("notice");
        let (t, _) = run(&p, &t, resolve(), 120).expect("resolved again");
        let keys: Vec<&str> = t.revisits.iter().map(|s| s.key.as_str()).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
        assert!(keys.iter().any(|k| k.ends_with(".r2")), "{keys:?}");
        assert_eq!(t.revisits.last().map(|s| s.step), Some(1));
    }
}
