#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `audit verify` against the floor of reading the same log.
//!
//! - `audit/verify`: everything `steward audit verify` checks (chain, stored
//!   policies and modules, schema, settings, every projection column rebuilt).
//! - `audit/read_and_hash`: a plain sequential read of every event row in
//!   `seq` order with SHA-256 over its fields: the least any proof of the log
//!   must do, measured in the same run on the same file.
//!
//! The database is built once, like `examples/make_db.rs` builds one: half the
//! tickets left open, half taken through the whole lifecycle (about 4 events an
//! open ticket, 17 a closed one). `STEWARD_AUDIT_TICKETS` sets how many (default
//! 20,000), or `STEWARD_AUDIT_DB` names a database `examples/make_db.rs` built (the
//! README's figures use its 100,000 tickets). After the run it prints the ratio.
//!
//! `cargo bench --bench audit -- --warm-up-time 1 --measurement-time 10 --sample-size 10`

mod support;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{Criterion, SamplingMode};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use steward::store::Store;
use tempfile::TempDir;

static RAN: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

fn build(tickets: usize) -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("audit.db");
    let open = tickets / 2;
    let mut svc = support::service_with_policy(&path);
    support::open_staggered(&mut svc, open, open.min(1_000), 1_000);
    for first in (open..tickets).step_by(1_000) {
        let last = (first + 1_000).min(tickets);
        svc.batch(|b| {
            (first..last).try_for_each(|n| support::lifecycle(b, &support::id(n), support::start()))
        })
        .expect("lifecycles run");
    }
    (dir, path)
}

/// Every event row read in order and hashed: the floor.
fn read_and_hash(path: &Path) -> usize {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn
        .prepare("SELECT seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash FROM events ORDER BY seq")
        .expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    let mut n = 0;
    let mut digest = [0u8; 32];
    while let Some(row) = rows.next().expect("row") {
        let mut h = Sha256::new();
        for i in 0..9 {
            match row.get_ref(i).expect("column") {
                rusqlite::types::ValueRef::Text(t) => h.update(t),
                rusqlite::types::ValueRef::Integer(v) => h.update(v.to_le_bytes()),
                _ => {}
            }
            h.update([0x1f]);
        }
        digest = h.finalize().into();
        n += 1;
    }
    std::hint::black_box(digest);
    n
}

fn mean_ns(bench: &str) -> Option<f64> {
    let home = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| PathBuf::from(t).join("criterion"))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion"));
    let text = std::fs::read_to_string(home.join(bench).join("new/estimates.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["mean"]["point_estimate"].as_f64()
}

fn main() {
    let tickets = std::env::var("STEWARD_AUDIT_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut c = Criterion::default().configure_from_args();
    let (_dir, path) = match std::env::var_os("STEWARD_AUDIT_DB") {
        Some(db) => (TempDir::new().expect("temp dir"), PathBuf::from(db)),
        None => build(tickets),
    };
    let events = read_and_hash(&path);
    {
        let mut g = c.benchmark_group("audit");
        g.sampling_mode(SamplingMode::Flat).sample_size(10);
        g.bench_function("verify", |b| {
            RAN[0].store(true, Ordering::Relaxed);
            let store = Store::open_read_only(&path).expect("open");
            b.iter(|| {
                let v = steward::audit::verify(&store, None).expect("verify runs");
                assert!(v.ok, "{:?}", v.findings);
            })
        });
        g.bench_function("read_and_hash", |b| {
            RAN[1].store(true, Ordering::Relaxed);
            b.iter(|| read_and_hash(&path))
        });
        g.finish();
    }
    c.final_summary();
    if RAN.iter().all(|r| r.load(Ordering::Relaxed))
        && let (Some(v), Some(f)) = (mean_ns("audit/verify"), mean_ns("audit/read_and_hash"))
    {
        println!(
            "\naudit verify over {} ({events} events): {:.2} s; read and hash the same rows: {:.2} s; ratio {:.2}x (target <= 3)",
            path.display(),
            v / 1e9,
            f / 1e9,
            v / f
        );
    }
}
