//! PostgreSQL versions of the reads in `../applied.rs`, `../chain.rs`,
//! `../marks.rs`, `../query.rs` and `../scan.rs`: policy applications, the
//! chain check, marks, ticket lists and the streaming scan of `audit verify`.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio_postgres::Row;

use super::tx::{EVENT_COLUMNS, Params, Tx};
use crate::store::chain::{Canonical, GENESIS_HASH};
use crate::store::{
    Application, ChainHead, ChainReport, ListedTicket, Mark, RawEvent, RawTicket, RawTimer,
    StoreError, StoredPolicyRow, TicketQuery, TicketRecord, TicketSort, time,
};

const DEADLINE_KINDS: &str = "('breach', 'notice')";

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    estate: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    previous: Option<String>,
}

/// Arguments of a dynamically built query: text values, then the limit.
pub(super) struct Args {
    text: Vec<String>,
}

impl Args {
    fn push(&mut self, v: &str) -> usize {
        self.text.push(v.to_owned());
        self.text.len()
    }

    /// Parameters for `query`: the text values and, last, `limit`.
    pub(super) fn with_limit<'a>(
        &'a self,
        limit: &'a Option<i64>,
    ) -> Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)> {
        let mut out: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = self
            .text
            .iter()
            .map(|t| t as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        out.push(limit);
        out
    }

    pub(super) fn push_text(&mut self, v: String) -> usize {
        self.text.push(v);
        self.text.len()
    }
}

/// The WHERE clause of `q` and its arguments (as `../query.rs::conditions`).
pub(super) fn conditions(q: &TicketQuery<'_>) -> Result<(String, Args), StoreError> {
    let mut args = Args { text: Vec::new() };
    let mut parts: Vec<String> = Vec::new();
    if let Some(e) = q.estate {
        let n = args.push(e);
        parts.push(format!("estate = ${n}"));
    }
    if let Some(s) = q.status {
        let n = args.push(s);
        parts.push(format!("status = ${n}"));
    }
    if let Some(c) = q.category {
        let n = args.push(c);
        parts.push(format!(
            "(category = ${n} OR (category >= ${n} || '.' AND category < ${n} || '/'))"
        ));
    }
    if let Some(d) = q.department {
        let n = args.push(d);
        parts.push(format!("department = ${n}"));
    }
    if q.breached {
        parts.push("breaches > 0".to_owned());
    }
    if let Some(before) = q.due_before {
        let n = args.push(&time::format(before)?);
        parts.push(format!(
            "EXISTS (SELECT 1 FROM timers WHERE timers.ticket = tickets.id AND kind IN {DEADLINE_KINDS} AND due_at <= ${n})"
        ));
    }
    let filter = if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    };
    Ok((filter, args))
}

