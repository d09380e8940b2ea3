#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Throughput of the library with its SQLite store, against raw rusqlite.
//!
//! - `lifecycle/steward`: 1,000 elevator-entrapment repairs through the whole
//!   lifecycle (open, classify, respond, resolve, revisits V3#1 and V3#2, close),
//!   100 tickets to a transaction via `Service::batch`, into a fresh file database.
//! - `lifecycle/raw_rusqlite`: the very event rows that run writes, inserted with
//!   a prepared INSERT into a table of the same shape (same columns, same index),
//!   in the same transactions, with the same file settings (WAL, synchronous=NORMAL).
//!   The floor for writing that log: no engine, no projections, no hashing.
//! - `tick/*`: one `tick` over a database of open tickets of which a known number
//!   have a timer due; the database is built once and copied for each iteration,
//!   since tick changes it.
//!
//! After the run it prints `ratio = steward throughput / raw throughput`
//! (= raw time / steward time for the same rows); the target is >= 0.25.
//!
//! `cargo bench --bench engine -- --warm-up-time 1 --measurement-time 3 --sample-size 10`

mod support;

// The allocator the `steward` binary ships with, for steward and the raw baseline alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use rusqlite::{Connection, TransactionBehavior, params};
use steward::service::Service;
use steward::store::EventRow;
use tempfile::TempDir;

use support::{due_at, id, lifecycle, open_staggered, service_with_policy, start};

const TICKETS: usize = 1_000;
const PER_TX: usize = 100;

/// Set when both lifecycle benchmarks ran in this process, so the ratio is
/// never computed from an earlier run's results.
static RAN_STEWARD: AtomicBool = AtomicBool::new(false);
static RAN_RAW: AtomicBool = AtomicBool::new(false);

fn fresh() -> (TempDir, Service) {
    let dir = TempDir::new().expect("temp dir");
    let svc = service_with_policy(&dir.path().join("steward.db"));
    (dir, svc)
}

/// The lifecycles of `TICKETS` tickets, `PER_TX` to a transaction.
fn run_lifecycles(svc: &mut Service) {
    for first in (0..TICKETS).step_by(PER_TX) {
        svc.batch(|b| (first..first + PER_TX).try_for_each(|n| lifecycle(b, &id(n), start())))
            .expect("lifecycles run");
    }
}

/// One steward run outside the timing: the rows it writes, grouped by the
/// transaction that wrote them.
fn steward_rows() -> Vec<Vec<EventRow>> {
    let (_dir, mut svc) = fresh();
    run_lifecycles(&mut svc);
    let mut rows = Vec::new();
    svc.store()
        .read(|tx| {
            tx.for_each_event(|e| {
                if e.ticket.is_some() {
                    rows.push(e);
                }
                Ok(())
            })
        })
        .expect("events read");
    let mut batches: Vec<Vec<EventRow>> = Vec::new();
    for row in rows {
        let n: usize = row.ticket.as_deref().expect("a ticket event")[1..]
            .parse()
            .expect("numeric id");
        match batches.get_mut(n / PER_TX) {
            Some(b) => b.push(row),
            None => batches.push(vec![row]),
        }
    }
    batches
}

/// A database with the steward events table (minus the append-only triggers,
/// which only fire on UPDATE and DELETE) and the store's file settings.
fn raw_db(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("raw database opens");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .expect("WAL");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    conn.execute_batch(
        "CREATE TABLE events (
             seq INTEGER PRIMARY KEY, ticket TEXT, at TEXT NOT NULL, kind TEXT NOT NULL,
             payload TEXT NOT NULL, fingerprint TEXT NOT NULL, rule TEXT,
             prev_hash TEXT NOT NULL, hash TEXT NOT NULL
         ) STRICT;
         CREATE INDEX events_ticket ON events(ticket, seq);",
    )
    .expect("raw schema");
    conn
}

