//! PostgreSQL versions of the host runtime's tables (`../serve.rs`): tokens,
//! idempotency records, the scheduler's and gauges' reads, and the outbox.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::reads::conditions;
use super::tx::Tx;
use crate::store::serve::Row5;
use crate::store::{
    Delivery, Gauges, Lease, ListedTicket, OutboxEntry, OutboxView, Remembered, StoreError,
    TicketQuery, TokenRow, time,
};

const ENTRY_SELECT: &str = "SELECT o.seq, o.recipient, o.ticket, o.kind, o.at,
        coalesce((SELECT estate FROM tickets WHERE id = o.ticket), ''), e.payload, e.rule
     FROM outbox o JOIN events e ON e.seq = o.seq";

const TOKEN_COLUMNS: &str = "id, name, role, estates, sha256, created_at, revoked_at";

impl Tx<'_> {
    // ---- tokens -----------------------------------------------------------

    pub fn insert_token(&mut self, t: &TokenRow) -> Result<(), StoreError> {
        let estates = serde_json::to_string(&t.estates).map_err(|source| StoreError::BadJson {
            what: "token estates".into(),
            source,
        })?;
        self.exec(
            "INSERT INTO tokens (id, name, role, estates, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t.id, &t.name, &t.role, &estates, &t.sha256, &time::format(t.created_at)?],
        )?;
        Ok(())
    }

    pub fn token_by_hash(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE sha256 = $1 AND revoked_at IS NULL");
        self.row(&sql, &[&sha256])?
            .map(|r| self.token_row(&r))
            .transpose()
    }

    pub fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name");
        self.rows(&sql, &[])?
            .iter()
            .map(|r| self.token_row(r))
            .collect()
    }

    /// Lets held entries go out (see `../serve.rs`).
    pub fn release_held(&mut self, ticket: Option<&str>) -> Result<usize, StoreError> {
        let n = match ticket {
            Some(t) => self.exec(
                "UPDATE outbox SET routed_at = NULL WHERE routed_at = 'held' AND ticket = $1",
                &[&t],
            )?,
            None => self.exec(
                "UPDATE outbox SET routed_at = NULL WHERE routed_at = 'held'",
                &[],
            )?,
        };
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Undoes `next_ticket_number` for a number an open did not use.
    pub fn give_back_ticket_number(&mut self, n: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE sequences SET last = $1 - 1 WHERE name = 'ticket' AND last = $1",
            &[&n],
        )?;
        Ok(())
    }

    pub fn revoke_token(&mut self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            &[&name, &time::format(at)?],
        )?;
        Ok(n > 0)
    }

    fn token_row(&self, r: &Row) -> Result<TokenRow, StoreError> {
        let estates: String = self.get(r, 3)?;
        let estates: Vec<String> =
            serde_json::from_str(&estates).map_err(|source| StoreError::BadJson {
                what: "tokens.estates".into(),
                source,
            })?;
        Ok(TokenRow {
            id: self.get(r, 0)?,
            name: self.get(r, 1)?,
            role: self.get(r, 2)?,
            estates,
            sha256: self.get(r, 4)?,
            created_at: self.time(r, 5, "tokens.created_at")?,
            revoked_at: self.time_opt(r, 6, "tokens.revoked_at")?,
        })
    }

    // ---- idempotency ------------------------------------------------------

    pub fn remembered(&self, actor: &str, key: &str) -> Result<Option<Remembered>, StoreError> {
        self.row(
            "SELECT request, status, body FROM idempotency WHERE actor = $1 AND key = $2",
            &[&actor, &key],
        )?
        .map(|r| {
            let status: i32 = self.get(&r, 1)?;
            Ok(Remembered {
                request: self.get(&r, 0)?,
                status: u16::try_from(status).unwrap_or(500),
                body: self.get(&r, 2)?,
            })
        })
        .transpose()
    }

    pub fn remember(
        &mut self,
        actor: &str,
        key: &str,
        answer: &Remembered,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO idempotency (actor, key, request, status, body, at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &actor,
                &key,
                &answer.request,
                &i32::from(answer.status),
                &answer.body,
                &time::format(at).unwrap_or_default(),
            ],
        )?;
        Ok(())
    }

    // ---- scheduler and gauges ----------------------------------------------

    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.row(
            "SELECT min(due_at) FROM timers WHERE due_at IS NOT NULL",
            &[],
        )? {
            Some(r) => self.time_opt(&r, 0, "timers.due_at"),
            None => Ok(None),
        }
    }

    pub fn gauges(&self, now: DateTime<Utc>) -> Result<Gauges, StoreError> {
        let now = time::format(now)?;
        let r = self.row(
            "SELECT
                (SELECT count(*) FROM tickets WHERE status = 'open'),
                (SELECT count(*) FROM timers WHERE due_at IS NOT NULL AND due_at <= $1),
                (SELECT count(*) FROM tickets WHERE status = 'open' AND breaches > 0),
                (SELECT count(*) FROM outbox WHERE routed_at IS NULL),
                (SELECT count(*) FROM deliveries WHERE state = 'pending'),
                (SELECT count(*) FROM deliveries WHERE state = 'dead'),
                (SELECT count(*) FROM outbox WHERE routed_at = 'held')",
            &[&now],
        )?;
        let Some(r) = r else {
            return Ok(Gauges::default());
        };
        Ok(Gauges {
            open_tickets: self.get(&r, 0)?,
            due_timers: self.get(&r, 1)?,
            breached_tickets: self.get(&r, 2)?,
            outbox_unrouted: self.get(&r, 3)?,
            deliveries_pending: self.get(&r, 4)?,
            deliveries_dead: self.get(&r, 5)?,
            outbox_held: self.get(&r, 6)?,
        })
    }

    pub fn list_tickets_after(
        &self,
        q: &TicketQuery<'_>,
        after: Option<(DateTime<Utc>, &str)>,
        f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (mut filter, mut args) = conditions(q)?;
        if let Some((opened, id)) = after {
            let a = args.push_text(time::format(opened)?);
            let b = args.push_text(id.to_owned());
            filter.push_str(if filter.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            filter.push_str(&format!("(opened_at, id) < (${a}, ${b})"));
        }
        let limit = q.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.listed(
            &filter,
            "opened_at DESC, id DESC",
            &args.with_limit(&limit),
            f,
        )
    }

    // ---- outbox -----------------------------------------------------------

    pub fn outbox_unrouted(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "{ENTRY_SELECT} WHERE o.routed_at IS NULL ORDER BY o.seq, o.recipient LIMIT $1"
        );
        self.entries(&sql, &[&(limit as i64)])
    }

    pub fn route_entry(
        &mut self,
        seq: i64,
        recipient: &str,
        channels: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = time::format(at)?;
        let routed = self.exec(
            "UPDATE outbox SET routed_at = $3 WHERE seq = $1 AND recipient = $2 AND routed_at IS NULL",
            &[&seq, &recipient, &at],
        )?;
        // Routed first by another server: its deliveries stand.
        if routed == 0 {
            return Ok(());
        }
        for ch in channels {
            self.exec(
                "INSERT INTO deliveries (seq, recipient, channel, state, attempts, next_at)
                 VALUES ($1, $2, $3, 'pending', 0, $4) ON CONFLICT DO NOTHING",
                &[&seq, &recipient, ch, &at],
            )?;
        }
        Ok(())
    }

    /// Claims due deliveries no live lease holds (see `../serve.rs`). `FOR
    /// UPDATE SKIP LOCKED`: a dispatcher claiming at the same moment passes
    /// over the rows this one is claiming instead of waiting for them, and
    /// once committed the lease keeps them out of every claim until it lapses.
    pub fn claim_deliveries(
        &mut self,
        lease: &Lease<'_>,
        limit: usize,
    ) -> Result<Vec<(OutboxEntry, Delivery)>, StoreError> {
        let keys = self.rows(
            "WITH due AS (
                 SELECT seq, recipient, channel FROM deliveries
                 WHERE state = 'pending' AND next_at <= $1
                   AND (lease_until IS NULL OR lease_until <= $1)
                 ORDER BY next_at, seq LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             UPDATE deliveries d SET claimed_by = $3, lease_until = $4
             FROM due
             WHERE d.seq = due.seq AND d.recipient = due.recipient AND d.channel = due.channel
             RETURNING d.seq, d.recipient, d.channel",
            &[
                &time::format(lease.now)?,
                &(limit as i64),
                &lease.worker,
                &time::format(lease.until)?,
            ],
        )?;
        let mut out = Vec::new();
        for k in &keys {
            let seq: i64 = self.get(k, 0)?;
            let recipient: String = self.get(k, 1)?;
            let channel: String = self.get(k, 2)?;
            let sql = format!("{ENTRY_SELECT} WHERE o.seq = $1 AND o.recipient = $2");
            let entry = self.entries(&sql, &[&seq, &recipient])?.pop();
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

    /// Records an outcome while `worker` still holds the lease (`../serve.rs`).
    pub fn finish_delivery(&mut self, d: &Delivery, worker: &str) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE deliveries SET state = $4, attempts = $5, next_at = $6, last_error = $7,
                 delivered_at = $8, claimed_by = NULL, lease_until = NULL
             WHERE seq = $1 AND recipient = $2 AND channel = $3 AND claimed_by = $9",
            &[
                &d.seq,
                &d.recipient,
                &d.channel,
                &d.state,
                &d.attempts,
                &time::format(d.next_at).unwrap_or_default(),
                &d.last_error,
                &d.delivered_at.map(|t| time::format(t).unwrap_or_default()),
                &worker,
            ],
        )?;
        Ok(n > 0)
    }

    pub fn outbox(
        &self,
        ticket: Option<&str>,
        limit: usize,
        state: Option<&str>,
    ) -> Result<Vec<OutboxView>, StoreError> {
        let lim = if state.is_none() {
            format!(" LIMIT {limit}")
        } else {
            String::new()
        };
        let entries = match ticket {
            Some(t) => self.entries(
                &format!(
                    "{ENTRY_SELECT} WHERE o.ticket = $1 ORDER BY o.seq DESC, o.recipient{lim}"
                ),
                &[&t],
            )?,
            None => self.entries(
                &format!("{ENTRY_SELECT} ORDER BY o.seq DESC, o.recipient{lim}"),
                &[],
            )?,
        };
        let mut out = Vec::new();
        for entry in entries {
            if out.len() >= limit {
                break;
            }
            let routed: Option<String> = match self.row(
                "SELECT routed_at FROM outbox WHERE seq = $1 AND recipient = $2",
                &[&entry.seq, &entry.recipient],
            )? {
                Some(r) => self.get(&r, 0)?,
                None => None,
            };
            let deliveries = self.deliveries_of(entry.seq, &entry.recipient)?;
            let overall = if routed.is_none() {
                "unrouted"
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

    pub fn outbox_rows(&self) -> Result<Vec<Row5>, StoreError> {
        self.row5("SELECT seq, recipient, ticket, kind, at FROM outbox ORDER BY seq, recipient")
    }

    pub fn notification_events(&self) -> Result<Vec<Row5>, StoreError> {
        self.row5(
            "SELECT seq, ticket, kind, at, payload FROM events
             WHERE ticket IS NOT NULL AND kind IN ('notified', 'escalated') ORDER BY seq",
        )
    }

    fn row5(&self, sql: &str) -> Result<Vec<Row5>, StoreError> {
        self.rows(sql, &[])?
            .iter()
            .map(|r| {
                Ok((
                    self.get(r, 0)?,
                    self.get(r, 1)?,
                    self.get(r, 2)?,
                    self.get(r, 3)?,
                    self.get(r, 4)?,
                ))
            })
            .collect()
    }

    fn deliveries_of(&self, seq: i64, recipient: &str) -> Result<Vec<Delivery>, StoreError> {
        self.rows(
            "SELECT seq, recipient, channel, state, attempts, next_at, last_error, delivered_at,
                    claimed_by, lease_until
             FROM deliveries WHERE seq = $1 AND recipient = $2 ORDER BY channel",
            &[&seq, &recipient],
        )?
        .iter()
        .map(|r| {
            Ok(Delivery {
                seq: self.get(r, 0)?,
                recipient: self.get(r, 1)?,
                channel: self.get(r, 2)?,
                state: self.get(r, 3)?,
                attempts: self.get(r, 4)?,
                next_at: self.time(r, 5, "deliveries.next_at")?,
                last_error: self.get(r, 6)?,
                delivered_at: self.time_opt(r, 7, "deliveries.delivered_at")?,
                claimed_by: self.get(r, 8)?,
                lease_until: self.time_opt(r, 9, "deliveries.lease_until")?,
            })
        })
        .collect()
    }

    fn entries(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.rows(sql, params)?
            .iter()
            .map(|r| {
                Ok(OutboxEntry {
                    seq: self.get(r, 0)?,
                    recipient: self.get(r, 1)?,
                    ticket: self.get(r, 2)?,
                    kind: self.get(r, 3)?,
                    at: self.time(r, 4, "outbox.at")?,
                    estate: self.get(r, 5)?,
                    payload: self.get(r, 6)?,
                    rule: self.get(r, 7)?,
                })
            })
            .collect()
    }
}
