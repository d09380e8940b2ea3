//! Cross-reference checks on a built policy: every name a rule uses must exist
//! (category, milestone, ladder step, calendar, department, notify target), business
//! limits need a calendar, and no rule may be unreachable.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, did_you_mean};

use super::model::*;
use super::reader::Ctx;

pub fn check(p: &Policy, ctx: &mut Ctx) {
    let targets = notify_targets(p);
    let steps: Vec<&str> = p.escalation.ladder.iter().map(|s| s.id.as_str()).collect();
    let milestones: Vec<&str> = p.milestones.keys().map(String::as_str).collect();
    let categories: Vec<&str> = p.categories.keys().map(String::as_str).collect();
    let calendars: Vec<&str> = p.calendars.keys().map(String::as_str).collect();
    let departments: Vec<&str> = p.departments.keys().map(String::as_str).collect();

    let mut r = Refs { ctx };
    if !p.default_category.is_empty() {
        r.known(
            "policy.default_category",
            &p.default_category,
            "category",
            &categories,
        );
    }
    if let Some(cal) = &p.calendar {
        r.known("policy.calendar", cal, "calendar", &calendars);
    }
    for (id, c) in &p.categories {
        if let Some(route) = &c.route {
            r.known(
                &format!("category.{id}.route"),
                route,
                "department",
                &departments,
            );
        }
        for t in &c.report_to {
            r.known(
                &format!("category.{id}.report_to"),
                t,
                "notify target",
                &targets,
            );
        }
        if c.class.is_some() && c.kind != Kind::Complaint {
            r.error_at(
                &format!("category.{id}.class"),
                format!(
                    "category `{id}` has a complaint class but is a {}",
                    c.kind.as_str()
                ),
            )
        }
    }
    for step in &p.escalation.ladder {
        for t in &step.notify {
            r.known(
                &format!("escalation.ladder.{}.notify", step.id),
                t,
                "notify target",
                &targets,
            );
        }
    }
    for (id, l) in &p.limits {
        if !l.milestone.is_empty() {
            r.known(
                &format!("limit.{id}.milestone"),
                &l.milestone,
                "milestone",
                &milestones,
            );
        }
        for from in l.starts() {
            match from {
                ClockStart::Opened => {}
                ClockStart::Milestone(m) => {
                    r.known(&format!("limit.{id}.from"), m, "milestone", &milestones)
                }
                ClockStart::Escalated(s) => {
                    r.known(&format!("limit.{id}.from"), s, "ladder step", &steps)
                }
            }
        }
        if let Some(by) = &l.set_by {
            r.known(&format!("limit.{id}.set_by"), by, "notify target", &targets);
        }
        match &l.on_breach.escalate {
            Some(EscalateTo::Step(s)) => {
                r.known(&format!("limit.{id}.escalate_to"), s, "ladder step", &steps)
            }
            Some(EscalateTo::Next) if steps.is_empty() => r.error_at(
                &format!("limit.{id}.on_breach"),
                format!("limit `{id}` escalates on breach but `[escalation]` has no ladder"),
            ),
            _ => {}
        }
        for t in &l.on_breach.notify {
            r.known(&format!("limit.{id}.notify"), t, "notify target", &targets);
        }
        match l.calendar.as_ref().or(p.calendar.as_ref()) {
            Some(cal) if l.calendar.is_some() => {
                r.known(&format!("limit.{id}.calendar"), cal, "calendar", &calendars);
            }
            // The policy's own calendar was checked above.
            Some(_) => {}
            None if l.needs_calendar() => r.error_at(
                &format!("limit.{id}.within"),
                format!(
                    "limit `{id}` counts `{}` but neither it nor `[policy]` names a calendar",
                    l.within_text()
                ),
            ),
            None => {}
        }
        if let Some(m) = p.milestones.get(&l.milestone)
            && m.reached_by.is_empty()
        {
            r.error_at(
                &format!("limit.{id}.milestone"),
                format!(
                    "limit `{id}` can never be met: milestone `{}` is reached by no action",
                    l.milestone
                ),
            );
        }
    }
    for (id, pause) in &p.pauses {
        for m in &pause.stops {
            if m != "*" {
                r.known(&format!("pause.{id}.stops"), m, "milestone", &milestones);
            }
        }
    }
    for (id, v) in &p.revisits {
        for (i, step) in v.steps.iter().enumerate() {
            if let RevisitStep::OnEvent { event } = step
                && (event.is_empty() || !event.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            {
                r.error_at(
                    &format!("revisit.{id}.step.{}.on_event", i + 1),
                    format!("bad event name `{event}`: use lowercase letters and `_`"),
                );
            }
        }
    }
    for (id, a) in &p.actions {
        if let Some(by) = &a.by {
            r.known(&format!("action.{id}.by"), by, "notify target", &targets);
        }
    }
    for t in &p.reopen.notify {
        r.known("reopen.notify", t, "notify target", &targets);
    }
    for t in &p.compensation.notify {
        r.known("compensation.notify", t, "notify target", &targets);
    }
    for (id, h) in &p.hooks {
        if h.on == HookPoint::Events {
            r.error_at(
                &format!("hook.{id}.on"),
                "`events` is a plug-in hook point: a rhai hook cannot be an event source".into(),
            );
        }
        if let Some(f) = &h.fallback {
            r.known(&format!("hook.{id}.fallback"), f, "category", &categories);
        }
    }
    for (id, pl) in &p.plugins {
        if let Some(f) = &pl.fallback {
            r.known(&format!("plugin.{id}.fallback"), f, "category", &categories);
        }
    }
    unreachable_categories(p, r.ctx);
}

fn notify_targets(p: &Policy) -> Vec<&str> {
    let mut t: BTreeSet<&str> = BTreeSet::from(["owner"]);
    t.extend(p.escalation.ladder.iter().map(|s| s.id.as_str()));
    t.extend(p.departments.keys().map(String::as_str));
    t.extend(p.roles.keys().map(String::as_str));
    t.into_iter().collect()
}

struct Refs<'a> {
    ctx: &'a mut Ctx,
}

