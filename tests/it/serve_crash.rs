#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward serve` as a process, killed with SIGKILL under load and started
//! again: every request that got a 2xx is in the log (and a retry of it with
//! its key is answered from the record), `audit verify` passes (the outbox
//! included: no notification lost), no timer fired twice, and SIGTERM then
//! stops the server cleanly.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::serve_support::*;
use serde_json::Value;
use steward::service::Service;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(db: &std::path::Path, port: u16, now: &str) -> Child {
    Command::new(BIN)
        .args([
            "--db",
            db.to_str().unwrap(),
            "--now",
            now,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn ready(http: &reqwest::Client, base: &str) {
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    // Tickets whose timers are overdue when the server starts: it catches up
    // while the load runs.
    {
        let mut svc = Service::open(&db).unwrap();
        for i in 0..20 {
            let intake = serde_json::from_str(&emergency(&format!("P{i}"), "riverside")).unwrap();
            svc.open_ticket(intake, t0()).unwrap();
        }
    }
    let now = "2026-07-06T10:40:00+08:00";
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut child = spawn(&db, port, now);
    ready(&http, &base).await;

    // 16 clients open and respond as fast as they can; the server is killed under them.
    // The kill comes after 1.5 s and 200 answered requests, not after a fixed
    // time alone: on a loaded machine 1.5 s can pass before the first answer.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..16 {
        let (http, base, token) = (http.clone(), base.clone(), tok.desk.clone());
        let answered = Arc::clone(&answered);
        clients.push(tokio::spawn(async move {
            let mut acked: Vec<(String, String, String, Value)> = Vec::new();
            for n in 0.. {
                let key = format!("c{c}-n{n}");
                let body = serde_json::json!({"estate": "riverside", "kind": "repair", "text": "客厅灯具不亮"}).to_string();
                let Ok(r) = http.post(format!("{base}/v1/tickets")).bearer_auth(&token).header("idempotency-key", &key).body(body.clone()).send().await else { break };
                if r.status() != 201 { break }
                let Ok(v) = r.json::<Value>().await else { break };
                let id = v["ticket"].as_str().unwrap().to_owned();
                acked.push((key.clone(), "/v1/tickets".into(), body, v));
                answered.fetch_add(1, Ordering::Relaxed);
                let key = format!("{key}-respond");
                let path = format!("/v1/tickets/{id}/respond");
                let Ok(r) = http.post(format!("{base}{path}")).bearer_auth(&token).header("idempotency-key", &key).body("{}").send().await else { break };
                if r.status() != 200 { break }
                let Ok(v) = r.json::<Value>().await else { break };
                acked.push((key, path, "{}".into(), v));
                answered.fetch_add(1, Ordering::Relaxed);
            }
            acked
        }));
    }
    let give_up = Instant::now() + Duration::from_secs(60);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    while answered.load(Ordering::Relaxed) < 200 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.unwrap());
    }
    assert!(acked.len() > 20, "too little load: {}", acked.len());
    eprintln!("{} commands acknowledged before the kill", acked.len());

    // Every acknowledged command is in the log, named by its key.
    let keys: HashMap<String, Value> = {
        let svc = Service::open(&db).unwrap();
        let mut keys = HashMap::new();
        svc.store()
            .read(|tx| {
                tx.for_each_event(|e| {
                    if e.kind == "request" {
                        let v: Value = serde_json::from_str(&e.payload).unwrap();
                        // The scheduler's firings are requests without a key.
                        if let Some(k) = v["idempotency_key"].as_str() {
                            keys.insert(k.to_owned(), v);
                        }
                    }
                    Ok(())
                })
            })
            .unwrap();
        keys
    };
    for (key, _, _, answer) in &acked {
        let logged = keys
            .get(key)
            .unwrap_or_else(|| panic!("acknowledged {key} is not in the log"));
        assert_eq!(logged["ticket"], answer["ticket"]);
    }

    // Started again: a retry of an acknowledged request is answered from its record.
    let mut child = spawn(&db, port, now);
    ready(&http, &base).await;
    for (key, path, body, answer) in acked.iter().step_by(7) {
        let r = http
            .post(format!("{base}{path}"))
            .bearer_auth(&tok.desk)
            .header("idempotency-key", key)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("idempotent-replayed").is_some(), "{key}");
        assert_eq!(&r.json::<Value>().await.unwrap(), answer, "{key}");
    }
    // SIGTERM: a graceful stop.
    // SAFETY: sending a signal to our own child process by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");

    // The log proves itself, outbox included, and no timer fired twice.
    let out = Command::new(BIN)
        .args(["--db", db.to_str().unwrap(), "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let svc = Service::open_read_only(&db).unwrap();
    for i in 0..20 {
        let (_, decisions) = svc.ticket(&format!("P{i}")).unwrap();
        let mut fired: Vec<String> = decisions
            .iter()
            .filter(|d| matches!(d.fact.kind(), "warned" | "breached"))
            .map(|d| format!("{:?}", d.fact))
            .collect();
        assert!(fired.len() >= 2, "P{i}: the overdue timers did not fire");
        let n = fired.len();
        fired.sort();
        fired.dedup();
        assert_eq!(fired.len(), n, "P{i}: a timer fired twice");
    }
}
