#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Durability of the store under real processes: two `steward` processes writing
//! at once lose nothing, and a process killed with SIGKILL in the middle of a long
//! command leaves the database as if the command had not run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use steward::engine::OpenTicket;
use steward::service::Service;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn run(db: &Path, now: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .arg("--now")
        .arg(now)
        .args(args)
        .env_remove("STEWARD_DB")
        .output()
        .expect("run steward")
}

fn policy_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
}

fn verify(db: &Path) -> serde_json::Value {
    let out = run(
        db,
        "2030-01-01T00:00:00Z",
        &["audit", "verify", "--format", "json"],
    );
    serde_json::from_slice(&out.stdout).expect("audit verify prints JSON")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let vk = policy_dir("vk-shanghai");
    assert!(
        run(
            &db,
            "2026-07-01T08:00:00+08:00",
            &["policy", "apply", vk.to_str().unwrap()]
        )
        .status
        .success()
    );
    let writers: Vec<_> = ["A", "B"]
        .into_iter()
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("{w}{i:02}");
                    let out = run(
                        &db,
                        "2026-07-01T09:00:00+08:00",
                        &[
                            "ticket",
                            "open",
                            "--id",
                            &id,
                            "--estate",
                            "e",
                            "--kind",
                            "complaint",
                            "--text",
                            "噪音",
                        ],
                    );
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let v = verify(&db);
    assert_eq!(v["chain_ok"], true, "{v}");
    assert_eq!(v["tickets"], 50, "{v}");
    assert_eq!(v["mismatched"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn sigkill_during_a_long_command_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let old = steward::policy::load_path(&policy_dir("vk-shanghai"))
        .ok()
        .unwrap()
        .policy;
    {
        let mut svc = Service::open(&db).unwrap();
        svc.apply_policy(&old, None, None, at("2026-07-01T08:00:00+08:00"))
            .unwrap();
        for i in 0..3000 {
            let t = OpenTicket {
                id: format!("T{i:05}"),
                estate: "e".into(),
                kind: "complaint".into(),
                text: "噪音".into(),
                ..OpenTicket::default()
            };
            svc.open_ticket(t, at("2026-07-01T09:00:00+08:00")).unwrap();
        }
    }
    let before = verify(&db)["events"].as_i64().unwrap();
    // Applying the gardens overlay moves every open ticket: one long transaction.
    let gardens = policy_dir("vk-shanghai-gardens");
    let mut killed_midway = false;
    for delay_ms in [40u64, 80, 160, 320] {
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args([
                "--now",
                "2026-07-01T10:00:00+08:00",
                "policy",
                "apply",
                gardens.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        let v = verify(&db);
        assert_eq!(v["chain_ok"], true, "{v}");
        assert_eq!(v["mismatched"].as_array().map(Vec::len), Some(0), "{v}");
        let events = v["events"].as_i64().unwrap();
        if finished || events != before {
            // The command completed: every open ticket moved, none half-way.
            assert!(
                events >= before + 3000,
                "a partial apply: {before} -> {events}"
            );
            break;
        }
        killed_midway = true;
    }
    eprintln!("killed mid-command at least once: {killed_midway}");
}
