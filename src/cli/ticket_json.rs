//! The JSON of the ticket commands, one documented shape each (docs/cli-json.md):
//! the columns the tables show, with times in RFC 3339 at the policy's offset,
//! never the engine's internal state. Fields are only ever added.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::engine::{ClockState, Decision, SlotState, Ticket};
use crate::service::Recorded;

use super::timeline;

pub fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

fn opt_time(t: Option<DateTime<Utc>>, tz: Tz) -> Value {
    t.map_or(Value::Null, |t| Value::String(time(t, tz)))
}

/// One line of a timeline: the columns of the `time / ticket / what happened / rule`
/// table, and the fact itself as the event log records it (its fields by `type`).
pub fn event(id: &str, d: &Decision, tz: Tz) -> Value {
    json!({
        "time": time(d.at, tz),
        "ticket": id,
        "kind": d.fact.kind(),
        "what": timeline::summary(&d.fact, tz),
        "rule": d.rule,
        "fact": d.fact,
    })
}

pub fn events(id: &str, decisions: &[Decision], tz: Tz) -> Vec<Value> {
    decisions.iter().map(|d| event(id, d, tz)).collect()
}

/// What an action on a ticket did: `ticket open`, `respond`, `close`, ...
pub fn outcome(t: &Ticket, decisions: &[Decision], tz: Tz) -> Value {
    json!({
        "ticket": t.id(),
        "status": t.status.as_str(),
        "events": events(t.id(), decisions, tz),
    })
}

/// The nearest running deadline of a ticket, as `ticket list` shows it.
pub fn next_deadline(t: &Ticket) -> Option<DateTime<Utc>> {
    t.clocks
        .values()
        .filter(|c| c.state == ClockState::Running)
        .map(|c| c.deadline)
        .min()
}

/// The step of the escalation ladder a ticket is on; `specialist` before any escalation.
pub fn step(t: &Ticket) -> &str {
    t.ladder_id.as_deref().unwrap_or("specialist")
}

/// A row of `ticket list`.
pub fn row(t: &Ticket, next_due: Option<DateTime<Utc>>, tz: Tz) -> Value {
    json!({
        "id": t.id(),
        "estate": t.intake.estate,
        "status": t.status.as_str(),
        "kind": t.intake.kind,
        "category": t.category,
        "department": t.department,
        "step": step(t),
        "opened": time(t.opened_at, tz),
        "next_deadline": opt_time(next_due, tz),
        "breaches": t.breaches,
        "text": t.intake.text,
    })
}

pub fn clock_state(s: ClockState) -> &'static str {
    match s {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Met => "met",
        ClockState::Breached => "breached",
        ClockState::Cancelled => "stopped",
    }
}

pub fn slot_state(s: SlotState) -> &'static str {
    match s {
        SlotState::Blocked => "waiting_for_previous",
        SlotState::Scheduled => "scheduled",
        SlotState::Waiting => "waiting_for_event",
        SlotState::Due => "due",
        SlotState::Overdue => "overdue",
        SlotState::Done => "done",
        SlotState::Failed => "problem",
        SlotState::Cancelled => "cancelled",
        SlotState::Waived => "waived",
    }
}

/// `ticket show`: the state block and the timeline.
pub fn detail(t: &Ticket, recorded: &[Recorded], tz: Tz) -> Value {
    let clocks: Vec<Value> = t
        .clocks
        .values()
        .map(|c| {
            json!({
                "limit": c.limit,
                "milestone": c.milestone,
                "state": clock_state(c.state),
                "deadline": time(c.deadline, tz),
                "used_minutes": (c.state == ClockState::Paused).then_some(c.used_minutes),
                "total_minutes": c.total_minutes,
                "met_at": opt_time(c.met_at, tz),
                "deadline_set_by": c.set_by,
            })
        })
        .collect();
    let revisits: Vec<Value> = t
        .revisits
        .iter()
        .map(|s| {
            json!({
                "key": s.key,
                "rule": s.rule,
                "state": slot_state(s.state),
                "due": opt_time(s.due, tz),
                "event": s.event,
                "done_at": opt_time(s.done_at, tz),
            })
        })
        .collect();
    json!({
        "ticket": {
            "id": t.id(),
            "estate": t.intake.estate,
            "unit": t.intake.unit,
            "owner": t.intake.owner,
            "channel": t.intake.channel,
            "kind": t.intake.kind,
            "text": t.intake.text,
            "status": t.status.as_str(),
            "category": t.category,
            "class": t.class,
            "major": t.major,
            "emergency": t.emergency,
            "department": t.department,
            "tier": t.tier,
            "lead": t.lead,
            "step": step(t),
            "opened": time(t.opened_at, tz),
            "updated": time(t.updated_at, tz),
            "resolved": opt_time(t.resolved_at, tz),
            "breaches": t.breaches,
            "reopened": t.reopened,
            "callbacks": t.callbacks,
            "compensation_claims": t.compensation_claims,
            "paused": t.pause.as_ref().map(|(reason, since)| json!({"reason": reason, "since": time(*since, tz)})),
            "policy": t.fingerprint,
            "clocks": clocks,
            "revisits": revisits,
        },
        "timeline": recorded.iter().map(|r| recorded_event(t.id(), r, tz)).collect::<Vec<_>>(),
    })
}

/// A timeline entry as `ticket show` gives it: [`event`] with the log's
/// sequence number and the fingerprint of the policy that decided it.
fn recorded_event(id: &str, r: &Recorded, tz: Tz) -> Value {
    let mut v = event(id, &r.decision, tz);
    if let Value::Object(m) = &mut v {
        m.insert("seq".into(), json!(r.seq));
        m.insert("fingerprint".into(), json!(r.fingerprint));
    }
    v
}
