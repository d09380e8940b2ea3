//! Limit clocks: which limits apply, starting and restarting their clocks,
//! milestones reached by actions, and cancelling clocks when a ticket ends.

use super::*;

impl Run<'_> {
    /// Start clocks of limits that apply and are not running; cancel clocks of
    /// limits that no longer apply. Clocks count from intake (受理).
    pub(super) fn sync_limits(
        &mut self,
        now: DateTime<Utc>,
        cancel_reason: &str,
    ) -> Result<(), EngineError> {
        // The policy outlives the run, so its rules are read in place while the
        // ticket changes.
        let p = self.p;
        self.new_group();
        for (id, limit, condition) in p.limit_rules() {
            let applies = match self.holds(condition) {
                Ok(a) => a,
                Err(e) => {
                    self.emit(
                        now,
                        Fact::ConditionFailed {
                            error: format!("limit `{id}`: {e}"),
                            fallback: "not applied".into(),
                        },
                        Some(id),
                    );
                    false
                }
            };
            let clock = self
                .t
                .clocks
                .get(id)
                .map(|c| (c.is_live(), c.within, c.started_at, c.set_by.is_some()));
            match (applies, clock) {
                (false, Some((true, ..))) => {
                    self.emit(
                        now,
                        Fact::ClockCancelled {
                            limit: id.clone(),
                            reason: cancel_reason.into(),
                        },
                        Some(id),
                    );
                }
                // A deadline a person set stands until they set another.
                (true, Some((true, within, started_at, false)))
                    if limit.within.is_some_and(|w| w != within) =>
                {
                    self.emit(
                        now,
                        Fact::ClockCancelled {
                            limit: id.clone(),
                            reason: "limit changed".into(),
                        },
                        Some(id),
                    );
                    self.start_clock(now, id, limit, started_at)?;
                }
                (true, None)
                    if limit.within.is_some()
                        && limit.starts().any(|s| *s == ClockStart::Opened)
                        && self.t.is_open()
                        && !self.t.milestones.contains_key(&limit.milestone) =>
                {
                    let start = self.t.opened_at;
                    self.start_clock(now, id, limit, start)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn start_clock(
        &mut self,
        now: DateTime<Utc>,
        id: &str,
        limit: &Limit,
        start: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        // A limit without a span starts only when a person sets its deadline.
        let Some(mut within) = limit.within else {
            return Ok(());
        };
        let cal = self.p.calendar_for(limit);
        let mut fixed_deadline = None;
        let deadline_hook = if self.p.has_hook(HookPoint::Deadline) {
            self.p.hook_deadline(&self.facts(), id)
        } else {
            HookOutcome::NoHook
        };
        match deadline_hook {
            HookOutcome::Decided {
                value: HookDeadline::Within(span),
                ..
            } => within = span,
            HookOutcome::Decided {
                value: HookDeadline::At(at),
                ..
            } => fixed_deadline = Some(at),
            HookOutcome::Failed { hook, error } => {
                let fallback = format!("the policy's `{}`", limit.within_text());
                self.hook_failed(now, hook, error, fallback);
            }
            HookOutcome::NoHook | HookOutcome::NoOpinion => {}
        }
        let (mut deadline, warn_at, mut total) =
            clock::start(cal, &within, limit.warn_at, start)
                .map_err(|e| EngineError::Invalid(format!("limit `{id}`: {e}")))?;
        if let Some(at) = fixed_deadline {
            deadline = at.max(start);
            total = (deadline - start).num_minutes();
            within = LimitDuration::Wall {
                minutes: total.max(1),
            };
        }
        let fact = Fact::ClockStarted {
            limit: id.to_string(),
            milestone: limit.milestone.clone(),
            within,
            start,
            deadline,
            warn_at,
            total_minutes: total,
        };
        self.emit(now.max(start), fact, Some(id));
        Ok(())
    }

    pub(super) fn act(
        &mut self,
        now: DateTime<Utc>,
        action: &str,
        by: &str,
        note: &str,
    ) -> Result<(), EngineError> {
        if action != Action::Resolve.as_str() && action != Action::Assign.as_str() {
            self.emit(
                now,
                Fact::ActionRecorded {
                    action: action.into(),
                    by: by.into(),
                    note: note.into(),
                },
                None,
            );
        }
        let mut reached: Vec<String> = self
            .p
            .policy
            .milestones
            .iter()
            .filter(|(_, m)| m.reached_by.iter().any(|a| a == action))
            .map(|(id, _)| id.clone())
            .collect();
        if action == Action::Notice.as_str() {
            reached.push(NOTICE_MILESTONE.into());
        }
        for m in &reached {
            if !self.t.milestones.contains_key(m) {
                self.emit(
                    now,
                    Fact::MilestoneReached {
                        milestone: m.clone(),
                    },
                    None,
                );
            }
            let live: Vec<(String, DateTime<Utc>)> = self
                .t
                .clocks
                .values()
                .filter(|c| c.is_live() && &c.milestone == m)
                .map(|c| (c.limit.clone(), c.deadline))
                .collect();
            for (limit, deadline) in live {
                let on_time = if self.p.policy.ordering.action_before_deadline {
                    now <= deadline
                } else {
                    now < deadline
                };
                self.emit(
                    now,
                    Fact::ClockMet {
                        limit: limit.clone(),
                        on_time,
                    },
                    Some(&limit),
                );
                self.restart_if_repeating(now, &limit)?;
            }
            self.start_dependent(
                now,
                |from| matches!(from, ClockStart::Milestone(x) if x == m),
            )?;
        }
        Ok(())
    }

    pub(super) fn restart_if_repeating(
        &mut self,
        at: DateTime<Utc>,
        limit: &str,
    ) -> Result<(), EngineError> {
        let p = self.p;
        if let Some(l) = p.policy.limits.get(limit)
            && l.repeat
            && self.t.status == Status::Open
        {
            self.start_clock(at, limit, l, at)?;
        }
        Ok(())
    }

    /// Start limits whose clock starts on a milestone or escalation just reached.
    pub(super) fn start_dependent(
        &mut self,
        now: DateTime<Utc>,
        pred: impl Fn(&ClockStart) -> bool,
    ) -> Result<(), EngineError> {
        let p = self.p;
        self.new_group();
        for (id, limit, condition) in p.limit_rules().filter(|(_, l, _)| l.starts().any(&pred)) {
            if self.t.clocks.get(id).is_some_and(|c| c.is_live())
                || self.t.milestones.contains_key(&limit.milestone)
            {
                continue;
            }
            if self.holds(condition).unwrap_or(false) {
                self.start_clock(now, id, limit, now)?;
            }
        }
        Ok(())
    }

    pub(super) fn cancel_clocks(&mut self, now: DateTime<Utc>, reason: &str) {
        let live: Vec<String> = self
            .t
            .clocks
            .values()
            .filter(|c| c.is_live() && c.limit != NOTICE_CLOCK)
            .map(|c| c.limit.clone())
            .collect();
        for limit in live {
            self.emit(
                now,
                Fact::ClockCancelled {
                    limit: limit.clone(),
                    reason: reason.into(),
                },
                Some(&limit),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{kinds, open, policy, resolve, respond, run};
    use super::*;

    #[test]
    fn a_complaint_starts_the_clocks_of_the_limits_that_apply() {
        let p = policy("base");
        let (t, ds) = open(&p, "complaint", "噪音扰民");
        assert!(
            kinds(&ds).contains(&"clock_started:L1".to_string()),
            "{:?}",
            kinds(&ds)
        );
        let l1 = t.clocks.get("L1").expect("L1 runs");
        assert_eq!(l1.milestone, "first_response");
        assert!(l1.is_live());
        assert!(!t.clocks.contains_key("L2.inquiry"));
    }

    #[test]
    fn responding_meets_the_first_response_clock_on_time() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音扰民");
        let (t, ds) = run(&p, &t, respond(), 30).expect("responded");
        let met = ds
            .iter()
            .any(|d| matches!(&d.fact, Fact::ClockMet { limit, on_time: true } if limit == "L1"));
        assert!(met, "{:?}", kinds(&ds));
        assert!(t.milestones.contains_key("first_response"));
        assert!(!t.clocks["L1"].is_live());
    }

    #[test]
    fn resolving_cancels_every_live_clock() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "complaint", "物业服务差");
        assert!(t.clocks.values().any(|c| c.is_live()));
        let (t, ds) = run(&p, &t, resolve(), 10).expect("resolved");
        assert!(t.clocks.values().all(|c| !c.is_live()));
        assert!(kinds(&ds).iter().any(|k| k.starts_with("clock_cancelled")));
    }

    #[test]
    fn a_repeating_limit_restarts_when_met() {
        let p = policy("vk-shanghai");
        let (t, _) = open(&p, "complaint", "物业服务差");
        let before = t.clocks["L1.update"].deadline;
        let (t, ds) = run(&p, &t, respond(), 60).expect("responded");
        let k = kinds(&ds);
        assert!(k.contains(&"clock_met:L1.update".to_string()), "{k:?}");
        assert!(k.contains(&"clock_started:L1.update".to_string()), "{k:?}");
        assert!(t.clocks["L1.update"].deadline > before);
    }
}
