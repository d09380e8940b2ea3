#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end tests of external events and revisit waivers through the `steward`
//! binary: `event KIND` for any declared kind (V4 and an estate's own kind),
//! refusals with a did-you-mean, the same event counting once, `event rain --at`,
//! feeds through each estate's own policy, and `ticket waive-revisit` (V1).

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::cli_support;

fn steward(db: &Path, now: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = cli_support::at(db, now);
    cmd.env("STEWARD_POLICY_ROOT", env!("CARGO_MANIFEST_DIR"));
    cli_support::output(cmd.args(args))
}

fn ok(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = steward(db, now, args);
    assert_eq!(code, 0, "steward {args:?} failed: {err}\n{out}");
    out
}

fn refused(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = steward(db, now, args);
    assert_eq!(code, 2, "steward {args:?} should be refused: {out}");
    err
}

fn json(db: &Path, now: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = ok(db, now, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn events(db: &Path) -> i64 {
    let v = json(db, "2030-01-01T00:00:00Z", &["audit", "verify"]);
    assert_eq!(v["chain_ok"], true, "{v}");
    v["events"].as_i64().expect("events count")
}

fn dir(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

/// vk-shanghai company-wide, the typhoon overlay for `seaside`, and a leak
/// repair resolved in each of `riverside` and `seaside`.
fn setup() -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    let t0 = "2026-07-06T09:00:00+08:00";
    ok(&db, t0, &["policy", "apply", &dir("policies/vk-shanghai")]);
    ok(
        &db,
        t0,
        &[
            "policy",
            "apply",
            &dir("tests/fixtures/typhoon-overlay"),
            "--estate",
            "seaside",
        ],
    );
    for (id, estate) in [("T1", "riverside"), ("T2", "seaside")] {
        ok(
            &db,
            t0,
            &[
                "ticket",
                "open",
                "--id",
                id,
                "--estate",
                estate,
                "--kind",
                "repair",
                "--text",
                "外墙渗水",
            ],
        );
        ok(&db, "2026-07-07T09:00:00+08:00", &["ticket", "resolve", id]);
    }
    (tmp, db)
}

fn slot_state(db: &Path, id: &str, key: &str) -> String {
    let v = json(db, "2026-07-20T09:00:00+08:00", &["ticket", "show", id]);
    let slots = v["ticket"]["revisits"]
        .as_array()
        .unwrap_or_else(|| panic!("no revisits in {v}"));
    slots
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no slot {key} in {v}"))["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn any_declared_kind_is_recorded_and_makes_its_slot_due() {
    let (_t, db) = setup();
    let now = "2026-07-08T10:00:00+08:00";
    let out = ok(
        &db,
        now,
        &["event", "typhoon_warning", "--estate", "seaside"],
    );
    assert!(
        out.starts_with("typhoon_warning at seaside 2026-07-08 10:00 recorded (event "),
        "{out}"
    );
    assert!(
        out.contains("T2      revisit V4#3 due now (typhoon_warning)  V4"),
        "{out}"
    );
    assert_eq!(slot_state(&db, "T2", "V4#3"), "due");
    assert_eq!(slot_state(&db, "T2", "V4#2"), "waiting_for_event");
}

#[test]
fn an_undeclared_kind_or_estate_is_refused_with_a_did_you_mean_and_writes_nothing() {
    let (_t, db) = setup();
    let now = "2026-07-08T10:00:00+08:00";
    let before = events(&db);
    // riverside runs vk-shanghai, which declares only rain.
    let err = refused(
        &db,
        now,
        &["event", "typhoon_warning", "--estate", "riverside"],
    );
    assert_eq!(
        err.trim(),
        "error: event kind `typhoon_warning` is not declared by policy `vk-shanghai`, which governs estate `riverside`: it declares: rain"
    );
    let err = refused(
        &db,
        now,
        &["event", "typhon_warning", "--estate", "seaside"],
    );
    assert!(err.contains("did you mean `typhoon_warning`?"), "{err}");
    ok(
        &db,
        now,
        &[
            "estate",
            "add",
            "riverside",
            "--name",
            "滨江花园",
            "--households",
            "1200",
        ],
    );
    ok(
        &db,
        now,
        &[
            "estate",
            "add",
            "seaside",
            "--name",
            "海滨苑",
            "--households",
            "800",
        ],
    );
    let before_rain = events(&db);
    assert_eq!(before_rain, before + 2, "two declarations");
    let err = refused(&db, now, &["event", "rain", "--estate", "riversde"]);
    assert_eq!(
        err.trim(),
        "error: unknown estate `riversde`: did you mean `riverside`? (declare it with `steward estate add`)"
    );
    let err = refused(&db, now, &["event", "rian", "--estate", "riverside"]);
    assert!(err.contains("did you mean `rain`?"), "{err}");
    assert_eq!(events(&db), before_rain, "a refused event writes nothing");
    // Missing flags are clap's errors for `event KIND` too.
    let err = refused(&db, now, &["event", "typhoon_warning"]);
    assert!(err.contains("--estate"), "{err}");
}

#[test]
fn the_same_event_recorded_twice_counts_once_and_says_so() {
    let (_t, db) = setup();
    let first = json(
        &db,
        "2026-07-08T14:00:00+08:00",
        &["event", "rain", "--estate", "riverside"],
    );
    assert_eq!(first["duplicate"], false, "{first}");
    assert_eq!(first["fired"].as_array().map(Vec::len), Some(1), "{first}");
    let after_first = events(&db);
    // Later, the same rain (kind, estate, time) from another source: --at names it.
    let out = ok(
        &db,
        "2026-07-08T15:30:00+08:00",
        &[
            "event",
            "rain",
            "--estate",
            "riverside",
            "--at",
            "2026-07-08T14:00:00+08:00",
        ],
    );
    let seq = first["seq"].as_i64().unwrap();
    assert_eq!(
        out.trim(),
        format!(
            "rain at riverside 2026-07-08 14:00 was already recorded (event {seq}): it counts once, nothing changed"
        )
    );
    assert_eq!(events(&db), after_first, "nothing was written");
    let again = json(
        &db,
        "2026-07-08T15:31:00+08:00",
        &[
            "event",
            "rain",
            "--estate",
            "riverside",
            "--at",
            "2026-07-08 14:00",
        ],
    );
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["seq"], seq, "{again}");
    // Rain at another time is another event.
    let other = json(
        &db,
        "2026-07-09T14:00:00+08:00",
        &["event", "rain", "--estate", "riverside"],
    );
    assert_eq!(other["duplicate"], false, "{other}");
    assert_eq!(events(&db), after_first + 1);
}

#[test]
fn a_waived_revisit_is_logged_shown_and_lets_the_ticket_close() {
    let (_t, db) = setup();
    let now = "2026-07-08T10:00:00+08:00";
    ok(
        &db,
        now,
        &["ticket", "revisit", "T1", "--ok", "--note", "已不渗水"],
    );
    let err = refused(&db, now, &["ticket", "close", "T1"]);
    assert!(err.contains("revisits pending: V4#2 (V1)"), "{err}");
    let err = refused(
        &db,
        now,
        &[
            "ticket",
            "waive-revisit",
            "T1",
            "--slot",
            "V4#3",
            "--reason",
            "x",
        ],
    );
    assert_eq!(
        err.trim(),
        "error: ticket `T1` has no revisit `V4#3`: did you mean `V4#2`?"
    );
    let err = refused(
        &db,
        now,
        &["ticket", "waive-revisit", "T1", "--reason", "x"],
    );
    assert!(err.contains("--slot"), "{err}");
    let out = ok(
        &db,
        "2026-07-08T10:05:00+08:00",
        &[
            "ticket",
            "waive-revisit",
            "T1",
            "--slot",
            "V4#2",
            "--reason",
            "业主表示雨后不必再回访",
            "--by",
            "王专员",
        ],
    );
    assert!(
        out.contains("T1      revisit V4#2 waived by 王专员: 业主表示雨后不必再回访  V4"),
        "{out}"
    );
    let show = ok(&db, "2026-07-08T10:06:00+08:00", &["ticket", "show", "T1"]);
    assert!(
        show.contains("revisit V4#2     waived (业主表示雨后不必再回访), after next rain"),
        "{show}"
    );
    assert_eq!(slot_state(&db, "T1", "V4#2"), "waived");
    ok(&db, "2026-07-08T10:10:00+08:00", &["ticket", "close", "T1"]);
    // A closed ticket has nothing left to waive.
    let err = refused(
        &db,
        "2026-07-08T10:11:00+08:00",
        &["ticket", "waive-revisit", "T1", "--all", "--reason", "x"],
    );
    assert!(err.contains("it is closed"), "{err}");
    let v = json(&db, "2030-01-01T00:00:00Z", &["audit", "verify"]);
    assert_eq!(v["ok"], true, "{v}");
}

#[test]
fn a_feed_runs_the_plug_in_of_each_estates_own_policy() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    let t0 = "2026-07-06T09:00:00+08:00";
    // The company policy has no weather plug-in; riverside's own policy has one.
    ok(&db, t0, &["policy", "apply", &dir("policies/vk-shanghai")]);
    let (code, _, err) = steward(
        &db,
        t0,
        &[
            "event",
            "feed",
            "--plugin",
            "weather",
            "--file",
            &dir("policies/vk-shanghai-plugins/observations.csv"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no event-source plug-in `weather`"), "{err}");
    ok(
        &db,
        t0,
        &[
            "policy",
            "apply",
            &dir("policies/vk-shanghai-plugins"),
            "--estate",
            "riverside",
        ],
    );
    let v = json(
        &db,
        "2026-11-21T00:00:00+08:00",
        &[
            "event",
            "feed",
            "--plugin",
            "weather",
            "--file",
            &dir("policies/vk-shanghai-plugins/observations.csv"),
        ],
    );
    let list = v.as_array().unwrap_or_else(|| panic!("{v}"));
    assert!(!list.is_empty(), "{v}");
    // Only events of the estates the plug-in's policy governs are recorded.
    assert!(list.iter().all(|e| e["estate"] == "riverside"), "{v}");
    // Run again: every event was recorded already.
    let again = json(
        &db,
        "2026-11-21T00:00:00+08:00",
        &[
            "event",
            "feed",
            "--plugin",
            "weather",
            "--file",
            &dir("policies/vk-shanghai-plugins/observations.csv"),
        ],
    );
    let notes: Vec<&str> = again
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap_or(""))
        .collect();
    assert!(
        notes.iter().all(|n| n.starts_with("already recorded")),
        "{again}"
    );
}

#[test]
fn policy_diff_and_show_name_a_declared_event_kind() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    let (code, out, err) = steward(
        &db,
        "2026-07-06T09:00:00+08:00",
        &[
            "policy",
            "diff",
            &dir("policies/vk-shanghai"),
            &dir("tests/fixtures/typhoon-overlay"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        out.lines().any(
            |l| l.starts_with("event typhoon_warning (台风预警 (typhoon…) added")
                && l.trim_end().ends_with("neutral")
        ),
        "{out}"
    );
    assert!(
        out.contains("step added: on event typhoon_warning"),
        "{out}"
    );
    let show = ok(
        &db,
        "2026-07-06T09:00:00+08:00",
        &["policy", "show", &dir("tests/fixtures/typhoon-overlay")],
    );
    assert!(show.contains("[events.rain]"), "{show}");
    assert!(show.contains("[events.typhoon_warning]"), "{show}");
}
