//! The hash chain over the event log. Each event's hash covers its own
//! fields and the previous event's hash, so changing, removing or reordering
//! any stored event breaks every later link and [`Tx::verify_chain`] finds
//! the first broken one. Removing events from the end cannot be detected
//! from the log alone; an anchor kept elsewhere (a printed head hash) is
//! needed for that.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::Ctx;
use super::{StoreError, Tx};

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
        hex(&hasher.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
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
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

impl Tx<'_> {
    /// Recomputes every hash in `seq` order and reports the first event
    /// whose hash, link or sequence number is wrong.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        // Raw columns rather than EventRow: a tampered `at` that no longer
        // parses is a finding to report, not an error to abort on.
        let mut stmt = self
            .tx
            .prepare(
                "SELECT seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash
                 FROM events ORDER BY seq",
            )
            .ctx(self.name)?;
        let mut rows = stmt.query([]).ctx(self.name)?;
        let mut events = 0i64;
        let mut first_bad = None;
        let mut prev_seq = 0i64;
        let mut prev_hash = GENESIS_HASH.to_owned();
        while let Some(row) = rows.next().ctx(self.name)? {
            events += 1;
            if first_bad.is_some() {
                continue;
            }
            let seq: i64 = row.get(0).ctx(self.name)?;
            let ticket: Option<String> = row.get(1).ctx(self.name)?;
            let rule: Option<String> = row.get(6).ctx(self.name)?;
            let stored_prev: String = row.get(7).ctx(self.name)?;
            let hash: String = row.get(8).ctx(self.name)?;
            let why = if Some(seq) != prev_seq.checked_add(1) {
                Some(format!("sequence gap after {prev_seq}"))
            } else if stored_prev != prev_hash {
                Some(format!("previous hash does not match row {prev_seq}"))
            } else {
                let at: String = row.get(2).ctx(self.name)?;
                let kind: String = row.get(3).ctx(self.name)?;
                let payload: String = row.get(4).ctx(self.name)?;
                let fingerprint: String = row.get(5).ctx(self.name)?;
                let expected = Canonical {
                    prev_hash: &stored_prev,
                    seq,
                    ticket: ticket.as_deref().unwrap_or(""),
                    at: &at,
                    kind: &kind,
                    payload: &payload,
                    fingerprint: &fingerprint,
                    rule: rule.as_deref().unwrap_or(""),
                }
                .hash();
                (expected != hash).then(|| "hash mismatch".to_owned())
            };
            if let Some(why) = why {
                first_bad = Some((seq, why));
            }
            prev_seq = seq;
            prev_hash = hash;
        }
        Ok(ChainReport { events, first_bad })
    }
}
