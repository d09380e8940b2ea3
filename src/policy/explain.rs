//! What a policy does with one ticket, before anything happens to it: the category
//! chosen and why, every limit with whether it applies and its deadline, the
//! escalation ladder, the revisits and the pause reasons. Pure: the opening instant
//! comes in as an argument. `steward policy explain` prints it.

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use super::compiled::CompiledPolicy;
use super::model::{ClockStart, EscalateTo, RevisitAnchor, RevisitStep};
use crate::script::facts::TicketFacts;

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub policy: String,
    pub version: String,
    pub fingerprint: String,
    pub timezone: String,
    /// RFC 3339 in the policy's time zone.
    pub opened_at: String,
    /// The facts conditions saw when limits, revisits and pauses were evaluated:
    /// the ticket's own, completed from the chosen category.
    pub facts: TicketFacts,
    pub category: CategoryChoice,
    pub limits: Vec<LimitLine>,
    pub ladder: Vec<LadderLine>,
    pub revisits: Vec<RevisitLine>,
    pub pauses: Vec<PauseLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryChoice {
    pub id: String,
    pub label: String,
    pub kind: String,
    /// The `when` condition that matched; `None` when the category has none.
    pub matched: Option<String>,
    /// `hook (script:line)` when the classify hook chose the category.
    pub hook: Option<String>,
    /// No category of the ticket's kind matched (or a condition failed): the
    /// policy's `default_category` applies.
    pub default: bool,
    pub error: Option<String>,
    pub class: Option<u8>,
    pub emergency: bool,
    pub major: bool,
    pub route: Option<String>,
    pub form: Option<String>,
    pub report_to: Vec<String>,
    pub publish_result: bool,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LimitLine {
    pub id: String,
    pub label: String,
    /// The `applies` expression; `None` applies to every ticket.
    pub condition: Option<String>,
    pub applies: bool,
    pub error: Option<String>,
    pub milestone: String,
    pub within: String,
    /// `opened`, a milestone id, or `escalated:STEP`.
    pub from: String,
    pub calendar: String,
    /// RFC 3339 in the policy's time zone; only for applying limits whose clock
    /// starts when the ticket is opened (others start later, at an unknown time).
    pub deadline: Option<String>,
    pub warn_at: Option<u8>,
    pub warn: Option<String>,
    /// `escalate to next step`, `escalate to STEP` or `notify only`.
    pub on_breach: String,
    pub notify: Vec<String>,
    pub repeat: bool,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LadderLine {
    pub step: usize,
    pub id: String,
    pub label: String,
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisitLine {
    pub id: String,
    pub label: String,
    pub condition: Option<String>,
    pub applies: bool,
    pub error: Option<String>,
    pub steps: Vec<StepLine>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepLine {
    /// As the policy says it: `within 3d`, `within 2d after previous`, `on event rain`.
    pub step: String,
    /// When it falls due: `resolved + 3d`, `previous revisit + 2d`, `on event rain`.
    pub due: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PauseLine {
    pub id: String,
    pub label: String,
    pub condition: Option<String>,
    pub applies: bool,
    pub error: Option<String>,
    pub stops: Vec<String>,
    pub rules: Vec<String>,
}

/// Classify the ticket, complete its facts from the category (category id, class,
/// emergency, major, department), then evaluate every rule against them.
pub fn explain(
    compiled: &CompiledPolicy,
    facts: &TicketFacts,
    opened_at: DateTime<Utc>,
) -> Explanation {
    let p = &compiled.policy;
    let tz = compiled.tz;
    let local = opened_at.with_timezone(&tz);
    let mut facts = facts.clone();
    facts.hour = i64::from(local.hour());
    facts.weekday = local.format("%a").to_string().to_lowercase();

    let chosen = compiled.choose_category(&facts);
    let category = p.categories.get(&chosen.category);
    facts.category = chosen.category.clone();
    if let Some(c) = category {
        facts.class = c.class.map_or(facts.class, i64::from);
        facts.emergency = facts.emergency || c.emergency;
        facts.major = facts.major || c.major;
        facts.department = c.route.clone().unwrap_or_default();
    }
    let category = CategoryChoice {
        id: chosen.category.clone(),
        label: category.map(|c| c.label.clone()).unwrap_or_default(),
        kind: category
            .map(|c| c.kind.as_str().to_string())
            .unwrap_or_default(),
        matched: chosen.matched.clone(),
        hook: chosen.by_hook.clone(),
        default: chosen.condition_error.is_some()
            || (chosen.matched.is_none()
                && chosen.by_hook.is_none()
                && chosen.category == p.default_category),
        error: chosen.condition_error.clone().or_else(|| {
            chosen
                .hook_failures
                .first()
                .map(|(h, e, f)| format!("hook {h} failed ({e}); used {f}"))
        }),
        class: category.and_then(|c| c.class),
        emergency: facts.emergency,
        major: facts.major,
        route: category.and_then(|c| c.route.clone()),
        form: category.and_then(|c| c.form.clone()),
        report_to: category.map(|c| c.report_to.clone()).unwrap_or_default(),
        publish_result: category.is_some_and(|c| c.publish_result),
        rules: category.map(|c| c.rules.clone()).unwrap_or_default(),
    };

    let check = |key: String| -> (bool, Option<String>) {
        let mut scope = facts.clone().scope();
        match compiled.applies(&key, &mut scope) {
            Ok(b) => (b, None),
            Err(e) => (false, Some(e.to_string())),
        }
    };
    let show = |t: DateTime<Utc>| t.with_timezone(&tz).to_rfc3339();

    let mut limits = Vec::new();
    for (id, l) in &p.limits {
        let (applies, error) = check(format!("limit.{id}"));
        let cal = compiled.calendar_for(l);
        let (mut deadline, mut warn) = (None, None);
        if let Some(within) = l
            .within
            .as_ref()
            .filter(|_| applies && l.from == ClockStart::Opened)
        {
            match cal.deadline(within, opened_at) {
                Ok(d) => {
                    deadline = Some(show(d));
                    if let Some(pct) = l.warn_at {
                        let at = cal.span_minutes(within, opened_at).and_then(|total| {
                            cal.advance(within, opened_at, total * i64::from(pct) / 100)
                        });
                        warn = Some(at.map_or_else(|e| format!("error: {e}"), show));
                    }
                }
                Err(e) => deadline = Some(format!("error: {e}")),
            }
        }
        limits.push(LimitLine {
            id: id.clone(),
            label: l.label.clone(),
            condition: l.applies.clone(),
            applies,
            error,
            milestone: l.milestone.clone(),
            within: l.within_text(),
            from: l
                .starts()
                .map(|f| match f {
                    ClockStart::Opened => "opened".to_string(),
                    ClockStart::Milestone(m) => m.clone(),
                    ClockStart::Escalated(s) => format!("escalated:{s}"),
                })
                .collect::<Vec<_>>()
                .join(" or "),
            calendar: l
                .calendar
                .clone()
                .or(p.calendar.clone())
                .unwrap_or_else(|| "24x7".to_string()),
            deadline,
            warn_at: l.warn_at,
            warn,
            on_breach: match &l.on_breach.escalate {
                None => "notify only".to_string(),
                Some(EscalateTo::Next) => "escalate to next step".to_string(),
                Some(EscalateTo::Step(s)) => format!("escalate to {s}"),
            },
            notify: l.on_breach.notify.clone(),
            repeat: l.repeat,
            rules: l.rules.clone(),
        });
    }

    let ladder = p
        .escalation
        .ladder
        .iter()
        .enumerate()
        .map(|(i, s)| LadderLine {
            step: i + 1,
            id: s.id.clone(),
            label: s.label.clone(),
            notify: s.notify.clone(),
        })
        .collect();

    let revisits = p
        .revisits
        .iter()
        .map(|(id, r)| {
            let (applies, error) = check(format!("revisit.{id}"));
            RevisitLine {
                id: id.clone(),
                label: r.label.clone(),
                condition: r.applies.clone(),
                applies,
                error,
                steps: r.steps.iter().map(step_line).collect(),
                rules: r.rules.clone(),
            }
        })
        .collect();

    let pauses = p
        .pauses
        .iter()
        .map(|(id, pr)| {
            let (applies, error) = check(format!("pause.{id}"));
            PauseLine {
                id: id.clone(),
                label: pr.label.clone(),
                condition: pr.applies.clone(),
                applies,
                error,
                stops: pr.stops.clone(),
                rules: pr.rules.clone(),
            }
        })
        .collect();

    Explanation {
        policy: p.id.clone(),
        version: p.version.clone(),
        fingerprint: compiled.fingerprint.clone(),
        timezone: p.timezone.clone(),
        opened_at: show(opened_at),
        facts,
        category,
        limits,
        ladder,
        revisits,
        pauses,
    }
}

/// Time-based revisits are due relative to resolution (or the previous revisit),
/// which has not happened yet when a ticket is explained.
fn step_line(s: &RevisitStep) -> StepLine {
    match s {
        RevisitStep::Within {
            within,
            after: RevisitAnchor::Resolved,
        } => StepLine {
            step: format!("within {within}"),
            due: format!("resolved + {within}"),
        },
        RevisitStep::Within {
            within,
            after: RevisitAnchor::Previous,
        } => StepLine {
            step: format!("within {within} after previous"),
            due: format!("previous revisit + {within}"),
        },
        RevisitStep::OnEvent { event } => StepLine {
            step: format!("on event {event}"),
            due: format!("next `{event}` event for the estate"),
        },
    }
}
