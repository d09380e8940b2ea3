//! Checkpoints: the head of the log as a small record an auditor keeps outside
//! the database (a ticket, an e-mail, a signed file). A hash chain shows any
//! change *inside* the log, but not events removed from its end, nor a log whose
//! every hash was recomputed; a head kept elsewhere shows both: the log must
//! still hold that event with that hash, and the chain must be intact up to it.
//!
//! Optionally signed with Ed25519, so a checkpoint's own record cannot be forged
//! by whoever can edit the database: the secret key lives in a file the auditor
//! keeps (`audit keygen`), never in the database.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::hex;
use crate::store::{ChainHead, ChainReport, Tx};

/// The `format` of every checkpoint this steward writes.
pub const FORMAT: &str = "steward-checkpoint/1";

/// The head of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    /// The head event's time, RFC 3339 UTC.
    pub at: String,
}

impl From<ChainHead> for Head {
    fn from(h: ChainHead) -> Head {
        Head {
            seq: h.seq,
            hash: h.hash,
            at: h.at,
        }
    }
}

/// A checkpoint record, as `audit checkpoint` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// The database it was taken of, for the reader; not part of what is proved.
    pub database: String,
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub events: i64,
    /// When it was taken (the CLI's clock or `--now`).
    pub taken_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signed>,
}

/// An Ed25519 signature over [`Checkpoint::message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub algorithm: String,
    /// 64 hex digits.
    pub public_key: String,
    /// 128 hex digits.
    pub value: String,
}

/// What [`check`] found for a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointCheck {
    pub ok: bool,
    /// The checkpoint's head.
    pub seq: i64,
    /// Empty when `ok`.
    pub problem: String,
    /// `verified`, `unsigned`, or `not checked` (signed, but no key was given).
    pub signature: String,
}

impl Checkpoint {
    /// The checkpoint of a log whose head is `head` (`None`: an empty log).
    pub fn of(database: &str, head: Option<&Head>, events: i64, taken_at: &str) -> Checkpoint {
        let (seq, hash, at) = match head {
            Some(h) => (h.seq, h.hash.clone(), h.at.clone()),
            None => (0, crate::store::GENESIS_HASH.to_owned(), String::new()),
        };
        Checkpoint {
            format: FORMAT.to_owned(),
            database: database.to_owned(),
            seq,
            hash,
            at,
            events,
            taken_at: taken_at.to_owned(),
            signature: None,
        }
    }

    /// The bytes a signature covers: every field that is proved, one a line.
    pub fn message(&self) -> String {
        format!(
            "{}\nseq {}\nhash {}\nat {}\nevents {}\ntaken_at {}\n",
            self.format, self.seq, self.hash, self.at, self.events, self.taken_at
        )
    }

    pub fn sign(&mut self, key: &SigningKey) {
        let sig = key.sign(self.message().as_bytes());
        self.signature = Some(Signed {
            algorithm: "ed25519".to_owned(),
            public_key: hex(key.verifying_key().as_bytes()),
            value: hex(&sig.to_bytes()),
        });
    }

    /// Reads a checkpoint file; the error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<Checkpoint, String> {
        let text = read_small(path)?;
        let c: Checkpoint = serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not a steward checkpoint: {e}", path.display()))?;
        if c.format != FORMAT {
            return Err(format!(
                "`{}` is a checkpoint of format `{}`; this steward reads `{FORMAT}`",
                path.display(),
                c.format
            ));
        }
        Ok(c)
    }

    /// `verified` if signed by `public_key`; an error naming why not otherwise.
    fn signature_status(&self, public_key: Option<&str>) -> Result<&'static str, String> {
        match (&self.signature, public_key) {
            (None, None) => Ok("unsigned"),
            (None, Some(_)) => {
                Err("the checkpoint is not signed, but a public key was required".into())
            }
            (Some(_), None) => Ok("not checked"),
            (Some(s), Some(expected)) => {
                let key = parse_public_key(expected)?;
                if s.algorithm != "ed25519" {
                    return Err(format!("unknown signature algorithm `{}`", s.algorithm));
                }
                if !s.public_key.eq_ignore_ascii_case(&hex(key.as_bytes())) {
                    return Err("the checkpoint was signed by another key".into());
                }
                let bytes: [u8; 64] = unhex(&s.value)
                    .and_then(|b| b.try_into().ok())
                    .ok_or("the signature is not 128 hex digits")?;
                key.verify(self.message().as_bytes(), &Signature::from_bytes(&bytes))
                    .map(|()| "verified")
                    .map_err(|_| {
                        "the signature does not match the checkpoint: it was altered".into()
                    })
            }
        }
    }
}

