#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Tampering with the database by hand, as an auditor would try it with sqlite3,
//! and `audit verify` naming what changed. Each case is a row of the table in
//! docs/audit.md. Edits that a command would act on (a policy text, a module, a
//! projection column) must also be refused by that command, writing nothing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rusqlite::Connection;
use tempfile::TempDir;

use crate::cli_support::{ok_at as ok, run_at as steward};

const T0: &str = "2026-07-06T08:00:00+08:00";
const LATER: &str = "2026-07-06T15:00:00+08:00";

/// A new complaint at an estate under the company-wide policy.
const OPEN_N1: &[&str] = &[
    "ticket",
    "open",
    "--id",
    "N1",
    "--estate",
    "riverside",
    "--kind",
    "complaint",
    "--text",
    "噪音",
];

fn policy(name: &str) -> String {
    format!("{}/policies/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A database with a company-wide policy, an estate overlay, a plug-in policy
/// on a third estate, and tickets in several states; the WAL folded into the
/// file so a plain copy is the whole database.
fn fixture() -> &'static Path {
    static DB: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("base.db");
        ok(
            &db,
            T0,
            &["policy", "apply", &policy("vk-shanghai"), "--by", "admin"],
        );
        ok(
            &db,
            T0,
            &[
                "policy",
                "apply",
                &policy("vk-shanghai-gardens"),
                "--estate",
                "gardens",
                "--by",
                "admin",
            ],
        );
        ok(
            &db,
            T0,
            &[
                "policy",
                "apply",
                &policy("vk-shanghai-plugins"),
                "--estate",
                "plugged",
                "--by",
                "admin",
            ],
        );
        let open = |id: &str, estate: &str, kind: &str, text: &str| {
            ok(
                &db,
                "2026-07-06T09:00:00+08:00",
                &[
                    "ticket", "open", "--id", id, "--estate", estate, "--kind", kind, "--text",
                    text,
                ],
            );
        };
        open("T1", "gardens", "complaint", "多户业主投诉夜间施工噪音");
        open("T2", "riverside", "repair", "3号楼电梯困人");
        open("T3", "plugged", "repair", "厨房水管漏水");
        ok(
            &db,
            "2026-07-06T09:10:00+08:00",
            &["ticket", "respond", "T2"],
        );
        ok(&db, LATER, &["tick"]);
        let conn = Connection::open(&db).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        (dir, db)
    });
    path
}

/// A private copy of the fixture, and a connection a tamperer would use (the
/// append-only triggers dropped first where the case needs to touch events).
fn copy() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("t.db");
    std::fs::copy(fixture(), &db).unwrap();
    (dir, db)
}

fn sql(db: &Path, text: &str) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

fn scalar<T: rusqlite::types::FromSql>(db: &Path, text: &str) -> T {
    Connection::open(db)
        .unwrap()
        .query_row(text, [], |r| r.get(0))
        .unwrap()
}

/// seq, ticket, at, kind, payload, fingerprint, rule: the hashed fields.
type EventFields = (
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
);

const DROP_TRIGGERS: &str = "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;";

/// `audit verify --format json` after the edit: must fail, and some finding must
/// have `area` and a subject and problem containing the given text.
fn verify_finds(db: &Path, area: &str, subject: &str, problem: &str) -> serde_json::Value {
    let (code, out, err) = steward(db, LATER, &["audit", "verify", "--format", "json"]);
    assert_eq!(code, 1, "verify must fail: {err}\n{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found = v["findings"].as_array().unwrap().iter().any(|f| {
        f["area"] == area
            && f["subject"].as_str().unwrap().contains(subject)
            && f["problem"].as_str().unwrap().contains(problem)
    });
    assert!(
        found,
        "no {area} finding on {subject} with `{problem}`:\n{v:#}"
    );
    v
}

fn event_count(db: &Path) -> i64 {
    scalar(db, "SELECT count(*) FROM events")
}

fn fingerprint_of(db: &Path, scope: &str) -> String {
    scalar(db, &format!("SELECT value FROM meta WHERE key = '{scope}'"))
}

