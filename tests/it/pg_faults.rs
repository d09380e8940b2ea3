#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! PostgreSQL faults through the CLI: an unreachable server, wrong
//! credentials, a database of somebody else, a steward schema newer than this
//! build, a connection dropped in the middle of a command's transaction. Each
//! is one `error:` line naming the problem, and nothing is written.

use std::path::Path;
use std::process::Command;

use crate::backend;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn steward(db: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(["--db", db, "--now", "2026-07-01T01:00:00Z"])
        .args(args)
        .env_remove("STEWARD_DB")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The one line a refused command prints.
fn error_line(db: &str, args: &[&str]) -> String {
    let (code, out, err) = steward(db, args);
    assert_ne!(code, 0, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    lines[0].to_owned()
}

fn policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/vk-shanghai")
        .display()
        .to_string()
}

/// `host:port` of the test server.
fn server() -> String {
    let admin = backend::postgres().unwrap();
    let rest = admin.split_once('@').unwrap().1;
    rest.split('/').next().unwrap().to_owned()
}

#[test]
fn an_unreachable_server_is_named_in_one_line() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    assert_eq!(
        error_line(
            "postgres://steward@127.0.0.1:1/steward",
            &["ticket", "list"]
        ),
        "error: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"
    );
}

#[test]
fn a_password_never_shows_in_messages() {
    let line = error_line(
        "postgres://alice:s3cret@127.0.0.1:1/steward",
        &["policy", "apply", &policy()],
    );
    assert!(!line.contains("s3cret"), "{line}");
}

#[test]
fn wrong_credentials_are_named_and_nothing_is_written() {
    if !backend::is_pg() {
        return; // needs the test server's password-protected user
    }
    let url = format!("postgres://guarded:wrong@{}/postgres", server());
    assert_eq!(
        error_line(&url, &["policy", "apply", &policy()]),
        format!(
            "error: cannot connect to PostgreSQL at {}: password authentication failed for user \"guarded\"",
            server()
        )
    );
}

#[test]
fn a_foreign_database_is_refused_and_left_unchanged() {
    if !backend::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = backend::fresh_db(dir.path());
    backend::exec(
        &db,
        "CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1);",
    );
    let line = error_line(db.to_str().unwrap(), &["policy", "apply", &policy()]);
    assert!(
        line.starts_with("error: `postgres://") && line.contains("is not a steward database"),
        "{line}"
    );
    assert_eq!(
        backend::query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
        ),
        1,
        "no steward table was created beside it"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    if !backend::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = backend::fresh_db(dir.path());
    let url = db.to_str().unwrap();
    let (code, _, err) = steward(url, &["policy", "apply", &policy()]);
    assert_eq!(code, 0, "{err}");
    backend::exec(&db, "UPDATE steward_schema SET version = 99");
    let line = error_line(url, &["ticket", "list"]);
    assert!(
        line.ends_with("has schema version 99, newer than this steward (4): upgrade steward"),
        "{line}"
    );
}

/// The backend of the steward command that is waiting on a lock in `db`.
fn waiting_steward_backend(admin: &mut postgres::Client, db: &str) -> i32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let row = admin
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = 'steward' AND wait_event_type = 'Lock'",
                &[&db],
            )
            .unwrap();
        if let Some(r) = row {
            return r.get(0);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the command never reached its write"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_connection_dropped_mid_transaction_keeps_nothing_and_the_retry_succeeds() {
    if !backend::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = backend::fresh_db(dir.path());
    let url = db.to_str().unwrap().to_owned();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let (code, _, err) = steward(&url, &["policy", "apply", &policy()]);
    assert_eq!(code, 0, "{err}");
    let count = |sql: &str| backend::query_i64(&db, sql);
    let events = count("SELECT count(*) FROM events");
    let open = [
        "ticket",
        "open",
        "--estate",
        "riverside",
        "--kind",
        "repair",
        "--text",
        "厨房水管爆裂，漏水严重",
    ];
    // Another session holds the timers table against writes (reads pass), so
    // the command stops inside its transaction after it has taken a ticket
    // number, appended its events and written the ticket row, at its first
    // write to the timers.
    let (holder, stop) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let lock_url = url.clone();
    let hold = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&lock_url, postgres::NoTls).unwrap();
        let mut t = c.transaction().unwrap();
        t.batch_execute("LOCK TABLE timers IN SHARE ROW EXCLUSIVE MODE")
            .unwrap();
        locked.send(()).unwrap();
        let _ = stop.recv();
        t.rollback().unwrap();
    });
    is_locked.recv().unwrap();
    let child = Command::new(BIN)
        .args(["--db", &url, "--now", "2026-07-01T01:00:00Z"])
        .args(open)
        .env_remove("STEWARD_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let pid = waiting_steward_backend(&mut admin, &name);
    // It is waiting at the timers, with the events and the ticket row written.
    let query: String = admin
        .query_one("SELECT query FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .get(0);
    assert!(query.contains("timers"), "{query}");
    let written: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE l.pid = $1 AND l.granted AND l.mode = 'RowExclusiveLock'
               AND c.relname IN ('events', 'tickets', 'sequences')",
            &[&pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        written, 3,
        "events, the ticket row and its number written in the open transaction"
    );
    let terminated: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(terminated);
    let out = child.wait_with_output().unwrap();
    holder.send(()).unwrap();
    hold.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with(&format!("error: database `postgres://steward@{}/{name}`: the connection to PostgreSQL was lost (", server()))
            && lines[0].ends_with("); nothing of this command was kept, retry it"),
        "{err}"
    );
    // Nothing of it is in the database: no events, no ticket,
    // and the ticket number it had taken is free again.
    assert_eq!(count("SELECT count(*) FROM events"), events);
    assert_eq!(count("SELECT count(*) FROM tickets"), 0);
    assert_eq!(count("SELECT last FROM sequences WHERE name = 'ticket'"), 0);
    // The same command again succeeds, with the number the first one had.
    let (code, out, err) = steward(&url, &open);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("T00001"), "{out}");
    assert!(count("SELECT count(*) FROM events") > events);
    let (code, out, err) = steward(&url, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}