/// Does the log still contain the checkpoint's head unchanged, and extend it?
pub fn check(
    tx: &Tx<'_>,
    c: &Checkpoint,
    public_key: Option<&str>,
    chain: &ChainReport,
) -> CheckpointCheck {
    let outcome = |ok: bool, problem: String, signature: &str| CheckpointCheck {
        ok,
        seq: c.seq,
        problem,
        signature: signature.to_owned(),
    };
    let signature = match c.signature_status(public_key) {
        Ok(s) => s,
        Err(e) => return outcome(false, e, "invalid"),
    };
    let head = chain.head.as_ref().map_or(0, |h| h.seq);
    if c.seq > head {
        let problem = format!(
            "the log ends at event {head} but the checkpoint's head is event {}: events {} to {} are missing (the log was truncated)",
            c.seq,
            head + 1,
            c.seq
        );
        return outcome(false, problem, signature);
    }
    if let Some((bad, why)) = &chain.first_bad
        && *bad <= c.seq
    {
        return outcome(
            false,
            format!("event {bad}, before the checkpoint's head, was changed ({why})"),
            signature,
        );
    }
    let stored = if c.seq == 0 {
        Ok(Some(crate::store::GENESIS_HASH.to_owned()))
    } else {
        tx.event_hash(c.seq)
    };
    match stored {
        Ok(Some(h)) if h == c.hash => outcome(true, String::new(), signature),
        Ok(Some(_)) => outcome(
            false,
            format!(
                "event {} no longer has the checkpoint's hash: the log was rewritten at or before event {}",
                c.seq, c.seq
            ),
            signature,
        ),
        Ok(None) => outcome(
            false,
            format!("event {} is missing from the log", c.seq),
            signature,
        ),
        Err(e) => outcome(false, e.to_string(), signature),
    }
}

/// A new key pair from the operating system's random source.
pub fn generate_key() -> Result<SigningKey, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no random source: {e}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The secret key file's text: the 32-byte seed in hex, one line.
pub fn key_text(key: &SigningKey) -> String {
    format!("{}\n", hex(key.as_bytes()))
}

pub fn public_key_text(key: &SigningKey) -> String {
    hex(key.verifying_key().as_bytes())
}

pub fn read_key(path: &Path) -> Result<SigningKey, String> {
    let text = read_small(path)?;
    let seed: [u8; 32] = unhex(text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            format!(
                "`{}` is not an Ed25519 secret key (64 hex digits)",
                path.display()
            )
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A public key given as 64 hex digits, or as a file holding them.
fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let digits = if Path::new(text).is_file() {
        read_small(Path::new(text))?
    } else {
        text.to_owned()
    };
    let bytes: [u8; 32] = unhex(digits.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key is not 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "the public key is not a valid Ed25519 key".into())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
        })
        .collect()
}

/// Checkpoints and keys are a few hundred bytes; anything much larger is not one.
fn read_small(path: &Path) -> Result<String, String> {
    const LIMIT: u64 = 64 * 1024;
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !meta.is_file() || meta.len() > LIMIT {
        return Err(format!(
            "`{}` is not a checkpoint or key file",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let head = Head {
            seq: 7,
            hash: "ab".repeat(32),
            at: "2026-07-01T01:00:00Z".into(),
        };
        Checkpoint::of("x.db", Some(&head), 7, "2026-07-02T00:00:00Z")
    }

    #[test]
    fn signed_checkpoint_verifies_and_any_altered_field_fails() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = public_key_text(&key);
        let mut c = sample();
        c.sign(&key);
        assert_eq!(c.signature_status(Some(&public)), Ok("verified"));
        let mut altered = c.clone();
        altered.seq = 6;
        assert!(
            altered
                .signature_status(Some(&public))
                .unwrap_err()
                .contains("altered")
        );
        let mut altered = c.clone();
        altered.hash = "cd".repeat(32);
        assert!(altered.signature_status(Some(&public)).is_err());
        let other = public_key_text(&SigningKey::from_bytes(&[8u8; 32]));
        assert!(
            c.signature_status(Some(&other))
                .unwrap_err()
                .contains("another key")
        );
    }

    #[test]
    fn unsigned_checkpoint_fails_only_when_a_key_is_required() {
        let c = sample();
        assert_eq!(c.signature_status(None), Ok("unsigned"));
        let public = public_key_text(&SigningKey::from_bytes(&[7u8; 32]));
        assert!(c.signature_status(Some(&public)).is_err());
    }

    #[test]
    fn unhex_refuses_odd_and_non_hex() {
        assert_eq!(unhex("0aff"), Some(vec![10, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
