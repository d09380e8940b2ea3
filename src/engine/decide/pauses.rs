//! Pausing and resuming a ticket's clocks for a declared reason.

use super::*;

impl Run<'_> {
    pub(super) fn pause(&mut self, now: DateTime<Utc>, reason: &str) -> Result<(), EngineError> {
        if let Some((r, _)) = &self.t.pause {
            return Err(self.refuse("pause", format!("it is already paused ({r})")));
        }
        let p = self.p;
        let Some(rule) = p.policy.pauses.get(reason) else {
            return Err(EngineError::Invalid(format!(
                "unknown pause reason `{reason}`; known: {}",
                keys(&self.p.policy.pauses)
            )));
        };
        self.new_group();
        match self.holds(p.pause_condition(reason)) {
            Ok(true) => {}
            Ok(false) => {
                return Err(self.refuse(
                    "pause",
                    format!("pause `{reason}` does not apply to this ticket"),
                ));
            }
            Err(e) => return Err(self.refuse("pause", e.to_string())),
        }
        self.emit(
            now,
            Fact::Paused {
                reason: reason.into(),
            },
            Some(reason),
        );
        let stops_all = rule.stops.iter().any(|s| s == "*");
        let clocks: Vec<_> = self
            .t
            .clocks
            .values()
            .filter(|c| {
                c.state == ClockState::Running && (stops_all || rule.stops.contains(&c.milestone))
            })
            .cloned()
            .collect();
        for c in clocks {
            let used = match self.p.policy.limits.get(&c.limit) {
                Some(l) => clock::used(self.p.calendar_for(l), &c.within, &c, now),
                None => clock::used(self.p.default_calendar(), &c.within, &c, now),
            };
            self.emit(
                now,
                Fact::ClockPaused {
                    limit: c.limit.clone(),
                    used_minutes: used,
                },
                Some(reason),
            );
        }
        Ok(())
    }

    pub(super) fn resume(&mut self, now: DateTime<Utc>) {
        let Some((reason, since)) = self.t.pause.clone() else {
            return;
        };
        let minutes = (now - since).num_minutes().max(0);
        self.emit(
            now,
            Fact::Resumed {
                reason: reason.clone(),
                minutes,
            },
            Some(&reason),
        );
        let paused: Vec<_> = self
            .t
            .clocks
            .values()
            .filter(|c| c.state == ClockState::Paused)
            .cloned()
            .collect();
        for c in paused {
            let (cal, warn) = match self.p.policy.limits.get(&c.limit) {
                Some(l) => (self.p.calendar_for(l), l.warn_at),
                None => (self.p.default_calendar(), None),
            };
            // A calendar error cannot happen for a span that already started once;
            // keep the old deadline rather than lose the clock if it somehow does.
            let (deadline, warn_at) =
                clock::resume(cal, &c.within, warn, &c, now).unwrap_or((c.deadline, c.warn_at));
            self.emit(
                now,
                Fact::ClockResumed {
                    limit: c.limit.clone(),
                    deadline,
                    warn_at,
                },
                Some(&reason),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{kinds, open, policy, resolve, run};
    use super::*;

    fn pause(reason: &str) -> Command {
        Command::Pause {
            reason: reason.into(),
        }
    }

    #[test]
    fn an_unknown_reason_is_refused_naming_the_known_ones() {
        let p = policy("base");
        let (t, _) = open(&p, "repair", "门锁坏了");
        match run(&p, &t, pause("lunch"), 5) {
            Err(EngineError::Invalid(m)) => assert!(m.contains("waiting_owner"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_ticket_is_paused_once_and_resume_counts_the_minutes() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音扰民");
        let (t, ds) = run(&p, &t, pause("waiting_owner"), 5).expect("paused");
        assert_eq!(
            kinds(&ds).first().map(String::as_str),
            Some("paused:waiting_owner")
        );
        assert!(matches!(
            run(&p, &t, pause("parts_on_order"), 6),
            Err(EngineError::Refused { .. })
        ));
        let (t, ds) = run(&p, &t, Command::Resume, 65).expect("resumed");
        let minutes = ds.iter().find_map(|d| match &d.fact {
            Fact::Resumed { minutes, .. } => Some(*minutes),
            _ => None,
        });
        assert_eq!(minutes, Some(60));
        assert!(t.pause.is_none());
    }

    #[test]
    fn resolving_a_paused_ticket_resumes_it_first() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音扰民");
        let (t, _) = run(&p, &t, pause("waiting_owner"), 5).expect("paused");
        let (t, ds) = run(&p, &t, resolve(), 20).expect("resolved");
        let k = kinds(&ds);
        assert_eq!(
            k.first().map(String::as_str),
            Some("resumed:waiting_owner"),
            "{k:?}"
        );
        assert!(t.pause.is_none());
    }
}