impl Tx<'_> {
    // ---- policy applications ----------------------------------------------

    pub fn applied_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError> {
        let row = match estate {
            Some(e) => self.row(
                "SELECT fingerprint FROM events
                 WHERE kind = 'policy_applied' AND ((payload::jsonb) ->> 'estate') = $1
                 ORDER BY seq DESC LIMIT 1",
                &[&e],
            )?,
            None => self.row(
                "SELECT fingerprint FROM events
                 WHERE kind = 'policy_applied' AND ((payload::jsonb) ->> 'estate') IS NULL
                 ORDER BY seq DESC LIMIT 1",
                &[],
            )?,
        };
        row.map(|r| self.get(&r, 0)).transpose()
    }

    pub fn active_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError> {
        if estate.is_some()
            && let Some(fp) = self.applied_policy(estate)?
        {
            return Ok(Some(fp));
        }
        self.applied_policy(None)
    }

    pub fn applications(&self) -> Result<Vec<Application>, StoreError> {
        self.rows(
            "SELECT seq, at, fingerprint, payload FROM events
             WHERE kind = 'policy_applied' ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| {
            let seq: i64 = self.get(r, 0)?;
            let payload: String = self.get(r, 3)?;
            let p: Payload = serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt {
                path: self.name.to_owned(),
                detail: format!("event {seq} (policy_applied) has an unreadable payload: {e}"),
            })?;
            Ok(Application {
                seq,
                at: self.time(r, 1, "events.at")?,
                fingerprint: self.get(r, 2)?,
                estate: p.estate,
                by: p.by.unwrap_or_default(),
                source: p.source,
                previous: p.previous,
            })
        })
        .collect()
    }

    pub fn stored_policies(&self) -> Result<Vec<StoredPolicyRow>, StoreError> {
        self.rows(
            "SELECT fingerprint, canonical, source, stored_at FROM policies ORDER BY fingerprint",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(StoredPolicyRow {
                fingerprint: self.get(r, 0)?,
                canonical: self.get(r, 1)?,
                source: self.get(r, 2)?,
                stored_at: self.get(r, 3)?,
            })
        })
        .collect()
    }

    // ---- the chain ----------------------------------------------------------

    /// As `../chain.rs`: recomputes every hash in `seq` order.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let mut events = 0i64;
        let mut first_bad = None;
        let mut prev_seq = 0i64;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut last_at = String::new();
        let mut fingerprints = BTreeSet::new();
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
        self.stream(&sql, &[], |r| -> Result<(), StoreError> {
            events += 1;
            let seq: i64 = self.get(r, 0)?;
            let text = |i: usize| -> Result<String, StoreError> {
                Ok(self.get::<Option<String>>(r, i)?.unwrap_or_default())
            };
            let fingerprint = text(5)?;
            if !fingerprint.is_empty() && !fingerprints.contains(&fingerprint) {
                fingerprints.insert(fingerprint.clone());
            }
            let hash = text(8)?;
            let at = text(2)?;
            if first_bad.is_none() {
                let stored_prev = text(7)?;
                let why = if Some(seq) != prev_seq.checked_add(1) {
                    Some(format!("sequence gap after {prev_seq}"))
                } else if stored_prev != prev_hash {
                    Some(format!("previous hash does not match row {prev_seq}"))
                } else {
                    let expected = Canonical {
                        prev_hash: &stored_prev,
                        seq,
                        ticket: &text(1)?,
                        at: &at,
                        kind: &text(3)?,
                        payload: &text(4)?,
                        fingerprint: &fingerprint,
                        rule: &text(6)?,
                    }
                    .hash();
                    (expected != hash).then(|| "hash mismatch".to_owned())
                };
                if let Some(why) = why {
                    first_bad = Some((seq, why));
                }
            }
            prev_seq = seq;
            prev_hash = hash;
            last_at = at;
            Ok(())
        })?;
        let head = (events > 0).then_some(ChainHead {
            seq: prev_seq,
            hash: prev_hash,
            at: last_at,
        });
        Ok(ChainReport {
            events,
            first_bad,
            head,
            fingerprints,
        })
    }

    pub fn head_seq(&self) -> Result<i64, StoreError> {
        match self.row("SELECT coalesce(max(seq), 0) FROM events", &[])? {
            Some(r) => self.get(&r, 0),
            None => Ok(0),
        }
    }

    pub fn event_hash(&self, seq: i64) -> Result<Option<String>, StoreError> {
        self.row("SELECT hash FROM events WHERE seq = $1", &[&seq])?
            .map(|r| self.get(&r, 0))
            .transpose()
    }

    // ---- marks ----------------------------------------------------------------

    pub fn marks(&self, kind: &str) -> Result<Vec<Mark>, StoreError> {
        self.rows(
            "SELECT seq, at, payload FROM events WHERE kind = $1 AND ticket IS NULL ORDER BY seq",
            &[&kind],
        )?
        .iter()
        .map(|r| {
            Ok(Mark {
                seq: self.get(r, 0)?,
                at: self.time(r, 1, "events.at")?,
                payload: self.get(r, 2)?,
            })
        })
        .collect()
    }

    /// Every estate declaration, oldest first (see `../registry.rs`).
    pub fn estate_declarations(&self) -> Result<Vec<Mark>, StoreError> {
        self.marks_where(
            "SELECT seq, at, payload FROM events WHERE kind = 'estate_declared' ORDER BY seq",
            &[],
        )
    }

    pub fn has_estates(&self) -> Result<bool, StoreError> {
        match self.row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE kind = 'estate_declared')",
            &[],
        )? {
            Some(r) => self.get(&r, 0),
            None => Ok(false),
        }
    }

    pub fn visits(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Mark>, StoreError> {
        let (from, to) = (time::format(from)?, time::format(to)?);
        self.marks_where(
            "SELECT seq, at, payload FROM events WHERE kind = 'owner_visited' AND at >= $1 AND at < $2 ORDER BY at, seq",
            &[&from, &to],
        )
    }

    pub fn external_event(
        &self,
        estate: &str,
        kind: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let at = time::format(at)?;
        match self.row(
            "SELECT min(seq) FROM events WHERE kind = 'external_event'
               AND (payload::jsonb) ->> 'estate' = $1
               AND (payload::jsonb) ->> 'event' = $2 AND at = $3",
            &[&estate, &kind, &at],
        )? {
            Some(r) => self.get(&r, 0),
            None => Ok(None),
        }
    }

    fn marks_where(&self, sql: &str, args: &Params<'_>) -> Result<Vec<Mark>, StoreError> {
        self.rows(sql, args)?
            .iter()
            .map(|r| {
                Ok(Mark {
                    seq: self.get(r, 0)?,
                    at: self.time(r, 1, "events.at")?,
                    payload: self.get(r, 2)?,
                })
            })
            .collect()
    }

    pub fn last_ticket_event_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.row("SELECT max(at) FROM events WHERE ticket IS NOT NULL", &[])? {
            Some(r) => self.time_opt(&r, 0, "events.at"),
            None => Ok(None),
        }
    }

    // ---- ticket lists -----------------------------------------------------

    pub fn list_tickets(
        &self,
        q: &TicketQuery<'_>,
        f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (filter, args) = conditions(q)?;
        let order = match q.sort {
            TicketSort::Newest => "opened_at DESC, id DESC",
            TicketSort::Oldest => "opened_at, id",
            TicketSort::Updated => "updated_at DESC, id DESC",
            TicketSort::Deadline => "next_due IS NULL, next_due, id",
        };
        let limit = q.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.listed(&filter, order, &args.with_limit(&limit), f)
    }

    /// `params` ends with the LIMIT (NULL: none), as `../query.rs::listed`.
    pub(super) fn listed(
        &self,
        filter: &str,
        order: &str,
        params: &Params<'_>,
        mut f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A subquery because PostgreSQL's ORDER BY cannot use an output
        // column (`next_due`) inside an expression; the planner flattens it.
        let sql = format!(
            "SELECT * FROM (
                SELECT id, estate, status, fingerprint, opened_at, updated_at, state,
                       (SELECT min(due_at) FROM timers
                         WHERE timers.ticket = tickets.id AND kind IN {DEADLINE_KINDS}) AS next_due
                FROM tickets{filter}) AS listed
             ORDER BY {order} LIMIT ${}",
            params.len()
        );
        self.stream(&sql, params, |r| {
            f(ListedTicket {
                row: self.ticket_row(r)?,
                next_due: self.time_opt(r, 7, "timers.due_at")?,
            })
        })
    }

    pub fn count_tickets(&self, q: &TicketQuery<'_>) -> Result<u64, StoreError> {
        let (filter, args) = conditions(q)?;
        let sql = format!("SELECT count(*) FROM tickets{filter}");
        let params = args.with_limit(&None);
        let params = &params[..params.len() - 1];
        match self.row(&sql, params)? {
            Some(r) => Ok(u64::try_from(self.get::<i64>(&r, 0)?).unwrap_or(0)),
            None => Ok(0),
        }
    }

    // ---- the scan of `audit verify` ---------------------------------------

    pub fn scan_tickets<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(TicketRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut ev = Cursor::new(
            self,
            "SELECT ticket, seq, at, kind, payload, fingerprint, rule FROM events
             WHERE ticket IS NOT NULL ORDER BY ticket, seq",
            |t, r| {
                Ok((
                    t.get(r, 0)?,
                    RawEvent {
                        seq: t.get(r, 1)?,
                        at: t.get(r, 2)?,
                        kind: t.get(r, 3)?,
                        payload: t.get(r, 4)?,
                        fingerprint: t.get(r, 5)?,
                        rule: t.get(r, 6)?,
                    },
                ))
            },
        )?;
        let mut tk = Cursor::new(
            self,
            "SELECT id, estate, status, fingerprint, opened_at, updated_at, state
             FROM tickets ORDER BY id",
            |t, r| {
                Ok((
                    t.get(r, 0)?,
                    RawTicket {
                        estate: t.get(r, 1)?,
                        status: t.get(r, 2)?,
                        fingerprint: t.get(r, 3)?,
                        opened_at: t.get(r, 4)?,
                        updated_at: t.get(r, 5)?,
                        state: t.get(r, 6)?,
                    },
                ))
            },
        )?;
        let mut tm = Cursor::new(
            self,
            "SELECT ticket, key, kind, due_at, event, estate FROM timers ORDER BY ticket, key",
            |t, r| {
                Ok((
                    t.get(r, 0)?,
                    RawTimer {
                        key: t.get(r, 1)?,
                        kind: t.get(r, 2)?,
                        due_at: t.get(r, 3)?,
                        event: t.get(r, 4)?,
                        estate: t.get(r, 5)?,
                    },
                ))
            },
        )?;
        loop {
            let Some(id) = [ev.peek(), tk.peek(), tm.peek()]
                .into_iter()
                .flatten()
                .min()
                .map(str::to_owned)
            else {
                return Ok(());
            };
            let mut record = TicketRecord {
                id,
                ..TicketRecord::default()
            };
            ev.take(self, &record.id, &mut record.events)?;
            let mut rows = Vec::new();
            tk.take(self, &record.id, &mut rows)?;
            record.row = rows.pop();
            tm.take(self, &record.id, &mut record.timers)?;
            f(record)?;
        }
    }

    pub fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.rows("SELECT key, value FROM meta ORDER BY key", &[])?
            .iter()
            .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?)))
            .collect()
    }

    pub fn blob_digests(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.rows("SELECT sha256, bytes FROM blobs ORDER BY sha256", &[])?
            .iter()
            .map(|r| {
                let bytes: Vec<u8> = self.get(r, 1)?;
                Ok((self.get(r, 0)?, crate::digest::sha256_hex(&bytes)))
            })
            .collect()
    }
}

