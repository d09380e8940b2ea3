//! The transaction handle passed to [`Store::write`](super::Store::write) and
//! [`Store::read`](super::Store::read), and the rows it reads and writes.
//!
//! There is one `Tx` type: read methods take `&self` and write methods take
//! `&mut self`, and `read` only ever hands out `&Tx`, so the compiler keeps
//! writes out of read transactions without a second type.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::chain::{Canonical, GENESIS_HASH};
use super::error::Ctx;
use super::{StoreError, time};
use crate::digest;

/// An event to append; the store assigns `seq` and the hashes.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub ticket: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    /// JSON text, kept byte for byte since the hash covers it.
    pub payload: &'a str,
    pub fingerprint: &'a str,
    pub rule: Option<&'a str>,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub seq: i64,
    pub ticket: Option<String>,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub payload: String,
    pub fingerprint: String,
    pub rule: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// A ticket in the projection; `state` is the engine's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRow {
    pub id: String,
    pub estate: String,
    pub status: String,
    pub fingerprint: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: String,
}

/// A pending timer of a ticket: time-based (`due_at`), event-based (`event`,
/// e.g. "rain"), or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub key: String,
    pub kind: String,
    pub due_at: Option<DateTime<Utc>>,
    pub event: Option<String>,
}

/// Which tickets [`Tx::tickets`] returns; `None` fields do not filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketFilter<'a> {
    pub estate: Option<&'a str>,
    pub status: Option<&'a str>,
    pub limit: Option<usize>,
}

/// A transaction on the store; see the module documentation.
pub struct Tx<'c> {
    pub(super) tx: Transaction<'c>,
    pub(super) name: &'c str,
    /// `(seq, hash)` of the newest event. Valid for the whole transaction
    /// because IMMEDIATE holds the write lock and only `append_event` adds
    /// events, so it saves a query per append.
    last: Option<(i64, String)>,
    /// `prev_hash` of that newest event, when this transaction appended it.
    prev_of_last: Option<String>,
}

const EVENT_COLUMNS: &str = "seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash";
const TICKET_COLUMNS: &str = "id, estate, status, fingerprint, opened_at, updated_at, state";

