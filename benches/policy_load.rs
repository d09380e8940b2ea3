#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Cost of loading a policy (read, parse with spans, overlay, build, compile every
//! condition, cross-reference checks) against a baseline of plain `toml` parsing of
//! the same files, so the figures can be read as ratios. Files are read from memory
//! in both cases; vk-shanghai-gardens is the longest chain (gardens → vk-shanghai →
//! base, four files).
//!
//! `cargo bench --bench policy_load -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use steward::policy::{self, files::MemFiles};

const FILES: &[&str] = &[
    "policies/base/policy.toml",
    "policies/vk-shanghai/policy.toml",
    "policies/vk-shanghai/calendar.toml",
    "policies/vk-shanghai-gardens/policy.toml",
    "policies/vk-shanghai/scripts/classify.rhai",
];

/// The shipped policies, and the files each one's chain reads.
const POLICIES: &[(&str, &[usize])] = &[
    ("policies/base", &[0]),
    ("policies/vk-shanghai", &[0, 1, 2, 4]),
    ("policies/vk-shanghai-gardens", &[0, 1, 2, 3, 4]),
];

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let texts: Vec<String> = FILES
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    let mut files = MemFiles::default();
    for (path, text) in FILES.iter().zip(&texts) {
        files.insert(path, text.as_str());
    }

    let mut group = c.benchmark_group("policy_load");
    for (dir, chain) in POLICIES {
        let name = dir.trim_start_matches("policies/");
        // Fail loudly rather than time an error path.
        assert!(
            policy::load_with(&files, Path::new(dir)).is_ok(),
            "{dir} does not load"
        );
        group.bench_function(format!("{name}/load"), |b| {
            b.iter(|| {
                let loaded = policy::load_with(&files, black_box(Path::new(dir)));
                black_box(loaded.ok().map(|l| l.policy.limits.len()))
            })
        });
        group.bench_function(format!("{name}/toml_baseline"), |b| {
            b.iter(|| {
                for &i in chain.iter().filter(|&&i| FILES[i].ends_with(".toml")) {
                    black_box(toml::from_str::<toml::Table>(black_box(&texts[i])).ok());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
