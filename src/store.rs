//! Persistence for steward: the hash-chained event log, the stored
//! policies, and the ticket and timer projections rebuilt from the log.
//!
//! A [`Store`] is one connection to one database: an SQLite file (the
//! default) or a PostgreSQL database named by a `postgres://` URL (see
//! `pg.rs`); [`Tx`] is the one interface over both (`backend.rs`). All writes go through
//! [`Store::write`], which wraps the caller's closure in a single
//! `BEGIN IMMEDIATE` transaction, so one steward command is all-or-nothing;
//! reads go through [`Store::read`] and see one consistent snapshot. The
//! store never reads the clock: every time it records is handed in.

mod applied;
mod backend;
mod chain;
mod copy;
mod error;
mod marks;
mod pg;
mod query;
mod registry;
mod scan;
mod schema;
mod serve;
mod time;
mod tx;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use applied::{Application, StoredPolicyRow, active_setting_key};
pub use backend::{Backend, Tx};
pub use chain::{ChainHead, ChainReport, GENESIS_HASH};
pub use copy::TableCopy;
pub use error::StoreError;
pub use marks::Mark;
pub use query::{ListedTicket, TicketQuery, TicketSort};
pub use registry::{ESTATE_DECLARED, EXTERNAL_EVENT, OWNER_VISITED};
pub use scan::{RawEvent, RawTicket, RawTimer, TicketRecord, expected_schema};
pub use serve::{Delivery, Gauges, Lease, OutboxEntry, OutboxView, Remembered, TokenRow};
pub use tx::{EventRow, NewEvent, TicketFilter, TicketRow, Timer};

use error::Ctx;
use schema::MIGRATIONS;

/// Whether `text` is how the store writes `at` (checked without formatting:
/// `audit verify` asks once per event).
pub fn time_matches(text: &str, at: chrono::DateTime<chrono::Utc>) -> bool {
    time::parse(text, "", "").is_ok_and(|t| t == time::truncate(at)) && text.len() == 20
}

/// `at` as the store writes it: RFC 3339 UTC to the second.
pub fn time_text(at: chrono::DateTime<chrono::Utc>) -> Result<String, StoreError> {
    time::format(at)
}

/// `PRAGMA application_id` of every steward database: "STWD" in ASCII.
pub const APPLICATION_ID: u32 = 0x5354_5744;

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another process's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `db` (as given to `--db` or `STEWARD_DB`) names a PostgreSQL
/// database rather than an SQLite file.
pub fn is_postgres(db: &Path) -> bool {
    db.to_str().is_some_and(pg::is_url)
}

/// `db` as shown to people: a PostgreSQL URL without its password.
pub fn display_name(db: &Path) -> String {
    match db.to_str().filter(|d| pg::is_url(d)) {
        Some(url) => pg::redact(url),
        None => db.display().to_string(),
    }
}