impl<'c> Tx<'c> {
    pub(super) fn new(tx: Transaction<'c>, name: &'c str) -> Tx<'c> {
        Tx {
            tx,
            name,
            last: None,
            prev_of_last: None,
        }
    }

    pub(super) fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().ctx(self.name)
    }

    pub(super) fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().ctx(self.name)
    }

    // ---- events ---------------------------------------------------------

    /// Appends an event at the end of the chain and returns it as stored
    /// (with `at` truncated to the second).
    pub fn append_event(&mut self, e: &NewEvent<'_>) -> Result<EventRow, StoreError> {
        let seq = self.append(e)?;
        let (prev_hash, hash) = match (&self.prev_of_last, &self.last) {
            (Some(prev), Some((_, hash))) => (prev.clone(), hash.clone()),
            _ => return Err(StoreError::Invalid("the appended event is gone".to_owned())),
        };
        Ok(EventRow {
            seq,
            ticket: e.ticket.map(str::to_owned),
            at: time::truncate(e.at),
            kind: e.kind.to_owned(),
            payload: e.payload.to_owned(),
            fingerprint: e.fingerprint.to_owned(),
            rule: e.rule.map(str::to_owned),
            prev_hash,
            hash,
        })
    }

    /// [`Tx::append_event`] without handing the row back: what a command's
    /// decisions need, with no copy of each payload. Returns the event's `seq`.
    pub fn append(&mut self, e: &NewEvent<'_>) -> Result<i64, StoreError> {
        let ticket = optional_field("event ticket", e.ticket)?;
        let rule = optional_field("event rule", e.rule)?;
        field("event kind", e.kind)?;
        field("event fingerprint", e.fingerprint)?;
        // Invalid JSON cannot hold a raw U+001F, so this also keeps the
        // separator out of the payload.
        check_json("event payload", e.payload)?;
        let at = time::format(e.at)?;

        let (last_seq, prev_hash) = match self.last.take() {
            Some(last) => last,
            None => self.last_event()?,
        };
        let seq = last_seq
            .checked_add(1)
            .ok_or_else(|| StoreError::Invalid("the event log is full".to_owned()))?;
        let hash = Canonical {
            prev_hash: &prev_hash,
            seq,
            ticket,
            at: &at,
            kind: e.kind,
            payload: e.payload,
            fingerprint: e.fingerprint,
            rule,
        }
        .hash();
        self.tx
            .prepare_cached(
                "INSERT INTO events (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    seq,
                    e.ticket,
                    at,
                    e.kind,
                    e.payload,
                    e.fingerprint,
                    e.rule,
                    prev_hash,
                    hash
                ])
            })
            .ctx(self.name)?;
        self.last = Some((seq, hash));
        self.prev_of_last = Some(prev_hash);
        Ok(seq)
    }

    fn last_event(&self) -> Result<(i64, String), StoreError> {
        let last = self
            .tx
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .ctx(self.name)?;
        Ok(last.unwrap_or_else(|| (0, GENESIS_HASH.to_owned())))
    }

    /// The events of one ticket, oldest first.
    pub fn events_for_ticket(&self, ticket: &str) -> Result<Vec<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE ticket = ?1 ORDER BY seq");
        let mut stmt = self.tx.prepare_cached(&sql).ctx(self.name)?;
        let mut rows = stmt.query([ticket]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            out.push(self.event_row(row)?);
        }
        Ok(out)
    }

    /// Calls `f` on every event in `seq` order without loading the log into
    /// memory; stops at the first error `f` returns.
    pub fn for_each_event(
        &self,
        mut f: impl FnMut(EventRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
        let mut stmt = self.tx.prepare(&sql).ctx(self.name)?;
        let mut rows = stmt.query([]).ctx(self.name)?;
        while let Some(row) = rows.next().ctx(self.name)? {
            f(self.event_row(row)?)?;
        }
        Ok(())
    }

    pub fn event_count(&self) -> Result<i64, StoreError> {
        self.tx
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .ctx(self.name)
    }

    fn event_row(&self, row: &Row<'_>) -> Result<EventRow, StoreError> {
        let at: String = row.get(2).ctx(self.name)?;
        Ok(EventRow {
            seq: row.get(0).ctx(self.name)?,
            ticket: row.get(1).ctx(self.name)?,
            at: time::parse(&at, self.name, "events.at")?,
            kind: row.get(3).ctx(self.name)?,
            payload: row.get(4).ctx(self.name)?,
            fingerprint: row.get(5).ctx(self.name)?,
            rule: row.get(6).ctx(self.name)?,
            prev_hash: row.get(7).ctx(self.name)?,
            hash: row.get(8).ctx(self.name)?,
        })
    }

    // ---- policies and meta ----------------------------------------------

    /// Stores a policy's canonical text once per fingerprint; storing the
    /// same pair again is a no-op.
    pub fn put_policy(
        &mut self,
        fingerprint: &str,
        canonical: &str,
        source: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if digest::sha256_hex(canonical.as_bytes()) != fingerprint {
            return Err(StoreError::Invalid(format!(
                "policy fingerprint {fingerprint} is not the SHA-256 of the text stored under it"
            )));
        }
        let at = time::format(at)?;
        let inserted = self
            .tx
            .execute(
                "INSERT OR IGNORE INTO policies (fingerprint, canonical, source, stored_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![fingerprint, canonical, source, at],
            )
            .ctx(self.name)?;
        if inserted == 0 && self.policy(fingerprint)?.as_deref() != Some(canonical) {
            return Err(StoreError::PolicyConflict {
                fingerprint: fingerprint.to_owned(),
            });
        }
        Ok(())
    }

    /// Stores a plug-in module under its SHA-256 (lowercase hex), once.
    pub fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if digest::sha256_hex(bytes) != sha256 {
            return Err(StoreError::Invalid(format!(
                "module key {sha256} is not the SHA-256 of its bytes"
            )));
        }
        self.tx
            .execute(
                "INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)",
                params![sha256, bytes],
            )
            .ctx(self.name)?;
        Ok(())
    }

    /// The module stored under `sha256`, refused unless its bytes still hash
    /// to that digest: a swapped module must never run.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .tx
            .query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()
            .ctx(self.name)?;
        if let Some(b) = &bytes
            && digest::sha256_hex(b) != sha256
        {
            return Err(self.tampered(format!("plug-in module sha256:{sha256}")));
        }
        Ok(bytes)
    }

    /// The canonical text stored under `fingerprint`, refused unless it still
    /// hashes to the fingerprint: the text is what tickets run under, the
    /// fingerprint is what their events are stamped with, and the two must agree.
    pub fn policy(&self, fingerprint: &str) -> Result<Option<String>, StoreError> {
        let text: Option<String> = self
            .tx
            .query_row(
                "SELECT canonical FROM policies WHERE fingerprint = ?1",
                [fingerprint],
                |row| row.get(0),
            )
            .optional()
            .ctx(self.name)?;
        if let Some(t) = &text
            && digest::sha256_hex(t.as_bytes()) != fingerprint
        {
            return Err(self.tampered(format!("stored policy {fingerprint}")));
        }
        Ok(text)
    }

    /// The database as named in messages.
    pub fn name(&self) -> &str {
        self.name
    }

    pub(super) fn tampered(&self, what: String) -> StoreError {
        StoreError::Tampered {
            path: self.name.to_owned(),
            what,
        }
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .ctx(self.name)?;
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .ctx(self.name)
    }

    // ---- tickets ----------------------------------------------------------

    /// Inserts or replaces the projection row of `row.id`.
    pub fn put_ticket(&mut self, row: &TicketRow) -> Result<(), StoreError> {
        check_json(&format!("state of ticket `{}`", row.id), &row.state)?;
        let opened_at = time::format(row.opened_at)?;
        let updated_at = time::format(row.updated_at)?;
        self.tx
            .prepare_cached(
                "INSERT INTO tickets (id, estate, status, fingerprint, opened_at, updated_at, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET
                     estate = excluded.estate, status = excluded.status,
                     fingerprint = excluded.fingerprint, opened_at = excluded.opened_at,
                     updated_at = excluded.updated_at, state = excluded.state",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.id,
                    row.estate,
                    row.status,
                    row.fingerprint,
                    opened_at,
                    updated_at,
                    row.state
                ])
            })
            .ctx(self.name)?;
        Ok(())
    }

    pub fn ticket(&self, id: &str) -> Result<Option<TicketRow>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1");
        let mut stmt = self.tx.prepare_cached(&sql).ctx(self.name)?;
        let mut rows = stmt.query([id]).ctx(self.name)?;
        match rows.next().ctx(self.name)? {
            Some(row) => Ok(Some(self.ticket_row(row)?)),
            None => Ok(None),
        }
    }

    /// The tickets matching `filter`, ordered by opening time, then id.
    pub fn tickets(&self, filter: &TicketFilter<'_>) -> Result<Vec<TicketRow>, StoreError> {
        // Built per filter rather than `(?1 IS NULL OR estate = ?1)`, which
        // would keep SQLite from using the estate/status indexes.
        let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets");
        let mut args: Vec<Value> = Vec::new();
        let mut conditions = Vec::new();
        if let Some(estate) = filter.estate {
            args.push(Value::Text(estate.to_owned()));
            conditions.push(format!("estate = ?{}", args.len()));
        }
        if let Some(status) = filter.status {
            args.push(Value::Text(status.to_owned()));
            conditions.push(format!("status = ?{}", args.len()));
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        // A negative LIMIT means none in SQLite.
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        args.push(Value::Integer(limit));
        sql.push_str(&format!(" ORDER BY opened_at, id LIMIT ?{}", args.len()));

        let mut stmt = self.tx.prepare_cached(&sql).ctx(self.name)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            out.push(self.ticket_row(row)?);
        }
        Ok(out)
    }

    fn ticket_row(&self, row: &Row<'_>) -> Result<TicketRow, StoreError> {
        let opened_at: String = row.get(4).ctx(self.name)?;
        let updated_at: String = row.get(5).ctx(self.name)?;
        Ok(TicketRow {
            id: row.get(0).ctx(self.name)?,
            estate: row.get(1).ctx(self.name)?,
            status: row.get(2).ctx(self.name)?,
            fingerprint: row.get(3).ctx(self.name)?,
            opened_at: time::parse(&opened_at, self.name, "tickets.opened_at")?,
            updated_at: time::parse(&updated_at, self.name, "tickets.updated_at")?,
            state: row.get(6).ctx(self.name)?,
        })
    }

    // ---- timers -----------------------------------------------------------

    /// Makes `timers` the complete set of pending timers of `ticket`.
    pub fn replace_timers(
        &mut self,
        ticket: &str,
        estate: &str,
        timers: &[Timer],
    ) -> Result<(), StoreError> {
        // Validate everything before touching the table so a bad timer does
        // not leave the ticket half-updated inside the caller's transaction.
        let mut rows = Vec::with_capacity(timers.len());
        let mut keys = std::collections::HashSet::with_capacity(timers.len());
        for timer in timers {
            if !keys.insert(timer.key.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "timer `{}` of ticket `{ticket}` is given twice",
                    timer.key
                )));
            }
            if timer.due_at.is_none() && timer.event.is_none() {
                return Err(StoreError::Invalid(format!(
                    "timer `{}` of ticket `{ticket}` has neither a due time nor an event, so it could never fire",
                    timer.key
                )));
            }
            let due_at = timer.due_at.map(time::format).transpose()?;
            rows.push((timer, due_at));
        }
        self.tx
            .prepare_cached("DELETE FROM timers WHERE ticket = ?1")
            .and_then(|mut stmt| stmt.execute([ticket]))
            .ctx(self.name)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO timers (ticket, key, kind, due_at, event, estate)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .ctx(self.name)?;
        for (timer, due_at) in rows {
            stmt.execute(params![
                ticket,
                timer.key,
                timer.kind,
                due_at,
                timer.event,
                estate
            ])
            .ctx(self.name)?;
        }
        Ok(())
    }

    /// The pending timers of `ticket`, ordered by key.
    pub fn timers_for(&self, ticket: &str) -> Result<Vec<Timer>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT key, kind, due_at, event FROM timers WHERE ticket = ?1 ORDER BY key",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([ticket]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            let due_at: Option<String> = row.get(2).ctx(self.name)?;
            out.push(Timer {
                key: row.get(0).ctx(self.name)?,
                kind: row.get(1).ctx(self.name)?,
                due_at: due_at
                    .map(|t| time::parse(&t, self.name, "timers.due_at"))
                    .transpose()?,
                event: row.get(3).ctx(self.name)?,
            });
        }
        Ok(out)
    }

    /// Tickets with a time-based timer due at or before `now`, each once,
    /// earliest due first (ties by ticket id).
    pub fn due_tickets(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let now = time::format(now)?;
        // INDEXED BY turns "the planner chose a full scan" into a prepare
        // error instead of a silent slowdown as open tickets pile up.
        let mut stmt = self.tx.prepare_cached(DUE_TICKETS_SQL).ctx(self.name)?;
        let rows = stmt.query_map([now], |row| row.get(0)).ctx(self.name)?;
        rows.collect::<Result<_, _>>().ctx(self.name)
    }

    /// Tickets of `estate` with a timer waiting for `event`, by ticket id.
    pub fn tickets_waiting_for(
        &self,
        estate: &str,
        event: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT ticket FROM timers WHERE estate = ?1 AND event = ?2 ORDER BY ticket",
            )
            .ctx(self.name)?;
        let rows = stmt
            .query_map([estate, event], |row| row.get(0))
            .ctx(self.name)?;
        rows.collect::<Result<_, _>>().ctx(self.name)
    }

    /// Empties the ticket and timer projections so they can be rebuilt from
    /// the event log; the log and policies are untouched.
    pub fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.tx
            .execute_batch("DELETE FROM timers; DELETE FROM tickets;")
            .ctx(self.name)
    }
}