#[test]
fn untouched_database_verifies_and_text_report_names_each_check() {
    let (_d, db) = copy();
    let out = ok(&db, LATER, &["audit", "verify"]);
    for line in [
        "hash chain: intact",
        "stored policies and modules: every one matches its digest",
        "schema: as steward created it, append-only triggers in place",
        "settings: the active policy of every scope is the log's",
        "projections: every ticket and timer column rebuilds from the log",
    ] {
        assert!(out.contains(line), "missing `{line}`:\n{out}");
    }
}

#[test]
fn edited_policy_text_is_refused_at_load_and_named_by_verify() {
    let (_d, db) = copy();
    let fp = fingerprint_of(&db, "active_policy");
    let before: String = scalar(
        &db,
        &format!("SELECT canonical FROM policies WHERE fingerprint = '{fp}'"),
    );
    assert!(before.contains("\"2h\""), "L4 is 2h in vk-shanghai");
    sql(
        &db,
        &format!(
            "UPDATE policies SET canonical = replace(canonical, '\"2h\"', '\"4h\"') WHERE fingerprint = '{fp}'"
        ),
    );
    let events = event_count(&db);
    let (code, _, err) = steward(&db, LATER, OPEN_N1);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("stored policy {fp}")) && err.contains("changed outside steward"),
        "{err}"
    );
    assert_eq!(event_count(&db), events, "nothing written");
    verify_finds(&db, "policy", &fp, "edited after it was applied");
}

#[test]
fn swapped_plugin_module_is_refused_and_named() {
    let (_d, db) = copy();
    let key: String = scalar(&db, "SELECT sha256 FROM blobs LIMIT 1");
    sql(
        &db,
        &format!("UPDATE blobs SET bytes = X'0061736d01000000' WHERE sha256 = '{key}'"),
    );
    let events = event_count(&db);
    let (code, _, err) = steward(
        &db,
        LATER,
        &[
            "ticket", "open", "--id", "N1", "--estate", "plugged", "--kind", "repair", "--text",
            "漏水",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("plug-in module sha256:{key}")),
        "{err}"
    );
    assert_eq!(event_count(&db), events);
    verify_finds(&db, "module", &key, "swapped");
}

