//! What an auditor reads about policies without sqlite3: every policy stored
//! in the database with each time it was applied, and one stored policy by
//! fingerprint, its text checked against the fingerprint before it is shown.

use serde::Serialize;

use crate::digest::sha256_hex;
use crate::policy::Policy;
use crate::service::AppError;
use crate::store::{Application, Store, StoreError};

/// A policy stored in the database and its history.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPolicy {
    pub fingerprint: String,
    /// `None` when the stored text does not read (see `intact`).
    pub id: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    /// Its time zone (IANA name), in which `policy list` shows its applications.
    pub timezone: Option<String>,
    /// When its text was first stored (RFC 3339 UTC).
    pub stored_at: String,
    pub source: Option<String>,
    /// Whether the stored text still hashes to its fingerprint.
    pub intact: bool,
    /// Each `policy apply` of it, oldest first.
    pub applied: Vec<Application>,
}

/// Every stored policy, in order of first application (never-applied last).
pub fn list(store: &Store) -> Result<Vec<StoredPolicy>, AppError> {
    store.read(|tx| -> Result<_, AppError> {
        let applications = tx.applications()?;
        let mut out: Vec<StoredPolicy> = tx
            .stored_policies()?
            .into_iter()
            .map(|row| {
                let crate::store::StoredPolicyRow {
                    fingerprint,
                    canonical: text,
                    source,
                    stored_at,
                } = row;
                let intact = sha256_hex(text.as_bytes()) == fingerprint;
                let parsed = serde_json::from_str::<Policy>(&text).ok();
                let applied = applications
                    .iter()
                    .filter(|a| a.fingerprint == fingerprint)
                    .cloned()
                    .collect();
                StoredPolicy {
                    id: parsed.as_ref().map(|p| p.id.clone()),
                    version: parsed.as_ref().map(|p| p.version.clone()),
                    timezone: parsed.as_ref().map(|p| p.timezone.clone()),
                    title: parsed.map(|p| p.title),
                    fingerprint,
                    stored_at,
                    source,
                    intact,
                    applied,
                }
            })
            .collect();
        out.sort_by_key(|p| p.applied.first().map_or(i64::MAX, |a| a.seq));
        Ok(out)
    })
}

/// The stored policy whose fingerprint is `prefix` or starts with it (at least
/// 8 digits, and only one may match), read back and checked.
pub fn show(store: &Store, prefix: &str) -> Result<(String, Policy), AppError> {
    let prefix = prefix
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    if prefix.len() < 8 {
        return Err(AppError::Invalid(format!(
            "fingerprint `{prefix}` is too short: give at least 8 hex digits"
        )));
    }
    store.read(|tx| -> Result<_, AppError> {
        let matches: Vec<String> = tx
            .stored_policies()?
            .into_iter()
            .map(|p| p.fingerprint)
            .filter(|fp| fp.starts_with(&prefix))
            .collect();
        let fp = match matches.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(AppError::Invalid(format!(
                    "no policy with fingerprint {prefix}… is stored in this database (see `steward policy list`)"
                )));
            }
            many => {
                return Err(AppError::Invalid(format!(
                    "fingerprint {prefix}… matches {} stored policies: give more digits",
                    many.len()
                )));
            }
        };
        // `tx.policy` refuses a text that no longer hashes to `fp`.
        let text = tx.policy(&fp)?.ok_or_else(|| AppError::Store(StoreError::Invalid(fp.clone())))?;
        let policy = serde_json::from_str(&text)
            .map_err(|e| AppError::UnreadablePolicy(fp.clone(), e.to_string()))?;
        Ok((fp, policy))
    })
}
