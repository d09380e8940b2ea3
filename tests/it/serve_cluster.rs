#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Three `steward serve` processes on one PostgreSQL database (only with
//! STEWARD_TEST_POSTGRES: several servers need a database server), with 10,000
//! timers due when they start and one of them killed with SIGKILL while they
//! fire: every timer fires exactly once (each ticket's log equals what one
//! `steward tick` on an SQLite copy of the same tickets writes), none is left
//! due, and `audit verify` is clean.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use steward::engine::OpenTicket;
use steward::policy::embedded;
use steward::service::Service;
use steward::store::StoreError;

use crate::serve_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_steward");
const TICKETS: usize = 2_500;

fn spawn(db: &Path, now: &str) -> Child {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["--now", now, "serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn open_all(svc: &mut Service) {
    for chunk in (0..TICKETS).collect::<Vec<_>>().chunks(500) {
        svc.batch(|b| {
            for i in chunk {
                let intake: OpenTicket =
                    serde_json::from_str(&emergency(&format!("K{i:05}"), "riverside")).unwrap();
                b.open_ticket(intake, t0())?;
            }
            Ok(())
        })
        .unwrap();
    }
}

/// `(ticket, kind, rule)` of every ticket event, by ticket then log order.
fn history(db: &Path) -> Vec<(String, String, Option<String>)> {
    let svc = Service::open_read_only(db).unwrap();
    let mut out = Vec::new();
    svc.store()
        .read(|tx| {
            tx.scan_tickets(|r| {
                for e in r.events {
                    out.push((r.id.clone(), e.kind, e.rule));
                }
                Ok::<_, StoreError>(())
            })
        })
        .unwrap();
    out
}

fn due_timers(db: &Path, now: &str) -> i64 {
    crate::backend::query_i64(
        db,
        &format!("SELECT count(*) FROM timers WHERE due_at IS NOT NULL AND due_at <= '{now}'"),
    )
}

#[test]
fn three_servers_fire_ten_thousand_due_timers_exactly_once() {
    if !crate::backend::is_pg() {
        return; // one SQLite file has one machine's writers; see store_backends for those
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = database(dir.path(), t0());
    let reference = dir.path().join("reference.db");
    let started = Instant::now();
    {
        let mut svc = Service::open(&reference).unwrap();
        let company = embedded::load("vk-shanghai").ok().unwrap();
        svc.apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, t0())
            .unwrap();
        open_all(&mut svc);
        open_all(&mut Service::open(&db).unwrap());
    }
    // Three hours on: four timers of every emergency are due (10,000 in all).
    let now = "2026-07-06T04:00:00Z";
    assert_eq!(due_timers(&db, now), 10_000);
    eprintln!("{TICKETS} tickets opened twice in {:?}", started.elapsed());

    let fire = Instant::now();
    let mut servers: Vec<Child> = (0..3).map(|_| spawn(&db, now)).collect();
    std::thread::sleep(Duration::from_millis(1500));
    // One dies mid-work; what it held is rolled back and done by the others.
    servers[0].kill().unwrap();
    servers[0].wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while due_timers(&db, now) > 0 {
        assert!(
            Instant::now() < deadline,
            "timers still due after 10 minutes"
        );
        for s in &mut servers[1..] {
            assert!(s.try_wait().unwrap().is_none(), "a server stopped");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let fired_in = fire.elapsed();
    // Let a server that is still inside its last transaction finish it.
    std::thread::sleep(Duration::from_millis(500));
    for s in &mut servers[1..] {
        s.kill().unwrap();
        s.wait().unwrap();
    }
    eprintln!("10000 timers fired by three servers in {fired_in:?}");

    Service::open(&reference)
        .unwrap()
        .tick(chrono::DateTime::parse_from_rfc3339(now).unwrap().into())
        .unwrap();
    let (got, want) = (history(&db), history(&reference));
    assert_eq!(got.len(), want.len(), "events: servers vs one tick");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!("first difference: {:?} vs {:?}", got[i], want[i]);
    }
    let v = Service::open_read_only(&db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);
}
