#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Replay throughput: a generated history of 20,000 tickets (a week across eight
//! estates) replayed under vk-shanghai and its gardens overlay, compared. The
//! history is generated once into memory; each iteration parses and replays it.
//!
//! `cargo bench --bench replay -- --warm-up-time 1 --measurement-time 10`
//!
//! The million-ticket figure (wall time, tickets per second, peak memory) is measured
//! with the release binary, as docs/sim.md describes:
//!
//! ```text
//! cargo build --release
//! ./target/release/steward sim generate --seed 2026 --tickets 1000000 --days 365 --estates 16 --start 2026-01-01 --out /tmp/h1m.csv
//! /usr/bin/time -v ./target/release/steward sim replay --history /tmp/h1m.csv \
//!     --policy policies/vk-shanghai --policy policies/vk-shanghai-gardens --stats > /dev/null
//! ```

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use steward::policy::{self, CompiledPolicy};
use steward::sim::generate::{self, Options as GenOptions};
use steward::sim::history::HistoryReader;
use steward::sim::replay::{self, Options};
use steward::sim::report::PolicyInfo;

const TICKETS: u64 = 20_000;

fn compiled(path: &str) -> (PolicyInfo, CompiledPolicy) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(loaded) = policy::load_path(&root.join(path)) else {
        panic!("{path} does not load");
    };
    let c = CompiledPolicy::new(loaded.policy).unwrap_or_else(|e| panic!("{path}: {e}"));
    let info = PolicyInfo {
        path: path.into(),
        id: c.policy.id.clone(),
        version: c.policy.version.clone(),
        fingerprint: c.fingerprint.clone(),
        estates: Default::default(),
    };
    (info, c)
}

fn bench(c: &mut Criterion) {
    let mut history = Vec::new();
    let opts = GenOptions {
        seed: 2026,
        tickets: TICKETS,
        days: 7,
        estates: 8,
        start: chrono::NaiveDate::from_ymd_opt(2026, 7, 6).unwrap_or_default(),
        json: false,
    };
    generate::generate(&opts, &mut history).unwrap_or_else(|e| panic!("generate: {e}"));
    let policies = vec![
        compiled("policies/vk-shanghai"),
        compiled("policies/vk-shanghai-gardens"),
    ];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TICKETS));
    group.bench_function("20k tickets, two policies", |b| {
        b.iter(|| {
            let reader = HistoryReader::from_reader(
                "bench",
                Box::new(Cursor::new(history.clone())),
                false,
                None,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let opts = Options {
                threads,
                ..Options::default()
            };
            black_box(replay::replay("bench", reader, &policies, &opts, &|_| {}))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
