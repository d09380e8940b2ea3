#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Which database the tests run on. By default every test database is an
//! SQLite file in the test's temporary directory. With
//! `STEWARD_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/DBNAME` set, the
//! tests that take their database from [`fresh_db`] get a new PostgreSQL
//! database each (`CREATE DATABASE` through that URL) instead. A set variable
//! with an unreachable server fails those tests: it never silently falls back
//! to SQLite.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub const VAR: &str = "STEWARD_TEST_POSTGRES";

/// The admin URL of the PostgreSQL server the tests run on, if any.
pub fn postgres() -> Option<String> {
    std::env::var(VAR).ok().filter(|v| !v.is_empty())
}

pub fn is_pg() -> bool {
    postgres().is_some()
}

/// A new empty database: `dir/steward.db`, or a new PostgreSQL database.
pub fn fresh_db(dir: &Path) -> PathBuf {
    match postgres() {
        None => dir.join("steward.db"),
        Some(admin) => PathBuf::from(create_database(&admin)),
    }
}

/// Runs `f` on a thread of its own: the `postgres` crate's synchronous client
/// refuses to run on a thread that is driving a tokio runtime (async tests).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    })
}

/// Creates a database named after this process and a counter; returns its URL.
pub fn create_database(admin: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "steward_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    off_runtime(|| {
        let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap_or_else(|e| {
            panic!("{VAR} is set but PostgreSQL at {admin} is unreachable: {e}")
        });
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
    });
    with_dbname(admin, &name)
}

/// `url` with its database name replaced by `name`.
pub fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// Runs `sql` (several statements) directly on `db`, behind steward's back:
/// how the tamper tests edit a database.
pub fn exec(db: &Path, sql: &str) {
    match db.to_str().filter(|d| d.starts_with("postgres")) {
        Some(url) => off_runtime(|| {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.batch_execute(sql).unwrap();
        }),
        None => {
            let c = rusqlite::Connection::open(db).unwrap();
            c.execute_batch(sql).unwrap();
        }
    }
}

/// The single integer `sql` answers on `db`.
pub fn query_i64(db: &Path, sql: &str) -> i64 {
    match db.to_str().filter(|d| d.starts_with("postgres")) {
        Some(url) => off_runtime(|| {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.query_one(sql, &[]).unwrap().get::<_, i64>(0)
        }),
        None => {
            let c = rusqlite::Connection::open(db).unwrap();
            c.query_row(sql, [], |r| r.get(0)).unwrap()
        }
    }
}

/// What a tamperer runs first to edit the append-only log.
pub fn unlock_events(db: &Path) {
    if is_pg_db(db) {
        exec(db, "ALTER TABLE events DISABLE TRIGGER USER");
    } else {
        exec(
            db,
            "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;",
        );
    }
}

pub fn is_pg_db(db: &Path) -> bool {
    db.to_str().is_some_and(|d| d.starts_with("postgres"))
}

#[test]
fn the_database_name_of_a_url_is_replaced() {
    assert_eq!(
        with_dbname("postgres://u:p@127.0.0.1:5432/postgres", "x"),
        "postgres://u:p@127.0.0.1:5432/x"
    );
    assert_eq!(with_dbname("postgres://h:1", "x"), "postgres://h:1/x");
    assert_eq!(
        with_dbname("postgresql://h/db?sslmode=disable", "x"),
        "postgresql://h/x?sslmode=disable"
    );
}
