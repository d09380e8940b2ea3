//! Reads of the log's ticket-less marks (e.g. an import's progress) and of how
//! far its ticket history reaches.

use chrono::{DateTime, Utc};

use super::StoreError;
use super::error::Ctx;
use super::time;
use super::tx::Tx;

/// A ticket-less event: its place in the chain, time and payload.
#[derive(Debug, Clone)]
pub struct Mark {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub payload: String,
}

impl Tx<'_> {
    /// Ticket-less events of one kind, oldest first.
    pub fn marks(&self, kind: &str) -> Result<Vec<Mark>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT seq, at, payload FROM events WHERE kind = ?1 AND ticket IS NULL ORDER BY seq",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([kind]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            let at: String = row.get(1).ctx(self.name)?;
            out.push(Mark {
                seq: row.get(0).ctx(self.name)?,
                at: time::parse(&at, self.name, "events.at")?,
                payload: row.get(2).ctx(self.name)?,
            });
        }
        Ok(out)
    }

    /// The time of the latest event of any ticket.
    pub fn last_ticket_event_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .tx
            .query_row(
                "SELECT max(at) FROM events WHERE ticket IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .ctx(self.name)?;
        at.map(|a| time::parse(&a, self.name, "events.at"))
            .transpose()
    }
}
