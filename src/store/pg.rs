//! The PostgreSQL backend: the same store on a PostgreSQL 15+ database named
//! by a `postgres://` (or `postgresql://`) URL. The client is `tokio-postgres`
//! (the family of the `postgres` crate): a plain, well-kept implementation of
//! the wire protocol without an ORM or compile-time query checking against a
//! live database (sqlx's), which the store, with its hand-written SQL, does not
//! need. The store stays synchronous, as with SQLite: `wait.rs` runs each
//! request from the caller's thread, whatever thread that is.
//!
//! Writes are serialized the way SQLite's `BEGIN IMMEDIATE` serializes them:
//! every write transaction first takes one transaction-scoped advisory lock,
//! so one command (read ticket, decide, append, project) is all-or-nothing and
//! no two writers interleave, whether they are threads of one server, several
//! `steward serve` processes or a cron `steward tick`. The lock ends with the
//! transaction, also when a process dies: PostgreSQL rolls back and releases
//! it when the connection drops, so nothing stays claimed.
//!
//! Reads run in `REPEATABLE READ READ ONLY` transactions: one snapshot, as
//! SQLite's read transactions give.

mod copy;
mod reads;
mod schema;
mod serve;
mod tx;
mod wait;

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::{Client, IsolationLevel, NoTls};

use wait::wait;

use super::error::Ctx;
use super::{APPLICATION_ID, StoreError};

pub(super) use tx::Tx;

/// The one lock every write transaction takes ("STWD" and 1).
const WRITE_LOCK: i64 = 0x5354_5744_0000_0001;
/// Held while the schema is created or upgraded ("STWD" and 2).
const MIGRATE_LOCK: i64 = 0x5354_5744_0000_0002;

/// The PostgreSQL schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = 4;

/// Whether `db` is a PostgreSQL URL rather than a file path.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// An open connection; a `RefCell` because [`Store::read`](super::Store::read)
/// takes `&self` and the client needs `&mut` to run anything.
pub(super) struct Conn {
    client: RefCell<Client>,
    /// Statements prepared on this connection, by SQL text: a prepared
    /// statement costs one round trip less per query than an unnamed one.
    cache: Statements,
}

pub(super) type Statements = RefCell<HashMap<String, tokio_postgres::Statement>>;

impl Conn {
    /// Connects, checks that the database is steward's (or empty), and unless
    /// `read_only` creates or upgrades the schema. Returns the connection and
    /// the name used in messages (the URL without its password).
    pub(super) fn open(url: &str, read_only: bool) -> Result<(Conn, String), StoreError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            StoreError::Invalid(format!("`{}` is not a PostgreSQL URL: {e}", redact(url)))
        })?;
        let (name, at) = describe(&config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("steward");
        let rt = wait::runtime()?;
        // Connected on the runtime, which then drives the connection until
        // the client is dropped.
        let connected = wait(rt.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        }));
        let mut client = match connected {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                return Err(StoreError::CannotConnect {
                    at,
                    detail: connect_detail(&e),
                });
            }
            Err(e) => {
                return Err(StoreError::CannotConnect {
                    at,
                    detail: e.to_string(),
                });
            }
        };
        let header = {
            let t = wait(client.transaction()).ctx(&name)?;
            let header = read_header(&t, &name)?;
            wait(t.rollback()).ctx(&name)?;
            header
        };
        check_identity(&header, &name)?;
        if read_only {
            if header.blank {
                return Err(StoreError::Empty { path: name });
            }
            if header.version < SCHEMA_VERSION {
                return Err(StoreError::TooOld {
                    path: name,
                    found: header.version,
                    known: SCHEMA_VERSION,
                });
            }
        } else if header.version < SCHEMA_VERSION {
            migrate(&mut client, &name)?;
        }
        Ok((
            Conn {
                client: RefCell::new(client),
                cache: RefCell::new(HashMap::new()),
            },
            name,
        ))
    }

    pub(super) fn statements(&self) -> &Statements {
        &self.cache
    }

    pub(super) fn client(&self, name: &str) -> Result<RefMut<'_, Client>, StoreError> {
        self.client.try_borrow_mut().map_err(|_| {
            StoreError::Invalid(format!(
                "database `{name}` is already in use by this thread"
            ))
        })
    }

    /// Starts a write transaction holding the write lock.
    pub(super) fn begin_write<'c>(&'c mut self, name: &'c str) -> Result<Tx<'c>, StoreError> {
        let t = wait(self.client.get_mut().transaction()).ctx(name)?;
        wait(t.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])).ctx(name)?;
        Ok(Tx::new(t, name, &self.cache))
    }
}

