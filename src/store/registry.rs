//! Reads of the ticket-less events that declare estates, log owner visits (K5)
//! and record external events, each through its own partial index (migration 6).

use chrono::{DateTime, Utc};

use super::StoreError;
use super::error::Ctx;
use super::marks::Mark;
use super::time;
use super::tx::Tx;

/// The kind of the event that declares or changes an estate.
pub const ESTATE_DECLARED: &str = "estate_declared";
/// The kind of the event that records an owner visit (K5).
pub const OWNER_VISITED: &str = "owner_visited";
/// The kind of the event that records an external event (rain, ...).
pub const EXTERNAL_EVENT: &str = "external_event";

impl Tx<'_> {
    /// Every estate declaration, oldest first (the latest per estate is in force).
    pub fn estate_declarations(&self) -> Result<Vec<Mark>, StoreError> {
        self.marks_where(
            "SELECT seq, at, payload FROM events WHERE kind = 'estate_declared' ORDER BY seq",
            &[],
        )
    }

    /// Whether any estate has been declared.
    pub fn has_estates(&self) -> Result<bool, StoreError> {
        self.tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM events WHERE kind = 'estate_declared')",
                [],
                |r| r.get(0),
            )
            .ctx(self.name)
    }

    /// Owner visits with `from <= at < to`, in time order.
    pub fn visits(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Mark>, StoreError> {
        let (from, to) = (time::format(from)?, time::format(to)?);
        self.marks_where(
            "SELECT seq, at, payload FROM events WHERE kind = 'owner_visited' AND at >= ?1 AND at < ?2 ORDER BY at, seq",
            &[&from, &to],
        )
    }

    /// The `seq` of the external event `kind` for `estate` at `at`, if recorded.
    pub fn external_event(
        &self,
        estate: &str,
        kind: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let at = time::format(at)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT min(seq) FROM events WHERE kind = 'external_event'
                   AND json_extract(payload, '$.estate') = ?1
                   AND json_extract(payload, '$.event') = ?2 AND at = ?3",
            )
            .ctx(self.name)?;
        stmt.query_row([estate, kind, at.as_str()], |r| r.get(0))
            .ctx(self.name)
    }

    fn marks_where(&self, sql: &str, args: &[&str]) -> Result<Vec<Mark>, StoreError> {
        let mut stmt = self.tx.prepare_cached(sql).ctx(self.name)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .ctx(self.name)?;
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
}