/// An open steward database.
pub struct Store {
    conn: Conn,
    path: PathBuf,
    /// `path` as shown in messages, computed once because every error needs it.
    name: String,
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

enum Conn {
    Sqlite(Connection),
    Pg(pg::Conn),
}

/// What the database header says about whose file this is.
struct Header {
    application_id: u32,
    version: i64,
    /// No schema objects at all: a file SQLite (or we) just created.
    blank: bool,
}

impl Store {
    /// Opens the database at `path` for reading and writing, creating it if
    /// it does not exist and bringing its schema up to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(url) = path.to_str().filter(|p| pg::is_url(p)) {
            return Store::open_pg(path, url, false);
        }
        let name = path.display().to_string();
        // No SQLITE_OPEN_URI: a file literally named `file:...` is a file.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).ctx(&name)?;
        Store::init(conn, path.to_path_buf(), name, false)
    }

    /// Opens an existing database without ever writing to it, for commands
    /// that only look (show, list, verify). The schema must already be
    /// current, since upgrading would be a write.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if let Some(url) = path.to_str().filter(|p| pg::is_url(p)) {
            return Store::open_pg(path, url, true);
        }
        let name = path.display().to_string();
        // Checked up front because SQLite's CANTOPEN does not say why.
        if !path.exists() {
            return Err(StoreError::NotFound { path: name });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).ctx(&name)?;
        Store::init(conn, path.to_path_buf(), name, true)
    }

    /// A private database that lives as long as the returned value, for
    /// tests and simulations.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let name = ":memory:".to_owned();
        let conn = Connection::open_in_memory().ctx(&name)?;
        Store::init(conn, PathBuf::from(":memory:"), name, false)
    }

    fn open_pg(path: &Path, url: &str, read_only: bool) -> Result<Store, StoreError> {
        let (conn, name) = pg::Conn::open(url, read_only)?;
        Ok(Store {
            conn: Conn::Pg(conn),
            path: path.to_path_buf(),
            name,
            read_only,
        })
    }

    /// The SQLite connection under an SQLite store, for the store's own tests.
    #[cfg(test)]
    fn sqlite_conn(&self) -> &Connection {
        match &self.conn {
            Conn::Sqlite(c) => c,
            Conn::Pg(_) => unreachable!("an SQLite test store"),
        }
    }

    /// Which kind of database this is.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }

    /// The database as named in messages (a URL without its password).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this store was opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction and commits if it
    /// returns `Ok`; on `Err` (or a panic) nothing it did is kept.
    ///
    /// IMMEDIATE rather than DEFERRED because a deferred transaction that
    /// upgrades to a writer in WAL mode fails at once with SQLITE_BUSY instead
    /// of waiting on the busy timeout.
    pub fn write<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut Tx<'_>) -> Result<T, E>,
    {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.name.clone(),
            }
            .into());
        }
        let tx = match &mut self.conn {
            Conn::Sqlite(conn) => {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .ctx(&self.name)?;
                Tx::sqlite(tx::Tx::new(tx, &self.name))
            }
            Conn::Pg(conn) => Tx::pg(conn.begin_write(&self.name)?),
        };
        let mut tx = tx;
        match f(&mut tx) {
            Ok(value) => {
                tx.commit()?;
                Ok(value)
            }
            Err(err) => {
                // The caller's error explains what happened; a failing
                // rollback would only hide it, and SQLite rolls back the
                // open transaction when the connection closes anyway.
                let _ = tx.rollback();
                Err(err)
            }
        }
    }

    /// Runs `f` inside a read transaction so that everything it reads comes
    /// from the same snapshot, even while other processes write.
    pub fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&Tx<'_>) -> Result<T, E>,
    {
        match &self.conn {
            Conn::Sqlite(conn) => {
                let tx = conn.unchecked_transaction().ctx(&self.name)?;
                let tx = Tx::sqlite(tx::Tx::new(tx, &self.name));
                let result = f(&tx);
                // Nothing was written, so ending the snapshot cannot lose anything;
                // a failure here must not mask the result already computed.
                let _ = tx.rollback();
                result
            }
            Conn::Pg(conn) => {
                let mut client = conn.client(&self.name)?;
                let tx = Tx::pg(pg::begin_read(&mut client, conn.statements(), &self.name)?);
                let result = f(&tx);
                let _ = tx.rollback();
                result
            }
        }
    }

    fn init(
        mut conn: Connection,
        path: PathBuf,
        name: String,
        read_only: bool,
    ) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).ctx(&name)?;
        // A ticket command cycles through more distinct statements than rusqlite's
        // default cache of 16 holds; re-preparing them showed in profiles.
        conn.set_prepared_statement_cache_capacity(64);
        // Identity first: the pragmas below would otherwise modify somebody
        // else's database before we notice it is not ours.
        let header = {
            // One snapshot for all three reads: a concurrent first open may
            // commit the initial schema in between otherwise, and tables
            // without our application id would look like a foreign file.
            let tx = conn.unchecked_transaction().ctx(&name)?;
            read_header(&tx, &name)?
        };
        check_identity(&header, &name)?;
        conn.pragma_update(None, "foreign_keys", true).ctx(&name)?;
        if read_only {
            if header.version < SCHEMA_VERSION {
                return Err(StoreError::TooOld {
                    path: name,
                    found: header.version,
                    known: SCHEMA_VERSION,
                });
            }
        } else {
            // WAL lets readers (show, list) run while a command writes, and
            // makes NORMAL synchronous safe against corruption.
            enable_wal(&conn, &name)?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .ctx(&name)?;
            if header.version < SCHEMA_VERSION {
                migrate(&mut conn, &name)?;
            }
        }
        Ok(Store {
            conn: Conn::Sqlite(conn),
            path,
            name,
            read_only,
        })
    }
}

/// Switches the database to WAL unless it already is.
///
/// SQLite answers a journal-mode change that races another connection with
/// SQLITE_BUSY at once, without consulting the busy handler, so two commands
/// creating the same new database need this retry; it waits (in total) as
/// long as the busy timeout would.
fn enable_wal(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let current: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .ctx(name)?;
    if current.eq_ignore_ascii_case("wal") {
        return Ok(());
    }
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_millis(1);
    loop {
        let result: rusqlite::Result<String> =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0));
        match result {
            Ok(_) => return Ok(()),
            Err(e)
                if waited < BUSY_TIMEOUT
                    && e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                std::thread::sleep(pause);
                waited += pause;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(error::from_sqlite(e, name)),
        }
    }
}

fn read_header(conn: &Connection, name: &str) -> Result<Header, StoreError> {
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .ctx(name)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .ctx(name)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .ctx(name)?;
    Ok(Header {
        // SQLite stores the id as a signed 32-bit integer; we compare and
        // print its bit pattern.
        application_id: application_id as u32,
        version,
        blank: objects == 0 && version == 0,
    })
}

fn check_identity(header: &Header, name: &str) -> Result<(), StoreError> {
    if header.application_id != APPLICATION_ID && !(header.application_id == 0 && header.blank) {
        return Err(StoreError::ForeignDatabase {
            path: name.to_owned(),
            found: header.application_id,
        });
    }
    if header.version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: name.to_owned(),
            found: header.version,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies the pending migrations, one transaction each.
///
/// The header is read again inside every transaction because another
/// process may have created or upgraded the database since we last looked.
fn migrate(conn: &mut Connection, name: &str) -> Result<(), StoreError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(name)?;
        let header = read_header(&tx, name)?;
        check_identity(&header, name)?;
        let Some(sql) = usize::try_from(header.version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return tx.commit().ctx(name);
        };
        if header.version == 0 {
            // Signed in SQLite; the same bit pattern as APPLICATION_ID.
            tx.pragma_update(None, "application_id", APPLICATION_ID as i32)
                .ctx(name)?;
        }
        tx.execute_batch(sql).ctx(name)?;
        tx.pragma_update(None, "user_version", header.version + 1)
            .ctx(name)?;
        tx.commit().ctx(name)?;
    }
}
