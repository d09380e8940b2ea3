#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end tests of the `steward` binary against a temporary database (an
//! SQLite file, or PostgreSQL with STEWARD_TEST_POSTGRES, see `backend.rs`): a
//! full emergency-repair lifecycle (L2, L4, V3), tick idempotence, an L1 breach
//! escalating up the ladder (E3), refused input that must write nothing, foreign
//! and locked databases, and `audit verify` catching a tampered event.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::cli_support::{json_at as json, ok_at as ok, run_at as steward};

/// The number of events in the log, from `audit verify --format json`.
fn events(db: &Path) -> i64 {
    let v = json(db, "2030-01-01T00:00:00Z", &["audit", "verify"]);
    assert_eq!(v["chain_ok"], true, "{v}");
    v["events"].as_i64().expect("events count")
}

fn policy_dir(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
        .display()
        .to_string()
}

/// A fresh database with vk-shanghai active at 2026-07-01 09:00 Shanghai time.
fn fresh() -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("tempdir");
    let db = crate::backend::fresh_db(dir.path());
    ok(
        &db,
        "2026-07-01T01:00:00Z",
        &["policy", "apply", &policy_dir("vk-shanghai")],
    );
    (dir, db)
}

/// The database of [`fresh`] with an open complaint `C1` and an open emergency repair `R1`.
fn with_tickets() -> (TempDir, PathBuf) {
    let (dir, db) = fresh();
    ok(
        &db,
        "2026-07-01T01:00:00Z",
        &[
            "ticket",
            "open",
            "--id",
            "C1",
            "--estate",
            "E1",
            "--kind",
            "complaint",
            "--text",
            "噪音扰民",
            "--class",
            "2",
        ],
    );
    ok(
        &db,
        "2026-07-01T01:00:00Z",
        &[
            "ticket",
            "open",
            "--id",
            "R1",
            "--estate",
            "E1",
            "--kind",
            "repair",
            "--text",
            "电梯困人",
        ],
    );
    (dir, db)
}

/// A refused command: non-zero exit, one `error:` line on stderr, and no event written.
fn refused(db: &Path, now: &str, args: &[&str]) -> String {
    let before = events(db);
    let (code, out, err) = steward(db, now, args);
    assert_ne!(code, 0, "steward {args:?} should fail; stdout: {out}");
    assert_eq!(code, 2, "input errors exit 2: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {err:?}");
    assert!(
        lines[0].starts_with("error: "),
        "stderr starts with `error:`: {err:?}"
    );
    assert_eq!(
        events(db),
        before,
        "a refused command writes nothing: {args:?}"
    );
    err
}

/// The clock of `limit` in `ticket show --format json`.
fn clock<'a>(ticket: &'a serde_json::Value, limit: &str) -> &'a serde_json::Value {
    ticket["clocks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["limit"] == limit))
        .unwrap_or(&serde_json::Value::Null)
}

fn decisions_of(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["events"].as_array().cloned().unwrap_or_default()
}

// --- lifecycle -----------------------------------------------------------------

