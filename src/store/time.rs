//! How times are kept in the database: RFC 3339 UTC to the second, with a
//! four-digit year, so that comparing the text compares the times and SQL
//! range queries on it (due timers) are correct.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

use super::StoreError;

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// The stored text of `at`; sub-second precision is dropped.
pub(super) fn format(at: DateTime<Utc>) -> Result<String, StoreError> {
    if !(0..=9999).contains(&at.year()) {
        return Err(StoreError::TimeOutOfRange { at });
    }
    Ok(at.format(FORMAT).to_string())
}

/// `at` as it will read back from the database.
pub(super) fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(0).unwrap_or(at)
}

pub(super) fn parse(text: &str, path: &str, column: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(text, FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| StoreError::Corrupt {
            path: path.to_owned(),
            detail: format!("{column} holds `{text}`, which is not a time"),
        })
}