/// Starts a read-only snapshot on `client`.
pub(super) fn begin_read<'c>(
    client: &'c mut Client,
    cache: &'c Statements,
    name: &'c str,
) -> Result<Tx<'c>, StoreError> {
    let t = wait(
        client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start(),
    )
    .ctx(name)?;
    Ok(Tx::new(t, name, cache))
}

/// `postgres://user@host:port/db` and `host:port` for messages.
fn describe(config: &tokio_postgres::Config) -> (String, String) {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let at = format!("{host}:{port}");
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    (format!("postgres://{user}{at}/{db}"), at)
}

/// A URL with any password replaced, for an error about the URL itself.
pub(super) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Why a connection failed, in a few words: the server's message (a wrong
/// password, a missing database) or the network's (connection refused).
fn connect_detail(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => "timed out".to_owned(),
                _ => io.to_string(),
            };
        }
        source = s.source();
    }
    let text = e.to_string();
    if text.contains("timeout") || text.contains("timed out") {
        return "timed out".to_owned();
    }
    text
}

struct Header {
    application_id: i64,
    version: i64,
    blank: bool,
}

fn read_header(t: &tokio_postgres::Transaction<'_>, name: &str) -> Result<Header, StoreError> {
    let row = wait(t.query_one(
            "SELECT to_regclass('steward_schema') IS NOT NULL,
                    (SELECT count(*) FROM pg_class
                      WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p', 'v'))",
            &[],
    ))
    .ctx(name)?;
    let ours: bool = row.try_get(0).ctx(name)?;
    let tables: i64 = row.try_get(1).ctx(name)?;
    if !ours {
        return Ok(Header {
            application_id: 0,
            version: 0,
            blank: tables == 0,
        });
    }
    let row =
        wait(t.query_opt("SELECT application_id, version FROM steward_schema", &[])).ctx(name)?;
    Ok(match row {
        Some(r) => Header {
            application_id: r.try_get(0).ctx(name)?,
            version: r.try_get(1).ctx(name)?,
            blank: false,
        },
        None => Header {
            application_id: 0,
            version: 0,
            blank: false,
        },
    })
}

fn check_identity(h: &Header, name: &str) -> Result<(), StoreError> {
    if h.application_id != i64::from(APPLICATION_ID) && !(h.application_id == 0 && h.blank) {
        return Err(StoreError::ForeignDatabase {
            path: name.to_owned(),
            found: u32::try_from(h.application_id).unwrap_or(0),
        });
    }
    if h.version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: name.to_owned(),
            found: h.version,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Creates or upgrades the schema, one migration per transaction, under a
/// lock so that servers starting together do not race; the header is read
/// again under the lock because another process may have done the work.
fn migrate(client: &mut Client, name: &str) -> Result<(), StoreError> {
    let migrations = schema::migrations();
    loop {
        let t = wait(client.transaction()).ctx(name)?;
        wait(t.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])).ctx(name)?;
        let header = read_header(&t, name)?;
        check_identity(&header, name)?;
        let Some(sql) = usize::try_from(header.version)
            .ok()
            .and_then(|v| migrations.get(v))
        else {
            return wait(t.commit()).ctx(name);
        };
        if header.version == 0 {
            wait(t.batch_execute(&format!(
                "CREATE TABLE steward_schema (application_id BIGINT NOT NULL, version BIGINT NOT NULL);
                 INSERT INTO steward_schema VALUES ({}, 0);",
                i64::from(APPLICATION_ID)
            )))
            .ctx(name)?;
        }
        wait(t.batch_execute(sql)).ctx(name)?;
        wait(t.execute("UPDATE steward_schema SET version = version + 1", &[])).ctx(name)?;
        wait(t.commit()).ctx(name)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_counts_the_migrations() {
        assert_eq!(schema::migrations().len() as i64, SCHEMA_VERSION);
    }

    #[test]
    fn urls_are_told_from_paths_and_passwords_never_shown() {
        assert!(is_url("postgres://u@h/db"));
        assert!(is_url("postgresql://h/db"));
        assert!(!is_url("steward.db"));
        assert!(!is_url("./postgres://x"));
        assert_eq!(
            redact("postgres://alice:secret@db.example:5433/steward"),
            "postgres://alice:***@db.example:5433/steward"
        );
        let config =
            tokio_postgres::Config::from_str("postgres://alice:secret@db.example:5433/steward")
                .unwrap();
        assert_eq!(
            describe(&config),
            (
                "postgres://alice@db.example:5433/steward".to_owned(),
                "db.example:5433".to_owned()
            )
        );
    }
}
