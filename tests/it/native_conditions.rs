#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Conditions compiled to native predicates answer exactly what rhai answers.
//!
//! 1. Every `when` / `applies` of every shipped policy (policies/**), on random
//!    tickets: the native predicate (read in place, and through the policy's
//!    keyword search) against rhai on the same facts. Every shipped condition is
//!    in the native subset.
//! 2. Generated conditions, inside and outside the subset, on random tickets:
//!    where a predicate exists, it equals rhai's answer, and rhai never fails on
//!    a condition the subset accepted.
//! 3. Whole decisions: random command sequences under each shipped policy (those
//!    without plug-ins), decided with native predicates and with rhai alone,
//!    give the same tickets, facts and refusals.

use std::cell::OnceCell;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use steward::engine::{Command, OpenTicket, decide};
use steward::policy::CompiledPolicy;
use steward::policy::model::{Action, Policy};
use steward::script::condition::{self, Condition, Facts};
use steward::script::facts::TicketFacts;
use steward::script::predicate::{Keywords, Predicate};

fn load(dir: &Path) -> Policy {
    match steward::policy::load_path(dir) {
        Ok(l) => l.policy,
        Err(_) => panic!("{} does not load", dir.display()),
    }
}

/// Every shipped policy directory.
fn shipped() -> Vec<(String, Policy)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&root).expect("policies/ is readable") {
        let dir = entry.expect("entry").path();
        if dir.join("policy.toml").is_file() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, load(&dir)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 5, "the shipped policies are found");
    out
}

fn conditions_of(p: &Policy) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    v.extend(p.categories.values().filter_map(|c| c.when.clone()));
    v.extend(p.limits.values().filter_map(|l| l.applies.clone()));
    v.extend(p.revisits.values().filter_map(|r| r.applies.clone()));
    v.extend(p.pauses.values().filter_map(|r| r.applies.clone()));
    v
}

/// The string literals of a condition text: the vocabulary random tickets draw from.
fn literals(expr: &str) -> Vec<String> {
    expr.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

struct Shipped {
    conditions: Vec<(String, Condition)>,
    keywords: Keywords,
    vocabulary: Vec<String>,
}

fn shipped_conditions() -> &'static Shipped {
    static S: std::sync::OnceLock<Shipped> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let engine = condition::engine();
        let mut patterns: Vec<Box<str>> = Vec::new();
        let mut vocabulary = Vec::new();
        let mut conditions = Vec::new();
        for (name, p) in shipped() {
            for expr in conditions_of(&p) {
                let mut c = Condition::compile(&engine, &expr).expect("shipped condition compiles");
                c.intern_keywords(&mut |lit| match patterns.iter().position(|p| &**p == lit) {
                    Some(i) => i,
                    None => {
                        patterns.push(lit.into());
                        patterns.len() - 1
                    }
                });
                vocabulary.extend(literals(&expr));
                conditions.push((format!("{name}: {expr}"), c));
            }
        }
        vocabulary.sort();
        vocabulary.dedup();
        Shipped {
            conditions,
            keywords: Keywords::new(patterns),
            vocabulary,
        }
    })
}

fn pick(vocab: &[String]) -> impl Strategy<Value = String> + Clone + use<> {
    let vocab = vocab.to_vec();
    prop_oneof![
        3 => prop::sample::select(vocab),
        1 => "[a-z._]{0,8}",
        1 => "[渗漏水电梯困人多户群诉质量裂缝噪音管理]{0,4}",
    ]
}

