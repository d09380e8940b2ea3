//! The PostgreSQL transaction: the event log, policies, settings, tickets and
//! timers, with the same checks and results as the SQLite `Tx` (`../tx.rs`).
//! The SQL differs only where the dialects do (`$n` parameters, `ON CONFLICT
//! DO NOTHING`); the hash of each event is computed by the same code, so a
//! log verifies the same on both backends.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

use super::wait::wait;

use crate::digest;
use crate::store::chain::{Canonical, GENESIS_HASH, SEPARATOR};
use crate::store::error::Ctx;
use crate::store::{EventRow, NewEvent, StoreError, TicketFilter, TicketRow, Timer, time};

pub(in crate::store) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Rows fetched per round trip by the streaming reads.
const BATCH: i32 = 512;

pub(in crate::store) struct Tx<'c> {
    tx: tokio_postgres::Transaction<'c>,
    cache: &'c super::Statements,
    pub(super) name: &'c str,
    /// `(seq, hash)` of the newest event, valid for the whole transaction
    /// because every write transaction holds the write lock.
    last: Option<(i64, String)>,
    prev_of_last: Option<String>,
}

pub(super) const EVENT_COLUMNS: &str =
    "seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash";
const TICKET_COLUMNS: &str = "id, estate, status, fingerprint, opened_at, updated_at, state";

