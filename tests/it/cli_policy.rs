#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end: the `steward policy` commands as a user runs them, exit codes and all.

use std::process::{Command, Output};

const SHIPPED: &[&str] = &[
    "policies/base",
    "policies/vk-shanghai",
    "policies/vk-shanghai-gardens",
    "policies/vk-shanghai-plugins",
];

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The error corpus extends the shipped base policy, outside its own tree.
        .env("STEWARD_POLICY_ROOT", ".")
        .output()
        .expect("the steward binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show_json(path: &str) -> serde_json::Value {
    let out = steward(&["policy", "show", path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("show --format json prints JSON")
}

#[test]
fn check_accepts_every_shipped_policy() {
    let mut args = vec!["policy", "check"];
    args.extend(SHIPPED);
    let out = steward(&args);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    for path in SHIPPED {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(" {path} ")))
            .unwrap_or_else(|| panic!("no line for {path}:\n{stdout}"));
        assert!(line.starts_with("ok "), "{line}");
        assert!(line.contains("sha256:"), "{line}");
    }
}

#[test]
fn check_rejects_a_corpus_case_with_a_located_error() {
    let out = steward(&["policy", "check", "tests/policy_errors/unknown-milestone"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: unknown milestone `first_responce`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--> tests/policy_errors/unknown-milestone/policy.toml:7:13"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: did you mean `first_response`?"),
        "{stderr}"
    );
    assert!(
        !text(&out.stdout).contains("ok "),
        "a failing policy must not be reported ok"
    );
}

#[test]
fn check_fails_when_any_of_several_policies_fails() {
    let out = steward(&[
        "policy",
        "check",
        "policies/base",
        "tests/policy_errors/bad-duration",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("ok  policies/base"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("tests/policy_errors/bad-duration/policy.toml:8:10"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_without_paths_is_a_usage_error() {
    let out = steward(&["policy", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage"), "{}", text(&out.stderr));
}

#[test]
fn show_json_has_the_fingerprint_and_the_resolved_overlay() {
    let company = show_json("policies/vk-shanghai");
    let estate = show_json("policies/vk-shanghai-gardens");
    for v in [&company, &estate] {
        let fp = v["fingerprint"].as_str().expect("a fingerprint string");
        assert!(
            fp.len() == 64 && fp.chars().all(|c| c.is_ascii_hexdigit()),
            "{fp}"
        );
    }
    assert_ne!(company["fingerprint"], estate["fingerprint"]);
    assert_eq!(company["policy"]["limits"]["L4"]["within"], "2h");
    assert_eq!(estate["policy"]["limits"]["L4"]["within"], "4h");
    // The overlay keeps what it does not change and drops what it removes.
    assert_eq!(
        estate["policy"]["limits"]["L4"]["milestone"],
        "report_to_center"
    );
    assert!(company["policy"]["limits"].get("L5").is_some());
    assert!(estate["policy"]["limits"].get("L5").is_none());
}

#[test]
fn show_json_fingerprint_matches_check() {
    let fp = show_json("policies/vk-shanghai")["fingerprint"]
        .as_str()
        .map(str::to_string)
        .expect("fingerprint");
    let out = steward(&["policy", "check", "policies/vk-shanghai"]);
    assert!(
        text(&out.stdout).contains(&format!("sha256:{fp}")),
        "{}",
        text(&out.stdout)
    );
}
