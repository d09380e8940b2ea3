//! The diff of each section of the model. Each function says, field by field, which
//! direction is stricter for the owner; see the module docs of [`super`] for the
//! reasoning shared by all of them.

use std::cmp::Ordering as Cmp;
use std::collections::{BTreeMap, BTreeSet};

use super::{At, Effect, Out, dates};
use crate::limit_duration::LimitDuration;
use crate::policy::model::*;

mod calendars;
mod extensions;

use calendars::calendars;
use extensions::{hooks, plugins};

pub(super) fn all(out: &mut Out, a: &Policy, b: &Policy) {
    header(out, a, b);
    calendars(out, a, b);
    labelled(out, "department", &a.departments, &b.departments, |d| {
        &d.label
    });
    labelled(out, "role", &a.roles, &b.roles, |r| &r.label);
    // A declared event kind records nothing by itself: the revisits that wait for it do.
    labelled(out, "event", &a.events, &b.events, |e| &e.label);
    categories(out, a, b);
    milestones(out, a, b);
    limits(out, a, b);
    escalation(out, &a.escalation, &b.escalation);
    pauses(out, a, b);
    revisits(out, a, b);
    singletons(out, a, b);
    hooks(out, a, b);
    plugins(out, a, b);
}

/// Rules matched by id: removed, changed (via `fields`) and added, in id order.
/// `added` is the effect of adding such a rule; removing one has the inverse effect.
fn by_id<T: PartialEq>(
    out: &mut Out,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    at: impl Fn(&str, &T) -> At,
    summary: impl Fn(&T) -> String,
    added: Effect,
    mut fields: impl FnMut(&mut Out, &At, &T, &T),
) {
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for id in ids {
        match (old.get(id), new.get(id)) {
            (Some(o), None) => out.removed(&at(id, o), summary(o), added.inverse()),
            (None, Some(n)) => out.added(&at(id, n), summary(n), added),
            (Some(o), Some(n)) if o != n => {
                let mut place = at(id, n);
                place = place.rules(&at(id, o).rules);
                fields(out, &place, o, n);
            }
            _ => {}
        }
    }
}

/// Elements added to / removed from a list where order does not matter.
/// `added` is the effect of one added element.
fn list(out: &mut Out, at: &At, field: &str, old: &[String], new: &[String], added: Effect) {
    for o in old.iter().filter(|o| !new.contains(o)) {
        out.elem(at, field, o.clone(), false, added.inverse());
    }
    for n in new.iter().filter(|n| !old.contains(n)) {
        out.elem(at, field, n.clone(), true, added);
    }
}

/// A bool whose switching on has effect `on`.
fn flag(out: &mut Out, at: &At, field: &str, old: bool, new: bool, on: Effect) {
    let effect = if new { on } else { on.inverse() };
    out.field(at, field, old.to_string(), new.to_string(), effect);
}

fn rule_ids(out: &mut Out, at: &At, old: &[String], new: &[String]) {
    out.field(at, "rules", old.join(", "), new.join(", "), Effect::Neutral);
}

/// Shorter is stricter; spans of different measures cannot be ordered.
pub(super) fn span_effect(old: &LimitDuration, new: &LimitDuration) -> Effect {
    match old.compare(new) {
        Some(Cmp::Greater) => Effect::Stricter,
        Some(Cmp::Less) => Effect::Looser,
        Some(Cmp::Equal) => Effect::Neutral,
        None => Effect::Unknown,
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".to_string())
}

fn condition(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(always)".to_string())
}

fn header(out: &mut Out, a: &Policy, b: &Policy) {
    let at = At::new("policy", "");
    out.field(&at, "id", a.id.clone(), b.id.clone(), Effect::Neutral);
    out.field(
        &at,
        "version",
        a.version.clone(),
        b.version.clone(),
        Effect::Neutral,
    );
    out.field(
        &at,
        "title",
        a.title.clone(),
        b.title.clone(),
        Effect::Neutral,
    );
    // Anchored limits ("next day 12:00") and calendars are read in the time zone.
    out.field(
        &at,
        "timezone",
        a.timezone.clone(),
        b.timezone.clone(),
        Effect::Unknown,
    );
    out.field(
        &at,
        "locale",
        opt(&a.locale),
        opt(&b.locale),
        Effect::Neutral,
    );
    out.field(
        &at,
        "calendar",
        opt(&a.calendar),
        opt(&b.calendar),
        Effect::Unknown,
    );
    let (da, db) = (a.default_category.clone(), b.default_category.clone());
    out.field(&at, "default_category", da, db, Effect::Unknown);
}

fn labelled<T: PartialEq>(
    out: &mut Out,
    section: &'static str,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    label: impl Fn(&T) -> &String,
) {
    let at = |id: &str, t: &T| At::new(section, id).label(label(t));
    by_id(
        out,
        old,
        new,
        at,
        |_| String::new(),
        Effect::Neutral,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                label(o).clone(),
                label(n).clone(),
                Effect::Neutral,
            );
        },
    );
}

