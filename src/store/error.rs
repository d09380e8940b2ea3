//! The one error type of the store. Every message is written for the person
//! running steward: it names the database file and, where there is one, the
//! thing to do about it. SQLite's own result codes are translated here so that
//! callers can match on what went wrong instead of parsing SQLite's text.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::ErrorCode;

use super::{APPLICATION_ID, BUSY_TIMEOUT};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file exists but SQLite does not recognise it (SQLITE_NOTADB).
    #[error("`{path}` is not a steward database (not an SQLite file)")]
    NotADatabase { path: String },

    /// An SQLite database that belongs to some other program.
    #[error(
        "`{path}` is not a steward database (application id {found:#x} instead of {expected:#x})",
        expected = APPLICATION_ID
    )]
    ForeignDatabase { path: String, found: u32 },

    #[error(
        "database `{path}` has schema version {found}, newer than this steward ({known}): upgrade steward"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },

    /// Only read-only opens report this: a writable open upgrades instead.
    #[error(
        "database `{path}` has schema version {found}, older than this steward ({known}): run a steward command that writes to it once to upgrade it"
    )]
    TooOld {
        path: String,
        found: i64,
        known: i64,
    },

    #[error("database `{path}` does not exist")]
    NotFound { path: String },

    /// A PostgreSQL database with no tables at all, opened to read.
    #[error("database `{path}` holds no steward data yet: run `steward policy apply PATH` first")]
    Empty { path: String },

    #[error("cannot open database `{path}`: {source}")]
    CannotOpen {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    /// SQLITE_BUSY or SQLITE_LOCKED after the busy timeout ran out.
    #[error("database `{path}` is locked by another process (waited {}s)", waited.as_secs())]
    Locked { path: String, waited: Duration },

    /// SQLITE_FULL: nothing of the failed command was kept.
    #[error(
        "the disk holding database `{path}` is full: nothing was written; free space and retry"
    )]
    DiskFull { path: String },

    /// SQLITE_READONLY, or a write attempted through a read-only open.
    #[error("database `{path}` is read-only")]
    ReadOnly { path: String },

    /// SQLITE_CORRUPT, or a stored value this steward cannot read back.
    #[error("database `{path}` is damaged: {detail}")]
    Corrupt { path: String, detail: String },

    #[error("{what} is not valid JSON: {source}")]
    BadJson {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// Text order of stored times only equals time order for four-digit years.
    #[error("time {at} is outside the years 0000 to 9999 that steward can store")]
    TimeOutOfRange { at: DateTime<Utc> },

    /// A value handed to the store that it refuses to keep, e.g. a field
    /// containing the hash separator.
    #[error("{0}")]
    Invalid(String),

    /// The fingerprint is meant to identify the canonical text, so two texts
    /// under one fingerprint mean the caller computed it wrongly.
    #[error("policy `{fingerprint}` is already stored with a different canonical text")]
    PolicyConflict { fingerprint: String },

    /// Stored text or bytes that no longer hash to the digest they are stored
    /// under, or a projection that disagrees with its own state: somebody
    /// changed the database without steward. Nothing is run on it.
    #[error(
        "database `{path}`: {what} was changed outside steward; nothing was written (run `steward audit verify`)"
    )]
    Tampered { path: String, what: String },

    /// A PostgreSQL server that cannot be reached or refuses us (`at` is
    /// `host:port`, `detail` the reason: connection refused, bad password, ...).
    #[error("cannot connect to PostgreSQL at {at}: {detail}")]
    CannotConnect { at: String, detail: String },

    /// The connection to PostgreSQL broke; the server rolled the open
    /// transaction back, so the command left nothing behind and can be retried.
    #[error(
        "database `{path}`: the connection to PostgreSQL was lost ({detail}); nothing of this command was kept, retry it"
    )]
    ConnectionLost { path: String, detail: String },

    /// Any other PostgreSQL failure, with the server's own message.
    #[error("database `{path}`: {detail}")]
    Postgres { path: String, detail: String },

    /// Any other SQLite failure; these point at a bug rather than at the user.
    #[error("database `{path}`: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// Translates a rusqlite error into the variant a user can act on.
pub(super) fn from_sqlite(err: rusqlite::Error, path: &str) -> StoreError {
    let path = path.to_owned();
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path,
            waited: BUSY_TIMEOUT,
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
        Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path,
            detail: err.to_string(),
        },
        Some(ErrorCode::CannotOpen) => StoreError::CannotOpen { path, source: err },
        _ => StoreError::Sqlite { path, source: err },
    }
}

/// Lets every SQLite call site say `.ctx(path)?` instead of spelling out the
/// translation.
pub(super) trait Ctx<T> {
    fn ctx(self, path: &str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, path: &str) -> Result<T, StoreError> {
        self.map_err(|e| from_sqlite(e, path))
    }
}

impl<T> Ctx<T> for Result<T, tokio_postgres::Error> {
    fn ctx(self, path: &str) -> Result<T, StoreError> {
        self.map_err(|e| from_postgres(&e, path))
    }
}

/// Translates a PostgreSQL client error: the server's message when it sent
/// one, a lost connection as such, anything else by its text.
pub(super) fn from_postgres(err: &tokio_postgres::Error, path: &str) -> StoreError {
    let path = path.to_owned();
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        use tokio_postgres::error::SqlState;
        if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            return StoreError::ReadOnly { path };
        }
        if *code == SqlState::DISK_FULL {
            return StoreError::DiskFull { path };
        }
        if *code == SqlState::ADMIN_SHUTDOWN || *code == SqlState::CRASH_SHUTDOWN {
            return StoreError::ConnectionLost {
                path,
                detail: db.message().to_owned(),
            };
        }
        return StoreError::Postgres {
            path,
            detail: format!("{} ({})", db.message(), code.code()),
        };
    }
    if err.is_closed() {
        return StoreError::ConnectionLost {
            path,
            detail: "the server closed it".to_owned(),
        };
    }
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return StoreError::ConnectionLost {
                path,
                detail: io.to_string(),
            };
        }
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    StoreError::Postgres { path, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_as_such() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (b BLOB); PRAGMA max_page_count = 2;")
            .unwrap();
        let err = conn
            .execute("INSERT INTO t VALUES (zeroblob(100000))", [])
            .unwrap_err();
        let err = from_sqlite(err, "x.db");
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the disk holding database `x.db` is full: nothing was written; free space and retry"
        );
    }
}
