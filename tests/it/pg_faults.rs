#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! PostgreSQL faults through the CLI: an unreachable server, wrong
//! credentials, a database of somebody else, a steward schema newer than this
//! build. Each is one `error:` line naming the problem, and nothing is written.

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
