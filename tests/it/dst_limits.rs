#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end: a policy outside Asia/Shanghai chooses, limit by limit, whether a
//! day is 24 elapsed hours (`3d`) or the same local time a date later
//! (`3 calendar days`) — docs/calendars.md. The ticket opens on the Friday before
//! Europe's spring clock change (2026-03-29), so the two readings differ by an hour.

use std::path::Path;
use std::process::Command;

fn steward(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--db")
        .arg(dir.join("steward.db"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The overlay extends the shipped base, outside its own tree.
        .env("STEWARD_POLICY_ROOT", "/")
        .env_remove("STEWARD_DB")
        .output()
        .expect("the steward binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Berlin estate whose L1 (first answer) runs for `within`.
fn berlin_policy(dir: &Path, within: &str) -> String {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/base");
    let policy = dir.join("berlin");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(
        policy.join("policy.toml"),
        format!(
            "[policy]\nid = \"berlin\"\nextends = \"{}\"\ntimezone = \"Europe/Berlin\"\n\n\
             [[limit]]\nid = \"L1\"\nwithin = \"{within}\"\n",
            base.display()
        ),
    )
    .unwrap();
    policy.display().to_string()
}

/// The L1 deadline of a complaint opened on Friday 2026-03-27 at 10:00 CET.
fn l1_deadline(within: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let policy = berlin_policy(dir.path(), within);
    let now = "2026-03-27T10:00:00+01:00";
    let (code, _, err) = steward(dir.path(), &["--now", now, "policy", "apply", &policy]);
    assert_eq!(code, 0, "{err}");
    let open = [
        "--now",
        now,
        "ticket",
        "open",
        "--id",
        "B1",
        "--estate",
        "E1",
        "--kind",
        "complaint",
        "--text",
        "Heizung fällt aus",
    ];
    let (code, _, err) = steward(dir.path(), &open);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = steward(
        dir.path(),
        &["--now", now, "--format", "json", "ticket", "show", "B1"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let clock = v["ticket"]["clocks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["limit"] == "L1"))
        .unwrap_or_else(|| panic!("no L1 clock: {v}"));
    clock["deadline"].as_str().unwrap().to_string()
}

#[test]
fn calendar_days_keep_the_local_time_and_days_count_hours() {
    let calendar = l1_deadline("3 calendar days");
    let elapsed = l1_deadline("3d");
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    // Monday 10:00 CEST (08:00 UTC) against 72 hours later, 11:00 CEST.
    assert_eq!(at(&calendar), at("2026-03-30T10:00:00+02:00"), "{calendar}");
    assert_eq!(at(&elapsed), at("2026-03-30T11:00:00+02:00"), "{elapsed}");
}

#[test]
fn policy_show_prints_the_reading_it_will_use() {
    let dir = tempfile::tempdir().unwrap();
    let policy = berlin_policy(dir.path(), "1 Calendar Week");
    let (code, out, err) = steward(dir.path(), &["policy", "show", &policy]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("within = \"1 calendar week\""), "{out}");
    let bad = berlin_policy(dir.path(), "3 calendar hours");
    let (code, _, err) = steward(dir.path(), &["policy", "check", &bad]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad duration in `within`") && err.contains("found `3 calendar hours`"),
        "{err}"
    );
}
