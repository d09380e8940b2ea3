//! The hash chain over the event log. Each event's hash covers its own
//! fields and the previous event's hash, so changing, removing or reordering
//! any stored event breaks every later link and [`Tx::verify_chain`] finds
//! the first broken one. Removing events from the end cannot be detected
//! from the log alone; an anchor kept elsewhere (a checkpoint of the head,
//! `steward audit checkpoint`) is needed for that.

use std::collections::BTreeSet;

use rusqlite::Row;
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;
use super::error::Ctx;
use super::tx::Tx;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Between fields in the hashed serialization; the store refuses it inside
/// fields so the serialization stays unambiguous.
pub(super) const SEPARATOR: char = '\u{1f}';

/// The fields of an event in hashing order, exactly as stored (`at` as its
/// stored text, absent ticket and rule as empty strings).
pub(super) struct Canonical<'a> {
    pub prev_hash: &'a str,
    pub seq: i64,
    pub ticket: &'a str,
    pub at: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub fingerprint: &'a str,
    pub rule: &'a str,
}

impl Canonical<'_> {
    /// Lowercase hex SHA-256 of the fields joined by U+001F.
    pub fn hash(&self) -> String {
        let seq = self.seq.to_string();
        let fields = [
            self.prev_hash,
            &seq,
            self.ticket,
            self.at,
            self.kind,
            self.payload,
            self.fingerprint,
            self.rule,
        ];
        let mut hasher = Sha256::new();
        let mut sep = [0u8; 4];
        let sep = SEPARATOR.encode_utf8(&mut sep).as_bytes();
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                hasher.update(sep);
            }
            hasher.update(field.as_bytes());
        }
        crate::digest::hex(&hasher.finalize())
    }
}

/// The outcome of [`Tx::verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// Number of events in the log.
    pub events: i64,
    /// The first broken event: its `seq` and why ("hash mismatch",
    /// "previous hash does not match row N", "sequence gap after N"; N = 0
    /// stands for the start of the log).
    pub first_bad: Option<(i64, String)>,
    /// The last event as stored; `None` for an empty log.
    pub head: Option<ChainHead>,
    /// Every policy fingerprint an event names (empty ones left out).
    pub fingerprints: BTreeSet<String>,
}

/// The newest event of the log: what a checkpoint records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
    /// As stored (RFC 3339 UTC).
    pub at: String,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

/// Text of column `i`, borrowed from SQLite's row buffer: the chain pass reads
/// every event, and an allocation per field showed in its profile.
fn text<'r>(row: &'r Row<'_>, i: usize, name: &str) -> Result<&'r str, StoreError> {
    match row.get_ref(i).ctx(name)? {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| StoreError::Corrupt {
            path: name.to_owned(),
            detail: format!("column {i} of an event is not UTF-8"),
        }),
        ValueRef::Null => Ok(""),
        _ => Err(StoreError::Corrupt {
            path: name.to_owned(),
            detail: format!("column {i} of an event is not text"),
        }),
    }
}

impl Tx<'_> {
    /// Recomputes every hash in `seq` order and reports the first event
    /// whose hash, link or sequence number is wrong.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let name = self.name;
        let mut stmt = self
            .tx
            .prepare(
                "SELECT seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash
                 FROM events ORDER BY seq",
            )
            .ctx(name)?;
        let mut rows = stmt.query([]).ctx(name)?;
        let mut events = 0i64;
        let mut first_bad = None;
        let mut prev_seq = 0i64;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut last_at = String::new();
        let mut fingerprints = BTreeSet::new();
        let mut last_fingerprint = String::new();
        while let Some(row) = rows.next().ctx(name)? {
            events += 1;
            let seq: i64 = row.get(0).ctx(name)?;
            let fingerprint = text(row, 5, name)?;
            if fingerprint != last_fingerprint {
                if !fingerprint.is_empty() && !fingerprints.contains(fingerprint) {
                    fingerprints.insert(fingerprint.to_owned());
                }
                last_fingerprint.clear();
                last_fingerprint.push_str(fingerprint);
            }
            let hash = text(row, 8, name)?;
            let at = text(row, 2, name)?;
            if first_bad.is_none() {
                let stored_prev = text(row, 7, name)?;
                let why = if Some(seq) != prev_seq.checked_add(1) {
                    Some(format!("sequence gap after {prev_seq}"))
                } else if stored_prev != prev_hash {
                    Some(format!("previous hash does not match row {prev_seq}"))
                } else {
                    let expected = Canonical {
                        prev_hash: stored_prev,
                        seq,
                        ticket: text(row, 1, name)?,
                        at,
                        kind: text(row, 3, name)?,
                        payload: text(row, 4, name)?,
                        fingerprint,
                        rule: text(row, 6, name)?,
                    }
                    .hash();
                    (expected != hash).then(|| "hash mismatch".to_owned())
                };
                if let Some(why) = why {
                    first_bad = Some((seq, why));
                }
            }
            prev_seq = seq;
            prev_hash.clear();
            prev_hash.push_str(hash);
            last_at.clear();
            last_at.push_str(at);
        }
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
}
