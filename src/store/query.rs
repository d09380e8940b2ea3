//! The ticket queries of `ticket list` and `ticket open`: filtered, sorted and
//! limited in SQL and streamed row by row, so listing the newest 50 of 100,000
//! tickets reads about 50 rows, and the sequence that numbers new tickets.
//!
//! Filters use the columns of migration 3 (`category`, `department`, `breaches`
//! are generated from the state JSON) and the timers table for deadlines.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::error::Ctx;
use super::tx::{TicketRow, Tx};
use super::{StoreError, time};

/// The order of [`Tx::list_tickets`]; every order ends with the ticket id, so it is total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TicketSort {
    /// Latest opened first.
    #[default]
    Newest,
    /// Earliest opened first.
    Oldest,
    /// Most recently changed first.
    Updated,
    /// Nearest running deadline first; tickets without one last.
    Deadline,
}

/// Which tickets [`Tx::list_tickets`] returns; `None`/`false` fields do not filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketQuery<'a> {
    pub estate: Option<&'a str>,
    pub status: Option<&'a str>,
    /// A category id, or a prefix ending before a dot (`repair` matches `repair.leak`).
    pub category: Option<&'a str>,
    pub department: Option<&'a str>,
    /// Only tickets that breached at least one limit.
    pub breached: bool,
    /// Only tickets with a running deadline at or before this time.
    pub due_before: Option<DateTime<Utc>>,
    pub sort: TicketSort,
    pub limit: Option<usize>,
}

/// A ticket row and its nearest running deadline (limit breach or written notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTicket {
    pub row: TicketRow,
    pub next_due: Option<DateTime<Utc>>,
}

const DEADLINE_KINDS: &str = "('breach', 'notice')";

impl Tx<'_> {
    /// Calls `f` on each ticket matching `q`, in `q.sort` order, without
    /// collecting them; stops at the first error `f` returns.
    pub fn list_tickets(
        &self,
        q: &TicketQuery<'_>,
        f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (filter, mut args) = conditions(q)?;
        let order = match q.sort {
            TicketSort::Newest => "opened_at DESC, id DESC",
            TicketSort::Oldest => "opened_at, id",
            TicketSort::Updated => "updated_at DESC, id DESC",
            TicketSort::Deadline => "next_due IS NULL, next_due, id",
        };
        // A negative LIMIT means none in SQLite.
        let limit = q.limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        args.push(Value::Integer(limit));
        self.listed(&filter, order, args, f)
    }

    /// The rows of `tickets` matching `filter` (bound by `args`, the last of which is
    /// the LIMIT), in `order`, each with its nearest running deadline: what
    /// `ticket list` and the API's ticket lists read.
    pub(super) fn listed(
        &self,
        filter: &str,
        order: &str,
        args: Vec<Value>,
        mut f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT id, estate, status, fingerprint, opened_at, updated_at, state,
                    (SELECT min(due_at) FROM timers
                      WHERE timers.ticket = tickets.id AND kind IN {DEADLINE_KINDS}) AS next_due
             FROM tickets{filter} ORDER BY {order} LIMIT ?{}",
            args.len()
        );
        let mut stmt = self.tx.prepare_cached(&sql).ctx(self.name)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .ctx(self.name)?;
        while let Some(row) = rows.next().ctx(self.name)? {
            let text = |i: usize| -> Result<String, StoreError> { row.get(i).ctx(self.name) };
            let next_due: Option<String> = row.get(7).ctx(self.name)?;
            f(ListedTicket {
                row: TicketRow {
                    id: text(0)?,
                    estate: text(1)?,
                    status: text(2)?,
                    fingerprint: text(3)?,
                    opened_at: time::parse(&text(4)?, self.name, "tickets.opened_at")?,
                    updated_at: time::parse(&text(5)?, self.name, "tickets.updated_at")?,
                    state: text(6)?,
                },
                next_due: next_due
                    .map(|t| time::parse(&t, self.name, "timers.due_at"))
                    .transpose()?,
            })?;
        }
        Ok(())
    }

    /// How many tickets match `q` (its sort and limit are ignored).
    pub fn count_tickets(&self, q: &TicketQuery<'_>) -> Result<u64, StoreError> {
        let (filter, args) = conditions(q)?;
        let sql = format!("SELECT count(*) FROM tickets{filter}");
        let mut stmt = self.tx.prepare_cached(&sql).ctx(self.name)?;
        let n: i64 = stmt
            .query_row(rusqlite::params_from_iter(args), |r| r.get(0))
            .ctx(self.name)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The next number of the ticket sequence (1, 2, ...), taken inside the
    /// caller's write transaction: two processes opening tickets at once are
    /// serialized by `BEGIN IMMEDIATE`, so they never draw the same number, and
    /// a rolled-back transaction gives its number back.
    pub fn next_ticket_number(&mut self) -> Result<i64, StoreError> {
        let last: Option<i64> = self
            .tx
            .prepare_cached(
                "UPDATE sequences SET last = last + 1 WHERE name = 'ticket' RETURNING last",
            )
            .and_then(|mut stmt| stmt.query_row([], |r| r.get(0)).optional())
            .ctx(self.name)?;
        match last {
            Some(n) => Ok(n),
            None => Err(StoreError::Invalid(
                "the ticket sequence is missing from the database".to_owned(),
            )),
        }
    }
}

/// The WHERE clause of `q` and its arguments. Built per filter rather than
/// `(?1 IS NULL OR estate = ?1)`, which would keep SQLite from using the indexes.
pub(super) fn conditions(q: &TicketQuery<'_>) -> Result<(String, Vec<Value>), StoreError> {
    let mut args: Vec<Value> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let text = |args: &mut Vec<Value>, v: &str| {
        args.push(Value::Text(v.to_owned()));
        args.len()
    };
    if let Some(e) = q.estate {
        let n = text(&mut args, e);
        parts.push(format!("estate = ?{n}"));
    }
    if let Some(s) = q.status {
        let n = text(&mut args, s);
        parts.push(format!("status = ?{n}"));
    }
    if let Some(c) = q.category {
        // `repair` also matches `repair.leak`: a range on the index ('/' follows '.').
        let n = text(&mut args, c);
        parts.push(format!(
            "(category = ?{n} OR (category >= ?{n} || '.' AND category < ?{n} || '/'))"
        ));
    }
    if let Some(d) = q.department {
        let n = text(&mut args, d);
        parts.push(format!("department = ?{n}"));
    }
    if q.breached {
        parts.push("breaches > 0".to_owned());
    }
    if let Some(before) = q.due_before {
        let n = text(&mut args, &time::format(before)?);
        parts.push(format!(
            "EXISTS (SELECT 1 FROM timers WHERE timers.ticket = tickets.id AND kind IN {DEADLINE_KINDS} AND due_at <= ?{n})"
        ));
    }
    let filter = if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    };
    Ok((filter, args))
}