pub(super) const DUE_TICKETS_SQL: &str = "SELECT ticket, min(due_at) AS first_due
     FROM timers INDEXED BY timers_due
     WHERE due_at IS NOT NULL AND due_at <= ?1
     GROUP BY ticket
     ORDER BY first_due, ticket";

/// Rejects the hash separator, which would make two different events
/// serialize, and so hash, identically.
fn field(what: &str, value: &str) -> Result<(), StoreError> {
    if value.contains(super::chain::SEPARATOR) {
        return Err(StoreError::Invalid(format!(
            "{what} `{}` contains the reserved character U+001F",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// `None` hashes as the empty string, so `Some("")` is refused to keep the
/// two apart.
fn optional_field<'a>(what: &str, value: Option<&'a str>) -> Result<&'a str, StoreError> {
    match value {
        None => Ok(""),
        Some("") => Err(StoreError::Invalid(format!(
            "{what} is empty; leave it out instead"
        ))),
        Some(v) => field(what, v).map(|()| v),
    }
}

/// Payloads and ticket states are written by the engine through serde, so in a
/// release build re-parsing them would only cost time (about 7 % of a lifecycle);
/// debug builds, where the tests run, keep the check.
fn check_json(what: &str, text: &str) -> Result<(), StoreError> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|source| StoreError::BadJson {
            what: what.to_owned(),
            source,
        })
}
