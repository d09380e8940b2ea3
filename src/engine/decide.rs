//! The decision procedure for each command. `Run` holds the ticket as it evolves
//! while a command is decided: each fact is applied the moment it is emitted, so
//! later rules see the effect of earlier ones, exactly as a replay will.

use chrono::{DateTime, Utc};

use crate::policy::CompiledPolicy;
use crate::policy::hooks::{HookDeadline, HookOutcome};
use crate::policy::model::{Action, ClockStart, EscalateTo, Limit, RevisitAnchor, RevisitStep};
use crate::script::facts::TicketFacts;
use crate::span::Span;

use super::EngineError;
use super::clock::{self, ClockState};
use super::command::{Command, OpenTicket};
use super::fact::{Decision, Fact};
use super::revisit::SlotState;
use super::ticket::{Status, Ticket};
use super::timers::{NOTICE_CLOCK, NOTICE_MILESTONE, Target, pending_timers};

/// Decide what `cmd` at `now` does to `ticket` under `policy`. Returns the new
/// ticket and the facts, in order. A refused command returns an error and no facts.
pub fn decide(
    ticket: Option<&Ticket>,
    cmd: &Command,
    now: DateTime<Utc>,
    policy: &CompiledPolicy,
) -> Result<(Ticket, Vec<Decision>), EngineError> {
    let t = match (ticket, cmd) {
        (None, Command::Open(intake)) => return open(intake, now, policy),
        (Some(t), Command::Open(_)) => return Err(EngineError::Exists(t.id().to_string())),
        (None, _) => return Err(EngineError::Invalid("no such ticket".into())),
        (Some(t), _) => t.clone(),
    };
    if now < t.updated_at {
        return Err(EngineError::InThePast {
            now: now.to_rfc3339(),
            last: t.updated_at.to_rfc3339(),
        });
    }
    let mut run = Run {
        t,
        out: Vec::new(),
        p: policy,
    };
    let inclusive = matches!(cmd, Command::Tick) || !policy.policy.ordering.action_before_deadline;
    run.catch_up(now, inclusive)?;
    run.command(cmd, now)?;
    run.catch_up(now, inclusive)?;
    Ok((run.t, run.out))
}

fn open(
    intake: &OpenTicket,
    now: DateTime<Utc>,
    p: &CompiledPolicy,
) -> Result<(Ticket, Vec<Decision>), EngineError> {
    if intake.id.trim().is_empty() || intake.estate.trim().is_empty() {
        return Err(EngineError::Invalid(
            "a ticket needs an `id` and an `estate`".into(),
        ));
    }
    if crate::policy::model::Kind::parse(&intake.kind).is_none() {
        return Err(EngineError::Invalid(format!(
            "unknown kind `{}`: expected inquiry, repair, complaint or suggestion",
            intake.kind
        )));
    }
    if intake.class > 3 {
        return Err(EngineError::Invalid(format!(
            "complaint class must be 1, 2 or 3, found {}",
            intake.class
        )));
    }
    let opened = Decision {
        at: now,
        fact: Fact::Opened {
            intake: intake.clone(),
            fingerprint: p.fingerprint.clone(),
        },
        rule: None,
    };
    let t = Ticket::new(intake.clone(), p.fingerprint.clone(), now);
    let mut run = Run {
        t,
        out: vec![opened],
        p,
    };
    run.classify(now, None, None, None)?;
    run.catch_up(now, false)?;
    Ok((run.t, run.out))
}

/// What a classify hook said beyond the category.
#[derive(Default)]
struct Decided {
    hook: Option<String>,
    hook_id: Option<String>,
    urgency: Option<String>,
    major: Option<bool>,
    emergency: Option<bool>,
    class: Option<u8>,
}

struct Run<'a> {
    t: Ticket,
    out: Vec<Decision>,
    p: &'a CompiledPolicy,
}

