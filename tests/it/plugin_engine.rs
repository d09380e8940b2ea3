#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! WASM plug-ins in the ticket engine: a classify plug-in decides the category; a
//! plug-in that traps, loops, exhausts memory or answers nonsense is stopped, the
//! failure is recorded on the ticket with the plug-in id, and the plug-in's declared
//! fallback applies. The policy's modules live in the database, so a later process
//! runs the ticket's policy without the files.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use steward::engine::{Decision, Fact, OpenTicket};
use steward::service::Service;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A policy over the base whose only classifier is tests/plugins/moody.wat.
fn moody_policy(dir: &Path) -> PathBuf {
    // Laid out as `dir/base` and `dir/moody`: a policy only names files in its tree.
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::copy(
        root().join("policies/base/policy.toml"),
        dir.join("base/policy.toml"),
    )
    .unwrap();
    let dir = &dir.join("moody");
    std::fs::create_dir_all(dir).unwrap();
    let wat = std::fs::read(root().join("tests/plugins/moody.wat")).unwrap();
    std::fs::write(dir.join("moody.wat"), &wat).unwrap();
    let sha: String = Sha256::digest(&wat)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let toml = format!(
        "[policy]\nid = \"moody\"\nextends = \"../base\"\n\n[[plugin]]\nid = \"moody\"\non = \"classify\"\nwasm = \"moody.wat\"\nsha256 = \"{sha}\"\nfallback = \"repair.general\"\nlimits = {{ fuel = 200000, memory = \"1MiB\" }}\n"
    );
    std::fs::write(dir.join("policy.toml"), toml).unwrap();
    dir.to_path_buf()
}

fn repair(id: &str, text: &str) -> OpenTicket {
    OpenTicket {
        id: id.into(),
        estate: "e".into(),
        kind: "repair".into(),
        text: text.into(),
        ..OpenTicket::default()
    }
}

fn failures(ds: &[Decision]) -> Vec<String> {
    ds.iter()
        .filter_map(|d| match &d.fact {
            Fact::HookFailed {
                hook,
                error,
                fallback,
            } => Some(format!("{hook}|{error}|{fallback}")),
            _ => None,
        })
        .collect()
}

#[test]
fn misbehaving_plugin_calls_fall_back_and_the_host_survives() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = steward::policy::load_path(&moody_policy(dir.path())).unwrap_or_else(|f| {
        panic!(
            "{}",
            f.diagnostics
                .iter()
                .map(|d| d.render(&f.sources))
                .collect::<String>()
        )
    });
    let mut svc = Service::in_memory().unwrap();
    let t0 = at("2026-07-01T09:00:00+08:00");
    let how = steward::service::Applying {
        modules: &loaded.wasm,
        ..Default::default()
    };
    svc.apply(&loaded.policy, &how, t0).unwrap();
    let cases = [
        ("T1", "Trap"),
        ("T2", "Loop"),
        ("T3", "Memory"),
        ("T4", "Recursion"),
        ("T5", "Garbage"),
        ("T6", "Unknown category"),
    ];
    for (id, text) in cases {
        let (t, ds) = svc.open_ticket(repair(id, text), t0).unwrap();
        let f = failures(&ds);
        assert_eq!(f.len(), 1, "{text}: {f:?}");
        assert!(f[0].starts_with("moody|"), "{f:?}");
        assert!(f[0].ends_with("|repair.general"), "{f:?}");
        assert_eq!(t.category.as_deref(), Some("repair.general"), "{text}");
        // The next, well-behaved call works: the failed instance was replaced.
        let ok_id = format!("{id}-ok");
        let (t, ds) = svc.open_ticket(repair(&ok_id, "ok"), t0).unwrap();
        assert!(failures(&ds).is_empty(), "{text}: {:?}", failures(&ds));
        let by = ds.iter().find_map(|d| match &d.fact {
            Fact::Classified { hook, .. } => hook.clone(),
            _ => None,
        });
        assert_eq!(by.as_deref(), Some("plug-in moody"));
        assert_eq!(t.category.as_deref(), Some("repair.general"));
    }
    let fuel = svc.ticket("T2").unwrap().1;
    assert!(
        failures(&fuel)[0].to_lowercase().contains("fuel"),
        "{:?}",
        failures(&fuel)
    );
}

#[test]
fn the_shipped_keyword_plugin_classifies_and_runs_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let run = |args: &[&str]| {
        let out = Process::new(env!("CARGO_BIN_EXE_steward"))
            .arg("--db")
            .arg(&db)
            .args(["--now", "2026-07-01T09:00:00+08:00"])
            .args(args)
            .env_remove("STEWARD_DB")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let policy = root().join("policies/vk-shanghai-plugins");
    run(&["policy", "apply", policy.to_str().unwrap()]);
    let out = run(&[
        "ticket",
        "open",
        "--id",
        "T1",
        "--estate",
        "gardens",
        "--kind",
        "repair",
        "--text",
        "3号楼电梯困人",
    ]);
    assert!(
        out.contains("classified repair.emergency by hook plug-in keywords"),
        "{out}"
    );
    // A new process compiles the ticket's policy from the database, modules included.
    let out = run(&["ticket", "respond", "T1"]);
    assert!(out.contains("L2.emergency"), "{out}");
}

#[test]
fn v4_the_weather_plugin_turns_a_rainfall_feed_into_rain_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let run = |now: &str, args: &[&str]| {
        let out = Process::new(env!("CARGO_BIN_EXE_steward"))
            .arg("--db")
            .arg(&db)
            .args(["--now", now])
            .args(args)
            .env_remove("STEWARD_DB")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let policy = root().join("policies/vk-shanghai-plugins");
    run(
        "2026-11-19T09:00:00+08:00",
        &["policy", "apply", policy.to_str().unwrap()],
    );
    run(
        "2026-11-19T09:00:00+08:00",
        &[
            "ticket",
            "open",
            "--id",
            "L1",
            "--estate",
            "gardens",
            "--kind",
            "repair",
            "--text",
            "卫生间天花板渗水",
        ],
    );
    run("2026-11-19T15:00:00+08:00", &["ticket", "resolve", "L1"]);
    let feed = policy.join("observations.csv");
    // Before the rain hours nothing happens; after them the first rain at gardens
    // (14:00, 6.2 mm over the 5 mm threshold) makes the V4 revisit due.
    let early = run(
        "2026-11-20T10:00:00+08:00",
        &[
            "event",
            "feed",
            "--plugin",
            "weather",
            "--file",
            feed.to_str().unwrap(),
        ],
    );
    assert!(early.contains("no event"), "{early}");
    let out = run(
        "2026-11-21T00:00:00+08:00",
        &[
            "event",
            "feed",
            "--plugin",
            "weather",
            "--file",
            feed.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains("2026-11-20 14:00 rain at gardens: 1 ticket(s) affected"),
        "{out}"
    );
    assert!(out.contains("revisit V4#2 due now (rain)"), "{out}");
    assert!(
        !out.contains("13:00 rain"),
        "0.4 mm is under the threshold: {out}"
    );
}
