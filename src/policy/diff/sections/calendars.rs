//! Changes to the `[calendar.ID]` sections: working days and hours, holidays and
//! make-up workdays, and which limits count in each calendar.

use super::*;

/// More working time is stricter: a business-hour deadline comes sooner when the
/// office is open more. So a removed holiday, an added workday or make-up workday and
/// wider hours are stricter. A holiday that falls only on days that are not workdays
/// changes no deadline and is neutral. Rules: those of the limits counting in the
/// calendar's working time.
pub(super) fn calendars(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, _: &CalendarDef| At::new("calendar", id).rules(calendar_rules(a, b, id));
    by_id(
        out,
        &a.calendars,
        &b.calendars,
        at,
        |c| c.hours.join(", "),
        Effect::Neutral,
        |out, at, o, n| {
            list(
                out,
                at,
                "workdays",
                &o.workdays,
                &n.workdays,
                Effect::Stricter,
            );
            let effect = match (dates::minutes(&o.hours), dates::minutes(&n.hours)) {
                (Some(om), Some(nm)) => {
                    let wider = om.iter().zip(&nm).all(|(o, n)| !o || *n);
                    let narrower = om.iter().zip(&nm).all(|(o, n)| !n || *o);
                    match (wider, narrower) {
                        (true, true) => Effect::Neutral,
                        (true, false) => Effect::Stricter,
                        (false, true) => Effect::Looser,
                        (false, false) => Effect::Unknown,
                    }
                }
                _ => Effect::Unknown,
            };
            out.field(at, "hours", o.hours.join(", "), n.hours.join(", "), effect);
            // Included data counts as if listed: an updated data set shows up as the
            // dates it adds or removes, and the names of the sets as a list change.
            let names =
                |c: &CalendarDef| c.include.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
            list(out, at, "include", &names(o), &names(n), Effect::Unknown);
            // Neither reading is always later: close of business is later for an
            // intake during hours, earlier for one after hours (same_time counts
            // from the next opening).
            out.field(
                at,
                "business_days",
                o.business_days.as_str().to_string(),
                n.business_days.as_str().to_string(),
                Effect::Unknown,
            );
            let (oh, om) = o.effective();
            let (nh, nm) = n.effective();
            match (dates::expand(&oh), dates::expand(&nh)) {
                (Some(od), Some(nd)) => {
                    for run in dates::runs(od.difference(&nd)) {
                        let effect = if dates::touches_weekdays(run, &n.workdays) {
                            Effect::Stricter
                        } else {
                            Effect::Neutral
                        };
                        out.elem(at, "holidays", dates::run_text(run), false, effect);
                    }
                    for run in dates::runs(nd.difference(&od)) {
                        let effect = if dates::touches_weekdays(run, &n.workdays) {
                            Effect::Looser
                        } else {
                            Effect::Neutral
                        };
                        out.elem(at, "holidays", dates::run_text(run), true, effect);
                    }
                }
                _ => list(out, at, "holidays", &oh, &nh, Effect::Looser),
            }
            match (dates::expand(&om), dates::expand(&nm)) {
                (Some(od), Some(nd)) => {
                    for run in dates::runs(od.difference(&nd)) {
                        out.elem(
                            at,
                            "makeup_workdays",
                            dates::run_text(run),
                            false,
                            Effect::Looser,
                        );
                    }
                    for run in dates::runs(nd.difference(&od)) {
                        out.elem(
                            at,
                            "makeup_workdays",
                            dates::run_text(run),
                            true,
                            Effect::Stricter,
                        );
                    }
                }
                _ => list(out, at, "makeup_workdays", &om, &nm, Effect::Stricter),
            }
        },
    );
}

fn calendar_rules<'p>(a: &'p Policy, b: &'p Policy, id: &str) -> Vec<&'p String> {
    let mut rules = Vec::new();
    for p in [a, b] {
        for l in p.limits.values() {
            let cal = l.calendar.as_ref().or(p.calendar.as_ref());
            if cal.is_some_and(|c| c == id) && l.needs_calendar() {
                rules.extend(&l.rules);
            }
        }
    }
    rules
}
