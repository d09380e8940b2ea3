#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The engine's decision on intake (`engine::decide` with `Open`) under each shipped
//! policy without plug-ins, on 64 intakes that reach its categories and limits:
//!
//! - `decide/<policy>/native`: conditions as native predicates (how steward runs);
//! - `decide/<policy>/rhai`: the same policy with every condition run by rhai
//!   (`CompiledPolicy::without_native_conditions`), the same-run baseline.
//!
//! After the run it prints, per policy, `speed-up = rhai time / native time`.
//!
//! `cargo bench --bench decide -- --warm-up-time 1 --measurement-time 3`

// The allocator the `steward` binary ships with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput};
use steward::engine::{Command, OpenTicket, decide};
use steward::policy::CompiledPolicy;

const POLICIES: [&str; 4] = ["base", "three-class", "vk-shanghai", "vk-shanghai-gardens"];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-06T09:00:00+08:00")
        .expect("a valid time")
        .with_timezone(&Utc)
}

fn intakes() -> Vec<Command> {
    let kinds = ["repair", "complaint", "inquiry", "suggestion"];
    let texts = [
        "您好，3号楼电梯困人，请尽快派人",
        "卫生间天花板渗水，已经好几天了",
        "多户业主集体反映夜间施工噪音",
        "物业管理混乱，服务态度差",
        "房屋质量有问题，墙面裂缝",
        "小区门禁坏了，监控也不亮",
        "市政道路施工，公交改道",
        "物业费怎么交",
    ];
    let mut out = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        for (j, text) in texts.iter().enumerate() {
            for major in [false, true] {
                out.push(Command::Open(OpenTicket {
                    id: format!("B{i}{j}{major}"),
                    estate: "riverside".into(),
                    channel: if j % 3 == 0 { "forum" } else { "hotline" }.into(),
                    kind: (*kind).into(),
                    text: (*text).into(),
                    major,
                    class: (j % 4) as u8,
                    ..OpenTicket::default()
                }));
            }
        }
    }
    out
}

fn compiled(name: &str) -> CompiledPolicy {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name);
    let Ok(loaded) = steward::policy::load_path(&dir) else {
        panic!("policy {name} loads");
    };
    CompiledPolicy::new(loaded.policy).expect("policy compiles")
}

fn benches(c: &mut Criterion) {
    let cmds = intakes();
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(cmds.len() as u64));
    for name in POLICIES {
        let native = compiled(name);
        let rhai = compiled(name).without_native_conditions();
        for (label, p) in [("native", &native), ("rhai", &rhai)] {
            g.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| {
                    for cmd in &cmds {
                        black_box(decide(None, black_box(cmd), now(), p).expect("opens"));
                    }
                })
            });
        }
    }
    g.finish();
}

/// Mean time of a benchmark from criterion's estimates, in nanoseconds.
fn mean_ns(bench: &str) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion"));
    let text = std::fs::read_to_string(home.join(bench).join("new/estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    let per = intakes().len() as f64;
    println!();
    for name in POLICIES {
        match (
            mean_ns(&format!("decide/{name}_native")),
            mean_ns(&format!("decide/{name}_rhai")),
        ) {
            (Some(n), Some(r)) => println!(
                "decide {name}: native {:.2} us, rhai conditions {:.2} us per decision; speed-up = {:.2}x",
                n / per / 1e3,
                r / per / 1e3,
                r / n
            ),
            _ => println!("decide {name}: no criterion estimates found for this run"),
        }
    }
}
