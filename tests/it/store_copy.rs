#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward store copy --from PATH --to URL` end to end: an SQLite database
//! built with CLI commands is copied into PostgreSQL (only with
//! STEWARD_TEST_POSTGRES), `audit verify` is clean on the copy and every
//! command shows the same tickets and outbox on both; a non-empty target is
//! refused, and a copy that fails midway leaves nothing behind and can be run
//! again.

use std::path::Path;

use crate::backend;
use crate::cli_support;

fn steward(args: &[&str]) -> (i32, String, String) {
    cli_support::output(cli_support::command().args(args))
}

/// Runs a command on `db` at `now` and insists that it succeeds.
fn ok(db: &str, now: &str, args: &[&str]) -> String {
    let mut all = vec!["--db", db, "--now", now];
    all.extend_from_slice(args);
    let (code, out, err) = steward(&all);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// An SQLite database with a bit of everything: policy, tickets in several
/// states, fired timers and their notifications, a token.
fn source(dir: &Path) -> String {
    let db = dir.join("source.db").display().to_string();
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/vk-shanghai");
    let t0 = "2026-07-06T09:00:00+08:00";
    ok(&db, t0, &["policy", "apply", policy.to_str().unwrap()]);
    let emergency = r#"{"id":"E1","estate":"riverside","kind":"repair","text":"厨房水管爆裂，漏水严重","urgency":"emergency"}"#;
    ok(&db, t0, &["ticket", "open", "--json", emergency]);
    for (estate, text) in [("riverside", "卫生间漏水"), ("gardens", "电梯异响")] {
        ok(
            &db,
            t0,
            &[
                "ticket", "open", "--estate", estate, "--kind", "repair", "--text", text,
            ],
        );
    }
    ok(
        &db,
        "2026-07-06T09:10:00+08:00",
        &["ticket", "respond", "T00001", "--by", "desk"],
    );
    ok(&db, "2026-07-06T12:00:00+08:00", &["tick"]);
    ok(
        &db,
        t0,
        &[
            "token",
            "create",
            "--name",
            "desk",
            "--role",
            "front-desk",
            "--estate",
            "riverside",
        ],
    );
    db
}

fn count(db: &str, table: &str) -> i64 {
    backend::query_i64(Path::new(db), &format!("SELECT count(*) FROM {table}"))
}

#[test]
fn an_sqlite_database_is_copied_verified_and_reads_the_same() {
    let Some(admin) = backend::postgres() else {
        return; // the target is a PostgreSQL database
    };
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let to = backend::create_database(&admin);
    let (code, out, err) = steward(&["store", "copy", "--from", &from, "--to", &to]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("in one transaction; every table read back equal"),
        "{out}"
    );
    assert!(
        out.contains(
            "hash chain intact, policies match their fingerprints, projections rebuild from the log"
        ),
        "{out}"
    );
    // The counts printed are the source's, table by table.
    for table in [
        "events", "tickets", "timers", "outbox", "tokens", "policies",
    ] {
        let n = count(&from, table);
        assert!(n > 0 || table == "timers", "{table} is empty in the source");
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no line for {table}: {out}"));
        assert_eq!(line.split_whitespace().nth(1), Some(n.to_string().as_str()));
        assert_eq!(count(&to, table), n, "{table} on the copy");
    }
    let (code, verify, err) = steward(&["--db", &to, "audit", "verify"]);
    assert_eq!(code, 0, "{verify}{err}");
    assert!(verify.contains("hash chain: intact"), "{verify}");
    // Every view is the same on both, byte for byte.
    for args in [
        &["ticket", "show", "T00001"][..],
        &["ticket", "show", "E1"],
        &["ticket", "list"],
        &["outbox", "list"],
        &["token", "list"],
        &["policy", "list"],
    ] {
        let now = "2026-07-06T12:00:00+08:00";
        assert_eq!(ok(&to, now, args), ok(&from, now, args), "{args:?}");
    }
    // The copy is a working database: the next ticket number follows on.
    let opened = ok(
        &to,
        "2026-07-06T13:00:00+08:00",
        &[
            "ticket",
            "open",
            "--estate",
            "gardens",
            "--kind",
            "repair",
            "--text",
            "门禁失灵",
        ],
    );
    assert!(opened.contains("T00003"), "{opened}");
}

#[test]
fn a_target_that_holds_data_is_refused_and_left_unchanged() {
    let Some(admin) = backend::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let to = backend::create_database(&admin);
    let (code, _, err) = steward(&["store", "copy", "--from", &from, "--to", &to]);
    assert_eq!(code, 0, "{err}");
    let events = count(&to, "events");
    let (code, out, err) = steward(&["store", "copy", "--from", &from, "--to", &to]);
    assert_eq!(code, 2, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: database `postgres://")
            && lines[0].contains(&format!(
                "is not empty (policies: 1, meta: 1, events: {events},"
            ))
            && lines[0]
                .ends_with("`store copy` copies into an empty database only; nothing was written"),
        "{err}"
    );
    assert_eq!(count(&to, "events"), events);
}

#[test]
fn a_copy_that_fails_midway_writes_nothing_and_can_be_run_again() {
    let Some(admin) = backend::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let to = backend::create_database(&admin);
    // The schema, and a rule of the target's administrator that refuses one
    // ticket row: policies, events and outbox rows are inserted before it.
    drop(steward::store::Store::open(Path::new(&to)).unwrap());
    backend::exec(
        Path::new(&to),
        "ALTER TABLE tickets ADD CONSTRAINT not_t2 CHECK (id <> 'T00002')",
    );
    let (code, out, err) = steward(&["store", "copy", "--from", &from, "--to", &to]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not_t2"), "{err}");
    for table in ["policies", "events", "outbox", "tickets", "meta"] {
        assert_eq!(count(&to, table), 0, "{table} after the failed copy");
    }
    backend::exec(Path::new(&to), "ALTER TABLE tickets DROP CONSTRAINT not_t2");
    let (code, out, err) = steward(&["store", "copy", "--from", &from, "--to", &to]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(count(&to, "events"), count(&from, "events"));
}

#[test]
fn a_copy_names_a_wrong_direction_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.db").display().to_string();
    let (code, _, err) = steward(&[
        "store",
        "copy",
        "--from",
        "postgres://steward@127.0.0.1:1/a",
        "--to",
        "postgres://steward@127.0.0.1:1/b",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --from `postgres://steward@127.0.0.1:1/a` is a PostgreSQL URL: `store copy` copies an SQLite file into PostgreSQL\n"
    );
    let (code, _, err) = steward(&["store", "copy", "--from", &file, "--to", &file]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: --to `{file}` is not a postgres:// URL: `store copy` copies into PostgreSQL\n"
        )
    );
    let (code, _, err) = steward(&[
        "store",
        "copy",
        "--from",
        &file,
        "--to",
        "postgres://steward@127.0.0.1:1/b",
    ]);
    assert_eq!(code, 2);
    assert_eq!(err, format!("error: database `{file}` does not exist\n"));
    assert!(!Path::new(&file).exists(), "no empty source file was made");
}
