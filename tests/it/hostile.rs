#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The hostile-input corpus under `tests/hostile/`: policies that reach outside
//! their tree or set unbounded limits, rhai hooks and WAT plug-ins that sleep, spin,
//! allocate or flood, and command lines with bad values. Each case names the error
//! it must end in; a case that loads, runs or succeeds fails the test. Then the
//! faults that must not spread: one bad ticket in a tick, and a slow hook holding
//! the write lock while another writer waits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use steward::engine::OpenTicket;
use steward::plugin::PluginHost;
use steward::policy::model::{Hook, HookPoint, Plugin, ScriptLimits};
use steward::script::facts::TicketFacts;
use steward::script::hook_script::CompiledHook;
use steward::script::sandbox;
use steward::service::Service;

const BIN: &str = env!("CARGO_BIN_EXE_steward");
const CORPUS: &str = "tests/hostile";

fn entries(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(CORPUS).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The `expect:` header of a script or module: alternatives separated by ` | `.
fn expectation(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find_map(|l| l.split_once("expect:").map(|(_, e)| e.trim().to_string()))
        .unwrap_or_else(|| panic!("no `expect:` line in\n{text}"));
    line.split(" | ").map(str::to_string).collect()
}

fn steward(args: &[&str]) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let out = Process::new(BIN)
        .args(args)
        .env_remove("STEWARD_DB")
        .env_remove("STEWARD_POLICY_ROOT")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn hostile_policies_are_refused_by_policy_check_without_echoing_files() {
    let cases = entries("policies");
    assert!(cases.len() >= 12, "{cases:?}");
    for case in cases {
        let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
        let expected = expected.trim();
        let (code, out, err, took) = steward(&["policy", "check", case.to_str().unwrap()]);
        if expected == "<loaded>" {
            assert_eq!(code, 0, "{}: {err}", case.display());
            continue;
        }
        assert_eq!(code, 2, "{}: {out}{err}", case.display());
        assert!(err.contains(expected), "{}: {err}", case.display());
        // Nothing of a file that is not policy text reaches the output.
        for secret in ["root:", "secret: do not echo me", "MZ", "\u{1b}"] {
            assert!(
                !err.contains(secret),
                "{}: echoed {secret:?}: {err}",
                case.display()
            );
        }
        assert!(
            took < Duration::from_secs(5),
            "{}: {took:?}",
            case.display()
        );
    }
}

#[test]
fn an_overlong_extends_chain_and_a_fifo_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let p = dir.path().join(format!("p{i}"));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(
            p.join("policy.toml"),
            format!("[policy]\nid = \"p{i}\"\nextends = \"../p{}\"\n", i + 1),
        )
        .unwrap();
    }
    let (code, _, err, _) = steward(&["policy", "check", dir.path().join("p0").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`extends` chain deeper than 32 policies"),
        "{err}"
    );

    let fifo_dir = dir.path().join("fifo");
    std::fs::create_dir_all(&fifo_dir).unwrap();
    let made = Process::new("mkfifo")
        .arg(fifo_dir.join("policy.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let (code, _, err, took) = steward(&["policy", "check", fifo_dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(took < Duration::from_secs(5));
}

#[test]
fn hostile_hook_scripts_end_in_their_limit() {
    let cases = entries("scripts");
    assert!(cases.len() >= 6);
    for case in cases {
        let source = std::fs::read_to_string(&case).unwrap();
        let expected = expectation(&source);
        // Every limit at its host ceiling: the most a policy can allow.
        let hook = Hook {
            on: HookPoint::Classify,
            script: case.display().to_string(),
            source,
            limits: ScriptLimits {
                operations: sandbox::MAX_OPERATIONS,
                call_depth: sandbox::MAX_CALL_DEPTH,
                string_size: sandbox::MAX_STRING_SIZE,
                array_size: sandbox::MAX_ARRAY_SIZE,
            },
            fallback: None,
            rules: vec![],
        };
        let compiled = CompiledHook::compile("h", &hook).unwrap();
        let started = Instant::now();
        let err = compiled
            .call(&TicketFacts::default(), None)
            .expect_err(&case.display().to_string())
            .to_string();
        let took = started.elapsed();
        eprintln!("hook {}: {took:?}: {err}", case.display());
        assert!(
            expected.iter().any(|e| err.contains(e.as_str())),
            "{}: {err}",
            case.display()
        );
        assert!(
            took < sandbox::HOOK_DEADLINE * 3,
            "{}: {took:?}",
            case.display()
        );
    }
}

#[test]
fn hostile_plugins_end_in_their_limit() {
    let host = PluginHost::new().unwrap();
    let cases = entries("wasm");
    assert!(cases.len() >= 6);
    for case in cases {
        let bytes = std::fs::read(&case).unwrap();
        let expected = match case.extension().and_then(|e| e.to_str()) {
            Some("wat") => expectation(&String::from_utf8_lossy(&bytes)),
            _ => vec!["invalid module: not a wasm module".to_string()],
        };
        let plugin = Plugin {
            on: HookPoint::Classify,
            wasm: case.display().to_string(),
            sha256: String::new(),
            // Fuel at its ceiling for the slow cases; the endless loop runs dry.
            fuel: if case.ends_with("endless-loop.wat") {
                10_000_000
            } else {
                steward::plugin::MAX_FUEL
            },
            memory_bytes: 4 << 20,
            fallback: None,
            config: BTreeMap::new(),
            rules: vec![],
        };
        let started = Instant::now();
        let err = match host.load("p", &bytes, &plugin) {
            Err(e) => e.to_string(),
            Ok(mut loaded) => loaded
                .classify(&TicketFacts::default())
                .expect_err(&case.display().to_string())
                .to_string(),
        };
        let took = started.elapsed();
        eprintln!("plug-in {}: {took:?}: {err}", case.display());
        assert!(
            expected.iter().any(|e| err.contains(e.as_str())),
            "{}: {err}",
            case.display()
        );
        assert!(
            took < steward::plugin::CALL_DEADLINE * 4,
            "{}: {took:?}",
            case.display()
        );
    }
}

fn now() -> &'static str {
    "2026-07-06T09:00:00+08:00"
}

#[test]
fn hostile_command_lines_get_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let db_s = db.to_str().unwrap();
    let missing = dir.path().join("missing.db");
    let base = ["--db", db_s, "--now", now()];
    let apply = [&base[..], &["policy", "apply", "policies/vk-shanghai"]].concat();
    assert_eq!(steward(&apply).0, 0);
    let open = [
        &base[..],
        &[
            "ticket", "open", "--id", "T1", "--estate", "E1", "--kind", "repair",
        ],
        &[
            "--text",
            "\u{1b}]8;;http://evil.example\u{7}点这里\u{1b}]8;;\u{7}\u{1b}[2J",
        ],
    ]
    .concat();
    let (code, _, err, _) = steward(&open);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(Path::new(CORPUS).join("cli.txt")).unwrap();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut parts = line.splitn(3, '\t');
        let (code, expected, args) = (
            parts.next().unwrap().parse::<i32>().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let args: Vec<String> = args
            .split(' ')
            .map(|a| a.replace("{missing}", missing.to_str().unwrap()))
            .collect();
        let mut full: Vec<&str> = if args[0] == "--db" {
            vec!["--now", now()]
        } else {
            vec!["--db", db_s, "--now", now()]
        };
        full.extend(args.iter().map(String::as_str));
        let (got, _, err, _) = steward(&full);
        assert_eq!(got, code, "{line}: {err}");
        assert!(err.contains(expected), "{line}: {err}");
        assert_eq!(err.lines().count(), 1, "{line}: one error line: {err}");
        assert!(!missing.exists(), "{line}: left a database behind");
        n += 1;
    }
    assert!(n >= 6);
    // Ticket text reaches the terminal escaped, not as escape sequences.
    for cmd in [&["ticket", "show", "T1"][..], &["ticket", "list"][..]] {
        let (code, out, err, _) = steward(&[&base[..], cmd].concat());
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
        if cmd[1] == "show" {
            assert!(
                out.contains("\\u{1b}]8;;http://evil.example\\u{7}点这里"),
                "{out}"
            );
        }
    }
    // An argument that is not UTF-8: one line, like every other refusal.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let out = Process::new(BIN)
            .args(["--db", db_s, "ticket", "show"])
            .arg(std::ffi::OsStr::from_bytes(b"T\xff1"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(err, "error: an argument is not valid UTF-8 text\n");
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn repair(id: &str) -> OpenTicket {
    OpenTicket {
        id: id.into(),
        estate: "E1".into(),
        kind: "repair".into(),
        text: "水管漏水".into(),
        ..OpenTicket::default()
    }
}

#[test]
fn one_broken_ticket_does_not_stop_a_tick_for_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let loaded = steward::policy::load_path(Path::new("policies/vk-shanghai"))
        .ok()
        .unwrap();
    let t0 = at("2026-07-06T09:00:00+08:00");
    {
        let mut svc = Service::open(&db).unwrap();
        svc.apply_policy(&loaded.policy, None, None, t0).unwrap();
        for id in ["T1", "T2"] {
            let complaint = OpenTicket {
                kind: "complaint".into(),
                text: "保安态度差".into(),
                ..repair(id)
            };
            svc.open_ticket(complaint, t0).unwrap();
        }
        assert_eq!(
            svc.store()
                .read(|tx| tx.due_tickets(t0 + chrono::Duration::days(3)))
                .unwrap()
                .len(),
            2
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE tickets SET state = '{\"broken\": true}' WHERE id = 'T2'",
        [],
    )
    .unwrap();
    drop(conn);
    let mut svc = Service::open(&db).unwrap();
    let ran = svc.tick_report(t0 + chrono::Duration::days(3)).unwrap();
    assert_eq!(ran.failed.len(), 1, "{:?} {:?}", ran.failed, ran.fired);
    assert_eq!(ran.failed[0].0, "T2");
    assert!(
        ran.fired
            .iter()
            .any(|(id, ds)| id == "T1" && !ds.is_empty()),
        "{:?}",
        ran.fired
    );
    let err = svc
        .tick(t0 + chrono::Duration::days(4))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ticket `T2`") && err.contains("the others were processed"),
        "{err}"
    );
}

#[test]
fn a_slow_hook_does_not_block_another_writer_beyond_the_ceiling() {
    // A policy whose classify hook spins until the time limit stops it.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    std::fs::create_dir_all(tree.join("base")).unwrap();
    std::fs::copy("policies/base/policy.toml", tree.join("base/policy.toml")).unwrap();
    std::fs::create_dir_all(tree.join("slow")).unwrap();
    std::fs::write(
        tree.join("slow/spin.rhai"),
        "fn classify(t) {\n  let n = 0;\n  loop { n += 1; }\n}\n",
    )
    .unwrap();
    std::fs::write(
        tree.join("slow/policy.toml"),
        "[policy]\nid = \"slow\"\nextends = \"../base\"\n\n[[hook]]\nid = \"spin\"\non = \"classify\"\nscript = \"spin.rhai\"\nfallback = \"complaint.unclassified\"\nlimits = { operations = 10000000 }\n",
    )
    .unwrap();
    let loaded = match steward::policy::load_path(&tree.join("slow")) {
        Ok(l) => l,
        Err(f) => panic!(
            "{:?}",
            f.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    };
    let db = tree.join("s.db");
    let t0 = at("2026-07-06T09:00:00+08:00");
    Service::open(&db)
        .unwrap()
        .apply_policy(&loaded.policy, None, None, t0)
        .unwrap();
    let first = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut svc = Service::open(&db).unwrap();
            let started = Instant::now();
            svc.open_ticket(repair("A"), t0).unwrap();
            started.elapsed()
        })
    };
    std::thread::sleep(Duration::from_millis(30));
    let mut svc = Service::open(&db).unwrap();
    let started = Instant::now();
    let (_, decisions) = svc.open_ticket(repair("B"), t0).unwrap();
    let waited = started.elapsed();
    let holder = first.join().unwrap();
    eprintln!("lock: holder {holder:?}, second writer {waited:?}");
    assert!(
        decisions
            .iter()
            .any(|d| matches!(d.fact, steward::engine::Fact::HookFailed { .. })),
        "{decisions:?}"
    );
    // Writer B waited for at most A's one hook call, then ran its own: two
    // deadlines plus the commits, far below the 5 s busy timeout.
    assert!(holder < sandbox::HOOK_DEADLINE * 3, "{holder:?}");
    assert!(waited < sandbox::HOOK_DEADLINE * 4, "{waited:?}");
    assert!(waited >= sandbox::HOOK_DEADLINE, "{waited:?}");
}

