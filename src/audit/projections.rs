//! Every ticket rebuilt from its events and compared, column by column, with
//! its `tickets` row and its `timers` rows: the columns are what queries select
//! by (`ticket list --status`, `tick`, `policy apply`), so each one is checked,
//! not only the state JSON.

use std::collections::BTreeMap;

use crate::engine::{Decision, Ticket};
use crate::service::timers_of;
use crate::store::{
    RawEvent, RawTicket, RawTimer, StoreError, TicketRecord, time_matches, time_text,
};

use super::Finding;

/// Checks one ticket's stored rows against its events; `true` when the events
/// built a ticket.
pub(super) fn check_record(
    record: TicketRecord,
    findings: &mut Vec<Finding>,
) -> Result<bool, StoreError> {
    if let Some(ticket) = replay(&record.id, &record.events, findings) {
        compare_row(&record.id, record.row.as_ref(), &ticket, findings)?;
        compare_timers(&record.id, &record.timers, &ticket, findings)?;
        return Ok(true);
    }
    if record.events.is_empty() {
        if record.row.is_some() {
            findings.push(Finding::new(
                "ticket",
                &record.id,
                "has a tickets row but no events in the log (inserted by hand, or its events deleted)",
            ));
        }
        if !record.timers.is_empty() {
            findings.push(Finding::new(
                "timer",
                &record.id,
                format!(
                    "{} timer(s) for a ticket with no events",
                    record.timers.len()
                ),
            ));
        }
    }
    Ok(false)
}

/// The ticket its events build, checking on the way that each event's columns
/// (kind, rule, time, fingerprint) say what its payload says. `None` when the
/// events do not build a ticket (a finding says why).
fn replay(id: &str, events: &[RawEvent], findings: &mut Vec<Finding>) -> Option<Ticket> {
    let mut ticket: Option<Ticket> = None;
    for e in events {
        let d: Decision = match serde_json::from_str(&e.payload) {
            Ok(d) => d,
            Err(err) => {
                findings.push(Finding::new(
                    "ticket",
                    id,
                    format!("event {} has an unreadable payload: {err}", e.seq),
                ));
                return None;
            }
        };
        let column = |name: &str, stored: &str, payload: &str| {
            Finding::new(
                "ticket",
                id,
                format!(
                    "event {}: column {name} is `{stored}` but its payload says `{payload}`",
                    e.seq
                ),
            )
        };
        if e.kind != d.fact.kind() {
            findings.push(column("kind", &e.kind, d.fact.kind()));
        }
        if e.rule != d.rule {
            findings.push(column(
                "rule",
                e.rule.as_deref().unwrap_or(""),
                d.rule.as_deref().unwrap_or(""),
            ));
        }
        if !time_matches(&e.at, d.at)
            && let Ok(at) = time_text(d.at)
        {
            findings.push(column("at", &e.at, &at));
        }
        match &mut ticket {
            None => ticket = Ticket::replay([&d]),
            Some(t) => t.apply(&d),
        }
        let Some(t) = &ticket else {
            findings.push(Finding::new(
                "ticket",
                id,
                format!(
                    "event {} ({}) comes before the ticket was opened",
                    e.seq, e.kind
                ),
            ));
            return None;
        };
        if e.fingerprint != t.fingerprint {
            findings.push(column("fingerprint", &e.fingerprint, &t.fingerprint));
        }
    }
    ticket
}

fn compare_row(
    id: &str,
    row: Option<&RawTicket>,
    ticket: &Ticket,
    findings: &mut Vec<Finding>,
) -> Result<(), StoreError> {
    let Some(row) = row else {
        findings.push(Finding::new(
            "ticket",
            id,
            "has events but no tickets row (deleted)",
        ));
        return Ok(());
    };
    let state = serde_json::to_string(ticket).map_err(|source| StoreError::BadJson {
        what: format!("rebuilt state of ticket `{id}`"),
        source,
    })?;
    let expected = RawTicket {
        estate: ticket.intake.estate.clone(),
        status: ticket.status.as_str().to_owned(),
        fingerprint: ticket.fingerprint.clone(),
        opened_at: time_text(ticket.opened_at)?,
        updated_at: time_text(ticket.updated_at)?,
        state,
    };
    let columns = [
        ("estate", &row.estate, &expected.estate),
        ("status", &row.status, &expected.status),
        ("fingerprint", &row.fingerprint, &expected.fingerprint),
        ("opened_at", &row.opened_at, &expected.opened_at),
        ("updated_at", &row.updated_at, &expected.updated_at),
    ];
    for (name, have, want) in columns {
        if have != want {
            findings.push(Finding::new(
                "ticket",
                id,
                format!("column {name} is `{have}` but the log says `{want}`"),
            ));
        }
    }
    if row.state != expected.state {
        findings.push(Finding::new(
            "ticket",
            id,
            format!(
                "column state differs from the log in {}",
                differing_keys(&row.state, &expected.state)
            ),
        ));
    }
    Ok(())
}

/// The top-level fields in which two state texts differ, for the message.
fn differing_keys(have: &str, want: &str) -> String {
    let parse = |t: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t);
    let (Ok(a), Ok(b)) = (parse(have), parse(want)) else {
        return "its text (not a JSON object)".to_owned();
    };
    let mut keys: Vec<&str> = a
        .keys()
        .chain(b.keys())
        .map(String::as_str)
        .filter(|k| a.get(*k) != b.get(*k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        "its formatting".to_owned()
    } else {
        keys.iter()
            .map(|k| format!("state.{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn compare_timers(
    id: &str,
    stored: &[RawTimer],
    ticket: &Ticket,
    findings: &mut Vec<Finding>,
) -> Result<(), StoreError> {
    let mut want: BTreeMap<String, RawTimer> = BTreeMap::new();
    for t in timers_of(ticket) {
        let due_at = t.due_at.map(time_text).transpose()?;
        want.insert(
            t.key.clone(),
            RawTimer {
                key: t.key,
                kind: t.kind,
                due_at,
                event: t.event,
                estate: ticket.intake.estate.clone(),
            },
        );
    }
    let problem =
        |key: &str, what: String| Finding::new("timer", id, format!("timer {key}: {what}"));
    for have in stored {
        match want.remove(&have.key) {
            None => findings.push(problem(
                &have.key,
                "is stored but the log schedules no such timer".into(),
            )),
            Some(w) => {
                let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
                let columns = [
                    ("kind", have.kind.clone(), w.kind.clone()),
                    ("due_at", opt(&have.due_at), opt(&w.due_at)),
                    ("event", opt(&have.event), opt(&w.event)),
                    ("estate", have.estate.clone(), w.estate.clone()),
                ];
                for (name, h, x) in columns {
                    if h != x {
                        findings.push(problem(
                            &have.key,
                            format!("column {name} is `{h}` but the log says `{x}`"),
                        ));
                    }
                }
            }
        }
    }
    for key in want.keys() {
        findings.push(problem(
            key,
            "is scheduled by the log but not stored (deleted)".into(),
        ));
    }
    Ok(())
}
