#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The deterministic core, checked on the source: nothing that decides what happens to a
//! ticket reads the clock. The engine, policies, conditions, hooks, plug-ins, calendars,
//! simulation, replay and reports take `now` as an argument; only the command line, the
//! server's clock and the script sandbox's time budget look at a real clock, and the
//! budget only to stop a runaway script, never to decide.

use std::fs;
use std::path::{Path, PathBuf};

/// Directories whose code must never read the wall clock or the monotonic clock.
const PURE: &[&str] = &[
    "src/engine",
    "src/policy",
    "src/script",
    "src/plugin",
    "src/calendar",
    "src/sim",
    "src/report",
];

/// Files allowed a monotonic clock, and why.
const BUDGET_ONLY: &[(&str, &str)] = &[(
    "src/script/sandbox.rs",
    "the wall-clock budget that stops a runaway script",
)];

const WALL_CLOCK: &[&str] = &[
    "Utc::now",
    "Local::now",
    "SystemTime::now",
    "Timestamp::now",
];
const MONOTONIC: &[&str] = &["Instant::now"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of a file that are code outside its `#[cfg(test)]` module (tests may time
/// themselves) and outside comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let test_module = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..test_module]
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_start()))
        .filter(|(_, line)| !line.starts_with("//"))
}

fn offending(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in PURE {
        rust_files(&root.join(dir), &mut files);
        let module = root.join(format!("{dir}.rs"));
        if module.is_file() {
            files.push(module);
        }
    }
    assert!(
        files.len() > 40,
        "the pure modules moved: found only {} files",
        files.len()
    );
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(&file).unwrap();
        let budget = BUDGET_ONLY.iter().any(|(f, _)| *f == rel);
        for (n, line) in code_lines(&text) {
            let mut banned: Vec<&str> = WALL_CLOCK.to_vec();
            if !budget {
                banned.extend(MONOTONIC);
            }
            for call in banned {
                if line.contains(call) {
                    found.push(format!("{rel}:{n}: {call} in `{line}`"));
                }
            }
        }
    }
    found
}

#[test]
fn no_clock_reads_in_the_deterministic_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = offending(root);
    assert!(
        found.is_empty(),
        "the deterministic core reads a clock:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_clock_read() {
    let dir = tempfile::tempdir().unwrap();
    for sub in PURE {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        for i in 0..7 {
            fs::write(dir.path().join(sub).join(format!("f{i}.rs")), "fn f() {}\n").unwrap();
        }
    }
    fs::write(
        dir.path().join("src/engine/late.rs"),
        "// Utc::now in a comment is fine\nfn due() -> i64 { chrono::Utc::now().timestamp() }\n\
         #[cfg(test)]\nmod tests { fn t() { std::time::Instant::now(); } }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("src/script/sandbox.rs"),
        "fn b() { Instant::now(); }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("src/plugin/timed.rs"),
        "fn b() { Instant::now(); }\n",
    )
    .unwrap();
    let found = offending(dir.path());
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("src/engine/late.rs:2: Utc::now")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("src/plugin/timed.rs:1: Instant::now")),
        "{found:#?}"
    );
}