/// Random facts drawing text, tags and values from `vocab`.
fn facts(vocab: &[String]) -> impl Strategy<Value = TicketFacts> + use<> {
    let word = pick(vocab);
    let text = prop::collection::vec(pick(vocab), 0..5).prop_map(|w| w.concat());
    (
        (
            prop::sample::select(vec!["repair", "complaint", "inquiry", "suggestion"]),
            word.clone(),
            -1i64..5,
            text,
            word.clone(),
            word.clone(),
            prop::sample::select(vec!["hotline", "forum", "mailbox", "app", "walk_in"]),
            prop::sample::select(vec!["", "normal", "high", "emergency"]),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            word.clone(),
            prop::collection::vec(word.clone(), 0..3),
            0i64..24,
            prop::sample::select(vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            0i64..4,
            word,
        ),
    )
        .prop_map(
            |(
                (kind, category, class, text, estate, unit, channel, urgency),
                (major, emergency, phase, tags, hour, weekday, revisits, department),
            )| TicketFacts {
                kind: kind.into(),
                category,
                class,
                text,
                estate,
                unit,
                channel: channel.into(),
                urgency: urgency.into(),
                major,
                emergency,
                phase,
                tags,
                hour,
                weekday: weekday.into(),
                revisits,
                department,
            },
        )
}

#[test]
fn every_shipped_condition_is_a_native_predicate() {
    let s = shipped_conditions();
    assert!(s.conditions.len() > 40, "{}", s.conditions.len());
    for (what, c) in &s.conditions {
        assert!(c.predicate().is_some(), "not in the native subset: {what}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn shipped_conditions_answer_as_rhai_does(f in facts(&shipped_conditions().vocabulary)) {
        let s = shipped_conditions();
        let engine = condition::engine();
        let hits = OnceCell::new();
        let read = Facts::new(f.view(), &s.keywords, &hits);
        // One lazily scoped run over all conditions, as `CompiledPolicy::applies` does.
        let mut shared = f.clone().scope();
        for (what, c) in &s.conditions {
            let rhai = c.eval_rhai(&engine, &mut f.rhai_scope());
            let native = c.predicate().and_then(|p| p.eval(&f.view()));
            let searched = c.predicate().and_then(|p| p.eval(&read));
            let through_scope = c.eval_in(&engine, &mut f.rhai_scope());
            prop_assert_eq!(rhai.clone().ok(), native, "{} on {:?}", what, f);
            prop_assert_eq!(rhai.clone().ok(), searched, "{} (keyword search) on {:?}", what, f);
            let scoped = c.eval_scoped(&engine, &s.keywords, &mut shared);
            prop_assert_eq!(rhai.clone(), through_scope, "{} (scope) on {:?}", what, f);
            prop_assert_eq!(rhai, scoped, "{} (lazy scope) on {:?}", what, f);
        }
    }
}

// ---------------------------------------------------------------- generated conditions

const STR_VARS: [&str; 10] = [
    "kind",
    "category",
    "text",
    "estate",
    "unit",
    "channel",
    "urgency",
    "phase",
    "weekday",
    "department",
];
const INT_VARS: [&str; 3] = ["class", "hour", "revisits"];
const OPS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "repair",
            "complaint",
            "emergency",
            "high",
            "forum",
            "mon",
            "漏水",
            "电梯",
            "",
            "complaint.",
            "repair.leak",
            "a",
            "major",
        ])
        .prop_map(str::to_string),
        "[a-z漏水电]{0,3}",
    ]
}

