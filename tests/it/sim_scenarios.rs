#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end: `steward policy test`, `sim run`, `sim generate` and `sim replay` as a
//! planner runs them — exit codes, summaries, located errors and the comparison.

use std::path::Path;
use std::process::{Command, Output};

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the steward binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// (policy, scenarios shipped, rule ids it cites)
const SHIPPED: &[(&str, usize, usize)] = &[
    ("policies/base", 3, 16),
    ("policies/vk-shanghai", 22, 23),
    ("policies/vk-shanghai-gardens", 5, 23),
    ("policies/three-class", 4, 17),
];

#[test]
fn every_shipped_policy_passes_its_scenarios_with_full_coverage() {
    for (path, scenarios, cited) in SHIPPED {
        let out = steward(&["policy", "test", path]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path}:\n{stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("{scenarios} scenario(s)")),
            "{path}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("result: {scenarios} passed, 0 failed")),
            "{path}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("coverage: {cited} of {cited} rule ids")),
            "{path}:\n{stdout}"
        );
        assert!(!stdout.contains("not exercised"), "{path}:\n{stdout}");
    }
}

#[test]
fn policy_test_json_lists_cases_and_coverage() {
    let out = steward(&["policy", "test", "policies/vk-shanghai", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["policy"], "vk-shanghai");
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(22));
    assert_eq!(v["coverage"]["uncovered"], serde_json::json!([]));
    assert!(
        v["coverage"]["fired"]
            .as_array()
            .is_some_and(|a| a.contains(&"V4".into()))
    );
}

#[test]
fn the_scenario_directory_is_not_read_as_policy() {
    // `scenarios/*.toml` sit under the policy directory; the loader reads only the
    // files directly inside it, so checking the policy still succeeds.
    let out = steward(&["policy", "check", "policies/vk-shanghai"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_failing_expectation_prints_expected_and_actual_and_exits_1() {
    let out = steward(&["sim", "run", "tests/sim_cases/failing.toml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL tests/sim_cases/failing.toml:16 (at +3h, ticket T1): breached"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  expected: []\n  actual:   [L4]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected: specialist\n  actual:   service_center"),
        "{stdout}"
    );
    // The timeline shows what happened, with rule ids.
    assert!(
        stdout.contains("BREACHED (was due 2026-07-06 12:00)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("escalated specialist → service_center"),
        "{stdout}"
    );
}

#[test]
fn a_passing_scenario_runs_to_ok() {
    let out = steward(&[
        "sim",
        "run",
        "policies/vk-shanghai/scenarios/leak-rain-before-revisit.toml",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("rain at estate gardens"), "{stdout}");
    assert!(stdout.contains("revisit V4#2 due now (rain)"), "{stdout}");
    assert!(stdout.contains("ok: 7 step(s), 9 check(s)"), "{stdout}");
}

#[test]
fn a_malformed_scenario_is_reported_with_file_line_and_column() {
    let out = steward(&["sim", "run", "tests/sim_cases/malformed.toml"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--> tests/sim_cases/malformed.toml:11:6"),
        "{stderr}"
    );
    assert!(stderr.contains("found `in two hours`"), "{stderr}");
    assert!(
        stderr.contains("unknown key `respnd` in [[step]]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--> tests/sim_cases/malformed.toml:16:1"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `respond`?"), "{stderr}");
    assert!(
        stderr.contains("--> tests/sim_cases/malformed.toml:21:10"),
        "{stderr}"
    );
    assert!(!stderr.contains("checks nothing"), "{stderr}");
}

#[test]
fn a_malformed_history_is_reported_by_line_and_unknown_categories_are_not_dropped() {
    let out = steward(&[
        "sim",
        "replay",
        "--history",
        "tests/sim_cases/malformed-history.csv",
        "--policy",
        "policies/vk-shanghai",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tests/sim_cases/malformed-history.csv:3: bad time `yesterday`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tests/sim_cases/malformed-history.csv:4: unknown action `fly`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "tests/sim_cases/malformed-history.csv:5: category `repair.teleporter` is unknown to policy vk-shanghai"
        ),
        "{stderr}"
    );
    // The good lines were replayed: both tickets opened, T1 resolved.
    assert!(
        text(&out.stdout).contains("opened                    2"),
        "{}",
        text(&out.stdout)
    );
}

fn generate(dir: &Path, name: &str, seed: &str, tickets: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let p = path.to_string_lossy().into_owned();
    let out = steward(&[
        "sim",
        "generate",
        "--seed",
        seed,
        "--tickets",
        tickets,
        "--days",
        "10",
        "--estates",
        "3",
        "--out",
        &p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    path
}

#[test]
fn generate_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = std::fs::read(generate(dir.path(), "a.csv", "42", "300")).expect("a");
    let b = std::fs::read(generate(dir.path(), "b.csv", "42", "300")).expect("b");
    let c = std::fs::read(generate(dir.path(), "c.csv", "43", "300")).expect("c");
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, another history");
    let text = String::from_utf8(a).expect("UTF-8");
    assert!(text.starts_with("ticket,at,action,estate,kind,channel,category,detail,text\n"));
    assert_eq!(text.lines().filter(|l| l.contains(",open,")).count(), 300);
    assert!(text.lines().any(|l| l.contains(",rain,")), "rain days");
}

#[test]
fn replay_compares_company_and_gardens_l4() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = generate(dir.path(), "h.csv", "7", "1500");
    let h = history.to_string_lossy().into_owned();
    let out = steward(&[
        "sim",
        "replay",
        "--history",
        &h,
        "--policy",
        "policies/vk-shanghai",
        "--policy",
        "policies/vk-shanghai-gardens",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let l4 = |i: usize| v["stats"][i]["breaches"]["L4"].as_u64().unwrap_or(0);
    assert!(
        l4(0) > l4(1),
        "2 h breaches more than 4 h: {} vs {}",
        l4(0),
        l4(1)
    );
    assert_eq!(
        v["stats"][1]["breaches"]["L5"],
        serde_json::Value::Null,
        "gardens has no L5"
    );
    let total = v["differing_total"].as_u64().unwrap_or(0);
    assert!(total > 0);
    let diffs = v["differing"].as_array().expect("differing list");
    assert_eq!(diffs.len() as u64, total);
    assert!(diffs.iter().any(|d| {
        d["a"]["breached"]
            .as_array()
            .is_some_and(|b| b.contains(&"L4".into()))
            && !d["b"]["breached"]
                .as_array()
                .is_some_and(|b| b.contains(&"L4".into()))
    }));

    let out = steward(&[
        "sim",
        "replay",
        "--history",
        &h,
        "--policy",
        "policies/vk-shanghai",
        "--policy",
        "policies/vk-shanghai-gardens",
    ]);
    let table = text(&out.stdout);
    assert!(table.contains("limits breached per rule"), "{table}");
    assert!(
        table.contains(&format!("tickets whose outcome differs: {total} of 1500")),
        "{table}"
    );

    let out = steward(&[
        "sim",
        "replay",
        "--history",
        &h,
        "--policy",
        "policies/vk-shanghai",
        "--policy",
        "policies/vk-shanghai-gardens",
        "--format",
        "csv",
    ]);
    let csv = text(&out.stdout);
    assert!(csv.starts_with("section,key,day,a,b\n"), "{csv}");
    assert!(
        csv.contains(&format!("breached,L4,,{},{}\n", l4(0), l4(1))),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.starts_with("differs,T")), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("revisits_due,,2026-07-")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("dispatched,engineering,2026-07-")),
        "{csv}"
    );
}
