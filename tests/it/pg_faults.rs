#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! PostgreSQL faults through the CLI: an unreachable server, wrong
//! credentials, a database of somebody else, a steward schema newer than this
//! build, a connection dropped in the middle of a command's transaction. Each
//! is one `error:` line naming the problem, and nothing is written.

use std::path::Path;
use std::process::Command;

use crate::backend;
use crate::cli_support;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn steward(db: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = cli_support::command();
    cmd.args(["--db", db, "--now", "2026-07-01T01:00:00Z"]);
    cli_support::output(cmd.args(args))
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

/// How a test cuts the command's connection: given an admin connection and
/// the command's backend pid.
type Cut<'a> = &'a mut dyn FnMut(&mut postgres::Client, i32);

/// Stops a `ticket open` inside its transaction, cuts its connection with
/// `cut`, and checks that it said so in one line, kept nothing, and that the
/// same command then succeeds. `via` rewrites the URL the command uses.
fn drop_mid_transaction(via: impl Fn(&str) -> String, cut: Cut<'_>) -> String {
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
        .args(["--db", &via(&url), "--now", "2026-07-01T01:00:00Z"])
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
    cut(&mut admin, pid);
    let out = child.wait_with_output().unwrap();
    holder.send(()).unwrap();
    hold.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("error: database `postgres://steward@")
            && lines[0].contains(&format!(
                "/{name}`: the connection to PostgreSQL was lost ("
            ))
            && lines[0].ends_with("); nothing of this command was kept, retry it"),
        "{err}"
    );
    // Nothing of it is visible, and nothing of it can commit any more.
    assert_eq!(count("SELECT count(*) FROM events"), events);
    assert_eq!(count("SELECT count(*) FROM tickets"), 0);
    // The same command again succeeds, with the number the first one had
    // (once a server that had not noticed the drop has rolled back: the
    // write lock waits for it).
    let (code, out, retry_err) = steward(&url, &open);
    assert_eq!(code, 0, "{retry_err}");
    assert!(out.contains("T00001"), "{out}");
    // Nothing of the first is in the database: one ticket, the retry's
    // events only (the same number of them as an open writes), its number.
    assert_eq!(count("SELECT count(*) FROM tickets"), 1);
    assert_eq!(count("SELECT last FROM sequences WHERE name = 'ticket'"), 1);
    assert_eq!(
        count("SELECT count(*) FROM events WHERE ticket = 'T00001' AND kind = 'opened'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM events WHERE ticket IS NOT NULL"),
        count("SELECT count(*) FROM events") - events
    );
    let (code, out, e) = steward(&url, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}{e}");
    err
}

#[test]
fn a_backend_terminated_mid_transaction_keeps_nothing_and_the_retry_succeeds() {
    if !backend::is_pg() {
        return;
    }
    let err = drop_mid_transaction(str::to_owned, &mut |admin, pid| {
        let terminated: bool = admin
            .query_one("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap()
            .get(0);
        assert!(terminated);
    });
    assert!(
        err.contains("(terminating connection due to administrator command)"),
        "{err}"
    );
}

/// A TCP relay to `to`; `cut` closes every connection through it.
struct Relay {
    port: u16,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start(to: String) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>> = Default::default();
        let streams = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = std::net::TcpStream::connect(&to).unwrap();
                let mut v = streams.lock().unwrap();
                v.push(client.try_clone().unwrap());
                v.push(server.try_clone().unwrap());
                for (mut from, mut into) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut into);
                        let _ = into.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, open }
    }

    fn cut(&self) {
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn a_socket_closed_mid_transaction_keeps_nothing_and_the_retry_succeeds() {
    if !backend::is_pg() {
        return;
    }
    let relay = Relay::start(server());
    let port = relay.port;
    let err = drop_mid_transaction(
        |url| url.replace(&server(), &format!("127.0.0.1:{port}")),
        &mut |_, _| relay.cut(),
    );
    eprintln!("{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}
