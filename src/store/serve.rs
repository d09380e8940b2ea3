//! The tables of the host runtime (`steward serve`, migration 5): API tokens,
//! idempotency records, the outbox and its deliveries, and the reads the server
//! needs that `ticket list` does not (a cursor, the earliest due timer, gauges).
//! Nothing here touches the event log or the ticket projections.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::Ctx;
use super::query::{ListedTicket, TicketQuery};
use super::tx::Tx;
use super::{StoreError, time};

/// A stored API token: everything but the secret, of which only a SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The estates it may see and act on; empty for all estates.
    pub estates: Vec<String>,
    #[serde(skip)]
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A keyed POST as first answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// A digest of method, path and body: the same key with another request is refused.
    pub request: String,
    pub status: u16,
    pub body: String,
}

/// One notification to one recipient, as the trigger entered it, with what the
/// dispatcher needs to route and word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub recipient: String,
    pub ticket: String,
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The estate of the ticket (empty if its row is gone).
    pub estate: String,
    /// The event's payload (the decision JSON) and rule.
    pub payload: String,
    pub rule: Option<String>,
}

/// A delivery of an outbox entry over one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub seq: i64,
    pub recipient: String,
    pub channel: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The dispatcher that holds a lease on it (sending it now), and until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<DateTime<Utc>>,
}

/// A dispatcher's claim on due deliveries: who claims, and until when.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub worker: &'a str,
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// An outbox entry and its deliveries, as `outbox list` and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxView {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    /// `unrouted` (not yet seen by a dispatcher), `no channel`, or the worst
    /// delivery state (`pending` before `dead` before `delivered`).
    pub state: String,
    pub deliveries: Vec<Delivery>,
}

/// Numbers for `/metrics`, read in one snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    pub open_tickets: i64,
    pub due_timers: i64,
    pub breached_tickets: i64,
    pub outbox_unrouted: i64,
    pub deliveries_pending: i64,
    pub deliveries_dead: i64,
    /// Entries from before the outbox existed, waiting for `outbox release`.
    pub outbox_held: i64,
}

/// `routed_at` of an outbox entry logged before the outbox existed (migration
/// 6): not routed, not deliverable until an operator releases it.
pub const HELD: &str = "held";

/// `(seq, and four text columns)`: outbox rows and notification events for `audit verify`.
pub type Row5 = (i64, String, String, String, String);

const ENTRY_SELECT: &str = "SELECT o.seq, o.recipient, o.ticket, o.kind, o.at,
        coalesce((SELECT estate FROM tickets WHERE id = o.ticket), ''), e.payload, e.rule
     FROM outbox o JOIN events e ON e.seq = o.seq";

impl super::Store {
    /// Stops this connection from checkpointing the WAL itself at commit
    /// (SQLite's default after 1,000 pages), for a writer whose checkpoints
    /// another connection runs: see [`super::Store::checkpoint`].
    /// PostgreSQL runs its own checkpoints: nothing to do there.
    pub fn no_automatic_checkpoints(&self) -> Result<(), StoreError> {
        match &self.conn {
            super::Conn::Sqlite(c) => c
                .pragma_update(None, "wal_autocheckpoint", 0)
                .ctx(&self.name),
            super::Conn::Pg(_) => Ok(()),
        }
    }

    /// A passive checkpoint: copies what it can of the WAL into the database
    /// without waiting for readers or blocking the writer.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.conn {
            super::Conn::Sqlite(c) => c
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .ctx(&self.name),
            super::Conn::Pg(_) => Ok(()),
        }
    }
}

