//! Moving an open ticket to the active policy: clocks of removed limits end, the
//! new policy's limits start.

use super::*;

impl Run<'_> {
    pub(super) fn move_policy(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
        if self.t.fingerprint == self.p.fingerprint || !self.t.is_open() {
            return Ok(());
        }
        let from = self.t.fingerprint.clone();
        self.emit(
            now,
            Fact::PolicyMoved {
                from,
                to: self.p.fingerprint.clone(),
            },
            None,
        );
        let gone: Vec<String> = self
            .t
            .clocks
            .values()
            .filter(|c| {
                c.is_live()
                    && c.limit != NOTICE_CLOCK
                    && !self.p.policy.limits.contains_key(&c.limit)
            })
            .map(|c| c.limit.clone())
            .collect();
        for limit in gone {
            self.emit(
                now,
                Fact::ClockCancelled {
                    limit: limit.clone(),
                    reason: "removed by the new policy".into(),
                },
                Some(&limit),
            );
        }
        self.sync_limits(now, "does not apply under the new policy")
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{kinds, open, policy, run};
    use super::*;

    #[test]
    fn a_ticket_already_under_the_policy_does_not_move() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        let (_, ds) = run(&p, &t, Command::MovePolicy, 5).expect("decided");
        assert!(ds.is_empty());
    }

    #[test]
    fn moving_cancels_removed_limits_and_starts_new_ones() {
        let base = policy("base");
        let vk = policy("vk-shanghai");
        let (t, _) = open(&base, "complaint", "物业服务差");
        assert!(t.clocks.contains_key("L1"));
        let (t, ds) = run(&vk, &t, Command::MovePolicy, 5).expect("moved");
        let k = kinds(&ds);
        assert_eq!(k.first().map(String::as_str), Some("policy_moved"), "{k:?}");
        assert_eq!(t.fingerprint, vk.fingerprint);
        assert!(k.contains(&"clock_started:L1.update".to_string()), "{k:?}");
    }
}