impl Refs<'_> {
    fn error_at(&mut self, key: &str, message: String) {
        let loc = self
            .ctx
            .spans
            .get(key)
            .or_else(|| self.ctx.spans.get(parent_key(key)));
        self.ctx.error(loc, message);
    }

    fn known(&mut self, key: &str, name: &str, what: &str, known: &[&str]) {
        if known.contains(&name) {
            return;
        }
        let loc = self
            .ctx
            .spans
            .get(&format!("{key}[{name}]"))
            .or_else(|| self.ctx.spans.get(key))
            .or_else(|| self.ctx.spans.get(parent_key(key)));
        let mut d = Diagnostic::error(loc, format!("unknown {what} `{name}`"));
        d = match did_you_mean(name, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if known.is_empty() => d.with_help(format!("the policy declares no {what}")),
            None => d.with_help(format!("known: {}", known.join(", "))),
        };
        self.ctx.push(d);
    }
}

fn parent_key(key: &str) -> &str {
    key.rsplit_once('.').map(|(p, _)| p).unwrap_or(key)
}

/// A category without a condition matches every ticket of its kind, so any category
/// of that kind tried after it can never be chosen.
fn unreachable_categories(p: &Policy, ctx: &mut Ctx) {
    let order = super::category_order(p);
    for (i, (id, c)) in order.iter().enumerate() {
        if c.when.is_some() {
            continue;
        }
        for (later, lc) in &order[i + 1..] {
            // A category of one phase shadows only those of the same phase.
            if lc.kind == c.kind && (c.phase.is_none() || lc.phase == c.phase) {
                let loc = ctx.spans.get(&format!("category.{later}"));
                ctx.push(
                    Diagnostic::error(loc, format!("category `{later}` is unreachable: `{id}` has no `when` and is tried first"))
                        .with_help(format!("give `{id}` a condition or a lower `priority` than `{later}`")),
                );
            }
        }
    }
}