/// L2 (emergency 30 min), L4 (report in 2 h), V3 (revisit within 24 h, again 2 days
/// after the first), V6 close after callbacks; `show` prints Shanghai local time.
#[test]
fn emergency_repair_lifecycle_l2_l4_v3_shows_rule_ids_and_local_deadlines() {
    let (_dir, db) = fresh();
    // 01:00Z is 09:00 in Shanghai.
    let opened = ok(
        &db,
        "2026-07-01T01:00:00Z",
        &[
            "ticket",
            "open",
            "--id",
            "T1",
            "--estate",
            "E1",
            "--kind",
            "repair",
            "--text",
            "电梯困人",
        ],
    );
    assert!(opened.contains("repair.emergency"), "{opened}");
    ok(
        &db,
        "2026-07-01T01:10:00Z",
        &["ticket", "respond", "T1", "--by", "wang"],
    );
    ok(&db, "2026-07-01T01:40:00Z", &["ticket", "report", "T1"]);
    ok(
        &db,
        "2026-07-01T02:00:00Z",
        &["ticket", "assign", "T1", "--department", "engineering"],
    );
    ok(
        &db,
        "2026-07-01T04:00:00Z",
        &["ticket", "resolve", "T1", "--note", "电梯已修复"],
    );

    let show = ok(&db, "2026-07-01T04:00:00Z", &["ticket", "show", "T1"]);
    for needle in [
        "L2.emergency",
        "L4",
        "V3",
        // deadlines in local time (UTC+8), not UTC
        "first_response within 30m, due 2026-07-01 09:30",
        "report_to_center within 2h, due 2026-07-01 11:00",
        "revisit V3#1 due by 2026-07-02 12:00",
        "2026-07-01 09:10",
        "resolved",
    ] {
        assert!(
            show.contains(needle),
            "`ticket show` lacks {needle:?}:\n{show}"
        );
    }
    assert!(
        !show.contains("2026-07-01 01:00"),
        "times are shown in UTC:\n{show}"
    );

    // Close is refused while V3 revisits are pending.
    let err = refused(&db, "2026-07-01T05:00:00Z", &["ticket", "close", "T1"]);
    assert!(err.contains("revisits pending"), "{err}");

    // V3#1 at 10:00 local the next day; V3#2 is then due 2 days after it.
    let r = ok(
        &db,
        "2026-07-02T02:00:00Z",
        &["ticket", "revisit", "T1", "--ok"],
    );
    assert!(r.contains("revisit V3#2 due by 2026-07-04 10:00"), "{r}");
    ok(
        &db,
        "2026-07-04T01:00:00Z",
        &["ticket", "revisit", "T1", "--ok", "--channel", "sms"],
    );
    let closed = ok(&db, "2026-07-04T01:05:00Z", &["ticket", "close", "T1"]);
    assert!(
        closed.contains("closed") && closed.contains("V6"),
        "{closed}"
    );

    let v = json(&db, "2026-07-04T01:05:00Z", &["ticket", "show", "T1"]);
    let t = &v["ticket"];
    assert_eq!(t["status"], "closed");
    assert_eq!(clock(t, "L2.emergency")["state"], "met");
    assert_eq!(clock(t, "L4")["state"], "met");
    assert_eq!(t["callbacks"], 2);
    assert_eq!(t["breaches"], 0);
    assert_eq!(t["revisits"][0]["state"], "done");
    assert_eq!(t["revisits"][1]["state"], "done");

    let (code, out, _) = steward(&db, "2026-07-04T01:05:00Z", &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hash chain: intact"), "{out}");
}

#[test]
fn tick_twice_at_same_now_second_is_nothing_due_and_writes_nothing() {
    let (_dir, db) = with_tickets();
    // 2 h later: R1's L2.emergency (30 min) and L4 (2 h) have both fallen due.
    let first = ok(&db, "2026-07-01T03:00:00Z", &["tick"]);
    assert!(first.contains("BREACHED"), "{first}");
    assert!(
        first.contains("L2.emergency") && first.contains("L4"),
        "{first}"
    );
    let after_first = events(&db);
    let second = ok(&db, "2026-07-01T03:00:00Z", &["tick"]);
    assert_eq!(second.trim(), "nothing due");
    assert_eq!(
        events(&db),
        after_first,
        "a second tick at the same time must log nothing"
    );
    let third = json(&db, "2026-07-01T03:00:00Z", &["tick"]);
    assert_eq!(third, serde_json::json!([]));
    assert_eq!(events(&db), after_first);
}

/// L1: a complaint not answered within 24 h breaches and moves up the ladder
/// specialist → service_center (E3), with the rule that fired.
#[test]
fn l1_breach_escalates_specialist_to_service_center() {
    let (_dir, db) = with_tickets();
    // Just before the deadline: only the 75 % warning has fired.
    ok(&db, "2026-07-02T00:59:00Z", &["tick"]);
    let v = json(&db, "2026-07-02T00:59:00Z", &["ticket", "show", "C1"]);
    assert_eq!(clock(&v["ticket"], "L1")["state"], "running");
    assert!(
        v["ticket"]["step"] == "specialist",
        "{}",
        v["ticket"]["step"]
    );

    let fired = json(&db, "2026-07-02T01:00:00Z", &["tick"]);
    let c1 = fired
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["ticket"] == "C1")
        .expect("C1 fired");
    let ds = decisions_of(c1);
    let breach = ds
        .iter()
        .find(|d| d["fact"]["type"] == "breached" && d["fact"]["limit"] == "L1")
        .expect("L1 breached");
    assert_eq!(breach["rule"], "L1");
    let esc = ds
        .iter()
        .find(|d| d["fact"]["type"] == "escalated")
        .expect("escalated");
    assert_eq!(esc["fact"]["from"], "specialist");
    assert_eq!(esc["fact"]["to"], "service_center");
    assert_eq!(esc["rule"], "L1");
    assert!(
        esc["fact"]["notify"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "service_center"),
        "{esc}"
    );

    let v = json(&db, "2026-07-02T01:00:00Z", &["ticket", "show", "C1"]);
    assert_eq!(v["ticket"]["step"], "service_center");
    assert_eq!(clock(&v["ticket"], "L1")["state"], "breached");
    let show = ok(&db, "2026-07-02T01:00:00Z", &["ticket", "show", "C1"]);
    assert!(
        show.contains("escalated specialist → service_center"),
        "{show}"
    );
    assert!(show.contains("step service_center"), "{show}");
}

