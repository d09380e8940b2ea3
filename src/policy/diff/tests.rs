//! One test per kind of change, on the shipped vk-shanghai policy edited in memory.

use std::path::Path;

use super::*;
use crate::limit_duration::LimitDuration;
use crate::policy::model::*;

fn policy() -> Policy {
    match crate::policy::load_path(Path::new("policies/vk-shanghai")) {
        Ok(l) => l.policy,
        Err(_) => panic!("policies/vk-shanghai does not load"),
    }
}

fn span(s: &str) -> LimitDuration {
    s.parse().unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The diff from the shipped policy to the one `edit` makes, which must be one change.
fn one(edit: impl FnOnce(&mut Policy)) -> Change {
    let old = policy();
    let mut new = old.clone();
    edit(&mut new);
    let mut changes = diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    changes.remove(0)
}

fn all(edit: impl FnOnce(&mut Policy)) -> Vec<Change> {
    let old = policy();
    let mut new = old.clone();
    edit(&mut new);
    diff(&old, &new)
}

#[test]
fn equal_policies_produce_no_changes() {
    assert!(diff(&policy(), &policy()).is_empty());
    assert!(render(&[]).contains("equivalent"));
}

#[test]
fn longer_limit_is_looser_and_names_the_rule() {
    let c = one(|p| p.limits.get_mut("L4").unwrap().within = Some(span("4h")));
    assert_eq!(
        (c.section, c.id.as_str(), c.field.as_deref()),
        ("limit", "L4", Some("within"))
    );
    assert_eq!(
        (c.old.as_deref(), c.new.as_deref()),
        (Some("2h"), Some("4h"))
    );
    assert_eq!(c.effect, Effect::Looser);
    assert_eq!(c.rules, ["L4"]);
    assert!(
        c.message().starts_with("limit L4 (重大投诉"),
        "{}",
        c.message()
    );
    assert!(c.message().ends_with("within: 2h → 4h"), "{}", c.message());
}

#[test]
fn shorter_limit_is_stricter_and_other_measures_are_unknown() {
    assert_eq!(
        one(|p| p.limits.get_mut("L4").unwrap().within = Some(span("90m"))).effect,
        Effect::Stricter
    );
    let c = one(|p| p.limits.get_mut("L4").unwrap().within = Some(span("4 business hours")));
    assert_eq!(c.effect, Effect::Unknown);
    let c =
        one(|p| p.limits.get_mut("L3.daily_report").unwrap().within = Some(span("same day 18:00")));
    assert_eq!(c.effect, Effect::Stricter);
}

#[test]
fn removed_limit_is_looser_added_is_stricter() {
    let c = one(|p| {
        p.limits.remove("L5");
    });
    assert_eq!(
        (c.change, c.field.clone(), c.effect),
        (ChangeKind::Removed, None, Effect::Looser)
    );
    assert!(c.message().starts_with("limit L5 ("), "{}", c.message());
    assert!(c.message().ends_with("removed"), "{}", c.message());

    let c = one(|p| {
        let mut l = p.limits["L5"].clone();
        l.rules = strings(&["L5", "D1"]);
        p.limits.insert("L5.mailbox".into(), l);
    });
    assert_eq!((c.change, c.effect), (ChangeKind::Added, Effect::Stricter));
    assert_eq!(c.new.as_deref(), Some("initial_plan within 4h"));
    assert_eq!(c.rules, ["L5", "D1"]);
}

#[test]
fn limit_fields_warn_repeat_breach_and_notify() {
    let c = one(|p| p.limits.get_mut("L4").unwrap().warn_at = Some(50));
    assert_eq!(
        (c.old.as_deref(), c.new.as_deref(), c.effect),
        (Some("75%"), Some("50%"), Effect::Stricter)
    );
    assert_eq!(
        one(|p| p.limits.get_mut("L4").unwrap().warn_at = None).effect,
        Effect::Looser
    );
    assert_eq!(
        one(|p| p.limits.get_mut("L4").unwrap().repeat = true).effect,
        Effect::Stricter
    );

    let c = one(|p| {
        p.limits.get_mut("L4").unwrap().on_breach.escalate =
            Some(EscalateTo::Step("leadership".into()))
    });
    assert_eq!(
        (c.field.as_deref(), c.effect),
        (Some("on_breach"), Effect::Unknown)
    );
    let c = one(|p| p.limits.get_mut("L4").unwrap().on_breach.escalate = None);
    assert_eq!(c.effect, Effect::Looser);

    let c = one(|p| {
        p.limits
            .get_mut("L4")
            .unwrap()
            .on_breach
            .notify
            .push("manager".into())
    });
    assert_eq!(
        (c.change, c.field.as_deref(), c.effect),
        (ChangeKind::Added, Some("notify"), Effect::Stricter)
    );
    assert!(
        c.message().ends_with(": notify manager added"),
        "{}",
        c.message()
    );

    let c = one(|p| p.limits.get_mut("L4").unwrap().applies = Some("major".into()));
    assert_eq!(c.effect, Effect::Unknown);
}

#[test]
fn revisit_step_added_is_stricter() {
    let old = {
        let mut p = policy();
        p.revisits.get_mut("V4").unwrap().steps.pop();
        p
    };
    let changes = diff(&old, &policy());
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!((c.change, c.effect), (ChangeKind::Added, Effect::Stricter));
    assert_eq!(c.new.as_deref(), Some("on event rain"));
    assert_eq!(
        c.message(),
        "revisit V4 (渗漏水3天内回访，…): step added: on event rain"
    );
    assert_eq!(c.rules, ["V2", "V4", "V1"]);
}

#[test]
fn revisit_step_shortened_is_stricter_and_removed_revisit_looser() {
    let c = one(|p| {
        p.revisits.get_mut("V4").unwrap().steps[0] = RevisitStep::Within {
            within: span("2d"),
            after: RevisitAnchor::Resolved,
        };
    });
    assert_eq!(
        (c.field.as_deref(), c.effect),
        (Some("step 1"), Effect::Stricter)
    );
    assert_eq!(
        (c.old.as_deref(), c.new.as_deref()),
        (Some("within 3d"), Some("within 2d"))
    );
    let c = one(|p| {
        p.revisits.remove("V3");
    });
    assert_eq!((c.change, c.effect), (ChangeKind::Removed, Effect::Looser));
}

#[test]
fn removed_holiday_is_stricter() {
    // Fewer holidays is more working time, so business-hour deadlines come sooner.
    let old = {
        let mut p = policy();
        // An estate day off on top of the included statutory schedule.
        p.calendars.get_mut("cn-office").unwrap().holidays = vec!["2026-10-08".into()];
        p
    };
    let changes = diff(&old, &policy());
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!(
        c.message(),
        "calendar cn-office: holiday 2026-10-08 removed"
    );
    assert_eq!(c.effect, Effect::Stricter);
    assert_eq!(
        c.rules,
        ["D7"],
        "rules of the limits counting business time"
    );

    let back = diff(&policy(), &old);
    assert_eq!(back[0].effect, Effect::Looser);
    assert!(back[0].message().ends_with("holiday 2026-10-08 added"));
}

#[test]
fn included_holiday_data_diffs_as_its_dates() {
    let old = {
        let mut p = policy();
        p.calendars.get_mut("cn-office").unwrap().include.clear();
        p
    };
    let messages: Vec<String> = diff(&old, &policy()).iter().map(|c| c.message()).collect();
    assert!(
        messages.contains(&"calendar cn-office: include cn-statutory added".to_string()),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"calendar cn-office: holiday 2026-09-25..2026-09-27 added".to_string()),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"calendar cn-office: makeup_workday 2026-09-20 added".to_string()),
        "{messages:#?}"
    );
}