fn raw_insert(conn: &mut Connection, batches: &[Vec<EventRow>]) {
    for batch in batches {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO events (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .expect("prepare");
            for e in batch {
                let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                stmt.execute(params![
                    e.seq,
                    e.ticket,
                    at,
                    e.kind,
                    e.payload,
                    e.fingerprint,
                    e.rule,
                    e.prev_hash,
                    e.hash
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
}

fn lifecycle_benches(c: &mut Criterion) {
    let batches = steward_rows();
    let rows: usize = batches.iter().map(Vec::len).sum();
    eprintln!(
        "lifecycle: {TICKETS} tickets, {PER_TX} per transaction, {rows} event rows ({:.1} per ticket)",
        rows as f64 / TICKETS as f64
    );

    let mut g = c.benchmark_group("lifecycle");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("steward", |b| {
        RAN_STEWARD.store(true, Ordering::Relaxed);
        b.iter_batched(
            fresh,
            |(dir, mut svc)| {
                run_lifecycles(&mut svc);
                // Dropped after the timing: closing checkpoints the WAL.
                (dir, svc)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("raw_rusqlite", |b| {
        RAN_RAW.store(true, Ordering::Relaxed);
        b.iter_batched(
            || {
                let dir = TempDir::new().expect("temp dir");
                let conn = raw_db(&dir.path().join("raw.db"));
                (dir, conn)
            },
            |(dir, mut conn)| {
                raw_insert(&mut conn, &batches);
                (dir, conn)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// A closed database (WAL checkpointed into the main file) with `open` open
/// tickets, the first `early` of them due in order; see `open_staggered`.
fn tick_db(open: usize, early: usize) -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("tick.db");
    let began = Instant::now();
    let mut svc = service_with_policy(&path);
    open_staggered(&mut svc, open, early, 1_000);
    // Guards the layout: the figures mean nothing if the due count is off.
    for k in [early, early.min(100)] {
        let due = svc
            .store()
            .read(|tx| tx.due_tickets(due_at(k)))
            .expect("due tickets");
        assert_eq!(due.len(), k, "tickets due at due_at({k})");
    }
    drop(svc);
    eprintln!(
        "tick: built {open} open tickets in {:.1} s ({:.0} MB)",
        began.elapsed().as_secs_f64(),
        std::fs::metadata(&path).expect("db").len() as f64 / 1e6
    );
    (dir, path)
}

fn tick_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("tick");
    g.sampling_mode(SamplingMode::Flat);
    for (name, open, due) in [
        ("10k_open_1k_due", 10_000, 1_000),
        ("100k_open_1k_due", 100_000, 1_000),
        ("100k_open_100_due", 100_000, 100),
    ] {
        // Built on first use, so only when the filter selects this benchmark:
        // the 100k database takes a while.
        let mut db: Option<(TempDir, PathBuf)> = None;
        let now = due_at(due);
        g.throughput(Throughput::Elements(due as u64));
        g.bench_function(name, |b| {
            let base = &db.get_or_insert_with(|| tick_db(open, 1_000)).1;
            b.iter_batched(
                || {
                    let dir = TempDir::new().expect("temp dir");
                    let path = dir.path().join("tick.db");
                    std::fs::copy(base, &path).expect("copy");
                    // Flushed here, or the first checkpoint's fsync inside tick
                    // would pay for writing back the whole copy.
                    std::fs::File::open(&path)
                        .and_then(|f| f.sync_all())
                        .expect("sync");
                    let mut svc = Service::open(&path).expect("copy opens");
                    // Compile the policy outside the timing, as a running service has.
                    svc.active_policy().expect("policy");
                    (dir, svc)
                },
                |(dir, mut svc)| {
                    let fired = svc.tick(now).expect("tick");
                    assert_eq!(fired.len(), due);
                    (dir, svc)
                },
                BatchSize::PerIteration,
            )
        });
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
    lifecycle_benches(&mut c);
    tick_benches(&mut c);
    c.final_summary();

    if RAN_STEWARD.load(Ordering::Relaxed) && RAN_RAW.load(Ordering::Relaxed) {
        match (
            mean_ns("lifecycle/steward"),
            mean_ns("lifecycle/raw_rusqlite"),
        ) {
            (Some(steward), Some(raw)) => println!(
                "\nlifecycle: steward {:.1} ms, raw rusqlite {:.1} ms for the same rows; \
                 ratio = steward throughput / raw throughput = {:.3} (target >= 0.25)",
                steward / 1e6,
                raw / 1e6,
                raw / steward
            ),
            _ => println!("\nlifecycle: no criterion estimates found to compute the ratio"),
        }
    }
}
