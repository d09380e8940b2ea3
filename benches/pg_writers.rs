#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The ticket lifecycle on PostgreSQL with 1, 2, 4 and 8 concurrent writers,
//! each a `Service` of its own (one connection) working on an estate of its
//! own: open, classify, respond, resolve, two revisits, close, one command a
//! transaction, for `STEWARD_BENCH_SECS` seconds (default 10) per writer
//! count. The baseline, measured right after each in the same run: the very
//! event rows those commands wrote, inserted with the raw `postgres` client
//! into a table of the same shape by as many connections, one transaction per
//! command (its events). The baseline writes no projection (ticket rows,
//! timers), so it is a floor, not a like-for-like engine.
//!
//! Runs only with `STEWARD_BENCH_POSTGRES` set to an admin URL (a database is
//! created per writer count), e.g. the test cluster of `.ci/pg-cluster`:
//!
//! `STEWARD_BENCH_POSTGRES=postgres://steward@127.0.0.1:54329/postgres cargo bench --bench pg_writers`
//!
//! Figures: docs/postgres.md ("Measured").
//!
//! Every write transaction takes one advisory lock (see src/store/pg.rs), so
//! writers of different estates still take turns: expect little scaling.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use steward::engine::{Command, OpenTicket};
use steward::policy::model::Action;
use steward::service::Service;

const WRITERS: [usize; 4] = [1, 2, 4, 8];

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// One command of the lifecycle, `step` 0..7, of ticket `id` opened at `t0`.
fn command(svc: &mut Service, id: &str, estate: &str, step: usize, t0: DateTime<Utc>) {
    let at = |minutes| t0 + chrono::Duration::minutes(minutes);
    let revisit = |note: &str| Command::Revisit {
        ok: true,
        channel: "phone".into(),
        note: note.into(),
    };
    let done = match step {
        0 => svc.open_ticket(
            OpenTicket {
                id: id.into(),
                estate: estate.into(),
                kind: "repair".into(),
                text: "3号楼电梯困人".into(),
                ..OpenTicket::default()
            },
            at(0),
        ),
        1 => svc.execute(
            id,
            &Command::Classify {
                category: None,
                class: None,
                major: None,
            },
            at(1),
        ),
        2 => svc.execute(
            id,
            &Command::Act {
                action: Action::Respond,
                by: "王工".into(),
                note: String::new(),
            },
            at(5),
        ),
        3 => svc.execute(
            id,
            &Command::Resolve {
                note: "更换制动器".into(),
            },
            at(60),
        ),
        4 => svc.execute(id, &revisit("运行正常"), at(120)),
        5 => svc.execute(id, &revisit("二次回访正常"), at(180)),
        _ => svc.execute(id, &Command::Close { invalid: None }, at(181)),
    };
    done.unwrap();
}

/// Runs `writers` lifecycles at once for `secs`; returns commands done.
fn steward_run(url: &str, writers: usize, secs: u64) -> (usize, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (url, stop) = (url.to_owned(), stop.clone());
            std::thread::spawn(move || {
                let mut svc = Service::open(&PathBuf::from(url)).unwrap();
                let estate = format!("estate-{w}");
                let mut done = 0;
                for k in 0.. {
                    let id = format!("W{w}-{k:06}");
                    let t0 = support::start() + chrono::Duration::seconds(k);
                    for step in 0..7 {
                        command(&mut svc, &id, &estate, step, t0);
                        done += 1;
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                done
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let done = threads.into_iter().map(|t| t.join().unwrap()).sum();
    (done, began.elapsed())
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

/// The run's ticket events, one group per command (a ticket's events at one
/// time), each group in the list of the writer whose estate it is.
fn commands_of_run(url: &str, writers: usize) -> Vec<Vec<Vec<EventRow>>> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let rows = c
        .query(
            "SELECT seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash
             FROM events WHERE ticket IS NOT NULL ORDER BY seq",
            &[],
        )
        .unwrap();
    let mut groups: BTreeMap<(String, String), Vec<EventRow>> = BTreeMap::new();
    for r in &rows {
        let e: EventRow = (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
            r.get(8),
        );
        let key = (e.1.clone().unwrap_or_default(), e.2.clone());
        groups.entry(key).or_default().push(e);
    }
    let mut out = vec![Vec::new(); writers];
    for ((ticket, _), events) in groups {
        let w: usize = ticket[1..ticket.find('-').unwrap()].parse().unwrap();
        out[w].push(events);
    }
    out
}

/// Inserts each writer's commands' rows, one transaction per command, with
/// one connection per writer; returns the time taken.
fn raw_run(url: &str, per_writer: Vec<Vec<Vec<EventRow>>>) -> Duration {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(
        r#"CREATE TABLE raw_events (
            seq BIGINT PRIMARY KEY, ticket TEXT COLLATE "C", at TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL, payload TEXT NOT NULL,
            fingerprint TEXT COLLATE "C" NOT NULL, rule TEXT COLLATE "C",
            prev_hash TEXT COLLATE "C" NOT NULL, hash TEXT COLLATE "C" NOT NULL);
           CREATE INDEX raw_events_ticket ON raw_events (ticket, seq);"#,
    )
    .unwrap();
    let began = Instant::now();
    let threads: Vec<_> = per_writer
        .into_iter()
        .map(|commands| {
            let url = url.to_owned();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                let insert = c
                    .prepare(
                        "INSERT INTO raw_events
                         (seq, ticket, at, kind, payload, fingerprint, rule, prev_hash, hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .unwrap();
                for events in commands {
                    let mut t = c.transaction().unwrap();
                    for e in &events {
                        t.execute(
                            &insert,
                            &[&e.0, &e.1, &e.2, &e.3, &e.4, &e.5, &e.6, &e.7, &e.8],
                        )
                        .unwrap();
                    }
                    t.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    began.elapsed()
}

fn main() {
    let Some(admin) = std::env::var("STEWARD_BENCH_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        println!("pg_writers: skipped (set STEWARD_BENCH_POSTGRES to a PostgreSQL admin URL)");
        return;
    };
    let secs: u64 = std::env::var("STEWARD_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut admin_client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    println!("load average before: {}", load());
    println!(
        "{:>7}  {:>14}  {:>14}  {:>8}  {:>10}",
        "writers", "steward cmd/s", "raw cmd/s", "ratio", "vs 1 writer"
    );
    let mut one = None;
    for writers in WRITERS {
        let name = format!("steward_bench_{}_{writers}", std::process::id());
        admin_client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_dbname(&admin, &name);
        drop(support::service_with_policy(&PathBuf::from(&url)));
        let (done, took) = steward_run(&url, writers, secs);
        let steward_rate = done as f64 / took.as_secs_f64();
        let commands = commands_of_run(&url, writers);
        let total: usize = commands.iter().map(Vec::len).sum();
        assert_eq!(total, done, "one event group per command");
        let raw = raw_run(&url, commands);
        let raw_rate = total as f64 / raw.as_secs_f64();
        let base = *one.get_or_insert(steward_rate);
        println!(
            "{writers:>7}  {steward_rate:>14.0}  {raw_rate:>14.0}  {:>7.2}x  {:>9.2}x",
            steward_rate / raw_rate,
            steward_rate / base
        );
        admin_client
            .batch_execute(&format!("DROP DATABASE {name}"))
            .unwrap();
    }
    println!("load average after: {}", load());
}