#[test]
fn holiday_on_a_weekend_is_neutral() {
    // 2026-10-17 is a Saturday.
    let c = one(|p| {
        p.calendars
            .get_mut("cn-office")
            .unwrap()
            .holidays
            .push("2026-10-17".into())
    });
    assert_eq!(c.effect, Effect::Neutral);
}

#[test]
fn more_working_time_is_stricter() {
    let c = one(|p| {
        p.calendars
            .get_mut("cn-office")
            .unwrap()
            .workdays
            .push("sat".into())
    });
    assert_eq!(
        (c.message().as_str(), c.effect),
        ("calendar cn-office: workday sat added", Effect::Stricter)
    );
    let c = one(|p| {
        p.calendars
            .get_mut("cn-office")
            .unwrap()
            .makeup_workdays
            .push("2026-10-11".into())
    });
    assert_eq!(c.effect, Effect::Stricter);
    let c = one(|p| {
        p.calendars.get_mut("cn-office").unwrap().hours = strings(&["08:30-12:00", "13:30-18:00"])
    });
    assert_eq!(c.effect, Effect::Stricter);
    let c = one(|p| {
        p.calendars.get_mut("cn-office").unwrap().hours = strings(&["09:00-12:00", "14:00-18:00"])
    });
    assert_eq!(c.effect, Effect::Looser);
    let c = one(|p| {
        p.calendars.get_mut("cn-office").unwrap().hours = strings(&["08:00-12:00", "14:00-18:00"])
    });
    assert_eq!(c.effect, Effect::Unknown);
}