impl<'c> Tx<'c> {
    pub(super) fn new(
        tx: tokio_postgres::Transaction<'c>,
        name: &'c str,
        cache: &'c super::Statements,
    ) -> Tx<'c> {
        Tx {
            tx,
            cache,
            name,
            last: None,
            prev_of_last: None,
        }
    }

    pub(in crate::store) fn commit(self) -> Result<(), StoreError> {
        wait(self.tx.commit()).ctx(self.name)
    }

    pub(in crate::store) fn rollback(self) -> Result<(), StoreError> {
        wait(self.tx.rollback()).ctx(self.name)
    }

    // ---- plumbing ----------------------------------------------------------

    /// `sql` prepared once per connection.
    fn prepared(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        if let Some(s) = self
            .cache
            .try_borrow()
            .ok()
            .and_then(|c| c.get(sql).cloned())
        {
            return Ok(s);
        }
        let s = wait(self.tx.prepare(sql)).ctx(self.name)?;
        if let Ok(mut c) = self.cache.try_borrow_mut() {
            c.insert(sql.to_owned(), s.clone());
        }
        Ok(s)
    }

    pub(super) fn rows(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        let s = self.prepared(sql)?;
        wait(self.tx.query(&s, params)).ctx(self.name)
    }

    pub(super) fn row(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>, StoreError> {
        let s = self.prepared(sql)?;
        wait(self.tx.query_opt(&s, params)).ctx(self.name)
    }

    pub(super) fn exec(&self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        let s = self.prepared(sql)?;
        wait(self.tx.execute(&s, params)).ctx(self.name)
    }

    pub(super) fn get<T: for<'a> FromSql<'a>>(&self, row: &Row, i: usize) -> Result<T, StoreError> {
        row.try_get(i).ctx(self.name)
    }

    pub(super) fn time(
        &self,
        row: &Row,
        i: usize,
        column: &str,
    ) -> Result<DateTime<Utc>, StoreError> {
        let text: String = self.get(row, i)?;
        time::parse(&text, self.name, column)
    }

    pub(super) fn time_opt(
        &self,
        row: &Row,
        i: usize,
        column: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self.get(row, i)?;
        text.map(|t| time::parse(&t, self.name, column)).transpose()
    }

    /// A portal over `sql`, for reading a large result a batch at a time.
    pub(super) fn portal(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<tokio_postgres::Portal, StoreError> {
        let s = self.prepared(sql)?;
        wait(self.tx.bind(&s, params)).ctx(self.name)
    }

    /// The next batch of `portal` (empty at the end); callbacks between
    /// batches may read through the same `Tx`.
    pub(super) fn fetch(&self, portal: &tokio_postgres::Portal) -> Result<Vec<Row>, StoreError> {
        wait(self.tx.query_portal(portal, BATCH)).ctx(self.name)
    }

    /// Calls `f` on each row of `sql`, a batch at a time.
    pub(super) fn stream<E: From<StoreError>>(
        &self,
        sql: &str,
        params: &Params<'_>,
        mut f: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let portal = self.portal(sql, params)?;
        loop {
            let rows = self.fetch(&portal)?;
            if rows.is_empty() {
                return Ok(());
            }
            for r in &rows {
                f(r)?;
            }
        }
    }

    pub fn name(&self) -> &str {
        self.name
    }

    pub(super) fn tampered(&self, what: String) -> StoreError {
        StoreError::Tampered {
            path: self.name.to_owned(),
            what,
        }
    }

    // ---- events ------------------------------------------------------------

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

    pub fn append(&mut self, e: &NewEvent<'_>) -> Result<i64, StoreError> {
        let ticket = optional_field("event ticket", e.ticket)?;
        let rule = optional_field("event rule", e.rule)?;
        field("event kind", e.kind)?;
        field("event fingerprint", e.fingerprint)?;
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
        self.exec(
            "INSERT INTO events (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &seq,
                &e.ticket,
                &at,
                &e.kind,
                &e.payload,
                &e.fingerprint,
                &e.rule,
                &prev_hash,
                &hash,
            ],
        )?;
        self.last = Some((seq, hash));
        self.prev_of_last = Some(prev_hash);
        Ok(seq)
    }

    fn last_event(&self) -> Result<(i64, String), StoreError> {
        match self.row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            &[],
        )? {
            Some(r) => Ok((self.get(&r, 0)?, self.get(&r, 1)?)),
            None => Ok((0, GENESIS_HASH.to_owned())),
        }
    }

    pub fn events_for_ticket(&self, ticket: &str) -> Result<Vec<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE ticket = $1 ORDER BY seq");
        self.rows(&sql, &[&ticket])?
            .iter()
            .map(|r| self.event_row(r))
            .collect()
    }

    pub fn for_each_event(
        &self,
        mut f: impl FnMut(EventRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
        self.stream(&sql, &[], |r| f(self.event_row(r)?))
    }

    pub fn event_count(&self) -> Result<i64, StoreError> {
        match self.row("SELECT count(*) FROM events", &[])? {
            Some(r) => self.get(&r, 0),
            None => Ok(0),
        }
    }

    pub(super) fn event_row(&self, r: &Row) -> Result<EventRow, StoreError> {
        Ok(EventRow {
            seq: self.get(r, 0)?,
            ticket: self.get(r, 1)?,
            at: self.time(r, 2, "events.at")?,
            kind: self.get(r, 3)?,
            payload: self.get(r, 4)?,
            fingerprint: self.get(r, 5)?,
            rule: self.get(r, 6)?,
            prev_hash: self.get(r, 7)?,
            hash: self.get(r, 8)?,
        })
    }

    // ---- policies and meta -------------------------------------------------

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
        let inserted = self.exec(
            "INSERT INTO policies (fingerprint, canonical, source, stored_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&fingerprint, &canonical, &source, &at],
        )?;
        if inserted == 0 && self.policy(fingerprint)?.as_deref() != Some(canonical) {
            return Err(StoreError::PolicyConflict {
                fingerprint: fingerprint.to_owned(),
            });
        }
        Ok(())
    }

    pub fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if digest::sha256_hex(bytes) != sha256 {
            return Err(StoreError::Invalid(format!(
                "module key {sha256} is not the SHA-256 of its bytes"
            )));
        }
        self.exec(
            "INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&sha256, &bytes],
        )?;
        Ok(())
    }

    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let bytes: Option<Vec<u8>> =
            match self.row("SELECT bytes FROM blobs WHERE sha256 = $1", &[&sha256])? {
                Some(r) => Some(self.get(&r, 0)?),
                None => None,
            };
        if let Some(b) = &bytes
            && digest::sha256_hex(b) != sha256
        {
            return Err(self.tampered(format!("plug-in module sha256:{sha256}")));
        }
        Ok(bytes)
    }

    pub fn policy(&self, fingerprint: &str) -> Result<Option<String>, StoreError> {
        let text: Option<String> = match self.row(
            "SELECT canonical FROM policies WHERE fingerprint = $1",
            &[&fingerprint],
        )? {
            Some(r) => Some(self.get(&r, 0)?),
            None => None,
        };
        if let Some(t) = &text
            && digest::sha256_hex(t.as_bytes()) != fingerprint
        {
            return Err(self.tampered(format!("stored policy {fingerprint}")));
        }
        Ok(text)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self.row("SELECT value FROM meta WHERE key = $1", &[&key])? {
            Some(r) => Ok(Some(self.get(&r, 0)?)),
            None => Ok(None),
        }
    }

    // ---- tickets -----------------------------------------------------------

    pub fn put_ticket(&mut self, row: &TicketRow) -> Result<(), StoreError> {
        check_json(&format!("state of ticket `{}`", row.id), &row.state)?;
        let opened_at = time::format(row.opened_at)?;
        let updated_at = time::format(row.updated_at)?;
        self.exec(
            "INSERT INTO tickets (id, estate, status, fingerprint, opened_at, updated_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET
                 estate = excluded.estate, status = excluded.status,
                 fingerprint = excluded.fingerprint, opened_at = excluded.opened_at,
                 updated_at = excluded.updated_at, state = excluded.state",
            &[
                &row.id,
                &row.estate,
                &row.status,
                &row.fingerprint,
                &opened_at,
                &updated_at,
                &row.state,
            ],
        )?;
        Ok(())
    }

    pub fn ticket(&self, id: &str) -> Result<Option<TicketRow>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
        match self.row(&sql, &[&id])? {
            Some(r) => Ok(Some(self.ticket_row(&r)?)),
            None => Ok(None),
        }
    }

    pub fn tickets(&self, filter: &TicketFilter<'_>) -> Result<Vec<TicketRow>, StoreError> {
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets
             WHERE ($1::text IS NULL OR estate = $1) AND ($2::text IS NULL OR status = $2)
             ORDER BY opened_at, id LIMIT $3"
        );
        self.rows(&sql, &[&filter.estate, &filter.status, &limit])?
            .iter()
            .map(|r| self.ticket_row(r))
            .collect()
    }

    pub(super) fn ticket_row(&self, r: &Row) -> Result<TicketRow, StoreError> {
        Ok(TicketRow {
            id: self.get(r, 0)?,
            estate: self.get(r, 1)?,
            status: self.get(r, 2)?,
            fingerprint: self.get(r, 3)?,
            opened_at: self.time(r, 4, "tickets.opened_at")?,
            updated_at: self.time(r, 5, "tickets.updated_at")?,
            state: self.get(r, 6)?,
        })
    }

    // ---- timers ------------------------------------------------------------

    pub fn replace_timers(
        &mut self,
        ticket: &str,
        estate: &str,
        timers: &[Timer],
    ) -> Result<(), StoreError> {
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
        self.exec("DELETE FROM timers WHERE ticket = $1", &[&ticket])?;
        for (timer, due_at) in rows {
            self.exec(
                "INSERT INTO timers (ticket, key, kind, due_at, event, estate)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &ticket,
                    &timer.key,
                    &timer.kind,
                    &due_at,
                    &timer.event,
                    &estate,
                ],
            )?;
        }
        Ok(())
    }

    pub fn timers_for(&self, ticket: &str) -> Result<Vec<Timer>, StoreError> {
        self.rows(
            "SELECT key, kind, due_at, event FROM timers WHERE ticket = $1 ORDER BY key",
            &[&ticket],
        )?
        .iter()
        .map(|r| {
            Ok(Timer {
                key: self.get(r, 0)?,
                kind: self.get(r, 1)?,
                due_at: self.time_opt(r, 2, "timers.due_at")?,
                event: self.get(r, 3)?,
            })
        })
        .collect()
    }

    pub fn due_tickets(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let now = time::format(now)?;
        self.rows(
            "SELECT ticket, min(due_at) AS first_due FROM timers
             WHERE due_at IS NOT NULL AND due_at <= $1
             GROUP BY ticket ORDER BY first_due, ticket",
            &[&now],
        )?
        .iter()
        .map(|r| self.get(r, 0))
        .collect()
    }

    pub fn tickets_waiting_for(
        &self,
        estate: &str,
        event: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.rows(
            "SELECT DISTINCT ticket FROM timers WHERE estate = $1 AND event = $2 ORDER BY ticket",
            &[&estate, &event],
        )?
        .iter()
        .map(|r| self.get(r, 0))
        .collect()
    }

    pub fn clear_projections(&mut self) -> Result<(), StoreError> {
        wait(
            self.tx
                .batch_execute("DELETE FROM timers; DELETE FROM tickets;"),
        )
        .ctx(self.name)
    }

    pub fn next_ticket_number(&mut self) -> Result<i64, StoreError> {
        match self.row(
            "UPDATE sequences SET last = last + 1 WHERE name = 'ticket' RETURNING last",
            &[],
        )? {
            Some(r) => self.get(&r, 0),
            None => Err(StoreError::Invalid(
                "the ticket sequence is missing from the database".to_owned(),
            )),
        }
    }

    pub fn expected_schema(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        Ok(super::schema::expected())
    }

    pub fn schema_objects(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        self.rows(super::schema::OBJECTS_SQL, &[])?
            .iter()
            .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?, self.get(r, 2)?)))
            .collect()
    }
}

fn field(what: &str, value: &str) -> Result<(), StoreError> {
    if value.contains(SEPARATOR) {
        return Err(StoreError::Invalid(format!(
            "{what} `{}` contains the reserved character U+001F",
            value.escape_debug()
        )));
    }
    Ok(())
}

fn optional_field<'a>(what: &str, value: Option<&'a str>) -> Result<&'a str, StoreError> {
    match value {
        None => Ok(""),
        Some("") => Err(StoreError::Invalid(format!(
            "{what} is empty; leave it out instead"
        ))),
        Some(v) => field(what, v).map(|()| v),
    }
}

/// As in the SQLite store: checked in debug builds, where the tests run.
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
