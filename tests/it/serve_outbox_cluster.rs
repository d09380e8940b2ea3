#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Several `steward serve` processes with a deployment file each, on one
//! PostgreSQL database (only with STEWARD_TEST_POSTGRES), delivering to one
//! local webhook receiver that counts what it acknowledged by delivery id:
//! every outbox entry is delivered exactly once, and the deliveries a server
//! held when it was killed (SIGKILL, mid-send) are delivered by another once
//! their leases lapse.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use steward::engine::OpenTicket;
use steward::service::Service;

use crate::backend::query_i64;
use crate::serve_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_steward");
/// When the tickets' timers have fired: six notifications per emergency ticket.
const NOW: &str = "2026-07-06T04:00:00Z";
const PER_TICKET: i64 = 6;

/// The webhook receiver: answers 200 and counts by `X-Steward-Delivery` while
/// `answer` is set; otherwise takes the request and never answers.
#[derive(Default)]
struct Receiver {
    answer: AtomicBool,
    acked: Mutex<HashMap<String, usize>>,
    first_ack: Mutex<Option<Instant>>,
    hung: AtomicUsize,
    first_hang: Mutex<Option<Instant>>,
}

fn receiver(r: Arc<Receiver>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                post(move |h: HeaderMap| async move {
                    let id = h["x-steward-delivery"].to_str().unwrap().to_owned();
                    if r.answer.load(Ordering::SeqCst) {
                        r.first_ack.lock().unwrap().get_or_insert_with(Instant::now);
                        *r.acked.lock().unwrap().entry(id).or_default() += 1;
                        return "ok";
                    }
                    r.first_hang
                        .lock()
                        .unwrap()
                        .get_or_insert_with(Instant::now);
                    r.hung.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                    "never"
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}/hook", rx.recv().unwrap())
}

/// A database with `tickets` emergencies whose notifications up to [`NOW`]
/// are logged (unrouted), and a deployment file sending everything to `hook`.
fn setup(dir: &Path, tickets: usize, hook: &str, timeout: u64, lease: u64) -> (PathBuf, PathBuf) {
    let (db, _) = database(dir, t0());
    let mut svc = Service::open(&db).unwrap();
    svc.batch(|b| {
        for i in 0..tickets {
            let intake: OpenTicket =
                serde_json::from_str(&emergency(&format!("N{i:04}"), "riverside")).unwrap();
            b.open_ticket(intake, t0())?;
        }
        Ok(())
    })
    .unwrap();
    svc.tick(at(NOW)).unwrap();
    drop(svc);
    let deployment = dir.join("deploy.toml");
    std::fs::write(
        &deployment,
        format!(
            "[dispatch]\ntimeout_seconds = {timeout}\nlease_seconds = {lease}\n\n\
             [channels.hook]\ntype = \"webhook\"\nurl = \"{hook}\"\nsecret = \"s\"\n\n\
             [[route]]\nto = \"*\"\nchannels = [\"hook\"]\n"
        ),
    )
    .unwrap();
    (db, deployment)
}

/// The servers' shared time: [`NOW`] when the test first started one, then
/// running at the real rate, so that servers started later agree on leases.
struct Cluster {
    origin: Instant,
    db: PathBuf,
    deployment: PathBuf,
    logs: PathBuf,
    servers: Vec<Child>,
}

impl Cluster {
    fn spawn(&mut self) {
        let now = at(NOW) + chrono::Duration::seconds(self.origin.elapsed().as_secs() as i64);
        let log = self.logs.join(format!("server-{}.log", self.servers.len()));
        let child = Command::new(BIN)
            .arg("--db")
            .arg(&self.db)
            .args([
                "--now",
                &now.to_rfc3339(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--deployment")
            .arg(&self.deployment)
            .env("RUST_LOG", "info")
            .env_remove("STEWARD_DB")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        self.servers.push(child);
    }

    /// How many deliveries each server's log says it made.
    fn delivered_per_server(&self) -> Vec<usize> {
        (0..self.servers.len())
            .map(|i| {
                let log = std::fs::read_to_string(self.logs.join(format!("server-{i}.log")))
                    .unwrap_or_default();
                log.lines()
                    .filter(|l| l.contains("delivered") && l.contains("delivery="))
                    .count()
            })
            .collect()
    }

    fn wait_delivered(&mut self, want: i64, alive: &[usize]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while delivered(&self.db) < want {
            assert!(
                Instant::now() < deadline,
                "{} of {want} delivered after 2 minutes",
                delivered(&self.db)
            );
            for &i in alive {
                assert!(
                    self.servers[i].try_wait().unwrap().is_none(),
                    "server {i} stopped"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill(&mut self, i: usize) {
        let _ = self.servers[i].kill();
        let _ = self.servers[i].wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

fn delivered(db: &Path) -> i64 {
    query_i64(
        db,
        "SELECT count(*) FROM deliveries WHERE state = 'delivered'",
    )
}

/// Every delivery id acknowledged exactly once, and as many as `want`.
fn assert_each_once(r: &Receiver, want: i64) {
    let acked = r.acked.lock().unwrap();
    let twice: Vec<_> = acked.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(acked.len() as i64, want, "distinct deliveries acknowledged");
}

#[test]
fn three_servers_deliver_every_notification_exactly_once() {
    if !crate::backend::is_pg() {
        return; // several servers need one database server
    }
    let r = Arc::new(Receiver::default());
    r.answer.store(true, Ordering::SeqCst);
    let hook = receiver(r.clone());
    let dir = tempfile::tempdir().unwrap();
    let tickets = 100;
    let (db, deployment) = setup(dir.path(), tickets, &hook, 5, 30);
    let want = tickets as i64 * PER_TICKET;
    assert_eq!(query_i64(&db, "SELECT count(*) FROM outbox"), want);
    let mut c = Cluster {
        origin: Instant::now(),
        db,
        deployment,
        logs: dir.path().to_path_buf(),
        servers: Vec::new(),
    };
    for _ in 0..3 {
        c.spawn();
    }
    c.wait_delivered(want, &[0, 1, 2]);
    // Let a server inside its last round finish it: nothing more may arrive.
    std::thread::sleep(Duration::from_millis(1500));
    let per_server = c.delivered_per_server();
    eprintln!(
        "{want} notifications delivered by three servers in {:?}, per server {per_server:?}",
        c.origin.elapsed()
    );
    assert_each_once(&r, want);
    assert_eq!(per_server.iter().sum::<usize>() as i64, want);
    assert_eq!(
        query_i64(
            &c.db,
            "SELECT count(*) FROM deliveries WHERE attempts <> 1 OR claimed_by IS NOT NULL \
             OR lease_until IS NOT NULL"
        ),
        0,
        "one attempt each, every lease ended"
    );
    let v = Service::open_read_only(&c.db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);
}

#[test]
fn deliveries_held_by_a_killed_server_go_out_from_another_after_the_lease() {
    if !crate::backend::is_pg() {
        return;
    }
    let r = Arc::new(Receiver::default());
    let hook = receiver(r.clone());
    let dir = tempfile::tempdir().unwrap();
    let tickets = 20;
    let lease = 8;
    let (db, deployment) = setup(dir.path(), tickets, &hook, 5, lease);
    let want = tickets as i64 * PER_TICKET;
    let mut c = Cluster {
        origin: Instant::now(),
        db,
        deployment,
        logs: dir.path().to_path_buf(),
        servers: Vec::new(),
    };
    // One server claims everything and sends into a receiver that never answers.
    c.spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    while (r.hung.load(Ordering::SeqCst) as i64) < want {
        assert!(Instant::now() < deadline, "the first server sent nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Killed mid-send: well inside its 5 s attempt timeout, nothing recorded.
    c.kill(0);
    let claimed_at = r.first_hang.lock().unwrap().unwrap();
    assert!(claimed_at.elapsed() < Duration::from_secs(5));
    assert_eq!(
        query_i64(
            &c.db,
            "SELECT count(*) FROM deliveries WHERE state = 'pending' AND attempts = 0 \
             AND claimed_by IS NOT NULL AND lease_until IS NOT NULL"
        ),
        want,
        "the dead server's leases are in the database"
    );
    assert_eq!(
        query_i64(&c.db, "SELECT count(DISTINCT claimed_by) FROM deliveries"),
        1
    );
    // Two more servers, and a receiver that answers now.
    r.answer.store(true, Ordering::SeqCst);
    c.spawn();
    c.spawn();
    c.wait_delivered(want, &[1, 2]);
    let first_ack = r.first_ack.lock().unwrap().unwrap();
    // Nobody took them while the lease held (the servers' clocks tick in
    // whole seconds: a second of slack).
    assert!(
        first_ack - claimed_at >= Duration::from_secs(lease - 1),
        "delivered {:?} after the claim, lease {lease} s",
        first_ack - claimed_at
    );
    std::thread::sleep(Duration::from_millis(1500));
    let per_server = c.delivered_per_server();
    eprintln!(
        "{want} deliveries held by a killed server: first delivered {:?} after its claim, per server {per_server:?}",
        first_ack - claimed_at
    );
    assert_each_once(&r, want);
    assert_eq!(per_server[0], 0);
    assert_eq!(
        query_i64(
            &c.db,
            "SELECT count(*) FROM deliveries WHERE state <> 'delivered' OR attempts <> 1 \
             OR claimed_by IS NOT NULL"
        ),
        0,
        "the killed attempt was never recorded: one attempt each, by the survivors"
    );
    let v = Service::open_read_only(&c.db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);
}
