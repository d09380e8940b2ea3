#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
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

/// A copy of a shipped policy directory (with `base` beside it for `extends`).
fn copy_policy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for sub in ["base", name] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    dir
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_changed_hook_script_shows_its_text_diff_and_counts_as_unknown() {
    let dir = copy_policy("vk-shanghai");
    let script = dir.path().join("vk-shanghai/scripts/classify.rhai");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("电梯"),
        "the shipped classifier names elevators"
    );
    std::fs::write(&script, text.replacen("电梯", "扶梯", 1)).unwrap();
    let new = dir.path().join("vk-shanghai");
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        new.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("hook classify source: sha256:"), "{out}");
    assert!(
        out.contains("--- a/scripts/classify.rhai") && out.contains("+++ b/scripts/classify.rhai"),
        "{out}"
    );
    let removed = out
        .lines()
        .find(|l| l.trim_start().starts_with('-') && l.contains("电梯") && !l.contains("---"));
    let added = out
        .lines()
        .find(|l| l.trim_start().starts_with('+') && l.contains("扶梯") && !l.contains("+++"));
    assert!(removed.is_some() && added.is_some(), "{out}");
    assert!(
        out.contains("1 change(s): 0 stricter, 0 looser, 0 neutral, 1 unknown"),
        "{out}"
    );
    let o = steward(&[
        "policy",
        "diff",
        "policies/vk-shanghai",
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let changes: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let hook = find(&changes, "hook", "classify");
    assert!(hook["text_diff"].as_str().unwrap().contains("+"), "{hook}");
}
