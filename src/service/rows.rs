//! A ticket's rows as the service reads and writes them: the projection row
//! checked against its own state on the way in, and on the way out the decided
//! facts appended to the log and the `tickets` and `timers` projections refreshed.

use crate::engine::{self, Decision, Ticket};
use crate::store::{NewEvent, TicketRow, Timer, Tx};

use super::AppError;

/// The ticket of a projection row, refused when the row's queried columns
/// disagree with its state: `ticket list --status`, `policy apply` and `tick`
/// select by the columns and decide by the state, so the two must be one.
pub(crate) fn parse_ticket(row: &TicketRow) -> Result<Ticket, AppError> {
    let ticket: Ticket = serde_json::from_str(&row.state)
        .map_err(|e| AppError::Corrupt(row.id.clone(), e.to_string()))?;
    let columns = [
        ("estate", row.estate == ticket.intake.estate),
        ("status", row.status == ticket.status.as_str()),
        ("fingerprint", row.fingerprint == ticket.fingerprint),
        ("id", row.id == ticket.id()),
        (
            "opened_at",
            row.opened_at.timestamp() == ticket.opened_at.timestamp(),
        ),
        (
            "updated_at",
            row.updated_at.timestamp() == ticket.updated_at.timestamp(),
        ),
    ];
    if let Some((column, _)) = columns.iter().find(|(_, same)| !same) {
        return Err(AppError::Tampered(row.id.clone(), (*column).to_owned()));
    }
    Ok(ticket)
}

pub(super) fn parse_decision(id: &str, payload: &str) -> Result<Decision, AppError> {
    serde_json::from_str(payload).map_err(|e| AppError::Corrupt(id.to_string(), e.to_string()))
}

/// Append the decisions and refresh the ticket's projections. Nothing decided
/// means nothing changed.
pub(super) fn persist(
    tx: &mut Tx<'_>,
    previous: Option<&Ticket>,
    ticket: &Ticket,
    decisions: &[Decision],
    fp: &str,
) -> Result<(), AppError> {
    if decisions.is_empty() && previous.is_some() {
        return Ok(());
    }
    append(tx, ticket.id(), decisions, fp)?;
    project(tx, previous.map(timers_of).as_deref(), ticket)
}

/// Append decided facts to the hash-chained log.
pub(super) fn append(
    tx: &mut Tx<'_>,
    id: &str,
    decisions: &[Decision],
    fp: &str,
) -> Result<(), AppError> {
    for d in decisions {
        let payload =
            serde_json::to_string(d).map_err(|e| AppError::Corrupt(id.into(), e.to_string()))?;
        tx.append(&NewEvent {
            ticket: Some(id),
            at: d.at,
            kind: d.fact.kind(),
            payload: &payload,
            fingerprint: fp,
            rule: d.rule.as_deref(),
        })?;
    }
    Ok(())
}

/// Write the ticket's row, and its timers when they differ from `stored_timers`
/// (`None`: the ticket has no timers stored yet).
pub(super) fn project(
    tx: &mut Tx<'_>,
    stored_timers: Option<&[Timer]>,
    ticket: &Ticket,
) -> Result<(), AppError> {
    let state = serde_json::to_string(ticket)
        .map_err(|e| AppError::Corrupt(ticket.id().into(), e.to_string()))?;
    tx.put_ticket(&TicketRow {
        id: ticket.id().to_string(),
        estate: ticket.intake.estate.clone(),
        status: ticket.status.as_str().to_string(),
        fingerprint: ticket.fingerprint.clone(),
        opened_at: ticket.opened_at,
        updated_at: ticket.updated_at,
        state,
    })?;
    let timers = timers_of(ticket);
    if stored_timers != Some(timers.as_slice()) {
        tx.replace_timers(ticket.id(), &ticket.intake.estate, &timers)?;
    }
    Ok(())
}

/// The timers a ticket's state schedules: what the `timers` projection holds.
pub(crate) fn timers_of(ticket: &Ticket) -> Vec<Timer> {
    let (due, waiting) = engine::pending_timers(ticket);
    let mut out: Vec<Timer> = due
        .iter()
        .map(|d| Timer {
            key: d.key(),
            kind: d.kind.as_str().to_string(),
            due_at: Some(d.at),
            event: None,
        })
        .collect();
    out.extend(waiting.into_iter().map(|(slot, event)| Timer {
        key: format!("event:{slot}"),
        kind: "revisit".into(),
        due_at: None,
        event: Some(event),
    }));
    out
}