impl Run<'_> {
    fn emit(&mut self, at: DateTime<Utc>, fact: Fact, rule: Option<&str>) {
        let d = Decision {
            at,
            fact,
            rule: rule.map(str::to_string),
        };
        self.t.apply(&d);
        self.out.push(d);
    }

    /// Record that a hook or plug-in failed and what was used instead.
    fn hook_failed(&mut self, now: DateTime<Utc>, hook: String, error: String, fallback: String) {
        let rule = hook.clone();
        self.emit(
            now,
            Fact::HookFailed {
                hook,
                error,
                fallback,
            },
            Some(&rule),
        );
    }

    fn refuse(&self, action: &str, reason: impl Into<String>) -> EngineError {
        EngineError::Refused {
            ticket: self.t.id().to_string(),
            action: action.to_string(),
            reason: reason.into(),
        }
    }

    fn transition(&self, action: &str) -> EngineError {
        EngineError::InvalidTransition {
            ticket: self.t.id().to_string(),
            action: action.to_string(),
            status: self.t.status.as_str().to_string(),
        }
    }

    fn facts(&self) -> TicketFacts {
        let t = &self.t;
        let local = t.opened_at.with_timezone(&self.p.tz);
        TicketFacts {
            kind: t.intake.kind.clone(),
            category: t.category.clone().unwrap_or_default(),
            class: i64::from(t.class.unwrap_or(0)),
            text: t.intake.text.clone(),
            estate: t.intake.estate.clone(),
            unit: t.intake.unit.clone(),
            channel: t.intake.channel.clone(),
            urgency: t.intake.urgency.clone(),
            major: t.major,
            emergency: t.emergency,
            phase: t.intake.phase.clone(),
            tags: t.intake.tags.clone(),
            hour: i64::from(chrono::Timelike::hour(&local)),
            weekday: chrono::Datelike::weekday(&local).to_string().to_lowercase(),
            revisits: i64::from(t.callbacks),
            department: t.department.clone().unwrap_or_default(),
        }
    }

    fn command(&mut self, cmd: &Command, now: DateTime<Utc>) -> Result<(), EngineError> {
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
                self.act(now, *action, by, note)
            }
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
                self.act(now, Action::Resolve, "", note)?;
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
            Command::MovePolicy => self.move_policy(now),
        }
    }

    fn classify(
        &mut self,
        now: DateTime<Utc>,
        forced: Option<String>,
        class: Option<u8>,
        major: Option<bool>,
    ) -> Result<(), EngineError> {
        if let Some(c) = class {
            self.t.class = Some(c);
        }
        if let Some(m) = major {
            self.t.major = m;
        }
        let mut decided = Decided::default();
        let (category, matched) = match forced {
            Some(c) => (c, None),
            None => self.choose_category(now, &mut decided),
        };
        let Some(cat) = self.p.policy.categories.get(&category) else {
            return Err(EngineError::Invalid(format!(
                "policy `{}` has no category `{category}`",
                self.p.policy.id
            )));
        };
        let urgency_emergency =
            decided.urgency.as_deref().unwrap_or(&self.t.intake.urgency) == "emergency";
        let fact = Fact::Classified {
            category: category.clone(),
            class: decided.class.or(cat.class).or(class).or(self.t.class),
            emergency: decided
                .emergency
                .unwrap_or(cat.emergency || urgency_emergency),
            major: decided.major.unwrap_or(cat.major || self.t.major),
            route: cat.route.clone(),
            matched,
            hook: decided.hook.clone(),
        };
        let rule = decided.hook_id.clone().unwrap_or_else(|| category.clone());
        self.emit(now, fact, Some(&rule));
        self.route(now);
        self.sync_limits(now, "no longer applies after reclassification")
    }

    /// The classify hook decides first; without one, or when it has no opinion,
    /// the categories' conditions do. A failing hook falls back to its declared
    /// category; a failing condition to the policy default.
    fn choose_category(
        &mut self,
        now: DateTime<Utc>,
        decided: &mut Decided,
    ) -> (String, Option<String>) {
        let choice = self.p.choose_category(&self.facts());
        for (hook, error, fallback) in choice.hook_failures {
            self.hook_failed(now, hook, error, fallback);
        }
        if let Some(err) = choice.condition_error {
            let fact = Fact::ConditionFailed {
                error: err,
                fallback: choice.category.clone(),
            };
            self.emit(now, fact, Some(&choice.category));
        }
        decided.hook = choice.by_hook;
        decided.hook_id = choice.hook_id;
        if let Some(o) = choice.overrides {
            decided.urgency = o.urgency;
            decided.major = o.major;
            decided.emergency = o.emergency;
            decided.class = o.class;
        }
        (choice.category, choice.matched)
    }

    /// The route hook may dispatch the ticket (department, tier, lead); on failure
    /// the category's own route stands.
    fn route(&mut self, now: DateTime<Utc>) {
        match self.p.hook_route(&self.facts()) {
            HookOutcome::Decided { value, hook, .. } => {
                let fact = Fact::Assigned {
                    department: value.department,
                    tier: value.tier,
                    lead: value.lead,
                };
                self.emit(now, fact, Some(&hook));
            }
            HookOutcome::Failed { hook, error } => {
                let fallback = format!(
                    "the category's route ({})",
                    self.t.department.as_deref().unwrap_or("none")
                );
                self.hook_failed(now, hook, error, fallback);
            }
            HookOutcome::NoHook | HookOutcome::NoOpinion => {}
        }
    }

    /// Start clocks of limits that apply and are not running; cancel clocks of
    /// limits that no longer apply. Clocks count from intake (受理).
    fn sync_limits(&mut self, now: DateTime<Utc>, cancel_reason: &str) -> Result<(), EngineError> {
        let mut scope = self.facts().scope();
        let limits: Vec<(String, Limit)> = self
            .p
            .policy
            .limits
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, limit) in limits {
            let applies = match self.p.applies(&format!("limit.{id}"), &mut scope) {
                Ok(a) => a,
                Err(e) => {
                    self.emit(
                        now,
                        Fact::ConditionFailed {
                            error: format!("limit `{id}`: {e}"),
                            fallback: "not applied".into(),
                        },
                        Some(&id),
                    );
                    false
                }
            };
            let clock = self.t.clocks.get(&id).cloned();
            match (applies, clock) {
                (false, Some(c)) if c.is_live() => {
                    self.emit(
                        now,
                        Fact::ClockCancelled {
                            limit: id.clone(),
                            reason: cancel_reason.into(),
                        },
                        Some(&id),
                    );
                }
                (true, Some(c)) if c.is_live() && c.within != limit.within => {
                    self.emit(
                        now,
                        Fact::ClockCancelled {
                            limit: id.clone(),
                            reason: "limit changed".into(),
                        },
                        Some(&id),
                    );
                    self.start_clock(now, &id, &limit, c.started_at)?;
                }
                (true, None)
                    if limit.from == ClockStart::Opened
                        && self.t.is_open()
                        && !self.t.milestones.contains_key(&limit.milestone) =>
                {
                    let start = self.t.opened_at;
                    self.start_clock(now, &id, &limit, start)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn start_clock(
        &mut self,
        now: DateTime<Utc>,
        id: &str,
        limit: &Limit,
        start: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let cal = self.p.calendar_for(limit);
        let mut within = limit.within;
        let mut fixed_deadline = None;
        match self.p.hook_deadline(&self.facts(), id) {
            HookOutcome::Decided {
                value: HookDeadline::Within(span),
                ..
            } => within = span,
            HookOutcome::Decided {
                value: HookDeadline::At(at),
                ..
            } => fixed_deadline = Some(at),
            HookOutcome::Failed { hook, error } => {
                let fallback = format!("the policy's `{}`", limit.within);
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
            within = Span::Wall {
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

    fn act(
        &mut self,
        now: DateTime<Utc>,
        action: Action,
        by: &str,
        note: &str,
    ) -> Result<(), EngineError> {
        if action != Action::Resolve && action != Action::Assign {
            self.emit(
                now,
                Fact::ActionRecorded {
                    action: action.as_str().into(),
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
            .filter(|(_, m)| m.reached_by.contains(&action))
            .map(|(id, _)| id.clone())
            .collect();
        if action == Action::Notice {
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

    fn restart_if_repeating(&mut self, at: DateTime<Utc>, limit: &str) -> Result<(), EngineError> {
        if let Some(l) = self.p.policy.limits.get(limit).cloned()
            && l.repeat
            && self.t.status == Status::Open
        {
            self.start_clock(at, limit, &l, at)?;
        }
        Ok(())
    }

    /// Start limits whose clock starts on a milestone or escalation just reached.
    fn start_dependent(
        &mut self,
        now: DateTime<Utc>,
        pred: impl Fn(&ClockStart) -> bool,
    ) -> Result<(), EngineError> {
        let candidates: Vec<(String, Limit)> = self
            .p
            .policy
            .limits
            .iter()
            .filter(|(_, l)| pred(&l.from))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if candidates.is_empty() {
            // Most actions start nothing; building the script scope is the costly part.
            return Ok(());
        }
        let mut scope = self.facts().scope();
        for (id, limit) in candidates {
            if self.t.clocks.get(&id).is_some_and(|c| c.is_live())
                || self.t.milestones.contains_key(&limit.milestone)
            {
                continue;
            }
            if self
                .p
                .applies(&format!("limit.{id}"), &mut scope)
                .unwrap_or(false)
            {
                self.start_clock(now, &id, &limit, now)?;
            }
        }
        Ok(())
    }

    fn assign(
        &mut self,
        now: DateTime<Utc>,
        department: &str,
        tier: &str,
        lead: Option<&str>,
    ) -> Result<(), EngineError> {
        let depts = &self.p.policy.departments;
        if !depts.contains_key(department) {
            return Err(EngineError::Invalid(format!(
                "unknown department `{department}`; known: {}",
                keys(depts)
            )));
        }
        if !matches!(tier, "L1" | "L2" | "L3") {
            return Err(EngineError::Invalid(format!(
                "unknown tier `{tier}`: expected L1, L2 or L3 (E1)"
            )));
        }
        if let Some(l) = lead
            && !depts.contains_key(l)
        {
            return Err(EngineError::Invalid(format!(
                "unknown lead department `{l}`"
            )));
        }
        if tier == "L3" && lead.is_none() {
            return Err(self.refuse("assign", "tier L3 needs a lead department (E1)"));
        }
        let fact = Fact::Assigned {
            department: department.into(),
            tier: tier.into(),
            lead: lead.map(str::to_string),
        };
        self.emit(now, fact, Some("E1"));
        self.act(now, Action::Assign, "", "")
    }

    fn pause(&mut self, now: DateTime<Utc>, reason: &str) -> Result<(), EngineError> {
        if let Some((r, _)) = &self.t.pause {
            return Err(self.refuse("pause", format!("it is already paused ({r})")));
        }
        let Some(rule) = self.p.policy.pauses.get(reason).cloned() else {
            return Err(EngineError::Invalid(format!(
                "unknown pause reason `{reason}`; known: {}",
                keys(&self.p.policy.pauses)
            )));
        };
        let mut scope = self.facts().scope();
        match self.p.applies(&format!("pause.{reason}"), &mut scope) {
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

    fn resume(&mut self, now: DateTime<Utc>) {
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

    fn cancel_clocks(&mut self, now: DateTime<Utc>, reason: &str) {
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

    fn cancel_revisits(&mut self, now: DateTime<Utc>) {
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

    fn schedule_revisits(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut scope = self.facts().scope();
        let revisits: Vec<_> = self
            .p
            .policy
            .revisits
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, rule) in revisits {
            match self.p.applies(&format!("revisit.{id}"), &mut scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    self.emit(
                        now,
                        Fact::ConditionFailed {
                            error: format!("revisit `{id}`: {e}"),
                            fallback: "not scheduled".into(),
                        },
                        Some(&id),
                    );
                    continue;
                }
            }
            for (i, step) in rule.steps.iter().enumerate() {
                let slot = self.t.revisits.len();
                let key = format!("{id}#{}", i + 1);
                let (due, event) = match step {
                    RevisitStep::Within {
                        within,
                        after: RevisitAnchor::Resolved,
                    } => (Some(self.due(within, now, &id)?), None),
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
                    Some(&id),
                );
            }
        }
        Ok(())
    }

    fn due(
        &self,
        within: &Span,
        from: DateTime<Utc>,
        rule: &str,
    ) -> Result<DateTime<Utc>, EngineError> {
        self.p
            .default_calendar()
            .deadline(within, from)
            .map_err(|e| EngineError::Invalid(format!("revisit `{rule}`: {e}")))
    }

    fn revisit(
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

    fn step_of(&self, rule: &str, slot: usize) -> Option<RevisitStep> {
        let s = self.t.revisits.get(slot)?;
        self.p
            .policy
            .revisits
            .get(rule)?
            .steps
            .get(s.step.checked_sub(1)?)
            .cloned()
    }

    fn close(&mut self, now: DateTime<Utc>, invalid: Option<&str>) -> Result<(), EngineError> {
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
        match self.p.hook_before_close(&self.facts()) {
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

    fn move_policy(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
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

    /// Fire every timer due before `now` (or at `now` when `inclusive`), oldest first.
    fn catch_up(&mut self, now: DateTime<Utc>, inclusive: bool) -> Result<(), EngineError> {
        let order = self.p.policy.ordering.timers.clone();
        // Each firing removes its timer; a repeating limit adds one further ahead.
        // The bound only guards against a policy that would loop on itself.
        for _ in 0..10_000 {
            let (timers, _) = pending_timers(&self.t);
            let next = timers
                .into_iter()
                .filter(|d| if inclusive { d.at <= now } else { d.at < now })
                .min_by_key(|d| {
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

    fn fire(&mut self, at: DateTime<Utc>, target: &Target) -> Result<(), EngineError> {
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
    fn holder(&self) -> String {
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

    fn on_breach(&mut self, at: DateTime<Utc>, limit: &str) -> Result<(), EngineError> {
        let Some(l) = self.p.policy.limits.get(limit).cloned() else {
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

fn keys<V>(map: &std::collections::BTreeMap<String, V>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}
