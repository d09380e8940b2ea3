#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The malformed-policy corpus: every directory under `tests/policy_errors/` is a
//! policy that must fail to load, and its `expected.txt` holds the exact rendered
//! diagnostics (paths relative to the repository root, which is where cargo runs
//! integration tests). `UPDATE_EXPECT=1 cargo test --test policy_errors` rewrites
//! the expected files; read the diff before committing it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

const CORPUS: &str = "tests/policy_errors";
const MIN_CASES: usize = 28;

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(CORPUS)
        .expect("the corpus directory exists")
        .map(|e| e.expect("readable corpus entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The diagnostics of a case as the CLI would print them, or a note that it loaded.
fn render(case: &Path) -> String {
    // The cases extend the shipped base policy, outside their own tree.
    match steward::policy::load_path_within(case, Path::new(".")) {
        Ok(loaded) => format!("<loaded without errors: policy `{}`>\n", loaded.policy.id),
        Err(failure) => failure
            .diagnostics
            .iter()
            .map(|d| d.render(&failure.sources))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// A line diff good enough to read a mismatch: lines only in expected (`-`) and
/// only in actual (`+`), aligned on their longest common subsequence.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn every_malformed_policy_reports_the_expected_diagnostics() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for case in cases() {
        let actual = render(&case);
        let expected_path = case.join("expected.txt");
        if update {
            fs::write(&expected_path, &actual).expect("expected.txt is writable");
            continue;
        }
        let name = case.display();
        if actual.starts_with("<loaded") {
            failures.push(format!("{name}: loaded, but every corpus case must fail\n"));
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{name}: diagnostics differ (- expected, + actual)\n{}",
                diff(&expected, &actual)
            )),
            Err(err) => failures.push(format!(
                "{name}: cannot read expected.txt ({err}); actual output:\n{actual}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (run with UPDATE_EXPECT=1 to accept the new output):\n\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_has_enough_cases_each_with_a_policy_and_expectation() {
    let cases = cases();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases in {CORPUS}; want at least {MIN_CASES}",
        cases.len()
    );
    let updating = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    for case in &cases {
        assert!(
            case.join("policy.toml").is_file(),
            "{} has no policy.toml",
            case.display()
        );
        // While updating, the other test is writing the expected files.
        assert!(
            updating || case.join("expected.txt").is_file(),
            "{} has no expected.txt",
            case.display()
        );
    }
}

#[test]
fn the_diff_marks_changed_lines() {
    let d = diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "  a\n- b\n+ x\n  c\n");
}
