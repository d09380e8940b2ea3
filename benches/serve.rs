#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward serve` under load: 64 concurrent clients on loopback, each opening
//! a repair ticket, responding and resolving it, over and over, for
//! `STEWARD_BENCH_SECS` seconds (default 30). Prints commands per second and
//! the p50 and p99 latency of a command, then the floor for the same log: the
//! very event rows the run wrote, inserted with raw rusqlite into a table of
//! the same shape in a fresh file with the same settings (WAL,
//! synchronous=NORMAL), one row per transaction and all in one transaction,
//! measured in the same process right after. Beside each rate it prints the
//! CPU time the process spent per command (server and clients together: they
//! share the machine) and the load average before and after, so a run on a
//! busy machine can be read for what it is.
//!
//! `STEWARD_BENCH_SECS=10 cargo bench --bench serve`

// The allocator the `steward` binary ships with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use steward::policy::embedded;
use steward::serve::{self, SystemClock, auth};
use steward::service::Service;
use steward::store::EventRow;

const CLIENTS: usize = 64;

/// User plus system CPU time of this process so far.
fn cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let secs: u64 = std::env::var("STEWARD_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let now = chrono::Utc::now();
    let token = {
        let mut svc = Service::open(&db).unwrap();
        let company = embedded::load("vk-shanghai").ok().unwrap();
        svc.apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, now)
            .unwrap();
        auth::create(&mut svc, "bench", "front-desk", &["riverside".into()], now)
            .unwrap()
            .token
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let load_before = load();
    let cpu_before = cpu();
    let (commands, mut latencies, wall) = runtime.block_on(async {
        let mut config = serve::Config::new(db.clone());
        config.clock = Arc::new(SystemClock::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = serve::start(config, listener, false).await.unwrap();
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .unwrap();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let key = format!("c{c}-{n}");
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/v1/tickets"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("{key}-open"))
                        .body(r#"{"estate":"riverside","kind":"repair","text":"客厅灯具不亮"}"#)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201);
                    let v: serde_json::Value = r.json().await.unwrap();
                    lat.push(t.elapsed());
                    let id = v["ticket"].as_str().unwrap().to_owned();
                    for (action, body) in [
                        ("respond", r#"{"by":"张三"}"#),
                        ("resolve", r#"{"note":"已更换灯具"}"#),
                    ] {
                        let t = Instant::now();
                        let r = http
                            .post(format!("{base}/v1/tickets/{id}/{action}"))
                            .bearer_auth(&token)
                            .header("idempotency-key", format!("{key}-{action}"))
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), 200, "{action}");
                        let _ = r.bytes().await.unwrap();
                        lat.push(t.elapsed());
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let wall = started.elapsed();
        running.shutdown().await.unwrap();
        (all.len(), all, wall)
    });
    let serve_cpu = cpu() - cpu_before;
    let load_after = load();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let per_sec = commands as f64 / wall.as_secs_f64();
    let cpu_per_command = serve_cpu.as_secs_f64() / commands as f64;
    println!(
        "serve: {CLIENTS} clients, {:.1} s: {commands} commands, {per_sec:.0} commands/s, p50 {:.2} ms, p99 {:.2} ms",
        wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    println!(
        "serve: CPU {:.0} µs per command (server and clients, {:.1} s of CPU in {:.1} s); load average {load_before} before, {load_after} after",
        cpu_per_command * 1e6,
        serve_cpu.as_secs_f64(),
        wall.as_secs_f64()
    );

    // The floor: the same event rows, raw.
    let rows: Vec<EventRow> = {
        let svc = Service::open_read_only(&db).unwrap();
        let mut rows = Vec::new();
        svc.store()
            .read(|tx| {
                tx.for_each_event(|e| {
                    rows.push(e);
                    Ok(())
                })
            })
            .unwrap();
        rows
    };
    let per_command = rows.len() as f64 / commands as f64;
    // A commit per row is slow enough that the first 20,000 rows give its rate.
    let first = &rows[..rows.len().min(20_000)];
    for (label, rows, batch) in [
        ("one row per transaction", first, 1usize),
        ("all rows in one transaction", &rows[..], usize::MAX),
    ] {
        let path = dir.path().join(format!("raw-{batch}.db"));
        let cpu_before = cpu();
        let secs = raw_inserts(&path, rows, batch);
        let raw_cpu = (cpu() - cpu_before).as_secs_f64() / rows.len() as f64 * per_command;
        let rows_per_sec = rows.len() as f64 / secs;
        println!(
            "raw rusqlite, {label}: {} rows in {:.3} s, {rows_per_sec:.0} rows/s = {:.0} commands/s at {per_command:.2} rows per command; serve / raw = {:.3}; CPU {:.1} µs per command's rows (serve / raw = {:.1})",
            rows.len(),
            secs,
            rows_per_sec / per_command,
            per_sec / (rows_per_sec / per_command),
            raw_cpu * 1e6,
            cpu_per_command / raw_cpu
        );
    }
}

fn raw_inserts(path: &std::path::Path, rows: &[EventRow], batch: usize) -> f64 {
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, ticket TEXT, at TEXT NOT NULL, kind TEXT NOT NULL,
            payload TEXT NOT NULL, fingerprint TEXT NOT NULL, rule TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT;
         CREATE INDEX events_ticket ON events(ticket, seq);",
    )
    .unwrap();
    let started = Instant::now();
    for chunk in rows.chunks(batch.min(rows.len()).max(1)) {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO events (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .unwrap();
            for e in chunk {
                stmt.execute(params![
                    e.seq,
                    e.ticket,
                    e.at.to_rfc3339(),
                    e.kind,
                    e.payload,
                    e.fingerprint,
                    e.rule,
                    e.prev_hash,
                    e.hash
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    started.elapsed().as_secs_f64()
}