#[test]
fn category_changes() {
    let c = one(|p| {
        p.categories.get_mut("repair.leak").unwrap().when = Some("text.contains(\"漏\")".into())
    });
    assert_eq!(
        (c.field.as_deref(), c.effect),
        (Some("when"), Effect::Unknown)
    );
    let c = one(|p| p.categories.get_mut("repair.leak").unwrap().emergency = true);
    assert_eq!(c.effect, Effect::Stricter);
    let c = one(|p| {
        p.categories
            .get_mut("complaint.major")
            .unwrap()
            .report_to
            .push("manager".into())
    });
    assert_eq!(c.effect, Effect::Stricter);
    let c =
        one(|p| p.categories.get_mut("complaint.major").unwrap().form = Some("投诉处理单".into()));
    assert_eq!(c.effect, Effect::Neutral);
    let c = one(|p| {
        p.categories.remove("repair.safety");
    });
    assert_eq!((c.change, c.effect), (ChangeKind::Removed, Effect::Unknown));
}

#[test]
fn pause_and_milestone_changes_are_looser_when_they_make_limits_easier() {
    let c = one(|p| {
        let pause = PauseRule {
            label: "等待开发商答复".into(),
            applies: None,
            stops: strings(&["resolution"]),
            rules: vec![],
        };
        p.pauses.insert("developer_reply".into(), pause);
    });
    assert_eq!(
        (c.section, c.change, c.effect),
        ("pause", ChangeKind::Added, Effect::Looser)
    );
    let c = one(|p| {
        p.pauses
            .get_mut("parts_on_order")
            .unwrap()
            .stops
            .push("initial_plan".into())
    });
    assert_eq!(c.effect, Effect::Looser);
    let c = one(|p| {
        p.milestones
            .get_mut("resolution")
            .unwrap()
            .reached_by
            .push(Action::Close.as_str().to_string())
    });
    assert_eq!((c.section, c.effect), ("milestone", Effect::Looser));
}

#[test]
fn escalation_ladder_changes() {
    let c = one(|p| p.escalation.ladder.swap(2, 3));
    assert_eq!(
        (c.section, c.field.as_deref(), c.effect),
        ("escalation", Some("ladder"), Effect::Unknown)
    );
    let c = one(|p| p.escalation.ladder[1].notify.push("manager".into()));
    assert_eq!(
        (c.id.as_str(), c.effect),
        ("service_center", Effect::Stricter)
    );
    let c = one(|p| {
        p.escalation.ladder.pop();
    });
    assert_eq!((c.change, c.effect), (ChangeKind::Removed, Effect::Unknown));
}

#[test]
fn singleton_sections() {
    let c = one(|p| p.reopen.notice_within = Some(span("6h")));
    assert_eq!((c.section, c.effect), ("reopen", Effect::Stricter));
    assert_eq!(c.message(), "reopen notice_within: 12h → 6h");
    assert_eq!(
        one(|p| p.closing.require_callback = false).effect,
        Effect::Looser
    );
    assert_eq!(
        one(|p| p.closing.callback_channels.push("wechat".into())).effect,
        Effect::Looser
    );
    assert_eq!(
        one(|p| p.compensation.notify.push("leadership".into())).effect,
        Effect::Stricter
    );
    assert_eq!(
        one(|p| p.ordering.action_before_deadline = false).effect,
        Effect::Stricter
    );
    let c = one(|p| p.ordering.timers.reverse());
    assert_eq!(
        (c.field.as_deref(), c.effect),
        (Some("timers"), Effect::Unknown)
    );
}