type Read<T> = fn(&Tx<'_>, &Row) -> Result<(String, T), StoreError>;

/// One ordered result read a batch at a time through a portal; several are
/// open at once in the scan's snapshot.
struct Cursor<T> {
    portal: tokio_postgres::Portal,
    read: Read<T>,
    buf: VecDeque<(String, T)>,
    done: bool,
}

impl<T> Cursor<T> {
    fn new(tx: &Tx<'_>, sql: &str, read: Read<T>) -> Result<Cursor<T>, StoreError> {
        let mut c = Cursor {
            portal: tx.portal(sql, &[])?,
            read,
            buf: VecDeque::new(),
            done: false,
        };
        c.fill(tx)?;
        Ok(c)
    }

    fn fill(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        if self.buf.is_empty() && !self.done {
            let rows = tx.fetch(&self.portal)?;
            self.done = rows.is_empty();
            for r in &rows {
                self.buf.push_back((self.read)(tx, r)?);
            }
        }
        Ok(())
    }

    fn peek(&self) -> Option<&str> {
        self.buf.front().map(|(id, _)| id.as_str())
    }

    fn take(&mut self, tx: &Tx<'_>, id: &str, out: &mut Vec<T>) -> Result<(), StoreError> {
        while self.peek() == Some(id) {
            if let Some((_, v)) = self.buf.pop_front() {
                out.push(v);
            }
            self.fill(tx)?;
        }
        Ok(())
    }
}
