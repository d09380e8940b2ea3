#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! rhai hooks end to end (issue: classify, route, before_close, deadline) and
//! every failure kind: the ticket gets the policy's fallback and the failure is
//! recorded on it as a `hook_failed` fact.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use steward::engine::{Command, Decision, Fact, OpenTicket};
use steward::policy;
use steward::service::Service;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn service_with(path: &Path) -> Service {
    let loaded = policy::load_path(path).unwrap_or_else(|f| {
        panic!(
            "{}",
            f.diagnostics
                .iter()
                .map(|d| d.render(&f.sources))
                .collect::<String>()
        )
    });
    let mut svc = Service::in_memory().unwrap();
    svc.apply_policy(&loaded.policy, None, None, at("2026-07-01T00:00:00+08:00"))
        .unwrap();
    svc
}

fn complaint(id: &str, text: &str, class: u8) -> OpenTicket {
    OpenTicket {
        id: id.into(),
        estate: "e".into(),
        kind: "complaint".into(),
        text: text.into(),
        class,
        ..OpenTicket::default()
    }
}

/// A policy extending the base with one hook script.
/// Laid out as `dir/base` and `dir/t`: a policy only names files in its policy tree.
fn policy_with_hook(dir: &Path, on: &str, script: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::copy(
        repo().join("policies/base/policy.toml"),
        dir.join("base/policy.toml"),
    )
    .unwrap();
    let dir = dir.join("t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hook.rhai"), script).unwrap();
    let toml = format!(
        "[policy]\nid = \"t\"\nextends = \"../base\"\n\n[[hook]]\nid = \"h\"\non = \"{on}\"\nscript = \"hook.rhai\"\nfallback = \"complaint.unclassified\"\n"
    );
    std::fs::write(dir.join("policy.toml"), toml).unwrap();
    dir
}

fn hook_failures(ds: &[Decision]) -> Vec<(String, String)> {
    ds.iter()
        .filter_map(|d| match &d.fact {
            Fact::HookFailed {
                error, fallback, ..
            } => Some((error.clone(), fallback.clone())),
            _ => None,
        })
        .collect()
}

fn category(ds: &[Decision]) -> Option<String> {
    ds.iter().find_map(|d| match &d.fact {
        Fact::Classified { category, .. } => Some(category.clone()),
        _ => None,
    })
}

