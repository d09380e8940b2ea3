#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The CLI's main outputs pinned as insta snapshots (tests/it/snapshots/): a ticket's
//! life on vk-shanghai (L4 breach and escalation, E3), `ticket show` and `list`,
//! `policy diff`, `policy explain`, `audit verify` and a command's `--help` with its
//! own formats. Every run takes `--now`; the temporary directory, the only
//! volatile part, is replaced by `[DIR]`. Review a change with `cargo insta review`
//! or `INSTA_UPDATE=always cargo test --test cli_snapshots` and the diff.

use std::path::Path;
use std::process::Command;

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Exit code, stdout and stderr of steward in the repository, on this run's
    /// database, with the temporary directory redacted.
    fn steward(&self, now: &str, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_steward"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("--db")
            .arg(self.dir.path().join("s.db"))
            .args(["--now", now])
            .args(args)
            .env_remove("STEWARD_DB")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let dir = self.dir.path().display().to_string();
        let text = format!(
            "exit {}\n{}{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        text.replace(&dir, "[DIR]")
    }
}

fn assert_ok(text: &str) {
    assert!(text.starts_with("exit 0\n"), "{text}");
}

#[test]
fn a_major_complaint_breaches_and_escalates() {
    let r = Run::new();
    assert_ok(&r.steward(
        "2026-07-06T08:00:00+08:00",
        &["policy", "apply", "policies/vk-shanghai", "--by", "审核员"],
    ));
    let opened = r.steward(
        "2026-07-06T09:00:00+08:00",
        &[
            "ticket",
            "open",
            "--id",
            "T1",
            "--estate",
            "riverside",
            "--kind",
            "complaint",
            "--major",
            "--text",
            "多户业主投诉夜间施工噪音",
        ],
    );
    insta::assert_snapshot!("ticket_open", opened);
    insta::assert_snapshot!("tick", r.steward("2026-07-06T13:10:00+08:00", &["tick"]));
    insta::assert_snapshot!(
        "ticket_show",
        r.steward("2026-07-06T13:10:00+08:00", &["ticket", "show", "T1"])
    );
    insta::assert_snapshot!(
        "ticket_show_json",
        r.steward(
            "2026-07-06T13:10:00+08:00",
            &["ticket", "show", "T1", "--format", "json"]
        )
    );
    insta::assert_snapshot!(
        "ticket_list",
        r.steward("2026-07-06T13:10:00+08:00", &["ticket", "list"])
    );
    insta::assert_snapshot!(
        "audit_verify",
        r.steward("2026-07-06T14:00:00+08:00", &["audit", "verify"])
    );
    insta::assert_snapshot!(
        "close_refused",
        r.steward("2026-07-06T14:00:00+08:00", &["ticket", "close", "T1"])
    );
}

#[test]
fn policy_outputs() {
    let r = Run::new();
    let now = "2026-07-06T09:00:00+08:00";
    insta::assert_snapshot!(
        "policy_diff",
        r.steward(
            now,
            &[
                "policy",
                "diff",
                "policies/vk-shanghai",
                "policies/vk-shanghai-gardens"
            ]
        )
    );
    insta::assert_snapshot!(
        "policy_explain",
        r.steward(
            now,
            &[
                "policy",
                "explain",
                "policies/vk-shanghai",
                "--ticket",
                r#"{"kind":"repair","text":"3号楼电梯困人","opened_at":"2026-07-01T09:00:00+08:00"}"#,
            ],
        )
    );
}

#[test]
fn each_command_offers_only_its_formats() {
    let r = Run::new();
    let now = "2026-07-06T09:00:00+08:00";
    insta::assert_snapshot!(
        "ticket_list_csv_refused",
        r.steward(now, &["ticket", "list", "--format", "csv"])
    );
    insta::assert_snapshot!(
        "report_toml_refused",
        r.steward(now, &["--format", "toml", "report", "weekly"])
    );
    let help = r.steward(now, &["policy", "show", "--help"]);
    let formats: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.contains("--format <FORMAT>"))
        .take_while(|l| !l.trim_start().starts_with("--color"))
        .collect();
    insta::assert_snapshot!("policy_show_help_formats", formats.join("\n"));
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/snapshots")
            .is_dir()
    );
}
