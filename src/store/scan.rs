//! Streaming reads for `audit verify`: every ticket with its events, its
//! projection row and its timers, one ticket at a time, as raw stored text.
//!
//! Three ordered cursors (events by `(ticket, seq)`, tickets by `id`, timers
//! by `(ticket, key)`) are merged by ticket id, so memory holds one ticket's
//! rows however large the database is. Raw text rather than parsed rows: a
//! tampered value that no longer parses is a finding, not an abort.

use rusqlite::Rows;

use super::StoreError;
use super::error::Ctx;
use super::tx::Tx;

/// One stored event of a ticket.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub payload: String,
    pub fingerprint: String,
    pub rule: Option<String>,
}

/// The `tickets` row, column by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTicket {
    pub estate: String,
    pub status: String,
    pub fingerprint: String,
    pub opened_at: String,
    pub updated_at: String,
    pub state: String,
}

/// One `timers` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTimer {
    pub key: String,
    pub kind: String,
    pub due_at: Option<String>,
    pub event: Option<String>,
    pub estate: String,
}

/// Everything stored about one ticket id; any part may be missing.
#[derive(Debug, Default)]
pub struct TicketRecord {
    pub id: String,
    pub events: Vec<RawEvent>,
    pub row: Option<RawTicket>,
    pub timers: Vec<RawTimer>,
}

/// A cursor that can look at its next row's ticket id without taking it.
struct Cursor<'s, T> {
    rows: Rows<'s>,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<(String, T)>,
    next: Option<(String, T)>,
}

impl<'s, T> Cursor<'s, T> {
    fn new(
        rows: Rows<'s>,
        read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<(String, T)>,
        name: &str,
    ) -> Result<Self, StoreError> {
        let mut c = Cursor {
            rows,
            read,
            next: None,
        };
        c.advance(name)?;
        Ok(c)
    }

    fn advance(&mut self, name: &str) -> Result<(), StoreError> {
        self.next = match self.rows.next().ctx(name)? {
            Some(row) => Some((self.read)(row).ctx(name)?),
            None => None,
        };
        Ok(())
    }

    fn peek(&self) -> Option<&str> {
        self.next.as_ref().map(|(id, _)| id.as_str())
    }

    /// Takes every row of ticket `id` (the cursor is ordered by ticket).
    fn take(&mut self, id: &str, name: &str, out: &mut Vec<T>) -> Result<(), StoreError> {
        while self.peek() == Some(id) {
            if let Some((_, value)) = self.next.take() {
                out.push(value);
            }
            self.advance(name)?;
        }
        Ok(())
    }
}

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, RawEvent)> {
    Ok((
        r.get(0)?,
        RawEvent {
            seq: r.get(1)?,
            at: r.get(2)?,
            kind: r.get(3)?,
            payload: r.get(4)?,
            fingerprint: r.get(5)?,
            rule: r.get(6)?,
        },
    ))
}

fn read_ticket(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, RawTicket)> {
    Ok((
        r.get(0)?,
        RawTicket {
            estate: r.get(1)?,
            status: r.get(2)?,
            fingerprint: r.get(3)?,
            opened_at: r.get(4)?,
            updated_at: r.get(5)?,
            state: r.get(6)?,
        },
    ))
}

fn read_timer(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, RawTimer)> {
    Ok((
        r.get(0)?,
        RawTimer {
            key: r.get(1)?,
            kind: r.get(2)?,
            due_at: r.get(3)?,
            event: r.get(4)?,
            estate: r.get(5)?,
        },
    ))
}

impl Tx<'_> {
    /// Calls `f` once per ticket id found in the events, the tickets or the
    /// timers, in id order (SQLite's BINARY order, which is Rust's `str` order).
    pub fn scan_tickets<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(TicketRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let name = self.name;
        // `CAST(ticket AS TEXT)` would hide a tampered non-text id; STRICT
        // tables already refuse those.
        let mut events = self
            .tx
            .prepare(
                "SELECT ticket, seq, at, kind, payload, fingerprint, rule FROM events
                 WHERE ticket IS NOT NULL ORDER BY ticket, seq",
            )
            .ctx(name)?;
        let mut tickets = self
            .tx
            .prepare(
                "SELECT id, estate, status, fingerprint, opened_at, updated_at, state
                 FROM tickets ORDER BY id",
            )
            .ctx(name)?;
        let mut timers = self
            .tx
            .prepare(
                "SELECT ticket, key, kind, due_at, event, estate FROM timers ORDER BY ticket, key",
            )
            .ctx(name)?;
        let mut ev = Cursor::new(events.query([]).ctx(name)?, read_event, name)?;
        let mut tk = Cursor::new(tickets.query([]).ctx(name)?, read_ticket, name)?;
        let mut tm = Cursor::new(timers.query([]).ctx(name)?, read_timer, name)?;
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
            ev.take(&record.id, name, &mut record.events)?;
            let mut rows = Vec::new();
            tk.take(&record.id, name, &mut rows)?;
            record.row = rows.pop();
            tm.take(&record.id, name, &mut record.timers)?;
            f(record)?;
        }
    }

    /// Every `meta` setting, by key.
    pub fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare("SELECT key, value FROM meta ORDER BY key")
            .ctx(self.name)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(self.name)?;
        rows.collect::<Result<Vec<_>, _>>().ctx(self.name)
    }

    /// Every stored plug-in module key with the SHA-256 of its bytes as stored.
    pub fn blob_digests(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare("SELECT sha256, bytes FROM blobs ORDER BY sha256")
            .ctx(self.name)?;
        let mut rows = stmt.query([]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            let bytes: Vec<u8> = row.get(1).ctx(self.name)?;
            out.push((
                row.get(0).ctx(self.name)?,
                crate::digest::sha256_hex(&bytes),
            ));
        }
        Ok(out)
    }

    /// The schema objects (`type`, `name`, `sql`) other than SQLite's own.
    pub fn schema_objects(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT type, name, sql FROM sqlite_schema
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .ctx(self.name)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ctx(self.name)?;
        rows.collect::<Result<Vec<_>, _>>().ctx(self.name)
    }

    /// The newest event's `seq`; 0 for an empty log.
    pub fn head_seq(&self) -> Result<i64, StoreError> {
        self.tx
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
            .ctx(self.name)
    }

    /// The hash of the event at `seq`, if there is one.
    pub fn event_hash(&self, seq: i64) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.tx
            .query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()
            .ctx(self.name)
    }
}

/// The schema objects a current steward database has, from the migrations
/// applied to an empty in-memory database.
pub fn expected_schema() -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let store = super::Store::open_in_memory()?;
    store.read(|tx| tx.schema_objects())
}
