#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Cost of a classify plug-in call against the same keyword matching in native Rust
//! and in a rhai script run by steward's sandboxed engine, all on one 200-character
//! ticket text with the vk-shanghai-plugins keyword table; and the cost of getting a
//! plug-in ready: compiling it cold, from the in-memory module cache, and from a
//! precompiled artifact in the cache directory.
//!
//! `cargo bench --bench plugin -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rhai::{Array, Dynamic, Map, Scope};
use steward::plugin::PluginHost;
use steward::policy::{self, model::ScriptLimits};
use steward::script::facts::TicketFacts;
use steward::script::sandbox;

/// 200 characters of a repair request; its only keyword (漏水, a leak) comes near
/// the end, so every approach reads nearly all of it.
fn text() -> String {
    let head = "您好，我是三号楼二单元一零二室的业主，最近家里的情况是这样的：每天晚上八点以后，客厅和卧室的灯光会忽明忽暗，孩子写作业很不方便，";
    let tail = "另外卫生间天花板这两天开始漏水，请安排师傅上门查看处理，谢谢。";
    let mut t = String::from(head);
    while t.chars().count() + tail.chars().count() < 200 {
        t.push('嗯');
    }
    t.push_str(tail);
    assert_eq!(t.chars().count(), 200);
    t
}

struct Rule {
    category: String,
    kind: String,
    keywords: Vec<String>,
}

/// The policy's keyword table, read the way the plug-in reads it.
fn rules(config: &serde_json::Value) -> Vec<Rule> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    config["rule"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| Rule {
            category: s(&r["category"]),
            kind: s(&r["kind"]),
            keywords: r["keywords"]
                .as_array()
                .into_iter()
                .flatten()
                .map(s)
                .collect(),
        })
        .collect()
}

/// Native Rust: the first rule (in table order) of the ticket's kind with a keyword
/// contained in the text.
fn native<'r>(rules: &'r [Rule], kind: &str, text: &str) -> Option<&'r str> {
    rules
        .iter()
        .filter(|r| r.kind.is_empty() || r.kind == kind)
        .find(|r| r.keywords.iter().any(|k| text.contains(k.as_str())))
        .map(|r| r.category.as_str())
}

const RHAI: &str = r#"
let found = "";
for r in rules {
    if r.kind == "" || r.kind == kind {
        for k in r.keywords {
            if text.contains(k) { found = r.category; break; }
        }
        if found != "" { break; }
    }
}
found
"#;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = policy::load_path(&root.join("policies/vk-shanghai-plugins"))
        .ok()
        .expect("vk-shanghai-plugins loads");
    let id = "keywords";
    let bytes = &loaded.wasm.iter().find(|(i, _)| i == id).expect("pinned").1;
    let config = serde_json::to_value(&loaded.policy.plugins[id].config).expect("json");
    let table = rules(&config);
    let text = text();
    let facts = TicketFacts {
        kind: "repair".into(),
        text: text.clone(),
        estate: "gardens".into(),
        channel: "hotline".into(),
        ..TicketFacts::default()
    };

    let host = PluginHost::new().expect("engine");
    let mut plugin = host
        .load_for_policy(id, bytes, &loaded.policy.plugin_owner())
        .expect("loads");
    let answer = plugin.classify(&facts).expect("classifies").category;
    assert_eq!(answer.as_deref(), Some("repair.leak"));
    assert_eq!(native(&table, "repair", &text), Some("repair.leak"));

    // rhai: the table as an array of maps, in the scope once; kind and text per call.
    let engine = sandbox::engine(&ScriptLimits::default(), sandbox::HOOK_DEADLINE);
    let rhai_rules: Array = table
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("category".into(), r.category.clone().into());
            m.insert("kind".into(), r.kind.clone().into());
            let kws: Array = r.keywords.iter().cloned().map(Dynamic::from).collect();
            m.insert("keywords".into(), kws.into());
            Dynamic::from_map(m)
        })
        .collect();
    let mut scope = Scope::new();
    scope.push("rules", rhai_rules);
    scope.push("kind", String::from("repair"));
    scope.push("text", text.clone());
    let ast = engine
        .compile_with_scope(&scope, RHAI)
        .expect("rhai compiles");
    let base = scope.len();
    let run_rhai = |scope: &mut Scope, text: &str| {
        scope.set_value("text", text.to_string());
        let r = engine.eval_ast_with_scope::<String>(scope, &ast);
        scope.rewind(base);
        r
    };
    assert_eq!(
        run_rhai(&mut scope, &text).ok().as_deref(),
        Some("repair.leak")
    );

    let mut g = c.benchmark_group("classify_200_chars");
    g.bench_function("wasm_plugin_warm", |b| {
        b.iter(|| black_box(plugin.classify(black_box(&facts)).ok()))
    });
    g.bench_function("native_rust", |b| {
        b.iter(|| black_box(native(&table, "repair", black_box(&text))))
    });
    g.bench_function("rhai_script", |b| {
        b.iter(|| black_box(run_rhai(&mut scope, black_box(&text)).ok()))
    });
    g.finish();
    println!(
        "fuel per classify call: {} (budget {})",
        plugin.last_fuel_used(),
        loaded.policy.plugins[id].fuel
    );

    let p = &loaded.policy.plugins[id];
    let mut g = c.benchmark_group("plugin_ready");
    g.bench_function("cold_compile_instantiate", |b| {
        b.iter(|| {
            host.clear_memory_cache();
            black_box(host.load(id, bytes, p).ok())
        })
    });
    g.bench_function("cached_instantiate", |b| {
        b.iter(|| black_box(host.load(id, bytes, p).ok()))
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let disk = PluginHost::new()
        .expect("engine")
        .with_cache_dir(dir.path());
    disk.load(id, bytes, p).expect("loads");
    g.bench_function("disk_cache_deserialize_instantiate", |b| {
        b.iter(|| {
            disk.clear_memory_cache();
            black_box(disk.load(id, bytes, p).ok())
        })
    });
    g.finish();
    let s = host.stats();
    println!(
        "module cache: compiled {} memory hits {}; disk host: compiled {} disk hits {}",
        s.compiled,
        s.memory_hits,
        disk.stats().compiled,
        disk.stats().disk_hits
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
