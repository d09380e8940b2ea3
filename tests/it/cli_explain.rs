#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward policy explain` end to end, on the shipped policies.

use std::process::{Command, Output};

use serde_json::Value;

const OPENED: &str = "2026-07-01T09:00:00+08:00";

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the steward binary runs")
}

/// `explain --format json` of `policy` for `ticket`, which must succeed.
fn explain(policy: &str, ticket: Value) -> Value {
    let ticket = ticket.to_string();
    let o = steward(&[
        "policy", "explain", policy, "--ticket", &ticket, "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    serde_json::from_slice(&o.stdout).expect("explain --format json is JSON")
}

fn limit<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .unwrap_or_else(|| panic!("no limit {id}"))
}

fn revisit<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["revisits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no revisit {id}"))
}

#[test]
fn leak_repair_is_revisited_in_three_days_and_after_rain() {
    let e = explain(
        "policies/vk-shanghai",
        serde_json::json!({"kind":"repair","text":"卫生间天花板渗水","estate":"gardens","channel":"hotline","opened_at":OPENED}),
    );
    assert_eq!(e["category"]["id"], "repair.leak");
    assert_eq!(e["category"]["route"], "engineering");
    assert!(e["category"]["matched"].as_str().unwrap().contains("渗水"));
    let v4 = revisit(&e, "V4");
    assert_eq!(v4["applies"], true);
    let steps: Vec<&str> = v4["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["within 3d", "on event rain"]);
    assert_eq!(v4["steps"][0]["due"], "resolved + 3d");
    assert_eq!(revisit(&e, "V3")["applies"], false);
    assert_eq!(revisit(&e, "V2.other")["applies"], false);
    assert_eq!(limit(&e, "L4")["applies"], false);
}

#[test]
fn table_output_shows_category_and_revisit_steps() {
    let ticket = serde_json::json!({"kind":"repair","text":"卫生间天花板渗水","estate":"gardens","opened_at":OPENED}).to_string();
    let o = steward(&[
        "policy",
        "explain",
        "policies/vk-shanghai",
        "--ticket",
        &ticket,
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("category   repair.leak"), "{text}");
    assert!(
        text.contains("within 3d")
            && text.contains("resolved + 3d")
            && text.contains("on event rain"),
        "{text}"
    );
}

#[test]
fn elevator_entrapment_is_an_emergency_repair() {
    let e = explain(
        "policies/vk-shanghai",
        serde_json::json!({"kind":"repair","text":"3号楼电梯困人","opened_at":OPENED}),
    );
    assert_eq!(e["category"]["id"], "repair.emergency");
    assert_eq!(e["facts"]["emergency"], true);
    let l2 = limit(&e, "L2.emergency");
    assert_eq!(l2["applies"], true);
    assert_eq!(l2["deadline"], "2026-07-01T09:30:00+08:00");
    assert_eq!(l2["warn"], "2026-07-01T09:15:00+08:00");
    let l4 = limit(&e, "L4");
    assert_eq!(
        (&l4["applies"], &l4["within"]),
        (&true.into(), &"2h".into())
    );
    assert_eq!(l4["deadline"], "2026-07-01T11:00:00+08:00");
    assert_eq!(revisit(&e, "V3")["applies"], true);
    assert_eq!(e["ladder"][0]["id"], "specialist");
}

#[test]
fn major_complaint_in_gardens_gets_four_hours() {
    let ticket = serde_json::json!({"kind":"complaint","text":"多户业主投诉夜间施工噪音","estate":"gardens","opened_at":OPENED});
    let company = explain("policies/vk-shanghai", ticket.clone());
    let gardens = explain("policies/vk-shanghai-gardens", ticket);
    for e in [&company, &gardens] {
        assert_eq!(e["category"]["id"], "complaint.major");
        assert_eq!(e["facts"]["major"], true);
        assert_eq!(limit(e, "L6.answer")["applies"], true);
    }
    assert_eq!(
        limit(&company, "L4")["deadline"],
        "2026-07-01T11:00:00+08:00"
    );
    assert_eq!(limit(&gardens, "L4")["within"], "4h");
    assert_eq!(
        limit(&gardens, "L4")["deadline"],
        "2026-07-01T13:00:00+08:00"
    );
    // The expert's clock starts on the center's contact or on escalation (000
    // §5.2.2.6), so it has no deadline yet.
    let l6 = limit(&gardens, "L6.expert");
    assert_eq!(
        (&l6["from"], &l6["deadline"]),
        (
            &"experts_contacted or escalated:expert_panel".into(),
            &Value::Null
        )
    );
}

#[test]
fn business_hours_skip_the_weekend_unless_the_estate_works_saturday() {
    // Friday 17:00: one working hour left that day.
    let ticket = serde_json::json!({"kind":"complaint","text":"物业费收据有误","tags":["validity_unclear"],"opened_at":"2026-07-03T17:00:00+08:00"});
    let company = explain("policies/vk-shanghai", ticket.clone());
    assert_eq!(
        limit(&company, "D7")["deadline"],
        "2026-07-06T12:00:00+08:00"
    );
    let gardens = explain("policies/vk-shanghai-gardens", ticket);
    assert_eq!(
        limit(&gardens, "D7")["deadline"],
        "2026-07-04T12:00:00+08:00"
    );
}

#[test]
fn now_stands_in_for_a_missing_opened_at() {
    let ticket = r#"{"kind":"repair","text":"电梯困人"}"#;
    let o = steward(&[
        "policy",
        "explain",
        "policies/vk-shanghai",
        "--ticket",
        ticket,
        "--now",
        OPENED,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["opened_at"], OPENED);

    let o = steward(&[
        "policy",
        "explain",
        "policies/vk-shanghai",
        "--ticket",
        ticket,
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("opened_at"));
}

#[test]
fn malformed_tickets_exit_2_with_one_line() {
    for ticket in [
        r#"{"kind":"repair","text":"#,
        r#"{"kind":"repair","colour":"red","opened_at":"2026-07-01T09:00:00+08:00"}"#,
        r#"{"kind":"praise","opened_at":"2026-07-01T09:00:00+08:00"}"#,
        r#"{"kind":"repair","opened_at":"yesterday"}"#,
        r#"["repair"]"#,
    ] {
        let o = steward(&[
            "policy",
            "explain",
            "policies/vk-shanghai",
            "--ticket",
            ticket,
        ]);
        assert_eq!(o.status.code(), Some(2), "{ticket}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: bad --ticket"), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn three_class_policy_checks() {
    let o = steward(&["policy", "check", "policies/three-class"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
fn three_class_routes_each_class_to_its_form_and_report() {
    let policy = "policies/three-class";
    // Friday 16:00: two working hours left, the rest on Monday morning.
    let at = "2026-07-03T16:00:00+08:00";
    let class2 = explain(
        policy,
        serde_json::json!({"kind":"complaint","text":"开发商交房后外墙裂缝","urgency":"high","opened_at":at}),
    );
    let c = &class2["category"];
    assert_eq!(
        (&c["id"], &c["class"], &c["form"]),
        (
            &"complaint.class2".into(),
            &2.into(),
            &"客户意见征询表".into()
        )
    );
    assert_eq!(
        c["report_to"],
        serde_json::json!(["developer_center", "owner"])
    );
    assert_eq!(class2["facts"]["class"], 2);
    assert_eq!(
        limit(&class2, "D4.class2_report")["deadline"],
        "2026-07-06T11:00:00+08:00"
    );
    assert_eq!(
        limit(&class2, "E2.same_day")["deadline"],
        "2026-07-03T18:00:00+08:00"
    );
    let pause = class2["pauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "developer_reply")
        .unwrap();
    assert_eq!(
        (&pause["applies"], &pause["stops"]),
        (&true.into(), &serde_json::json!(["resolution"]))
    );

    let class3 = explain(
        policy,
        serde_json::json!({"kind":"complaint","text":"小区外市政道路积水","opened_at":at}),
    );
    let c = &class3["category"];
    assert_eq!(
        (&c["id"], &c["form"], &c["publish_result"]),
        (
            &"complaint.class3".into(),
            &"值班记录表".into(),
            &true.into()
        )
    );
    assert_eq!(c["report_to"], serde_json::json!(["authority"]));
    assert_eq!(limit(&class3, "D4.class2_report")["applies"], false);

    let class1 = explain(
        policy,
        serde_json::json!({"kind":"complaint","text":"保安态度恶劣","opened_at":at}),
    );
    assert_eq!(class1["category"]["id"], "complaint.class1");
    assert_eq!(class1["category"]["form"], "客户投诉及建议跟进处理表");
    let pause = class1["pauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "developer_reply")
        .unwrap();
    assert_eq!(pause["applies"], false);

    // A class given at intake wins over the words of the complaint.
    let given = explain(
        policy,
        serde_json::json!({"kind":"complaint","text":"开发商","class":1,"opened_at":at}),
    );
    assert_eq!(given["category"]["id"], "complaint.class1");
}