#[test]
fn projection_status_edit_is_refused_by_list_and_named() {
    let (_d, db) = copy();
    sql(&db, "UPDATE tickets SET status = 'closed' WHERE id = 'T1'");
    let (code, _, err) = steward(&db, LATER, &["ticket", "list", "--status", "closed"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("ticket `T1` was changed outside steward: its column status"),
        "{err}"
    );
    let v = verify_finds(
        &db,
        "ticket",
        "T1",
        "column status is `closed` but the log says `open`",
    );
    assert_eq!(v["mismatched"], serde_json::json!(["T1"]));
}

#[test]
fn projection_fingerprint_and_estate_edits_are_named_and_tick_refuses() {
    let (_d, db) = copy();
    let other = fingerprint_of(&db, "active_policy");
    sql(
        &db,
        &format!("UPDATE tickets SET fingerprint = '{other}' WHERE id = 'T1'"),
    );
    let events = event_count(&db);
    let (code, _, err) = steward(&db, "2026-07-09T09:00:00+08:00", &["tick"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ticket `T1` was changed outside steward: its column fingerprint"),
        "{err}"
    );
    assert_eq!(event_count(&db), events, "the tick wrote nothing");
    verify_finds(&db, "ticket", "T1", "column fingerprint");

    let (_d, db) = copy();
    sql(&db, "UPDATE tickets SET estate = 'gardens' WHERE id = 'T2'");
    verify_finds(
        &db,
        "ticket",
        "T2",
        "column estate is `gardens` but the log says `riverside`",
    );
}

#[test]
fn consistent_state_and_column_edit_is_still_found_by_rebuilding() {
    let (_d, db) = copy();
    // The tamperer edits the state JSON and the column together, so the row agrees
    // with itself; only the rebuild from the log shows it.
    sql(
        &db,
        "UPDATE tickets SET status = 'closed', state = replace(state, '\"status\":\"open\"', '\"status\":\"closed\"') WHERE id = 'T1'",
    );
    verify_finds(
        &db,
        "ticket",
        "T1",
        "column state differs from the log in state.status",
    );
}

#[test]
fn edited_active_policy_setting_is_named_and_not_used() {
    let (_d, db) = copy();
    let company = fingerprint_of(&db, "active_policy");
    let gardens = fingerprint_of(&db, "active_policy:gardens");
    sql(
        &db,
        &format!("UPDATE meta SET value = '{gardens}' WHERE key = 'active_policy'"),
    );
    verify_finds(
        &db,
        "setting",
        "active_policy",
        &format!("the log's last application is {company}"),
    );
    ok(&db, LATER, OPEN_N1);
    let fp: String = scalar(&db, "SELECT fingerprint FROM tickets WHERE id = 'N1'");
    assert_eq!(
        fp, company,
        "a new ticket opens under the policy the log says is active"
    );
}

#[test]
fn dropped_or_added_triggers_are_named() {
    let (_d, db) = copy();
    sql(&db, DROP_TRIGGERS);
    verify_finds(&db, "schema", "trigger events_no_update", "missing");
    verify_finds(&db, "schema", "trigger events_no_delete", "missing");

    let (_d, db) = copy();
    sql(
        &db,
        "CREATE TRIGGER quiet AFTER INSERT ON events BEGIN SELECT 1; END;",
    );
    verify_finds(&db, "schema", "trigger quiet", "added by hand");
}

/// Edits of one event column each: the chain breaks at that event.
#[test]
fn every_event_column_edit_breaks_the_chain_at_that_event() {
    let edits = [
        ("payload", "payload = payload || ' '"),
        ("rule", "rule = 'L9'"),
        ("fingerprint", "fingerprint = 'ffff'"),
        ("at", "at = '2026-07-06T00:30:00Z'"),
        ("kind", "kind = 'closed'"),
        ("ticket", "ticket = 'T9'"),
        ("hash", "hash = '00' || substr(hash, 3)"),
    ];
    for (column, set) in edits {
        let (_d, db) = copy();
        let seq: i64 = scalar(
            &db,
            "SELECT min(seq) FROM events WHERE ticket = 'T2' AND rule IS NOT NULL",
        );
        sql(
            &db,
            &format!("{DROP_TRIGGERS} UPDATE events SET {set} WHERE seq = {seq}"),
        );
        let v = verify_finds(&db, "chain", &format!("event {seq}"), "");
        assert_eq!(v["chain_ok"], false, "{column}");
        assert!(
            v["chain_problem"]
                .as_str()
                .unwrap()
                .starts_with(&format!("event {seq}:")),
            "{column}: {v}"
        );
    }
}

#[test]
fn renumbered_deleted_inserted_and_reordered_events_break_the_chain() {
    let (_d, db) = copy();
    let mid: i64 = scalar(&db, "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET 5");
    sql(
        &db,
        &format!("{DROP_TRIGGERS} DELETE FROM events WHERE seq = {mid}"),
    );
    verify_finds(&db, "chain", &format!("event {}", mid + 1), "sequence gap");

    let (_d, db) = copy();
    let last: i64 = scalar(&db, "SELECT max(seq) FROM events");
    sql(
        &db,
        &format!("{DROP_TRIGGERS} UPDATE events SET seq = seq + 1000 WHERE seq = {last}"),
    );
    verify_finds(
        &db,
        "chain",
        &format!("event {}", last + 1000),
        "sequence gap",
    );

    let (_d, db) = copy();
    let last: i64 = scalar(&db, "SELECT max(seq) FROM events");
    sql(&db, &format!(
        "INSERT INTO events (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash)
         SELECT seq + 1, ticket, at, kind, payload, fingerprint, rule, hash, hash FROM events WHERE seq = {last}"
    ));
    verify_finds(
        &db,
        "chain",
        &format!("event {}", last + 1),
        "hash mismatch",
    );

    let (_d, db) = copy();
    let (a, b): (i64, i64) = (
        scalar(&db, "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET 8"),
        scalar(&db, "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET 9"),
    );
    sql(
        &db,
        &format!(
            "{DROP_TRIGGERS}
         UPDATE events SET seq = -1 WHERE seq = {a};
         UPDATE events SET seq = {a} WHERE seq = {b};
         UPDATE events SET seq = {b} WHERE seq = -1;"
        ),
    );
    verify_finds(&db, "chain", &format!("event {a}"), "");
}

#[test]
fn timers_deleted_moved_or_added_are_named() {
    let (_d, db) = copy();
    let key: String = scalar(&db, "SELECT key FROM timers WHERE ticket = 'T1' LIMIT 1");
    sql(
        &db,
        &format!("DELETE FROM timers WHERE ticket = 'T1' AND key = '{key}'"),
    );
    verify_finds(
        &db,
        "timer",
        "T1",
        &format!("timer {key}: is scheduled by the log but not stored"),
    );

    let (_d, db) = copy();
    sql(
        &db,
        &format!(
            "UPDATE timers SET due_at = '2030-01-01T00:00:00Z' WHERE ticket = 'T1' AND key = '{key}'"
        ),
    );
    verify_finds(
        &db,
        "timer",
        "T1",
        "column due_at is `2030-01-01T00:00:00Z`",
    );

    let (_d, db) = copy();
    sql(
        &db,
        "INSERT INTO timers (ticket, key, kind, due_at, event, estate) VALUES ('T1', 'forged', 'warn', '2026-07-07T00:00:00Z', NULL, 'gardens')",
    );
    verify_finds(
        &db,
        "timer",
        "T1",
        "timer forged: is stored but the log schedules no such timer",
    );
}

#[test]
fn projection_rows_without_events_and_events_without_rows_are_named() {
    let (_d, db) = copy();
    sql(
        &db,
        "INSERT INTO tickets SELECT 'T0', estate, status, fingerprint, opened_at, updated_at, state FROM tickets WHERE id = 'T1'",
    );
    verify_finds(&db, "ticket", "T0", "no events in the log");

    let (_d, db) = copy();
    sql(&db, "DELETE FROM tickets WHERE id = 'T2'");
    verify_finds(&db, "ticket", "T2", "no tickets row");
}

#[test]
fn truncated_tail_passes_the_chain_but_fails_against_a_checkpoint() {
    let (dir, db) = copy();
    let cp = dir.path().join("head.json");
    ok(
        &db,
        LATER,
        &["audit", "checkpoint", "--out", cp.to_str().unwrap()],
    );
    let last: i64 = scalar(&db, "SELECT max(seq) FROM events");
    // The last events are T-less policy or ticket events; the tamperer removes the
    // last three and the projections they built, so only a checkpoint can tell.
    sql(
        &db,
        &format!(
            "{DROP_TRIGGERS} DELETE FROM events WHERE seq > {}",
            last - 3
        ),
    );
    let (_, out, _) = steward(&db, LATER, &["audit", "verify", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["chain_ok"], true,
        "a chain alone cannot show a truncation"
    );
    let (code, out, _) = steward(
        &db,
        LATER,
        &["audit", "verify", "--checkpoint", cp.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("the log ends at event {} but the checkpoint's head is event {last}: events {} to {last} are missing", last - 3, last - 2)),
        "{out}"
    );
}

/// The tamperer rewrites an event and recomputes every later hash: the chain is
/// intact again, but the checkpoint's head hash is gone.
#[test]
fn rechained_log_passes_the_chain_but_fails_against_a_checkpoint() {
    let (dir, db) = copy();
    let cp = dir.path().join("head.json");
    ok(
        &db,
        LATER,
        &["audit", "checkpoint", "--out", cp.to_str().unwrap()],
    );
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(DROP_TRIGGERS).unwrap();
    conn.execute("UPDATE events SET payload = replace(payload, '电梯困人', '电梯正常') WHERE ticket = 'T2' AND kind = 'opened'", []).unwrap();
    let rows: Vec<EventFields> = {
        let mut stmt = conn
            .prepare(
                "SELECT seq, ticket, at, kind, payload, fingerprint, rule FROM events ORDER BY seq",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let mut prev = "0".repeat(64);
    for (seq, ticket, at, kind, payload, fp, rule) in rows {
        let seq_text = seq.to_string();
        let fields = [
            prev.as_str(),
            &seq_text,
            ticket.as_deref().unwrap_or(""),
            &at,
            &kind,
            &payload,
            &fp,
            rule.as_deref().unwrap_or(""),
        ];
        let hash = steward::digest::sha256_hex(fields.join("\u{1f}").as_bytes());
        conn.execute(
            "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let (_, out, _) = steward(&db, LATER, &["audit", "verify", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["chain_ok"], true, "the rewritten chain links up: {v}");
    let (code, out, _) = steward(
        &db,
        LATER,
        &["audit", "verify", "--checkpoint", cp.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("no longer has the checkpoint's hash: the log was rewritten"),
        "{out}"
    );
}

#[test]
fn signed_checkpoint_verifies_and_a_forged_one_fails() {
    let (dir, db) = copy();
    let key = dir.path().join("auditor.key");
    let cp = dir.path().join("head.json");
    let out = ok(
        &db,
        LATER,
        &["audit", "keygen", "--out", key.to_str().unwrap()],
    );
    assert!(out.contains("public key: "), "{out}");
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    ok(
        &db,
        LATER,
        &[
            "audit",
            "checkpoint",
            "--out",
            cp.to_str().unwrap(),
            "--sign",
            key.to_str().unwrap(),
        ],
    );
    let out = ok(
        &db,
        "2026-07-09T09:00:00+08:00",
        &[
            "audit",
            "verify",
            "--checkpoint",
            cp.to_str().unwrap(),
            "--public-key",
            public.trim(),
        ],
    );
    assert!(out.contains("signature verified"), "{out}");

    // A tamperer who truncated the log lowers the checkpoint's head to match.
    let text = std::fs::read_to_string(&cp).unwrap();
    let mut c: serde_json::Value = serde_json::from_str(&text).unwrap();
    c["seq"] = serde_json::json!(c["seq"].as_i64().unwrap() - 1);
    std::fs::write(&cp, c.to_string()).unwrap();
    let (code, out, _) = steward(
        &db,
        LATER,
        &[
            "audit",
            "verify",
            "--checkpoint",
            cp.to_str().unwrap(),
            "--public-key",
            public.trim(),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("checkpoint: FAILED: the signature does not match the checkpoint"),
        "{out}"
    );
    // The secret key file is the owner's alone, and keygen never overwrites it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (code, _, err) = steward(
        &db,
        LATER,
        &["audit", "keygen", "--out", key.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn auditor_reads_policies_and_each_decisions_fingerprint_from_steward() {
    let (_d, db) = copy();
    let out = ok(&db, LATER, &["policy", "list"]);
    let gardens = fingerprint_of(&db, "active_policy:gardens");
    assert!(
        out.contains("vk-shanghai-gardens 2026.11-gardens.1"),
        "{out}"
    );
    assert!(
        out.contains("estate gardens") && out.contains("admin"),
        "{out}"
    );
    assert!(out.contains(&gardens[..12]), "{out}");
    let shown = ok(
        &db,
        LATER,
        &["policy", "show", "--fingerprint", &gardens[..12]],
    );
    assert!(
        shown.starts_with(&format!("# fingerprint: sha256:{gardens}")),
        "{shown}"
    );
    let (code, _, err) = steward(
        &db,
        LATER,
        &["policy", "show", "--fingerprint", "0123456789"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("no policy with fingerprint 0123456789"),
        "{err}"
    );
    let show = ok(&db, LATER, &["ticket", "show", "T1"]);
    let header = show.lines().find(|l| l.starts_with("time ")).unwrap();
    assert!(header.trim_end().ends_with("policy"), "{show}");
    assert!(
        show.lines()
            .filter(|l| l.contains(" T1 "))
            .all(|l| l.trim_end().ends_with(&gardens[..12])),
        "{show}"
    );
    let timeline: serde_json::Value = serde_json::from_str(&ok(
        &db,
        LATER,
        &["ticket", "show", "T1", "--format", "json"],
    ))
    .unwrap();
    for e in timeline["timeline"].as_array().unwrap() {
        assert_eq!(e["fingerprint"], gardens.as_str(), "{e}");
        assert!(
            e["seq"].as_i64().unwrap() > 0 && e["fact"].is_object(),
            "{e}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, LATER, &["policy", "list", "--format", "json"])).unwrap();
    let applied = &json.as_array().unwrap()[0]["applied"][0];
    assert_eq!(applied["by"], "admin");
    assert_eq!(applied["estate"], serde_json::Value::Null);
}