// --- refused input writes nothing ------------------------------------------------

#[test]
fn unknown_ticket_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(&db, "2026-07-01T02:00:00Z", &["ticket", "respond", "NOPE"]);
    assert!(err.contains("unknown ticket `NOPE`"), "{err}");
    let err = refused(&db, "2026-07-01T02:00:00Z", &["ticket", "show", "NOPE"]);
    assert!(err.contains("NOPE"), "{err}");
}

#[test]
fn close_before_resolve_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(&db, "2026-07-01T02:00:00Z", &["ticket", "close", "C1"]);
    assert!(
        err.contains("cannot close ticket `C1`: it is open"),
        "{err}"
    );
}

#[test]
fn revisit_before_resolve_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(
        &db,
        "2026-07-01T02:00:00Z",
        &["ticket", "revisit", "R1", "--ok"],
    );
    assert!(err.contains("revisits follow resolution"), "{err}");
}

#[test]
fn now_before_the_tickets_last_event_is_refused() {
    let (_dir, db) = with_tickets();
    ok(&db, "2026-07-01T02:00:00Z", &["ticket", "respond", "R1"]);
    let err = refused(&db, "2026-07-01T01:30:00Z", &["ticket", "report", "R1"]);
    assert!(err.contains("before the ticket's last event"), "{err}");
}

#[test]
fn malformed_json_for_ticket_open_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(
        &db,
        "2026-07-01T02:00:00Z",
        &["ticket", "open", "--json", "{\"id\": \"J1\", \"estate\": "],
    );
    assert!(err.contains("bad ticket JSON"), "{err}");
    // Unknown fields are refused too, not silently dropped.
    let err = refused(
        &db,
        "2026-07-01T02:00:00Z",
        &[
            "ticket",
            "open",
            "--json",
            r#"{"id":"J1","estate":"E1","kind":"repair","text":"x","colour":"red"}"#,
        ],
    );
    assert!(err.contains("bad ticket JSON"), "{err}");
    let (code, _, _) = steward(&db, "2026-07-01T02:00:00Z", &["ticket", "show", "J1"]);
    assert_ne!(code, 0, "J1 must not exist");
}

#[test]
fn unknown_kind_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(
        &db,
        "2026-07-01T02:00:00Z",
        &[
            "ticket",
            "open",
            "--json",
            r#"{"id":"K1","estate":"E1","kind":"frog","text":"x"}"#,
        ],
    );
    assert!(err.contains("unknown kind `frog`"), "{err}");
    let list = json(&db, "2026-07-01T02:00:00Z", &["ticket", "list"]);
    assert_eq!(list["total"], 2, "{list}");
    // The flag only takes the kinds there are, and says which.
    let (code, _, err) = steward(
        &db,
        "2026-07-01T02:00:00Z",
        &[
            "ticket", "open", "--estate", "E1", "--kind", "frog", "--text", "x",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("[possible values: inquiry, repair, complaint, suggestion]"),
        "{err}"
    );
}

#[test]
fn opening_the_same_id_twice_is_refused() {
    let (_dir, db) = with_tickets();
    let err = refused(
        &db,
        "2026-07-01T02:00:00Z",
        &[
            "ticket", "open", "--id", "C1", "--estate", "E1", "--kind", "repair", "--text", "漏水",
        ],
    );
    assert!(err.contains("ticket `C1` already exists"), "{err}");
    let v = json(&db, "2026-07-01T02:00:00Z", &["ticket", "show", "C1"]);
    assert_eq!(
        v["ticket"]["kind"], "complaint",
        "the first C1 is untouched"
    );
}

#[test]
fn a_file_that_is_not_a_steward_database_is_refused_and_left_unchanged() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("hello.db");
    std::fs::write(&db, "hello").unwrap();
    for args in [
        &[
            "ticket", "open", "--id", "T1", "--estate", "E1", "--kind", "repair", "--text", "x",
        ][..],
        &["policy", "apply", &policy_dir("vk-shanghai")][..],
        &["tick"][..],
        &["audit", "verify"][..],
    ] {
        let (code, out, err) = steward(&db, "2026-07-01T01:00:00Z", args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(
            err.starts_with("error: ") && err.contains("not a steward database"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), b"hello");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("hello.db")],
        "no -wal or -journal files left behind"
    );
}