#[test]
fn header_fields() {
    let c = one(|p| p.timezone = "Asia/Urumqi".into());
    assert_eq!(
        (c.section, c.field.as_deref(), c.effect),
        ("policy", Some("timezone"), Effect::Unknown)
    );
    assert_eq!(
        one(|p| p.default_category = "complaint.major".into()).effect,
        Effect::Unknown
    );
    assert_eq!(
        one(|p| p.version = "2027.01".into()).effect,
        Effect::Neutral
    );
    assert_eq!(one(|p| p.calendar = None).effect, Effect::Unknown);
}

#[test]
fn labels_of_departments_and_roles_are_neutral() {
    let c = one(|p| p.departments.get_mut("cleaning").unwrap().label = "环境部".into());
    assert_eq!((c.section, c.effect), ("department", Effect::Neutral));
    let c = one(|p| {
        p.roles.insert(
            "developer_center".into(),
            Role {
                label: "地产公司客户服务中心".into(),
            },
        );
    });
    assert_eq!(
        (c.section, c.change, c.effect),
        ("role", ChangeKind::Added, Effect::Neutral)
    );
}

fn hook(source: &str) -> Hook {
    Hook {
        on: HookPoint::Classify,
        script: "scripts/classify.rhai".into(),
        source: source.into(),
        limits: ScriptLimits::default(),
        fallback: None,
        rules: strings(&["D4"]),
    }
}

#[test]
fn hook_source_change_shows_both_hashes() {
    let old = {
        let mut p = policy();
        p.hooks
            .insert("classify".into(), hook("\"complaint.direct\""));
        p
    };
    let mut new = old.clone();
    new.hooks
        .insert("classify".into(), hook("\"complaint.major\""));
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!(
        (c.section, c.field.as_deref(), c.effect),
        ("hook", Some("source"), Effect::Unknown)
    );
    let (o, n) = (c.old.as_deref().unwrap(), c.new.as_deref().unwrap());
    assert!(
        o.starts_with("sha256:") && n.starts_with("sha256:") && o != n,
        "{o} {n}"
    );
    assert_eq!(o.len(), "sha256:".len() + 64);

    let mut without_hooks = policy();
    without_hooks.hooks.clear();
    let added = diff(&without_hooks, &old);
    assert_eq!(
        (added[0].change, added[0].effect),
        (ChangeKind::Added, Effect::Unknown)
    );
}

#[test]
fn plugin_hash_change() {
    let plugin = |sha: &str| Plugin {
        on: HookPoint::Classify,
        wasm: "plugins/k/k.wasm".into(),
        sha256: sha.repeat(64),
        fuel: 1_000_000,
        memory_bytes: 16 << 20,
        fallback: None,
        config: Default::default(),
        rules: vec![],
    };
    let mut old = policy();
    old.plugins.insert("k".into(), plugin("a"));
    let mut new = old.clone();
    new.plugins.insert("k".into(), plugin("b"));
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].field.as_deref(), Some("sha256"));
    assert_eq!(changes[0].new, Some(format!("sha256:{}", "b".repeat(64))));
}

#[test]
fn render_is_a_table_with_counts_and_json_names_effects() {
    let changes = all(|p| {
        p.limits.get_mut("L4").unwrap().within = Some(span("4h"));
        p.limits.remove("L5");
    });
    let text = render(&changes);
    assert!(text.starts_with("CHANGE"), "{text}");
    assert!(text.contains("within: 2h → 4h  looser"), "{text}");
    assert!(text.contains("2 change(s): 0 stricter, 2 looser"), "{text}");
    let json = serde_json::to_value(&changes).unwrap();
    assert_eq!(json[0]["effect"], "looser");
    assert_eq!(json[0]["change"], "changed");
    assert_eq!(json[1]["field"], serde_json::Value::Null);
}
