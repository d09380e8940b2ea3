#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The CLI as a new user meets it: ticket ids from the store's sequence (also with
//! two writers at once), `ticket list` with its limit, count of the rest, sort and
//! filters, the documented JSON shapes and JSON errors, help on every flag with an
//! example per command, completions, man pages, `--version`, colour, `demo --db`,
//! `policy test` without scenarios, a report of zeros for an empty day, local
//! `--now`, and reports in zh-CN and English.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::CommandFactory;
use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("STEWARD_DB")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run steward")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "steward {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    let out = ok(db, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn policy_dir(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
        .display()
        .to_string()
}

fn fresh() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("s.db");
    ok(
        &db,
        &[
            "--now",
            "2026-07-01T09:00:00+08:00",
            "policy",
            "apply",
            &policy_dir("vk-shanghai"),
        ],
    );
    (dir, db)
}

fn open(db: &Path, now: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--now", now, "ticket", "open", "--estate", "riverside"];
    args.extend(extra);
    json(db, &args)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn ids_come_from_the_sequence_and_skip_ids_taken_by_hand() {
    let (_d, db) = fresh();
    let at = "2026-07-06T09:00:00+08:00";
    let a = open(&db, at, &["--kind", "repair", "--text", "灯不亮"]);
    assert_eq!(a["ticket"], "T00001");
    open(
        &db,
        at,
        &["--id", "T00002", "--kind", "repair", "--text", "x"],
    );
    let c = open(&db, at, &["--kind", "inquiry", "--text", "物业费"]);
    assert_eq!(c["ticket"], "T00003", "T00002 was taken by --id");
    // An open the engine refuses (inside the transaction, after the number was
    // drawn) gives its number back: nothing is written.
    let out = run(
        &db,
        &[
            "--now",
            at,
            "ticket",
            "open",
            "--json",
            r#"{"id":"","estate":"riverside","kind":"bogus","text":"x"}"#,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let d = open(&db, at, &["--kind", "repair", "--text", "y"]);
    assert_eq!(d["ticket"], "T00004");
}

#[test]
fn two_processes_opening_at_once_never_share_an_id() {
    let (_d, db) = fresh();
    let spawn = |who: &str| {
        let db = db.clone();
        let who = who.to_owned();
        std::thread::spawn(move || {
            (0..12)
                .map(|i| {
                    let v = open(
                        &db,
                        "2026-07-06T09:00:00+08:00",
                        &["--kind", "repair", "--text", &format!("{who} {i}")],
                    );
                    v["ticket"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = (spawn("a"), spawn("b"));
    let mut ids: Vec<String> = a
        .join()
        .unwrap()
        .into_iter()
        .chain(b.join().unwrap())
        .collect();
    ids.sort();
    let want: Vec<String> = (1..=24).map(|n| format!("T{n:05}")).collect();
    assert_eq!(ids, want, "24 opens, 24 distinct ids with no gap");
    let v = json(&db, &["ticket", "list", "--limit", "0"]);
    assert_eq!(v["total"], 24);
}

/// Four tickets: two repairs (one an emergency that breaches), a complaint, an inquiry.
fn listed() -> (TempDir, PathBuf) {
    let (d, db) = fresh();
    open(
        &db,
        "2026-07-06T09:00:00+08:00",
        &["--kind", "repair", "--text", "客厅灯具不亮"],
    );
    open(
        &db,
        "2026-07-06T10:00:00+08:00",
        &["--kind", "complaint", "--text", "电梯运行噪音大"],
    );
    open(
        &db,
        "2026-07-06T11:00:00+08:00",
        &["--kind", "repair", "--text", "3号楼电梯困人"],
    );
    open(
        &db,
        "2026-07-06T12:00:00+08:00",
        &["--kind", "inquiry", "--text", "物业费缴纳方式"],
    );
    ok(&db, &["--now", "2026-07-06T13:00:00+08:00", "tick"]);
    (d, db)
}

#[test]
fn list_is_newest_first_limited_and_says_how_many_more() {
    let (_d, db) = listed();
    let v = json(&db, &["ticket", "list", "--limit", "2"]);
    assert_eq!(keys(&v), ["more", "shown", "tickets", "total"]);
    let ids: Vec<&str> = v["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T00004", "T00003"]);
    assert_eq!(
        (v["shown"].as_u64(), v["total"].as_u64(), v["more"].as_u64()),
        (Some(2), Some(4), Some(2))
    );
    assert_eq!(
        keys(&v["tickets"][0]),
        [
            "breaches",
            "category",
            "department",
            "estate",
            "id",
            "kind",
            "next_deadline",
            "opened",
            "status",
            "step",
            "text"
        ]
    );
    assert_eq!(v["tickets"][0]["opened"], "2026-07-06T12:00:00+08:00");

    let text = ok(&db, &["ticket", "list", "--limit", "3"]);
    assert!(
        text.ends_with("... 1 more (of 4); use --limit N (0 for all) or narrow the filters\n"),
        "{text}"
    );
    let all = ok(&db, &["ticket", "list"]);
    assert!(!all.contains("more"), "{all}");

    let v = json(&db, &["ticket", "list", "--sort", "oldest", "--limit", "1"]);
    assert_eq!(v["tickets"][0]["id"], "T00001");
}

#[test]
fn list_filters_by_category_department_breach_and_deadline() {
    let (_d, db) = listed();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["ticket", "list", "--sort", "oldest"];
        all.extend(args);
        json(&db, &all)["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&["--category", "repair"]),
        ["T00001", "T00003"],
        "a family"
    );
    assert_eq!(ids(&["--category", "repair.emergency"]), ["T00003"]);
    assert_eq!(
        ids(&["--category", "repai"]),
        Vec::<String>::new(),
        "not a text prefix"
    );
    assert_eq!(
        ids(&["--breached"]),
        ["T00003"],
        "the 30-minute emergency limit (L2)"
    );
    let routed = ids(&["--department", "engineering"]);
    assert!(routed.contains(&"T00003".to_owned()), "{routed:?}");
    assert!(!routed.contains(&"T00004".to_owned()), "{routed:?}");
    let due = ids(&["--due-before", "2026-07-06 16:00"]);
    assert!(!due.is_empty());
    let v = json(&db, &["ticket", "list", "--sort", "deadline"]);
    let first = &v["tickets"][0];
    assert!(
        due.contains(&first["id"].as_str().unwrap().to_owned()),
        "{due:?} {first}"
    );
    let mut last = String::new();
    for t in v["tickets"].as_array().unwrap() {
        let in_filter = due.contains(&t["id"].as_str().unwrap().to_owned());
        match t["next_deadline"].as_str() {
            Some(d) => {
                assert_eq!(in_filter, d <= "2026-07-06T16:00:00+08:00", "{t}");
                assert!(last.as_str() <= d, "nearest deadline first: {v}");
                last = d.to_owned();
            }
            None => assert!(!in_filter, "{t}"),
        }
    }
    let status = run(&db, &["ticket", "list", "--status", "opened"]);
    assert_eq!(status.status.code(), Some(2));
    let err = String::from_utf8_lossy(&status.stderr);
    assert!(err.contains("open, resolved, closed, invalid"), "{err}");
}

#[test]
fn show_and_actions_print_their_documented_shapes() {
    let (_d, db) = listed();
    let v = json(&db, &["ticket", "show", "T00003"]);
    assert_eq!(keys(&v), ["ticket", "timeline"]);
    let t = &v["ticket"];
    assert!(
        t.get("segment_start").is_none() && t.get("ladder_step").is_none(),
        "{t}"
    );
    assert_eq!(
        t["step"], "expert_panel",
        "two breaches (L2, L4), two steps up (E3)"
    );
    assert_eq!(t["clocks"][0]["state"], "breached");
    assert_eq!(
        keys(&v["timeline"][0]),
        [
            "fact",
            "fingerprint",
            "kind",
            "rule",
            "seq",
            "ticket",
            "time",
            "what"
        ]
    );
    let r = json(
        &db,
        &[
            "--now",
            "2026-07-06T14:00:00+08:00",
            "ticket",
            "respond",
            "T00001",
            "--by",
            "张三",
        ],
    );
    assert_eq!(keys(&r), ["events", "status", "ticket"]);
    assert_eq!(r["events"][0]["kind"], "action_recorded");
}

#[test]
fn errors_are_json_with_format_json() {
    let (_d, db) = listed();
    for args in [
        &["--format", "json", "ticket", "show", "NOPE"][..],
        &["--format", "json", "ticket", "list", "--bogus"][..],
        &[
            "--format=json",
            "--now",
            "yesterday",
            "ticket",
            "respond",
            "T00001",
        ][..],
    ] {
        let out = run(&db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(keys(&v), ["error"], "{v}");
        assert!(!v["error"].as_str().unwrap().is_empty());
    }
    let out = run(&db, &["ticket", "show", "NOPE"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: unknown ticket `NOPE`\n"
    );
}

#[test]
fn every_flag_has_help_and_every_command_an_example() {
    fn walk(cmd: &clap::Command, path: &str, problems: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() {
                problems.push(format!("{path}: --{id} has no help"));
            }
        }
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .collect();
        if subs.is_empty() {
            let example = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !example.contains("steward ") {
                problems.push(format!("{path}: no example"));
            }
        }
        for sub in subs {
            walk(sub, &path, problems);
        }
    }
    let mut problems = Vec::new();
    walk(&steward::cli::Cli::command(), "", &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let help = ok(Path::new("x.db"), &["policy", "--help"]);
    for sub in ["check", "show", "explain", "test", "diff", "apply"] {
        assert!(
            help.contains(&format!("  {sub} ")),
            "policy --help lists {sub}: {help}"
        );
    }
    let help = ok(Path::new("x.db"), &["ticket", "open", "-h"]);
    assert!(
        help.contains("[possible values: inquiry, repair, complaint, suggestion]"),
        "{help}"
    );
}

#[test]
fn completions_man_pages_and_version() {
    let db = Path::new("unused.db");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef steward"),
        ("fish", "complete -c steward"),
    ] {
        let out = ok(db, &["completions", shell]);
        assert!(out.contains(marker), "{shell}: {out:.200}");
        assert!(
            out.contains("due-before"),
            "{shell} completes ticket list flags"
        );
    }
    let man = ok(db, &["man"]);
    assert!(man.contains(".TH steward 1"), "{man:.200}");
    let dir = TempDir::new().unwrap();
    ok(db, &["man", "--out", &dir.path().display().to_string()]);
    assert!(dir.path().join("steward-ticket-list.1").exists());

    let v = ok(db, &["--version"]);
    assert!(
        v.starts_with(&format!("steward {}\ncommit:  ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(
        v.contains("\ntarget:  ") && v.contains("\nprofile: "),
        "{v}"
    );
}

#[test]
fn colour_follows_color_and_no_color() {
    let (_d, db) = listed();
    let esc = |out: &Output| out.stdout.contains(&0x1b);
    let always = run(&db, &["--color", "always", "ticket", "show", "T00003"]);
    let text = String::from_utf8_lossy(&always.stdout);
    assert!(
        text.contains("\u{1b}[1m\u{1b}[31mBREACHED\u{1b}[0m"),
        "{text}"
    );
    assert!(!esc(&run(
        &db,
        &["--color", "never", "ticket", "show", "T00003"]
    )));
    // Not a terminal: auto means none.
    assert!(!esc(&run(&db, &["ticket", "show", "T00003"])));
    let no_color = Command::new(BIN)
        .args([
            "--db",
            &db.display().to_string(),
            "ticket",
            "show",
            "T00003",
        ])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!esc(&no_color), "NO_COLOR wins over CLICOLOR_FORCE");
}

#[test]
fn demo_honours_db_and_two_demos_do_not_collide() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("week.db");
    let out = ok(&db, &["demo"]);
    assert!(
        out.contains(&format!("database: {}", db.display())),
        "{out}"
    );
    assert!(ok(&db, &["ticket", "list"]).contains("T3"));
    let again = run(&db, &["demo"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing database is never overwritten"
    );

    let demo = || {
        std::thread::spawn(|| {
            let out = Command::new(BIN)
                .arg("demo")
                .env_remove("STEWARD_DB")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("database: "))
                .unwrap()
                .to_owned();
            assert!(text.contains("hash chain intact"), "{text}");
            line
        })
    };
    let (a, b) = (demo(), demo());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_ne!(a, b, "two demos write two databases");
    for line in [a, b] {
        let path = line["database: ".len()..]
            .split(" (")
            .next()
            .unwrap()
            .to_owned();
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(format!("{path}-wal"));
        let _ = std::fs::remove_file(format!("{path}-shm"));
    }
}

#[test]
fn policy_test_without_scenarios_says_so() {
    let out = run(
        Path::new("x.db"),
        &["policy", "test", &policy_dir("vk-shanghai-plugins")],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("no scenarios: "), "{text}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_empty_day_is_a_report_of_zeros() {
    let (_d, db) = listed();
    let v = json(&db, &["report", "daily", "2026-08-01"]);
    assert_eq!(v["tickets"]["opened"], 0);
    assert_eq!(v["complaints"]["opened"], 0);
    assert_eq!(v["new_complaints"], serde_json::json!([]));
    let text = ok(&db, &["report", "daily", "2026-08-01", "--lang", "en"]);
    assert!(
        text.contains("note: no ticket activity in this period: every figure is zero"),
        "{text}"
    );
}

#[test]
fn now_without_offset_is_read_in_the_policy_zone() {
    let (_d, db) = fresh();
    let a = open(
        &db,
        "2026-07-06 09:00",
        &["--kind", "repair", "--text", "a"],
    );
    let b = open(
        &db,
        "2026-07-06T09:00",
        &["--kind", "repair", "--text", "b"],
    );
    let c = open(
        &db,
        "2026-07-06T01:00:00Z",
        &["--kind", "repair", "--text", "c"],
    );
    for v in [a, b, c] {
        assert_eq!(v["events"][0]["time"], "2026-07-06T09:00:00+08:00", "{v}");
    }
    let dir = TempDir::new().unwrap();
    let out = run(
        &dir.path().join("none.db"),
        &["--now", "2026-07-06 09:00", "ticket", "respond", "T1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add an offset"));
}

#[test]
fn reports_follow_the_policy_locale_and_lang() {
    let (_d, db) = listed();
    let args = [
        "--now",
        "2026-07-13T09:00:00+08:00",
        "report",
        "weekly",
        "2026-07-06",
    ];
    let zh = ok(&db, &args);
    assert!(zh.starts_with("客户服务周报 — 2026-W28"), "{zh}");
    assert!(zh.contains("与上期对比"), "{zh}");
    let mut en_args = args.to_vec();
    en_args.extend(["--lang", "en"]);
    let en = ok(&db, &en_args);
    assert!(
        en.starts_with("steward weekly statistics (周报) — 2026-W28"),
        "{en}"
    );
    let mut html_args = vec!["--format", "html"];
    html_args.extend(args);
    let html = ok(&db, &html_args);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    for part in [
        "生成时间",
        "steward 版本",
        "sha256:",
        "按小区",
        "与上期对比",
    ] {
        assert!(html.contains(part), "{part}");
    }
}