#[test]
fn d4_class_2_complaint_is_routed_to_the_developer_service_center() {
    let mut svc = service_with(&repo().join("policies/three-class"));
    let (t, ds) = svc
        .open_ticket(
            complaint("T1", "外墙空鼓开裂，房屋质量问题", 2),
            at("2026-07-01T10:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(t.department.as_deref(), Some("developer_service_center"));
    assert_eq!(t.tier.as_deref(), Some("L3"));
    assert_eq!(t.lead.as_deref(), Some("customer_service"));
    let assigned = ds
        .iter()
        .find(|d| matches!(d.fact, Fact::Assigned { .. }))
        .unwrap();
    assert_eq!(assigned.rule.as_deref(), Some("route"));
}

#[test]
fn d4_class_3_close_is_refused_until_the_result_is_published() {
    let mut svc = service_with(&repo().join("policies/three-class"));
    let t0 = at("2026-07-01T10:00:00+08:00");
    svc.open_ticket(complaint("T1", "小区外道路施工噪音", 3), t0)
        .unwrap();
    svc.execute(
        "T1",
        &Command::Resolve {
            note: String::new(),
        },
        t0,
    )
    .unwrap();
    let cb = Command::Revisit {
        ok: true,
        channel: "phone".into(),
        note: String::new(),
    };
    svc.execute("T1", &cb, t0).unwrap();
    let err = svc
        .execute("T1", &Command::Close { invalid: None }, t0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("publish the result"), "{err}");
    assert!(err.contains("hook before_close, line"), "{err}");
    let mut tagged = complaint("T2", "小区外道路施工噪音", 3);
    tagged.tags = vec!["result_published".into()];
    svc.open_ticket(tagged, t0).unwrap();
    svc.execute(
        "T2",
        &Command::Resolve {
            note: String::new(),
        },
        t0,
    )
    .unwrap();
    svc.execute("T2", &cb, t0).unwrap();
    assert!(
        svc.execute("T2", &Command::Close { invalid: None }, t0)
            .is_ok()
    );
}

#[test]
fn e2_deadline_hook_moves_late_complaints_to_noon_next_day() {
    let mut svc = service_with(&repo().join("policies/three-class"));
    let (early, _) = svc
        .open_ticket(
            complaint("T1", "保洁不到位", 1),
            at("2026-07-01T10:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(
        early.clocks["E2.same_day"].deadline,
        at("2026-07-01T18:00:00+08:00")
    );
    let (late, _) = svc
        .open_ticket(
            complaint("T2", "保洁不到位", 1),
            at("2026-07-01T17:30:00+08:00"),
        )
        .unwrap();
    assert_eq!(
        late.clocks["E2.same_day"].deadline,
        at("2026-07-02T12:00:00+08:00")
    );
}

#[test]
fn the_shipped_classify_hook_applies_the_004_emergency_list() {
    let mut svc = service_with(&repo().join("policies/vk-shanghai"));
    let repair = |id: &str, text: &str| OpenTicket {
        id: id.into(),
        estate: "e".into(),
        kind: "repair".into(),
        text: text.into(),
        ..OpenTicket::default()
    };
    let (t, ds) = svc
        .open_ticket(
            repair("T1", "2号楼扶手松动"),
            at("2026-07-01T10:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(t.category.as_deref(), Some("repair.emergency"));
    assert!(t.emergency);
    let hook = ds.iter().find_map(|d| match &d.fact {
        Fact::Classified { hook, .. } => hook.clone(),
        _ => None,
    });
    assert!(
        hook.unwrap()
            .starts_with("classify (scripts/classify.rhai:")
    );
    let (t, _) = svc
        .open_ticket(repair("T2", "卫生间渗水"), at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    assert_eq!(
        t.category.as_deref(),
        Some("repair.leak"),
        "no opinion: the conditions decide"
    );
}

#[test]
fn endless_classify_hook_is_stopped_and_the_fallback_applies() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(dir.path(), "classify", "fn classify(t) {\n  loop { }\n}\n");
    let mut svc = service_with(&p);
    let (t, ds) = svc
        .open_ticket(complaint("T1", "噪音", 0), at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    let failures = hook_failures(&ds);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].0.contains("hook.rhai") && failures[0].0.contains("operation limit"),
        "{:?}",
        failures
    );
    assert_eq!(t.category.as_deref(), Some("complaint.unclassified"));
    assert_eq!(category(&ds).as_deref(), Some("complaint.unclassified"));
}

#[test]
fn classify_hook_naming_an_unknown_category_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(
        dir.path(),
        "classify",
        "fn classify(t) {\n  decide(#{ category: \"complaint.nope\" })\n}\n",
    );
    let mut svc = service_with(&p);
    let (t, ds) = svc
        .open_ticket(complaint("T1", "噪音", 0), at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    let failures = hook_failures(&ds);
    assert!(
        failures[0].0.contains("unknown category `complaint.nope`"),
        "{failures:?}"
    );
    assert_eq!(t.category.as_deref(), Some("complaint.unclassified"));
}

#[test]
fn classify_hook_runtime_error_on_a_repair_falls_back_to_the_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(
        dir.path(),
        "classify",
        "fn classify(t) {\n  let x = 1;\n  x.missing()\n}\n",
    );
    let mut svc = service_with(&p);
    let repair = OpenTicket {
        id: "T1".into(),
        estate: "e".into(),
        kind: "repair".into(),
        text: "灯不亮".into(),
        ..OpenTicket::default()
    };
    let (t, ds) = svc
        .open_ticket(repair, at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    let failures = hook_failures(&ds);
    assert!(failures[0].0.contains("line 3"), "{failures:?}");
    assert_eq!(failures[0].1, "the policy's category conditions");
    assert_eq!(t.category.as_deref(), Some("repair.general"));
}

#[test]
fn route_hook_with_an_unknown_department_keeps_the_category_route() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(
        dir.path(),
        "route",
        "fn route(t) {\n  decide(#{ department: \"moon_base\" })\n}\n",
    );
    let mut svc = service_with(&p);
    let repair = OpenTicket {
        id: "T1".into(),
        estate: "e".into(),
        kind: "repair".into(),
        text: "灯不亮".into(),
        ..OpenTicket::default()
    };
    let (t, ds) = svc
        .open_ticket(repair, at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    assert!(
        hook_failures(&ds)[0]
            .0
            .contains("unknown department `moon_base`")
    );
    assert_eq!(t.department.as_deref(), Some("engineering"));
}

#[test]
fn before_close_hook_that_fails_is_recorded_and_closing_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(
        dir.path(),
        "before_close",
        "fn before_close(t) {\n  throw \"boom\";\n}\n",
    );
    let mut svc = service_with(&p);
    let t0 = at("2026-07-01T10:00:00+08:00");
    svc.open_ticket(complaint("T1", "噪音", 0), t0).unwrap();
    svc.execute(
        "T1",
        &Command::Resolve {
            note: String::new(),
        },
        t0,
    )
    .unwrap();
    svc.execute(
        "T1",
        &Command::Revisit {
            ok: true,
            channel: "phone".into(),
            note: String::new(),
        },
        t0,
    )
    .unwrap();
    let (t, ds) = svc
        .execute("T1", &Command::Close { invalid: None }, t0)
        .unwrap();
    assert!(hook_failures(&ds)[0].0.contains("boom"));
    assert_eq!(t.status, steward::engine::Status::Closed);
}

#[test]
fn deadline_hook_returning_garbage_keeps_the_policy_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(
        dir.path(),
        "deadline",
        "fn deadline(t, limit) {\n  decide(#{ within: \"soonish\" })\n}\n",
    );
    let mut svc = service_with(&p);
    let (t, ds) = svc
        .open_ticket(complaint("T1", "噪音", 0), at("2026-07-01T10:00:00+08:00"))
        .unwrap();
    assert!(hook_failures(&ds)[0].0.contains("soonish"));
    assert_eq!(
        t.clocks["L1"].deadline,
        at("2026-07-02T10:00:00+08:00"),
        "L1 keeps its 24h"
    );
}

#[test]
fn policy_check_locates_script_errors_in_the_script_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_with_hook(dir.path(), "classify", "fn classify(t) {\n  let x = ;\n}\n");
    let failure = policy::load_path(&p)
        .err()
        .expect("a broken script must fail the check");
    let text: String = failure
        .diagnostics
        .iter()
        .map(|d| d.render(&failure.sources))
        .collect();
    assert!(text.contains("hook.rhai:2:"), "{text}");
    assert!(text.contains("invalid hook script"), "{text}");

    let p = policy_with_hook(dir.path(), "route", "fn classify(t) { () }\n");
    let failure = policy::load_path(&p)
        .err()
        .expect("a missing hook function must fail the check");
    let text: String = failure
        .diagnostics
        .iter()
        .map(|d| d.render(&failure.sources))
        .collect();
    assert!(
        text.contains("does not define `fn route(ticket)`"),
        "{text}"
    );
}
