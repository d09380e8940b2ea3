#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! One wasmtime host per process, with the disk module cache used everywhere: a
//! ticket command under a plug-in policy loads the modules `policy apply` compiled
//! into `STEWARD_PLUGIN_CACHE` instead of compiling them again.

use std::path::Path;
use std::process::{Command, Output};

fn steward(db: &Path, cache: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD_DB", db)
        .env("STEWARD_PLUGIN_CACHE", cache)
        .env("STEWARD_PLUGIN_STATS", "1")
        .env_remove("NO_COLOR")
        .args(["--now", "2026-07-06T09:00:00+08:00"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `(compiled, from memory, from disk)` as the process reported them.
fn stats(out: &Output) -> (u64, u64, u64) {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("plug-in modules: "))
        .unwrap_or_else(|| panic!("no cache stats on stderr: {err}"));
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn a_ticket_command_loads_modules_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let cache = dir.path().join("modules");

    let applied = steward(
        &db,
        &cache,
        &["policy", "apply", "policies/vk-shanghai-plugins"],
    );
    let (compiled, _, _) = stats(&applied);
    assert!(compiled >= 1, "a cold cache compiles: {compiled}");
    let artifacts: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        artifacts.iter().any(|n| n.ends_with(".cwasm")),
        "precompiled modules are written: {artifacts:?}"
    );

    // A new process: every module comes from disk, none is compiled again, and
    // within the process the policy check and the engine share one host.
    let opened = steward(
        &db,
        &cache,
        &[
            "ticket",
            "open",
            "--estate",
            "riverside",
            "--kind",
            "repair",
            "--text",
            "卫生间漏水",
        ],
    );
    let (compiled, _, disk) = stats(&opened);
    assert_eq!(compiled, 0, "nothing recompiled with a warm cache");
    assert!(disk >= 1, "modules came from the disk cache: {disk}");
}
