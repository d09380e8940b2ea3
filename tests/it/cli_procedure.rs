#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end tests of the steps a policy declares (`ticket act`), the deadline a
//! person sets (`ticket deadline`, E2), intake validated against declared values
//! (D1, D2, 000 §5.2.1), typo checks in `policy check`, and times shown local.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::cli_support;

fn steward(db: &Path, now: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = cli_support::at(db, now);
    // The test policies in a temporary directory extend the shipped ones.
    cmd.env("STEWARD_POLICY_ROOT", "/");
    cli_support::output(cmd.args(args))
}

fn ok(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = steward(db, now, args);
    assert_eq!(code, 0, "steward {args:?} failed: {err}\n{out}");
    out
}

/// The command fails with exit code 2 and `needle` in its error; returns stderr.
fn fails(db: &Path, now: &str, args: &[&str], needle: &str) -> String {
    let (code, out, err) = steward(db, now, args);
    assert_eq!(code, 2, "steward {args:?} should fail: {out}{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    err
}

fn events(db: &Path) -> i64 {
    let out = ok(
        db,
        "2030-01-01T00:00:00Z",
        &["audit", "verify", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["events"].as_i64().expect("events count")
}

fn policy_dir(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
        .display()
        .to_string()
}

/// A database with vk-shanghai applied; Monday 2026-07-06 09:00 Shanghai.
fn setup() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("t.db");
    ok(
        &db,
        "2026-07-06 09:00:00+08:00",
        &["policy", "apply", &policy_dir("vk-shanghai")],
    );
    (dir, db)
}

fn open_major(db: &Path) {
    ok(
        db,
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
            "--text",
            "集体投诉地下车库渗水",
        ],
    );
}

#[test]
fn act_without_a_step_lists_the_steps_of_the_tickets_policy() {
    let (_d, db) = setup();
    open_major(&db);
    let out = ok(&db, "2026-07-06T09:30:00+08:00", &["ticket", "act", "T1"]);
    let expected = "\
steps of policy vk-shanghai (record one: steward ticket act T1 STEP --by WHO)
step             label                                           by              reaches                       rules
respond          first response to the owner (built-in)          -               first_response, owner_update  -
plan             initial handling plan (built-in)                -               initial_plan, owner_update    -
report           handling form to the service center (built-in)  -               report_to_center              -
expert_reply     the expert panel's reply (built-in)             -               expert_reply                  -
update           progress update to the owner (built-in)         -               owner_update                  -
notice           written notice to maintenance, V5 (built-in)    -               -                             -
answer_validity  客户服务中心答复投诉是否有效                    service_center  validity_answered             D7
contact_experts  客户服务中心联系专家顾问团                      service_center  experts_contacted             L6
hand_over        交部门负责人                                    specialist      handed_to_head                E2
";
    assert_eq!(out, expected);
    let json = ok(
        &db,
        "2026-07-06T09:30:00+08:00",
        &["ticket", "act", "T1", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["steps"][7]["step"], "contact_experts");
    assert_eq!(v["steps"][7]["declared"], true);
    assert_eq!(v["steps"][7]["reaches"][0], "experts_contacted");
}

/// 000 §5.2.2.6: the experts' 24 h (L6) run from the center's contact.
#[test]
fn a_declared_step_reaches_its_milestone_and_starts_the_clock_from_it() {
    let (_d, db) = setup();
    open_major(&db);
    let out = ok(
        &db,
        "2026-07-06T10:00:00+08:00",
        &[
            "ticket",
            "act",
            "T1",
            "contact_experts",
            "--by",
            "客户服务中心",
            "--note",
            "已联系",
        ],
    );
    assert!(
        out.contains("contact experts by 客户服务中心: 已联系"),
        "{out}"
    );
    assert!(out.contains("milestone experts_contacted reached"), "{out}");
    assert!(
        out.contains("clock: expert_reply within 1d, due 2026-07-07 10:00  L6.expert"),
        "{out}"
    );
    // A built-in action through the same command.
    let out = ok(
        &db,
        "2026-07-06T10:05:00+08:00",
        &["ticket", "act", "T1", "report", "--by", "张三"],
    );
    assert!(out.contains("report by 张三"), "{out}");
    // The experts miss their 24 h: leadership takes over (E3).
    let out = ok(&db, "2026-07-07T10:01:00+08:00", &["tick"]);
    assert!(out.contains("L6.expert"), "{out}");
    let show = ok(&db, "2026-07-07T10:01:00+08:00", &["ticket", "show", "T1"]);
    assert!(show.contains("step leadership"), "{show}");
}

#[test]
fn an_unknown_step_is_refused_with_the_closest_and_writes_nothing() {
    let (_d, db) = setup();
    open_major(&db);
    let before = events(&db);
    fails(
        &db,
        "2026-07-06T10:00:00+08:00",
        &["ticket", "act", "T1", "contact_expert"],
        "policy `vk-shanghai` declares no step `contact_expert`; did you mean `contact_experts`?",
    );
    fails(
        &db,
        "2026-07-06T10:00:00+08:00",
        &["ticket", "act", "T1", "xyzzy"],
        "steps: respond, plan, report, expert_reply, update, notice, answer_validity, contact_experts, hand_over",
    );
    assert_eq!(events(&db), before);
}

/// E2 (004, 002 §5.1.3): the department head's deadline, logged, shown, enforced.
#[test]
fn the_department_heads_deadline_is_logged_shown_and_enforced() {
    let (_d, db) = setup();
    open_major(&db);
    let out = ok(
        &db,
        "2026-07-06T10:30:00+08:00",
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadline",
            "--within",
            "3 business days",
            "--by",
            "王经理",
            "--reason",
            "需协调施工单位",
        ],
    );
    let expected = "\
time              ticket  what happened                                                   rule
2026-07-06 10:30  T1      clock: resolution within 3 business days, due 2026-07-09 18:00  E2.deadline
2026-07-06 10:30  T1      deadline set to 2026-07-09 18:00 by 王经理: 需协调施工单位      E2.deadline
";
    assert_eq!(out, expected);
    let show = ok(&db, "2026-07-06T10:31:00+08:00", &["ticket", "show", "T1"]);
    assert!(
        show.contains(
            "limit E2.deadline      resolution         running, due 2026-07-09 18:00 (deadline set by 王经理)"
        ),
        "{show}"
    );
    let json = ok(
        &db,
        "2026-07-06T10:31:00+08:00",
        &["ticket", "show", "T1", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let clock = v["ticket"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["limit"] == "E2.deadline")
        .unwrap()
        .clone();
    assert_eq!(clock["deadline_set_by"], "王经理");
    assert_eq!(clock["deadline"], "2026-07-09T18:00:00+08:00");
    // An instant, read in the policy's zone, replaces it.
    let out = ok(
        &db,
        "2026-07-06T11:00:00+08:00",
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadline",
            "--at",
            "2026-07-08 12:00",
            "--by",
            "王经理",
            "--reason",
            "业主要求提前",
        ],
    );
    assert!(out.contains("due 2026-07-08 12:00"), "{out}");
    // Missed: breached and escalated by the timers like any limit.
    let out = ok(&db, "2026-07-08T12:01:00+08:00", &["tick"]);
    assert!(out.contains("BREACHED (was due 2026-07-08 12:00)"), "{out}");
}

#[test]
fn bad_deadlines_are_refused_and_write_nothing() {
    let (_d, db) = setup();
    open_major(&db);
    let before = events(&db);
    let now = "2026-07-06T10:30:00+08:00";
    let base = ["ticket", "deadline", "T1"];
    let with = |rest: &[&'static str]| -> Vec<&'static str> {
        base.iter().chain(rest.iter()).copied().collect()
    };
    fails(
        &db,
        now,
        &with(&[
            "E2.deadlin",
            "--within",
            "1d",
            "--by",
            "王",
            "--reason",
            "r",
        ]),
        "policy `vk-shanghai` has no limit `E2.deadlin`; did you mean `E2.deadline`?",
    );
    // In the past, said in local time.
    fails(
        &db,
        now,
        &with(&[
            "E2.deadline",
            "--at",
            "2026-07-06 10:00",
            "--by",
            "王",
            "--reason",
            "r",
        ]),
        "the deadline 2026-07-06 10:00 +08:00 is not after now (2026-07-06 10:30 +08:00)",
    );
    fails(
        &db,
        now,
        &with(&[
            "E2.deadline",
            "--within",
            "3 dyas",
            "--by",
            "王",
            "--reason",
            "r",
        ]),
        "bad `--within 3 dyas`",
    );
    // Who and why are required.
    fails(
        &db,
        now,
        &with(&["E2.deadline", "--within", "1d", "--by", "王"]),
        "--reason",
    );
    // A limit that does not apply to the ticket.
    fails(
        &db,
        now,
        &with(&["L5", "--within", "1d", "--by", "王", "--reason", "r"]),
        "limit `L5` does not apply to it",
    );
    // A met limit.
    ok(&db, now, &["ticket", "report", "T1"]);
    let before = before + events_of_report(&db, before);
    fails(
        &db,
        now,
        &with(&["L4", "--within", "1d", "--by", "王", "--reason", "r"]),
        "limit `L4` is met",
    );
    assert_eq!(events(&db), before);
}

/// The events `ticket report` added after `before`.
fn events_of_report(db: &Path, before: i64) -> i64 {
    events(db) - before
}

#[test]
fn intake_values_are_checked_against_the_policy_and_nothing_is_written() {
    let (_d, db) = setup();
    let before = events(&db);
    let open = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "ticket",
            "open",
            "--estate",
            "riverside",
            "--kind",
            "complaint",
            "--text",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let now = "2026-07-06T09:00:00+08:00";
    let run = |extra: &[&str], needle: &str| {
        let args = open(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&db, now, &args, needle);
    };
    run(
        &["--channel", "hotlin"],
        "unknown channel `hotlin` in policy `vk-shanghai`; did you mean `hotline`?",
    );
    run(
        &["--urgency", "emergncy"],
        "unknown urgency `emergncy` in policy `vk-shanghai`; did you mean `emergency`?",
    );
    run(
        &["--phase", "after"],
        "unknown phase `after` in policy `vk-shanghai`; declared: before_occupancy, after_occupancy",
    );
    run(
        &["--channel", "pigeon"],
        "declared: app, email, fax, forum, front_desk, government, group, hotline, letter, mailbox, phone, wechat",
    );
    assert_eq!(events(&db), before);
    // Declared values open.
    let args = open(&[
        "--channel",
        "front_desk",
        "--urgency",
        "high",
        "--phase",
        "before_occupancy",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(&db, now, &args);
    // P1: before occupancy, to the project department (L7's 24 h).
    assert!(out.contains("classified complaint.pre_occupancy"), "{out}");
    assert!(out.contains("E2.handover"), "{out}");
}

fn write_policy(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("policy.toml"), text).unwrap();
    p.display().to_string()
}

#[test]
fn policy_check_catches_channel_and_urgency_typos_with_their_place() {
    let dir = TempDir::new().unwrap();
    let base = policy_dir("base");
    let text = format!(
        "[policy]\nid = \"typo\"\nversion = \"1\"\ntitle = \"t\"\nextends = \"{base}\"\n\n\
[[limit]]\nid = \"L9\"\napplies = 'channel == \"forun\" || urgency != \"hihg\"'\nmilestone = \"first_response\"\nwithin = \"4h\"\nrules = [\"L5\"]\n"
    );
    let p = write_policy(dir.path(), "typo", &text);
    let db = dir.path().join("x.db");
    let (code, _, err) = steward(&db, "2026-07-06T09:00:00+08:00", &["policy", "check", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: `channel` is compared with `forun`, which is no declared channel"),
        "{err}"
    );
    assert!(err.contains("policy.toml:9:24"), "{err}");
    assert!(err.contains("did you mean `forum`?"), "{err}");
    assert!(
        err.contains("`urgency` is compared with `hihg`, which is no declared urgency"),
        "{err}"
    );
    assert!(err.contains("did you mean `high`?"), "{err}");
}

#[test]
fn an_overlay_rule_with_a_mistyped_id_gets_the_inherited_id() {
    let dir = TempDir::new().unwrap();
    let vk = policy_dir("vk-shanghai");
    let text = format!(
        "[policy]\nid = \"o\"\nversion = \"1\"\ntitle = \"t\"\nextends = \"{vk}\"\n\n[[limit]]\nid = \"L4x\"\nwithin = \"4h\"\n"
    );
    let p = write_policy(dir.path(), "overlay", &text);
    let db = dir.path().join("x.db");
    let (code, _, err) = steward(&db, "2026-07-06T09:00:00+08:00", &["policy", "check", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("[[limit]] `L4x` is missing `milestone`"),
        "{err}"
    );
    assert!(
        err.contains(
            "help: add `milestone = \"first_response\"`; or, no inherited limit has the id `L4x` — to change one, reuse its id: did you mean `L4`?"
        ),
        "{err}"
    );
}

#[test]
fn a_step_that_reaches_no_declared_action_is_a_policy_error() {
    let dir = TempDir::new().unwrap();
    let base = policy_dir("base");
    let text = format!(
        "[policy]\nid = \"s\"\nversion = \"1\"\ntitle = \"t\"\nextends = \"{base}\"\n\n\
[[action]]\nid = \"call_owner\"\nlabel = \"致电业主\"\nby = \"specialst\"\n\n\
[[milestone]]\nid = \"owner_called\"\nreached_by = [\"call_ownr\"]\n\n\
[[action]]\nid = \"respond\"\n"
    );
    let p = write_policy(dir.path(), "steps", &text);
    let db = dir.path().join("x.db");
    let (code, _, err) = steward(&db, "2026-07-06T09:00:00+08:00", &["policy", "check", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown action `call_ownr`"), "{err}");
    assert!(err.contains("did you mean `call_owner`?"), "{err}");
    assert!(err.contains("unknown notify target `specialst`"), "{err}");
    assert!(err.contains("`respond` is a built-in action"), "{err}");
}

#[test]
fn times_in_errors_and_lists_are_local() {
    let (_d, db) = setup();
    open_major(&db);
    ok(
        &db,
        "2026-07-06T10:30:00+08:00",
        &["ticket", "update", "T1"],
    );
    fails(
        &db,
        "2026-07-06T02:00:00Z",
        &["ticket", "update", "T1"],
        "time 2026-07-06 10:00 +08:00 is before the ticket's last event at 2026-07-06 10:30 +08:00",
    );
    let list = ok(&db, "2026-07-06T10:31:00+08:00", &["ticket", "list"]);
    assert!(list.contains("2026-07-06 11:00"), "{list}");
}
