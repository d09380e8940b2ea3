//! Closing a ticket: the normal close after its revisits, and closing an invalid
//! complaint with an explanation (D5).

use super::*;

impl Run<'_> {
    pub(super) fn close(
        &mut self,
        now: DateTime<Utc>,
        invalid: Option<&str>,
    ) -> Result<(), EngineError> {
        let closing = &self.p.policy.closing;
        if let Some(explanation) = invalid {
            if !self.t.is_open() {
                return Err(self.transition("close"));
            }
            if closing.invalid_requires_explanation && explanation.trim().is_empty() {
                return Err(self.refuse(
                    "close",
                    "an invalid complaint is closed with an explanation to the owner (D5)",
                ));
            }
            // As on resolve: a pause ends with the ticket, so its minutes are counted.
            if self.t.pause.is_some() {
                self.resume(now);
            }
            self.cancel_clocks(now, "closed as invalid");
            self.cancel_revisits(now);
            self.emit(
                now,
                Fact::Closed {
                    invalid: Some(explanation.into()),
                },
                Some("D5"),
            );
            return Ok(());
        }
        if self.t.status != Status::Resolved {
            return Err(self.transition("close"));
        }
        let pending: Vec<String> = self
            .t
            .revisits
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.key.clone())
            .collect();
        if !pending.is_empty() {
            return Err(self.refuse(
                "close",
                format!("revisits pending: {} (V1)", pending.join(", ")),
            ));
        }
        if closing.require_callback && self.t.callbacks == 0 {
            return Err(self.refuse(
                "close",
                "no callback recorded (V6): record one with `ticket revisit`",
            ));
        }
        let before_close = if self.p.has_hook(HookPoint::BeforeClose) {
            self.p.hook_before_close(&self.facts())
        } else {
            HookOutcome::NoHook
        };
        match before_close {
            HookOutcome::Decided {
                value: Some(reason),
                hook,
                line,
            } => {
                let at = match line {
                    Some(l) => format!(" (hook {hook}, line {l})"),
                    None => format!(" (hook {hook})"),
                };
                return Err(self.refuse("close", format!("{reason}{at}")));
            }
            HookOutcome::Failed { hook, error } => {
                let fallback = "closing allowed by the policy's own rules".to_string();
                self.hook_failed(now, hook, error, fallback);
            }
            _ => {}
        }
        let rule = closing
            .rules
            .iter()
            .find(|r| r.as_str() == "V6")
            .or(closing.rules.first())
            .cloned();
        self.emit(now, Fact::Closed { invalid: None }, rule.as_deref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{open, policy, resolve, run};
    use super::*;

    fn close(invalid: Option<&str>) -> Command {
        Command::Close {
            invalid: invalid.map(str::to_string),
        }
    }

    #[test]
    fn an_open_ticket_is_not_closed() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        assert!(matches!(
            run(&p, &t, close(None), 5),
            Err(EngineError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn closing_needs_a_callback_v6() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        let (t, _) = run(&p, &t, resolve(), 5).expect("resolved");
        match run(&p, &t, close(None), 6) {
            Err(EngineError::Refused { reason, .. }) => assert!(reason.contains("V6"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_invalid_complaint_needs_an_explanation_d5() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        assert!(matches!(
            run(&p, &t, close(Some("  ")), 5),
            Err(EngineError::Refused { .. })
        ));
        let (t, ds) = run(&p, &t, close(Some("不属物业范围")), 5).expect("closed");
        assert_eq!(t.status, Status::Invalid);
        assert_eq!(ds.last().and_then(|d| d.rule.as_deref()), Some("D5"));
        assert!(t.clocks.values().all(|c| !c.is_live()));
    }
}
