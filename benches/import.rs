#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Register import: a generated follow-up-form register (the layout of
//! examples/register) into a database through the engine, against the floor of
//! inserting the very event rows that import wrote straight into SQLite (one
//! transaction, one prepared statement, no engine, no chain, no projections);
//! and the same register into replay.
//!
//! `cargo bench --bench import -- --warm-up-time 1 --measurement-time 3`
//!
//! `STEWARD_BENCH_ROWS` sets the register's rows (default 2,000).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use steward::import::{self, Register, db, mapping::Mapping};
use steward::policy::{self, CompiledPolicy};
use steward::service::Service;
use steward::sim::replay::{self, Options};
use steward::sim::report::PolicyInfo;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A register of `rows` tickets, one every few minutes from 2025-01-01, with
/// response, plan, some reports, resolution, callback (7 % unsatisfied) and close.
fn register(rows: usize) -> String {
    let mut out = String::from(
        "编号,受理时间,管理处,房号,投诉人,投诉方式,类别,投诉类型,投诉内容,受理人,首次答复时间,处理意见时间,上报时间,处理完成时间,回访时间,回访结果,回访方式,结案时间,无效原因,索赔金额\n",
    );
    let tz = chrono_tz::Asia::Shanghai;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y/%-m/%-d %-H:%M").to_string();
    let mut seed: u64 = 2026;
    let mut rnd = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut t = tz
        .with_ymd_and_hms(2025, 1, 1, 8, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    for i in 0..rows {
        t += Duration::seconds(60 + rnd(240) as i64);
        let estate = ["翠湖花园", "滨江苑"][rnd(2) as usize];
        let kind = ["投诉", "投诉", "报修", "建议", "咨询"][rnd(5) as usize];
        let class = if kind == "投诉" { "一类" } else { "" };
        let r = t + Duration::minutes(5 + rnd(115) as i64);
        let p = r + Duration::minutes(10 + rnd(590) as i64);
        let rep = (rnd(5) == 0).then(|| t + Duration::minutes(30 + rnd(90) as i64));
        let res = p + Duration::hours(1 + rnd(47) as i64);
        let rv = res + Duration::hours(2 + rnd(58) as i64);
        let cl = rv + Duration::minutes(10);
        let result = if rnd(100) < 93 { "满意" } else { "不满意" };
        let _ = writeln!(
            out,
            "R{i:07},{},{estate},{}-{},业主,热线,{kind},{class},楼道灯不亮,客服,{},{},{},{},{},{result},电话,{},,",
            fmt(t),
            1 + rnd(9),
            101 + rnd(1700),
            fmt(r),
            fmt(p),
            rep.map(fmt).unwrap_or_default(),
            fmt(res),
            fmt(rv),
            fmt(cl)
        );
    }
    out
}

fn compiled(path: &str) -> (PolicyInfo, CompiledPolicy) {
    let Ok(loaded) = policy::load_path(&root().join(path)) else {
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

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn open(file: &Path) -> Register {
    let mapping = Mapping::load(&root().join("examples/register/mapping.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = import::Options {
        now: now(),
        encoding: None,
    };
    Register::open(file, mapping, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn fresh(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("b{n}.db"));
    let mut svc = Service::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let Ok(loaded) = policy::load_path(&root().join("policies/vk-shanghai")) else {
        panic!("policy");
    };
    let at = Utc
        .with_ymd_and_hms(2024, 12, 31, 0, 0, 0)
        .single()
        .unwrap_or_default();
    svc.apply_policy(&loaded.policy, None, None, at)
        .unwrap_or_else(|e| panic!("{e}"));
    path
}

type EventRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

fn events(path: &Path) -> Vec<EventRow> {
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut stmt = conn
        .prepare("SELECT seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash FROM events ORDER BY seq")
        .unwrap_or_else(|e| panic!("{e}"));
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    })
    .and_then(|rows| rows.collect())
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The floor: the same rows into a plain table, one transaction.
fn raw_insert(path: &Path, rows: &[EventRow]) {
    let _ = std::fs::remove_file(path);
    let mut conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE events (seq INTEGER PRIMARY KEY, ticket TEXT, at TEXT NOT NULL, kind TEXT NOT NULL,
           payload TEXT NOT NULL, fingerprint TEXT NOT NULL, rule TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let tx = conn.transaction().unwrap_or_else(|e| panic!("{e}"));
    {
        let mut ins = tx
            .prepare("INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
            .unwrap_or_else(|e| panic!("{e}"));
        for r in rows {
            ins.execute(rusqlite::params![
                r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    tx.commit().unwrap_or_else(|e| panic!("{e}"));
}

fn bench(c: &mut Criterion) {
    let rows: usize = std::env::var("STEWARD_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("register.csv");
    std::fs::write(&file, register(rows)).unwrap_or_else(|e| panic!("{e}"));
    // One import up front, for the rows the floor inserts.
    let sample = fresh(dir.path(), 0);
    {
        let reg = open(&file);
        let mut svc = Service::open(&sample).unwrap_or_else(|e| panic!("{e}"));
        let opts = db::Options {
            now: now(),
            batch: 20_000,
            max_batches: None,
        };
        db::import(&mut svc, &reg, 0, &opts).unwrap_or_else(|e| panic!("{e}"));
    }
    let logged = events(&sample);
    eprintln!(
        "import bench: {rows} register rows -> {} event rows",
        logged.len()
    );

    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    let mut n = 0;
    group.bench_function(format!("register_{rows}_rows_into_db"), |b| {
        b.iter(|| {
            n += 1;
            let path = fresh(dir.path(), n);
            let reg = open(&file);
            let mut svc = Service::open(&path).unwrap_or_else(|e| panic!("{e}"));
            let opts = db::Options {
                now: now(),
                batch: 20_000,
                max_batches: None,
            };
            let out = db::import(&mut svc, &reg, 0, &opts).unwrap_or_else(|e| panic!("{e}"));
            drop(svc);
            let _ = std::fs::remove_file(&path);
            black_box(out)
        })
    });
    let raw = dir.path().join("raw.db");
    group.bench_function(
        format!("raw_sqlite_insert_of_the_same_{}_event_rows", logged.len()),
        |b| b.iter(|| raw_insert(&raw, black_box(&logged))),
    );
    let policies = vec![compiled("policies/vk-shanghai")];
    group.bench_function(format!("register_{rows}_rows_into_replay"), |b| {
        b.iter(|| {
            let reg = open(&file);
            let records = reg.records().unwrap_or_else(|e| panic!("{e}"));
            let opts = Options {
                threads: 1,
                ..Options::default()
            };
            black_box(replay::replay(
                "bench",
                records.map(Ok),
                &policies,
                &opts,
                &|_| {},
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