/// Categories decide which rules apply to a ticket, so changes to how a ticket is
/// classified are `unknown`; flags that switch rules on (emergency, major, a report
/// in writing, a published result) are stricter when set.
fn categories(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, c: &Category| At::new("category", id).label(&c.label).rules(&c.rules);
    let summary = |c: &Category| format!("{} when {}", c.kind.as_str(), condition(&c.when));
    by_id(
        out,
        &a.categories,
        &b.categories,
        at,
        summary,
        Effect::Unknown,
        |out, at, o, n| {
            out.field(
                at,
                "kind",
                o.kind.as_str().into(),
                n.kind.as_str().into(),
                Effect::Unknown,
            );
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            out.field(
                at,
                "when",
                condition(&o.when),
                condition(&n.when),
                Effect::Unknown,
            );
            out.field(
                at,
                "priority",
                o.priority.to_string(),
                n.priority.to_string(),
                Effect::Unknown,
            );
            let class = |c: &Category| c.class.map_or("(none)".to_string(), |k| k.to_string());
            out.field(at, "class", class(o), class(n), Effect::Unknown);
            flag(
                out,
                at,
                "emergency",
                o.emergency,
                n.emergency,
                Effect::Stricter,
            );
            flag(out, at, "major", o.major, n.major, Effect::Stricter);
            let phase = |c: &Category| {
                c.phase
                    .map_or("(none)".to_string(), |p| p.as_str().to_string())
            };
            out.field(at, "phase", phase(o), phase(n), Effect::Unknown);
            out.field(at, "route", opt(&o.route), opt(&n.route), Effect::Unknown);
            out.field(at, "form", opt(&o.form), opt(&n.form), Effect::Neutral);
            list(
                out,
                at,
                "report_to",
                &o.report_to,
                &n.report_to,
                Effect::Stricter,
            );
            flag(
                out,
                at,
                "publish_result",
                o.publish_result,
                n.publish_result,
                Effect::Stricter,
            );
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

/// One more action that reaches a milestone makes its limits easier to meet: looser.
fn milestones(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, m: &Milestone| At::new("milestone", id).label(&m.label).rules(&m.rules);
    let actions = |m: &Milestone| {
        m.reached_by
            .iter()
            .map(|a| a.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let summary = |m: &Milestone| format!("reached by {}", actions(m).join(", "));
    by_id(
        out,
        &a.milestones,
        &b.milestones,
        at,
        summary,
        Effect::Neutral,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            list(
                out,
                at,
                "reached_by",
                &actions(o),
                &actions(n),
                Effect::Looser,
            );
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

fn from_text(f: &ClockStart) -> String {
    match f {
        ClockStart::Opened => "opened".to_string(),
        ClockStart::Milestone(m) => m.clone(),
        ClockStart::Escalated(s) => format!("escalated:{s}"),
    }
}

pub(super) fn escalate_text(e: &Option<EscalateTo>) -> String {
    match e {
        None => "notify only".to_string(),
        Some(EscalateTo::Next) => "escalate to next step".to_string(),
        Some(EscalateTo::Step(s)) => format!("escalate to {s}"),
    }
}

fn limits(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, l: &Limit| At::new("limit", id).label(&l.label).rules(&l.rules);
    let summary = |l: &Limit| format!("{} within {}", l.milestone, l.within_text());
    by_id(
        out,
        &a.limits,
        &b.limits,
        at,
        summary,
        Effect::Stricter,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            out.field(
                at,
                "applies",
                condition(&o.applies),
                condition(&n.applies),
                Effect::Unknown,
            );
            out.field(
                at,
                "milestone",
                o.milestone.clone(),
                n.milestone.clone(),
                Effect::Unknown,
            );
            out.field(
                at,
                "within",
                o.within_text(),
                n.within_text(),
                match (&o.within, &n.within) {
                    (Some(a), Some(b)) => span_effect(a, b),
                    _ => Effect::Unknown,
                },
            );
            out.field(
                at,
                "from",
                o.starts().map(from_text).collect::<Vec<_>>().join(" or "),
                n.starts().map(from_text).collect::<Vec<_>>().join(" or "),
                Effect::Unknown,
            );
            out.field(
                at,
                "calendar",
                opt(&o.calendar),
                opt(&n.calendar),
                Effect::Unknown,
            );
            // An earlier warning (or any warning) gives the owner's case attention sooner.
            let warn = |w: Option<u8>| w.map_or("(none)".to_string(), |p| format!("{p}%"));
            let effect = match (o.warn_at, n.warn_at) {
                (Some(x), Some(y)) if y < x => Effect::Stricter,
                (Some(_), Some(_)) => Effect::Looser,
                (None, Some(_)) => Effect::Stricter,
                _ => Effect::Looser,
            };
            out.field(at, "warn_at", warn(o.warn_at), warn(n.warn_at), effect);
            flag(out, at, "repeat", o.repeat, n.repeat, Effect::Stricter);
            // Escalating where there was only a notice is stricter; which step a breach
            // goes to depends on where the ticket is, so a changed target is unknown.
            let (oe, ne) = (&o.on_breach.escalate, &n.on_breach.escalate);
            let effect = match (oe, ne) {
                (None, Some(_)) => Effect::Stricter,
                (Some(_), None) => Effect::Looser,
                _ => Effect::Unknown,
            };
            out.field(
                at,
                "on_breach",
                escalate_text(oe),
                escalate_text(ne),
                effect,
            );
            list(
                out,
                at,
                "notify",
                &o.on_breach.notify,
                &n.on_breach.notify,
                Effect::Stricter,
            );
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

/// Ladder steps are matched by id. Which step a ticket reaches depends on the ticket,
/// so added, removed or reordered steps are `unknown`; more people notified at a step
/// is stricter.
fn escalation(out: &mut Out, a: &Escalation, b: &Escalation) {
    let top = At::new("escalation", "").rules(&b.rules).rules(&a.rules);
    let ids = |e: &Escalation| e.ladder.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let (oi, ni) = (ids(a), ids(b));
    let common = |from: &[String], other: &[String]| {
        from.iter()
            .filter(|i| other.contains(i))
            .cloned()
            .collect::<Vec<_>>()
    };
    if common(&oi, &ni) != common(&ni, &oi) {
        out.field(
            &top,
            "ladder",
            oi.join(", "),
            ni.join(", "),
            Effect::Unknown,
        );
    }
    let map = |e: &Escalation| {
        e.ladder
            .iter()
            .map(|s| (s.id.clone(), s.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let at = |id: &str, s: &LadderStep| {
        At::new("escalation", id)
            .label(&s.label)
            .rules(&b.rules)
            .rules(&a.rules)
    };
    let summary = |s: &LadderStep| format!("ladder step, notify {}", s.notify.join(", "));
    by_id(
        out,
        &map(a),
        &map(b),
        at,
        summary,
        Effect::Unknown,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            list(out, at, "notify", &o.notify, &n.notify, Effect::Stricter);
        },
    );
    rule_ids(out, &top, &a.rules, &b.rules);
}

/// A pause reason stops clocks, so one more reason or one more stopped milestone is
/// looser for the owner.
fn pauses(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, p: &PauseRule| At::new("pause", id).label(&p.label).rules(&p.rules);
    let summary = |p: &PauseRule| format!("stops {}", p.stops.join(", "));
    by_id(
        out,
        &a.pauses,
        &b.pauses,
        at,
        summary,
        Effect::Looser,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            out.field(
                at,
                "applies",
                condition(&o.applies),
                condition(&n.applies),
                Effect::Unknown,
            );
            list(out, at, "stops", &o.stops, &n.stops, Effect::Looser);
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

pub(super) fn step_text(s: &RevisitStep) -> String {
    match s {
        RevisitStep::Within {
            within,
            after: RevisitAnchor::Resolved,
        } => format!("within {within}"),
        RevisitStep::Within {
            within,
            after: RevisitAnchor::Previous,
        } => {
            format!("within {within} after previous")
        }
        RevisitStep::OnEvent { event } => format!("on event {event}"),
    }
}

/// A revisit or a revisit step more is stricter; a shorter step is stricter. With the
/// same number of steps they are compared position by position; otherwise the steps
/// that are new or gone are listed.
fn revisits(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, r: &Revisit| At::new("revisit", id).label(&r.label).rules(&r.rules);
    let summary = |r: &Revisit| r.steps.iter().map(step_text).collect::<Vec<_>>().join("; ");
    by_id(
        out,
        &a.revisits,
        &b.revisits,
        at,
        summary,
        Effect::Stricter,
        |out, at, o, n| {
            out.field(
                at,
                "label",
                o.label.clone(),
                n.label.clone(),
                Effect::Neutral,
            );
            out.field(
                at,
                "applies",
                condition(&o.applies),
                condition(&n.applies),
                Effect::Unknown,
            );
            if o.steps.len() == n.steps.len() {
                for (i, (os, ns)) in o.steps.iter().zip(&n.steps).enumerate() {
                    let effect = match (os, ns) {
                        (
                            RevisitStep::Within {
                                within: ow,
                                after: oa,
                            },
                            RevisitStep::Within {
                                within: nw,
                                after: na,
                            },
                        ) if oa == na => span_effect(ow, nw),
                        _ => Effect::Unknown,
                    };
                    out.field(
                        at,
                        &format!("step {}", i + 1),
                        step_text(os),
                        step_text(ns),
                        effect,
                    );
                }
            } else {
                let mut unmatched: Vec<&RevisitStep> = n.steps.iter().collect();
                for os in &o.steps {
                    match unmatched.iter().position(|ns| *ns == os) {
                        Some(i) => {
                            unmatched.remove(i);
                        }
                        None => out.elem(at, "steps", step_text(os), false, Effect::Looser),
                    }
                }
                for ns in unmatched {
                    out.elem(at, "steps", step_text(ns), true, Effect::Stricter);
                }
            }
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

fn singletons(out: &mut Out, a: &Policy, b: &Policy) {
    let (o, n) = (&a.reopen, &b.reopen);
    let at = At::new("reopen", "").rules(&n.rules).rules(&o.rules);
    let span = |s: &Option<LimitDuration>| s.map_or("(none)".to_string(), |s| s.to_string());
    let effect = match (&o.notice_within, &n.notice_within) {
        (Some(x), Some(y)) => span_effect(x, y),
        (None, Some(_)) => Effect::Stricter,
        _ => Effect::Looser,
    };
    out.field(
        &at,
        "notice_within",
        span(&o.notice_within),
        span(&n.notice_within),
        effect,
    );
    list(out, &at, "notify", &o.notify, &n.notify, Effect::Stricter);
    rule_ids(out, &at, &o.rules, &n.rules);

    let (o, n) = (&a.closing, &b.closing);
    let at = At::new("closing", "").rules(&n.rules).rules(&o.rules);
    let (oi, ni) = (
        o.invalid_requires_explanation,
        n.invalid_requires_explanation,
    );
    flag(
        out,
        &at,
        "invalid_requires_explanation",
        oi,
        ni,
        Effect::Stricter,
    );
    flag(
        out,
        &at,
        "require_callback",
        o.require_callback,
        n.require_callback,
        Effect::Stricter,
    );
    // One more accepted callback channel makes the callback easier to record.
    list(
        out,
        &at,
        "callback_channels",
        &o.callback_channels,
        &n.callback_channels,
        Effect::Looser,
    );
    rule_ids(out, &at, &o.rules, &n.rules);

    let (o, n) = (&a.compensation, &b.compensation);
    let at = At::new("compensation", "").rules(&n.rules).rules(&o.rules);
    list(out, &at, "notify", &o.notify, &n.notify, Effect::Stricter);
    rule_ids(out, &at, &o.rules, &n.rules);

    let (o, n) = (&a.ordering, &b.ordering);
    let at = At::new("ordering", "");
    // When an action at the deadline instant no longer counts as on time, the
    // company has one minute less: stricter.
    flag(
        out,
        &at,
        "action_before_deadline",
        o.action_before_deadline,
        n.action_before_deadline,
        Effect::Looser,
    );
    let timers = |t: &[TimerKind]| t.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
    out.field(
        &at,
        "timers",
        timers(&o.timers),
        timers(&n.timers),
        Effect::Unknown,
    );
}
