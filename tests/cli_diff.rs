//! `steward policy diff` end to end: the shipped gardens overlay against its parent.

use std::process::{Command, Output};

use serde_json::Value;

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the steward binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn find<'a>(changes: &'a [Value], section: &str, id: &str) -> &'a Value {
    changes
        .iter()
        .find(|c| c["section"] == section && c["id"] == id)
        .unwrap_or_else(|| panic!("no change to {section} {id} in {changes:#?}"))
}

#[test]
fn gardens_overlay_differs_from_vk_shanghai() {
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        "policies/vk-shanghai-gardens",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let text = stdout(&o);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with `{needle}` in\n{text}"))
            .to_string()
    };
    let l4 = line("limit L4 (");
    assert!(
        l4.contains("within: 2h → 4h") && l4.contains("looser") && l4.ends_with("L4"),
        "{l4}"
    );
    let l5 = line("limit L5 (");
    assert!(l5.contains("removed") && l5.contains("looser"), "{l5}");
    let cal = line("calendar cn-office");
    assert!(
        cal.contains("workday sat added") && cal.contains("stricter"),
        "{cal}"
    );
    assert!(text.contains("1 stricter, 2 looser"), "{text}");
}

#[test]
fn json_format_parses_and_carries_effects() {
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        "policies/vk-shanghai-gardens",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).expect("diff --format json is JSON");
    let changes = v.as_array().expect("an array of changes");
    let l4 = find(changes, "limit", "L4");
    assert_eq!(
        (&l4["field"], &l4["old"], &l4["new"]),
        (&"within".into(), &"2h".into(), &"4h".into())
    );
    assert_eq!(l4["effect"], "looser");
    assert_eq!(l4["rules"], serde_json::json!(["L4"]));
    let l5 = find(changes, "limit", "L5");
    assert_eq!(
        (&l5["change"], &l5["field"], &l5["effect"]),
        (&"removed".into(), &Value::Null, &"looser".into())
    );
    let cal = find(changes, "calendar", "cn-office");
    assert_eq!(
        (&cal["field"], &cal["new"], &cal["effect"]),
        (&"workdays".into(), &"sat".into(), &"stricter".into())
    );
}

#[test]
fn a_policy_is_equivalent_to_itself() {
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        "policies/vk-shanghai",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains("equivalent"));
    let o = steward(&[
        "policy",
        "diff",
        "policies/base",
        "policies/base",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn a_policy_that_does_not_load_is_an_input_error() {
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        "policies/no-such-policy",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