impl Tx<'_> {
    // ---- tokens ---------------------------------------------------------

    pub fn insert_token(&mut self, t: &TokenRow) -> Result<(), StoreError> {
        let estates = serde_json::to_string(&t.estates).map_err(|source| StoreError::BadJson {
            what: "token estates".into(),
            source,
        })?;
        self.tx
            .execute(
                "INSERT INTO tokens (id, name, role, estates, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![t.id, t.name, t.role, estates, t.sha256, time::format(t.created_at)?],
            )
            .ctx(self.name)?;
        Ok(())
    }

    /// The live (not revoked) token whose secret hashes to `sha256`.
    pub fn token_by_hash(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, name, role, estates, sha256, created_at, revoked_at FROM tokens
                 WHERE sha256 = ?1 AND revoked_at IS NULL",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([sha256]).ctx(self.name)?;
        match rows.next().ctx(self.name)? {
            Some(row) => Ok(Some(self.token_row(row)?)),
            None => Ok(None),
        }
    }

    pub fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT id, name, role, estates, sha256, created_at, revoked_at FROM tokens ORDER BY created_at, name",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            out.push(self.token_row(row)?);
        }
        Ok(out)
    }

    /// Revokes the token named `name`; `false` when there is no live one.
    pub fn revoke_token(&mut self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, time::format(at)?],
            )
            .ctx(self.name)?;
        Ok(n > 0)
    }

    fn token_row(&self, row: &rusqlite::Row<'_>) -> Result<TokenRow, StoreError> {
        let get = |i: usize| -> Result<String, StoreError> { row.get(i).ctx(self.name) };
        let estates: Vec<String> =
            serde_json::from_str(&get(3)?).map_err(|source| StoreError::BadJson {
                what: "tokens.estates".into(),
                source,
            })?;
        let revoked: Option<String> = row.get(6).ctx(self.name)?;
        Ok(TokenRow {
            id: get(0)?,
            name: get(1)?,
            role: get(2)?,
            estates,
            sha256: get(4)?,
            created_at: time::parse(&get(5)?, self.name, "tokens.created_at")?,
            revoked_at: revoked
                .map(|t| time::parse(&t, self.name, "tokens.revoked_at"))
                .transpose()?,
        })
    }

    // ---- idempotency ----------------------------------------------------

    pub fn remembered(&self, actor: &str, key: &str) -> Result<Option<Remembered>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT request, status, body FROM idempotency WHERE actor = ?1 AND key = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row([actor, key], |r| {
                    Ok(Remembered {
                        request: r.get(0)?,
                        status: r.get(1)?,
                        body: r.get(2)?,
                    })
                })
                .optional()
            })
            .ctx(self.name)
    }

    pub fn remember(
        &mut self,
        actor: &str,
        key: &str,
        answer: &Remembered,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO idempotency (actor, key, request, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    actor,
                    key,
                    answer.request,
                    answer.status,
                    answer.body,
                    time::format(at).unwrap_or_default()
                ])
            })
            .ctx(self.name)?;
        Ok(())
    }

    // ---- scheduler and gauges ---------------------------------------------

    /// The earliest time a timer is due, from the partial index `timers_due`.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<String> = self
            .tx
            .prepare_cached("SELECT min(due_at) FROM timers WHERE due_at IS NOT NULL")
            .and_then(|mut stmt| stmt.query_row([], |r| r.get(0)))
            .ctx(self.name)?;
        t.map(|t| time::parse(&t, self.name, "timers.due_at"))
            .transpose()
    }

    pub fn gauges(&self, now: DateTime<Utc>) -> Result<Gauges, StoreError> {
        let now = time::format(now)?;
        let count = |sql: &str, args: &[&str]| -> Result<i64, StoreError> {
            self.tx
                .prepare_cached(sql)
                .and_then(|mut stmt| {
                    stmt.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                })
                .ctx(self.name)
        };
        Ok(Gauges {
            open_tickets: count("SELECT count(*) FROM tickets WHERE status = 'open'", &[])?,
            due_timers: count(
                "SELECT count(*) FROM timers WHERE due_at IS NOT NULL AND due_at <= ?1",
                &[&now],
            )?,
            breached_tickets: count(
                "SELECT count(*) FROM tickets WHERE status = 'open' AND breaches > 0",
                &[],
            )?,
            outbox_unrouted: count("SELECT count(*) FROM outbox WHERE routed_at IS NULL", &[])?,
            deliveries_pending: count(
                "SELECT count(*) FROM deliveries WHERE state = 'pending'",
                &[],
            )?,
            deliveries_dead: count("SELECT count(*) FROM deliveries WHERE state = 'dead'", &[])?,
            outbox_held: count("SELECT count(*) FROM outbox WHERE routed_at = 'held'", &[])?,
        })
    }

    /// [`Tx::list_tickets`] newest first, starting after the ticket `after`
    /// (`(opened_at, id)` of the last one of the previous page).
    pub fn list_tickets_after(
        &self,
        q: &TicketQuery<'_>,
        after: Option<(DateTime<Utc>, &str)>,
        f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (filter, mut args) = super::query::conditions(q)?;
        let mut filter = filter;
        if let Some((opened, id)) = after {
            args.push(Value::Text(time::format(opened)?));
            let a = args.len();
            args.push(Value::Text(id.to_owned()));
            let b = args.len();
            filter.push_str(if filter.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            filter.push_str(&format!("(opened_at, id) < (?{a}, ?{b})"));
        }
        let limit = q.limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        args.push(Value::Integer(limit));
        self.listed(&filter, "opened_at DESC, id DESC", args, f)
    }

    // ---- outbox -----------------------------------------------------------

    /// Entries no dispatcher has routed yet, oldest first.
    pub fn outbox_unrouted(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!("{ENTRY_SELECT} WHERE o.routed_at IS NULL ORDER BY o.seq LIMIT ?1");
        self.entries(&sql, vec![Value::Integer(limit as i64)])
    }

    /// Makes held entries (all, or those of `ticket`) deliverable: the
    /// dispatcher routes them like new ones. Returns how many.
    pub fn release_held(&mut self, ticket: Option<&str>) -> Result<usize, StoreError> {
        let n = match ticket {
            Some(t) => self.tx.execute(
                "UPDATE outbox SET routed_at = NULL WHERE routed_at = 'held' AND ticket = ?1",
                [t],
            ),
            None => self.tx.execute(
                "UPDATE outbox SET routed_at = NULL WHERE routed_at = 'held'",
                [],
            ),
        }
        .ctx(self.name)?;
        Ok(n)
    }

    /// Undoes [`Tx::next_ticket_number`] for a number that was not used (an
    /// open the engine refused), when it is still the last one handed out.
    pub fn give_back_ticket_number(&mut self, n: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE sequences SET last = ?1 - 1 WHERE name = 'ticket' AND last = ?1",
            )
            .and_then(|mut s| s.execute([n]))
            .ctx(self.name)?;
        Ok(())
    }

    /// Marks an entry routed and creates its deliveries (none: no channel matched).
    pub fn route_entry(
        &mut self,
        seq: i64,
        recipient: &str,
        channels: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = time::format(at)?;
        let routed = self
            .tx
            .prepare_cached(
                "UPDATE outbox SET routed_at = ?3 WHERE seq = ?1 AND recipient = ?2 AND routed_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![seq, recipient, at]))
            .ctx(self.name)?;
        // Another server's dispatcher routed it first (with its own
        // deployment file): its deliveries stand, none are added.
        if routed == 0 {
            return Ok(());
        }
        for ch in channels {
            self.tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO deliveries (seq, recipient, channel, state, attempts, next_at)
                     VALUES (?1, ?2, ?3, 'pending', 0, ?4)",
                )
                .and_then(|mut s| s.execute(params![seq, recipient, ch, at]))
                .ctx(self.name)?;
        }
        Ok(())
    }

    /// Claims up to `limit` pending deliveries due at `lease.now` that no
    /// live lease holds, earliest first, and returns them with their entries.
    /// SQLite has one writer at a time, so the claim needs no row locks.
    pub fn claim_deliveries(
        &mut self,
        lease: &Lease<'_>,
        limit: usize,
    ) -> Result<Vec<(OutboxEntry, Delivery)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "UPDATE deliveries SET claimed_by = ?3, lease_until = ?4
                 WHERE (seq, recipient, channel) IN (
                     SELECT seq, recipient, channel FROM deliveries
                     WHERE state = 'pending' AND next_at <= ?1
                       AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_at, seq LIMIT ?2)
                 RETURNING seq, recipient, channel",
            )
            .ctx(self.name)?;
        let keys: Vec<(i64, String, String)> = stmt
            .query_map(
                params![
                    time::format(lease.now)?,
                    limit as i64,
                    lease.worker,
                    time::format(lease.until)?
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx(self.name)?
            .collect::<Result<_, _>>()
            .ctx(self.name)?;
        drop(stmt);
        let mut out = Vec::new();
        for (seq, recipient, channel) in keys {
            let sql = format!("{ENTRY_SELECT} WHERE o.seq = ?1 AND o.recipient = ?2");
            let entry = self
                .entries(
                    &sql,
                    vec![Value::Integer(seq), Value::Text(recipient.clone())],
                )?
                .pop();
            let delivery = self
                .deliveries_of(seq, &recipient)?
                .into_iter()
                .find(|d| d.channel == channel);
            if let (Some(e), Some(d)) = (entry, delivery) {
                out.push((e, d));
            }
        }
        out.sort_by_key(|(_, d)| (d.next_at, d.seq));
        Ok(out)
    }

    /// Records an attempt's outcome and ends the lease, if `worker` still
    /// holds it; `false` if another dispatcher claimed the delivery since
    /// (this one's lease lapsed): that one's attempt decides.
    pub fn finish_delivery(&mut self, d: &Delivery, worker: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "UPDATE deliveries SET state = ?4, attempts = ?5, next_at = ?6, last_error = ?7,
                     delivered_at = ?8, claimed_by = NULL, lease_until = NULL
                 WHERE seq = ?1 AND recipient = ?2 AND channel = ?3 AND claimed_by = ?9",
            )
            .and_then(|mut s| {
                s.execute(params![
                    d.seq,
                    d.recipient,
                    d.channel,
                    d.state,
                    d.attempts,
                    time::format(d.next_at).unwrap_or_default(),
                    d.last_error,
                    d.delivered_at.map(|t| time::format(t).unwrap_or_default()),
                    worker,
                ])
            })
            .ctx(self.name)?;
        Ok(n > 0)
    }

    /// The newest entries first (at most `limit`), with their deliveries;
    /// `state` keeps only entries in that state.
    pub fn outbox(
        &self,
        ticket: Option<&str>,
        limit: usize,
        state: Option<&str>,
    ) -> Result<Vec<OutboxView>, StoreError> {
        let (sql, args) = match ticket {
            Some(t) => (
                format!("{ENTRY_SELECT} WHERE o.ticket = ?1 ORDER BY o.seq DESC, o.recipient"),
                vec![Value::Text(t.to_owned())],
            ),
            None => (
                format!("{ENTRY_SELECT} ORDER BY o.seq DESC, o.recipient"),
                vec![],
            ),
        };
        // Without a state filter the limit can be SQL's; with one, entries are
        // filtered as they are read (the state is computed from the deliveries).
        let sql = if state.is_none() {
            format!("{sql} LIMIT {limit}")
        } else {
            sql
        };
        let mut out = Vec::new();
        for entry in self.entries(&sql, args)? {
            if out.len() >= limit {
                break;
            }
            let routed: Option<String> = self
                .tx
                .prepare_cached("SELECT routed_at FROM outbox WHERE seq = ?1 AND recipient = ?2")
                .and_then(|mut s| s.query_row(params![entry.seq, entry.recipient], |r| r.get(0)))
                .ctx(self.name)?;
            let deliveries = self.deliveries_of(entry.seq, &entry.recipient)?;
            let overall = if routed.is_none() {
                "unrouted"
            } else if routed.as_deref() == Some(HELD) {
                HELD
            } else if deliveries.is_empty() {
                "no channel"
            } else if deliveries.iter().any(|d| d.state == "pending") {
                "pending"
            } else if deliveries.iter().any(|d| d.state == "dead") {
                "dead"
            } else {
                "delivered"
            };
            if state.is_some_and(|s| s != overall) {
                continue;
            }
            out.push(OutboxView {
                entry,
                state: overall.to_owned(),
                deliveries,
            });
        }
        Ok(out)
    }

    /// Every outbox row `(seq, recipient, ticket, kind, at)` in key order, for `audit verify`.
    pub fn outbox_rows(&self) -> Result<Vec<Row5>, StoreError> {
        let mut stmt = self
            .tx
            .prepare("SELECT seq, recipient, ticket, kind, at FROM outbox ORDER BY seq, recipient")
            .ctx(self.name)?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .ctx(self.name)?
        .collect::<Result<_, _>>()
        .ctx(self.name)
    }

    /// Every `notified` and `escalated` event of a ticket `(seq, ticket, kind, at, payload)`.
    pub fn notification_events(&self) -> Result<Vec<Row5>, StoreError> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT seq, ticket, kind, at, payload FROM events
                 WHERE ticket IS NOT NULL AND kind IN ('notified', 'escalated') ORDER BY seq",
            )
            .ctx(self.name)?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .ctx(self.name)?
        .collect::<Result<_, _>>()
        .ctx(self.name)
    }

    fn deliveries_of(&self, seq: i64, recipient: &str) -> Result<Vec<Delivery>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT seq, recipient, channel, state, attempts, next_at, last_error, delivered_at,
                        claimed_by, lease_until
                 FROM deliveries WHERE seq = ?1 AND recipient = ?2 ORDER BY channel",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query(params![seq, recipient]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().ctx(self.name)? {
            let next_at: String = r.get(5).ctx(self.name)?;
            let delivered: Option<String> = r.get(7).ctx(self.name)?;
            let lease: Option<String> = r.get(9).ctx(self.name)?;
            out.push(Delivery {
                seq: r.get(0).ctx(self.name)?,
                recipient: r.get(1).ctx(self.name)?,
                channel: r.get(2).ctx(self.name)?,
                state: r.get(3).ctx(self.name)?,
                attempts: r.get(4).ctx(self.name)?,
                next_at: time::parse(&next_at, self.name, "deliveries.next_at")?,
                last_error: r.get(6).ctx(self.name)?,
                delivered_at: delivered
                    .map(|t| time::parse(&t, self.name, "deliveries.delivered_at"))
                    .transpose()?,
                claimed_by: r.get(8).ctx(self.name)?,
                lease_until: lease
                    .map(|t| time::parse(&t, self.name, "deliveries.lease_until"))
                    .transpose()?,
            });
        }
        Ok(out)
    }

    fn entries(&self, sql: &str, args: Vec<Value>) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.tx.prepare_cached(sql).ctx(self.name)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().ctx(self.name)? {
            let at: String = r.get(4).ctx(self.name)?;
            out.push(OutboxEntry {
                seq: r.get(0).ctx(self.name)?,
                recipient: r.get(1).ctx(self.name)?,
                ticket: r.get(2).ctx(self.name)?,
                kind: r.get(3).ctx(self.name)?,
                at: time::parse(&at, self.name, "outbox.at")?,
                estate: r.get(5).ctx(self.name)?,
                payload: r.get(6).ctx(self.name)?,
                rule: r.get(7).ctx(self.name)?,
            });
        }
        Ok(out)
    }
}