/// `policy check` of a policy with `n` unknown top-level keys: its stderr and time.
fn check_bad_keys(n: usize) -> (String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    std::fs::create_dir_all(&p).unwrap();
    let mut text = String::from("[policy]\nid = \"x\"\ntimezone = \"Asia/Shanghai\"\n");
    for i in 0..n {
        text.push_str(&format!("bad_key_{i} = 1\n"));
    }
    std::fs::write(p.join("policy.toml"), text).unwrap();
    let (code, _, err, took) = steward(&["policy", "check", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    (err, took)
}

#[test]
fn fifty_thousand_bad_keys_are_counted_not_all_rendered() {
    let (err, took) = check_bad_keys(50_000);
    assert!(
        err.contains("… and 49951 more"),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    assert_eq!(err.matches("unknown key").count(), 50);
    // Linear: ten times the keys cost about ten times the time (quadratic would
    // be a hundred); the margin absorbs a busy machine.
    let (_, small) = check_bad_keys(5_000);
    assert!(took < small * 40, "{took:?} vs {small:?} for a tenth");
}

#[test]
fn policy_explain_runs_the_shipped_plugin_policy() {
    let (code, out, err, _) = steward(&[
        "--now",
        "2026-07-06T09:00:00+08:00",
        "policy",
        "explain",
        "policies/vk-shanghai-plugins",
        "--ticket",
        r#"{"kind":"repair","text":"电梯困人","estate":"gardens"}"#,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decided by hook plug-in keywords"), "{out}");
}

#[test]
fn a_tick_thirty_years_late_skips_the_piled_up_ticket_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let db = db.to_str().unwrap();
    let run = |now: &str, args: &[&str]| steward(&[&["--db", db, "--now", now][..], args].concat());
    let t0 = "2026-07-06T09:00:00+08:00";
    assert_eq!(run(t0, &["policy", "apply", "policies/vk-shanghai"]).0, 0);
    let open = |now: &str, id: &str| {
        let args = [
            "ticket",
            "open",
            "--id",
            id,
            "--estate",
            "E1",
            "--kind",
            "complaint",
        ];
        let (code, _, err, _) = run(now, &[&args[..], &["--text", "保安态度差"]].concat());
        assert_eq!(code, 0, "{err}");
    };
    open(t0, "OLD");
    open("2056-07-05T09:00:00+08:00", "NEW");
    let (code, out, err, took) = run("2056-07-06T09:00:00+08:00", &["tick"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("error: ticket `OLD` skipped: more than 10000 timers"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.contains("NEW") && !out.contains("OLD"), "{out}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}
