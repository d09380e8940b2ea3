#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! rhai in the hot path: one typical `applies` condition, the shipped classify hook
//! (the 004 emergency keyword table) on a 200-character text, and the same logic
//! written in Rust, measured in the same run so they read as ratios.
//!
//! `cargo bench --bench script -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use steward::policy::{CompiledPolicy, embedded};
use steward::script::condition::{self, Condition};
use steward::script::facts::TicketFacts;
use steward::script::hook_script::CompiledHook;

const EMERGENCY: &[(&[&str], &str)] = &[
    (&["电梯", "困人"], "电梯困人"),
    (&["电梯", "失控"], "电梯失控"),
    (&["结构"], "结构性损坏危险"),
    (&["坍塌"], "结构性损坏危险"),
    (&["漏电"], "户内线路漏电"),
    (&["停电"], "户内线路停电"),
    (&["爆管"], "表内管道爆裂"),
    (&["水泵"], "水泵故障停水"),
    (&["停水"], "停水"),
    (&["严重漏水"], "龙头严重漏水"),
    (&["踏步"], "楼梯踏步破损"),
    (&["扶手"], "扶手栏杆松动断裂"),
    (&["栏杆"], "扶手栏杆松动断裂"),
    (&["玻璃"], "门窗玻璃脱落危险"),
    (&["外墙", "脱落"], "外墙脱落危险"),
];

fn native_classify(f: &TicketFacts) -> Option<&'static str> {
    if f.kind != "repair" {
        return None;
    }
    EMERGENCY
        .iter()
        .find(|(words, _)| words.iter().all(|w| f.text.contains(w)))
        .map(|(_, item)| *item)
}

/// A 200-character repair report whose emergency keyword comes near the end.
fn text_200() -> String {
    let mut t = String::new();
    while t.chars().count() < 190 {
        t.push_str("业主反映楼道内照明时好时坏，");
    }
    t.push_str("另有扶手松动");
    t.chars().take(200).collect()
}

fn bench(c: &mut Criterion) {
    let facts = TicketFacts {
        kind: "repair".into(),
        category: "repair.leak".into(),
        text: text_200(),
        ..TicketFacts::default()
    };
    let engine = condition::engine();
    let cond = Condition::compile(
        &engine,
        r#"kind == "repair" && category == "repair.leak" && !emergency"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let loaded =
        embedded::load("vk-shanghai").unwrap_or_else(|_| panic!("vk-shanghai does not load"));
    let policy = CompiledPolicy::new(loaded.policy.clone()).unwrap_or_else(|e| panic!("{e}"));
    let hook = CompiledHook::compile("classify", &loaded.policy.hooks["classify"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(native_classify(&facts).is_some());
    assert!(
        hook.call(&facts, None).ok().flatten().is_some(),
        "the hook must match the bench text"
    );

    let mut g = c.benchmark_group("script");
    let mut scope = facts.rhai_scope();
    g.bench_function("condition/eval", |b| {
        b.iter(|| black_box(cond.eval_in(&engine, &mut scope).ok()))
    });
    g.bench_function("condition/scope+eval", |b| {
        b.iter(|| black_box(cond.eval(&engine, black_box(&facts)).ok()))
    });
    g.bench_function("condition/native", |b| {
        b.iter(|| {
            let f = black_box(&facts);
            black_box(f.kind == "repair" && f.category == "repair.leak" && !f.emergency)
        })
    });
    g.bench_function("classify/hook", |b| {
        b.iter(|| black_box(hook.call(black_box(&facts), None).ok()))
    });
    g.bench_function("classify/native", |b| {
        b.iter(|| black_box(native_classify(black_box(&facts))))
    });
    g.bench_function("classify/policy_choose_category", |b| {
        b.iter(|| black_box(policy.choose_category(black_box(&facts)).category))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
