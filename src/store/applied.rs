//! The policy applications recorded in the log: which policy is active for a
//! scope, and the history `policy list` shows. Read from the events, never from
//! a setting, because the events are the hash-chained record.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::error::Ctx;
use super::tx::Tx;
use super::{StoreError, time};

/// One `policy apply`, as its event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub fingerprint: String,
    /// `None`: company-wide.
    pub estate: Option<String>,
    /// Who applied it (`--by`); empty for applications recorded before it was asked.
    pub by: String,
    /// The policy directory it was loaded from, as given on the command line.
    pub source: Option<String>,
    pub previous: Option<String>,
}

/// A `policies` row as stored.
#[derive(Debug, Clone)]
pub struct StoredPolicyRow {
    pub fingerprint: String,
    pub canonical: String,
    pub source: Option<String>,
    /// RFC 3339 UTC, as stored.
    pub stored_at: String,
}

/// The `meta` key that mirrors the active policy of a scope (`None`:
/// company-wide). Written by `policy apply`, checked by `audit verify`, never read
/// to choose a policy.
pub fn active_setting_key(estate: Option<&str>) -> String {
    match estate {
        Some(e) => format!("active_policy:{e}"),
        None => "active_policy".to_owned(),
    }
}

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

impl Tx<'_> {
    /// The fingerprint of the latest policy applied to `estate` (`None`: the
    /// company-wide scope), from the log.
    pub fn applied_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError> {
        let sql = match estate {
            Some(_) => {
                "SELECT fingerprint FROM events
                 WHERE kind = 'policy_applied' AND json_extract(payload, '$.estate') = ?1
                 ORDER BY seq DESC LIMIT 1"
            }
            None => {
                "SELECT fingerprint FROM events
                 WHERE kind = 'policy_applied' AND json_extract(payload, '$.estate') IS NULL
                 ORDER BY seq DESC LIMIT 1"
            }
        };
        let mut stmt = self.tx.prepare_cached(sql).ctx(self.name)?;
        let found = match estate {
            Some(e) => stmt.query_row([e], |r| r.get(0)),
            None => stmt.query_row([], |r| r.get(0)),
        };
        found.optional().ctx(self.name)
    }

    /// The policy in force for `estate`: its own application if it has one,
    /// else the company-wide one; `None` before any policy was applied.
    pub fn active_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError> {
        if estate.is_some()
            && let Some(fp) = self.applied_policy(estate)?
        {
            return Ok(Some(fp));
        }
        self.applied_policy(None)
    }

    /// Every policy application, oldest first.
    pub fn applications(&self) -> Result<Vec<Application>, StoreError> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT seq, at, fingerprint, payload FROM events
                 WHERE kind = 'policy_applied' ORDER BY seq",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([]).ctx(self.name)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(self.name)? {
            let seq: i64 = row.get(0).ctx(self.name)?;
            let at: String = row.get(1).ctx(self.name)?;
            let payload: String = row.get(3).ctx(self.name)?;
            let p: Payload = serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt {
                path: self.name.to_owned(),
                detail: format!("event {seq} (policy_applied) has an unreadable payload: {e}"),
            })?;
            out.push(Application {
                seq,
                at: time::parse(&at, self.name, "events.at")?,
                fingerprint: row.get(2).ctx(self.name)?,
                estate: p.estate,
                by: p.by.unwrap_or_default(),
                source: p.source,
                previous: p.previous,
            });
        }
        Ok(out)
    }

    /// Every stored policy, in fingerprint order. Texts are not checked here;
    /// callers that run or show one check it (`audit verify` checks them all).
    pub fn stored_policies(&self) -> Result<Vec<StoredPolicyRow>, StoreError> {
        let mut stmt = self
            .tx
            .prepare("SELECT fingerprint, canonical, source, stored_at FROM policies ORDER BY fingerprint")
            .ctx(self.name)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredPolicyRow {
                    fingerprint: r.get(0)?,
                    canonical: r.get(1)?,
                    source: r.get(2)?,
                    stored_at: r.get(3)?,
                })
            })
            .ctx(self.name)?;
        rows.collect::<Result<Vec<_>, _>>().ctx(self.name)
    }
}