#[test]
fn another_applications_sqlite_database_is_refused_and_left_unchanged() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let (code, _, err) = steward(
        &db,
        "2026-07-01T01:00:00Z",
        &["policy", "apply", &policy_dir("vk-shanghai")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("not a steward database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the foreign database must not be modified"
    );
}

/// Another process holds the write lock: the CLI waits the busy timeout (5 s),
/// then fails with a one-line "locked" error and writes nothing.
#[test]
fn a_database_locked_by_another_process_fails_with_locked() {
    if crate::backend::is_pg() {
        // SQLite's file lock; PostgreSQL writers queue on the server's write lock.
        return;
    }
    let (_dir, db) = with_tickets();
    let before = events(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let start = Instant::now();
    let (code, out, err) = steward(&db, "2026-07-01T01:05:00Z", &["ticket", "respond", "C1"]);
    let waited = start.elapsed();
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    assert_ne!(code, 0, "{out}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(
        err.starts_with("error: ") && err.contains("locked"),
        "{err}"
    );
    assert!(
        waited >= Duration::from_secs(4),
        "gave up too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "waited far longer than the busy timeout: {waited:?}"
    );
    assert_eq!(events(&db), before);
    // Once the lock is gone the same command goes through.
    ok(&db, "2026-07-01T01:05:00Z", &["ticket", "respond", "C1"]);
    assert!(events(&db) > before);
}

/// Read-only commands never create a database (root ignores file modes, so a
/// missing path is the read-only case we can make).
#[test]
fn read_only_commands_on_a_missing_database_create_nothing() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("missing.db");
    for args in [
        &["ticket", "show", "T1"][..],
        &["ticket", "list"][..],
        &["audit", "verify"][..],
    ] {
        let (code, out, err) = steward(&db, "2026-07-01T01:00:00Z", args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(
            err.starts_with("error: ") && err.contains("does not exist"),
            "{err}"
        );
        assert!(!db.exists(), "{args:?} created the database");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created"
    );
}

/// A write command without an applied policy fails and leaves no ticket behind.
#[test]
fn open_without_a_policy_is_refused() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("empty.db");
    let (code, _, err) = steward(
        &db,
        "2026-07-01T01:00:00Z",
        &[
            "ticket", "open", "--id", "T1", "--estate", "E1", "--kind", "repair", "--text", "x",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: ")
            && err.contains("does not exist")
            && err.contains("policy apply"),
        "{err}"
    );
    assert!(!db.exists(), "no empty database left behind");
}

// --- audit ------------------------------------------------------------------------

#[test]
fn audit_verify_finds_a_tampered_event_payload() {
    let (_dir, db) = with_tickets();
    ok(&db, "2026-07-01T01:10:00Z", &["ticket", "respond", "R1"]);
    let (code, _, _) = steward(&db, "2026-07-01T01:10:00Z", &["audit", "verify"]);
    assert_eq!(code, 0);

    // The log is protected by triggers (src/store/schema.rs, src/store/pg/schema.rs);
    // a tamperer disables them first.
    crate::backend::unlock_events(&db);
    let seq = crate::backend::query_i64(
        &db,
        "SELECT seq FROM events WHERE ticket = 'R1' AND kind = 'opened'",
    );
    crate::backend::exec(
        &db,
        &format!(
            "UPDATE events SET payload = replace(payload, '电梯困人', '电梯正常') WHERE seq = {seq}"
        ),
    );
    let (code, out, err) = steward(&db, "2026-07-01T01:10:00Z", &["audit", "verify"]);
    assert_eq!(code, 1, "tampering is found: {out} {err}");
    assert!(
        out.contains("BROKEN") && out.contains(&format!("event {seq}")),
        "names the event {seq}:\n{out}"
    );
    let (code, out, _) = steward(
        &db,
        "2026-07-01T01:10:00Z",
        &["audit", "verify", "--format", "json"],
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["chain_ok"], false);
    assert!(
        v["chain_problem"]
            .as_str()
            .unwrap()
            .starts_with(&format!("event {seq}:")),
        "{v}"
    );
    assert!(
        v["mismatched"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "R1"),
        "the replayed R1 differs: {v}"
    );
}