fn leaf() -> impl Strategy<Value = String> {
    let s = prop::sample::select(STR_VARS.to_vec());
    let i = prop::sample::select(INT_VARS.to_vec());
    let op = prop::sample::select(OPS.to_vec());
    prop_oneof![
        (s.clone(), prop::sample::select(vec!["==", "!="]), literal())
            .prop_map(|(v, o, l)| format!("{v} {o} \"{l}\"")),
        (literal(), s.clone()).prop_map(|(l, v)| format!("\"{l}\" == {v}")),
        (i.clone(), op.clone(), -2i64..25).prop_map(|(v, o, n)| format!("{v} {o} {n}")),
        (0i64..25, op, i.clone()).prop_map(|(n, o, v)| format!("{n} {o} {v}")),
        prop::sample::select(vec!["major", "emergency", "true", "false"]).prop_map(str::to_string),
        (
            s.clone(),
            prop::sample::select(vec!["contains", "starts_with", "ends_with"]),
            literal()
        )
            .prop_map(|(v, m, l)| format!("{v}.{m}(\"{l}\")")),
        literal().prop_map(|l| format!("tags.contains(\"{l}\")")),
        // Outside the subset: rhai alone decides these.
        (0i64..5).prop_map(|n| format!("text.len() > {n}")),
        (i, -1i64..4).prop_map(|(v, n)| format!("{v} + 1 == {n}")),
        literal().prop_map(|l| format!("\"{l}\" in text")),
        (s, literal()).prop_map(|(v, l)| format!("{v} < \"{l}\"")),
        Just("class == \"1\"".to_string()),
        Just("!class".to_string()),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            (inner.clone(), prop::sample::select(vec!["==", "!="]), inner)
                .prop_map(|(a, o, b)| format!("({a}) {o} ({b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn generated_conditions_answer_as_rhai_does(
        expr in expression(),
        f in facts(&["漏水".to_string(), "repair".to_string(), "major".to_string()]),
    ) {
        let engine = condition::engine();
        let Ok(c) = Condition::compile(&engine, &expr) else {
            return Ok(());
        };
        prop_assert_eq!(c.predicate().is_some(), Predicate::parse(&expr).is_some());
        if let Some(p) = c.predicate() {
            let rhai = c.eval_rhai(&engine, &mut f.rhai_scope());
            prop_assert_eq!(rhai.ok(), p.eval(&f.view()), "`{}` on {:?}", expr, f);
        }
    }
}

// ---------------------------------------------------------------- whole decisions

fn intake(kind: &str, text: String, tags: Vec<String>, class: u8, major: bool) -> OpenTicket {
    OpenTicket {
        id: "D1".into(),
        estate: "E1".into(),
        channel: "hotline".into(),
        kind: kind.into(),
        text,
        tags,
        class,
        major,
        ..OpenTicket::default()
    }
}

fn command(n: u8) -> Command {
    let act = |action| Command::Act {
        action,
        by: "p".into(),
        note: String::new(),
    };
    match n % 14 {
        0 => act(Action::Respond),
        1 => act(Action::Plan),
        2 => act(Action::Report),
        3 => act(Action::Update),
        4 => Command::Pause {
            reason: "waiting_owner".into(),
        },
        5 => Command::Resume,
        6 => Command::Resolve {
            note: String::new(),
        },
        7 => Command::Revisit {
            ok: true,
            channel: "phone".into(),
            note: String::new(),
        },
        8 => Command::Revisit {
            ok: false,
            channel: "phone".into(),
            note: String::new(),
        },
        9 => Command::Close { invalid: None },
        10 => Command::Tick,
        11 => Command::Event {
            kind: "rain".into(),
        },
        12 => Command::Classify {
            category: None,
            class: None,
            major: Some(true),
        },
        _ => Command::Reopen {
            reason: "again".into(),
        },
    }
}

/// Each shipped policy without plug-ins, compiled twice: native and rhai-only.
fn policy_pairs() -> &'static Vec<(String, CompiledPolicy, CompiledPolicy)> {
    static P: std::sync::OnceLock<Vec<(String, CompiledPolicy, CompiledPolicy)>> =
        std::sync::OnceLock::new();
    P.get_or_init(|| {
        shipped()
            .into_iter()
            .filter(|(_, p)| p.plugins.is_empty())
            .map(|(name, p)| {
                let native = CompiledPolicy::new(p.clone()).expect("compiles");
                let rhai = CompiledPolicy::new(p)
                    .expect("compiles")
                    .without_native_conditions();
                (name, native, rhai)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decisions_are_the_same_with_and_without_native_predicates(
        which in 0usize..8,
        kind in prop::sample::select(vec!["repair", "complaint", "inquiry", "suggestion"]),
        words in prop::collection::vec(
            prop::sample::select(vec![
                "电梯", "困人", "漏水", "渗水", "多户", "群诉", "质量", "裂缝", "消防", "集体",
                "市政", "开发商", "噪音", "停电", "门禁", "物业",
            ]),
            0..4,
        ),
        tags in prop::collection::vec(
            prop::sample::select(vec!["major", "validity_unclear", "external", "developer"]),
            0..2,
        ),
        class in 0u8..4,
        major in any::<bool>(),
        start in 0i64..(40 * 24 * 60),
        steps in prop::collection::vec((0i64..(30 * 60), any::<u8>()), 1..25),
    ) {
        let pairs = policy_pairs();
        let (name, native, rhai) = &pairs[which % pairs.len()];
        let tags: Vec<String> = tags.into_iter().map(str::to_string).collect();
        let open = Command::Open(intake(kind, words.concat(), tags, class, major));
        let mut now: DateTime<Utc> =
            Utc.with_ymd_and_hms(2026, 9, 20, 0, 0, 0).unwrap() + Duration::minutes(start);
        let a = decide(None, &open, now, native);
        let b = decide(None, &open, now, rhai);
        prop_assert_eq!(&a, &b, "{} open", name);
        let Ok((mut ta, _)) = a else { return Ok(()) };
        for (gap, n) in steps {
            now += Duration::minutes(gap);
            let cmd = command(n);
            let a = decide(Some(&ta), &cmd, now, native);
            let b = decide(Some(&ta), &cmd, now, rhai);
            prop_assert_eq!(&a, &b, "{} {:?}", name, cmd);
            if let Ok((t, _)) = a {
                ta = t;
            }
        }
    }
}
