#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The server's own clock work, on loopback with a manual clock: timers fire
//! at their minute with the outcomes `steward tick` gives, a restart after
//! downtime catches up in order, and notifications reach local receivers
//! (healthy, failing then healthy, hanging; webhook, WeCom, DingTalk, SMTP)
//! with retries, backoff and dead letters, none holding up the others.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::serve_support::*;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;
use steward::engine::{Decision, OpenTicket};
use steward::outbox::Deployment;
use steward::outbox::channels::signature;
use steward::serve::ManualClock;
use steward::service::Service;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn decisions(db: &std::path::Path, id: &str) -> Vec<Decision> {
    Service::open_read_only(db).unwrap().ticket(id).unwrap().1
}

async fn until<F: Fn() -> bool>(what: &str, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn intake(id: &str) -> OpenTicket {
    serde_json::from_str(&emergency(id, "riverside")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_at_their_minute_as_tick_would() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "o", &emergency("T1", "riverside"))
            .await
            .status,
        201
    );

    // The same ticket on the CLI's path: open, then `tick` at each minute.
    let mut reference = Service::in_memory().unwrap();
    let company = steward::policy::embedded::load("vk-shanghai").ok().unwrap();
    reference
        .apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, t0())
        .unwrap();
    reference.open_ticket(intake("T1"), t0()).unwrap();

    let kinds = |db: &std::path::Path| {
        decisions(db, "T1")
            .iter()
            .map(|d| d.fact.kind())
            .collect::<Vec<_>>()
    };
    // 09:14: the warning (at 09:15) is not due yet.
    clock.set(at("2026-07-06T09:14:00+08:00"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!kinds(&db).contains(&"warned"));
    // 09:15: it fires, at 09:15.
    clock.set(at("2026-07-06T09:15:00+08:00"));
    until("the warning", || kinds(&db).contains(&"warned")).await;
    reference.tick(at("2026-07-06T09:15:00+08:00")).unwrap();
    // 09:30: the breach and the escalation.
    clock.set(at("2026-07-06T09:30:00+08:00"));
    until("the breach", || kinds(&db).contains(&"breached")).await;
    reference.tick(at("2026-07-06T09:30:00+08:00")).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(decisions(&db, "T1"), reference.ticket("T1").unwrap().1);
    let warned = decisions(&db, "T1")
        .into_iter()
        .find(|d| d.fact.kind() == "warned")
        .unwrap();
    assert_eq!(warned.at, at("2026-07-06T09:15:00+08:00"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_downtime_catches_up_in_order() {
    if crate::backend::is_pg() {
        // Its reference is `steward tick` on a copy of the database file.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    for (i, id) in ["T1", "T2", "T3"].iter().enumerate() {
        clock.set(t0() + chrono::Duration::minutes(i as i64 * 10));
        let r = s
            .post(&tok.desk, "/v1/tickets", id, &emergency(id, "riverside"))
            .await;
        assert_eq!(r.status, 201);
    }
    s.stop().await;

    // Down for a day and a half. The reference is `steward tick` on a copy.
    let later = t0() + chrono::Duration::hours(36);
    let copy = dir.path().join("copy.db");
    // The server has stopped, so the file and its write-ahead log together are
    // the whole database (the last connection need not have checkpointed).
    std::fs::copy(&db, &copy).unwrap();
    let wal = dir.path().join("steward.db-wal");
    if wal.exists() {
        std::fs::copy(&wal, dir.path().join("copy.db-wal")).unwrap();
    }
    Service::open(&copy).unwrap().tick(later).unwrap();

    clock.set(later);
    let mut s = start(&db, &clock, None).await;
    let due_now = || {
        Service::open_read_only(&db)
            .unwrap()
            .store()
            .read(|tx| tx.next_due())
            .unwrap()
            .is_some_and(|d| d <= later)
    };
    until("the catch-up", || !due_now()).await;
    for id in ["T1", "T2", "T3"] {
        let got = decisions(&db, id);
        assert_eq!(got, decisions(&copy, id), "{id}");
        // In order, each at its own time, none twice.
        assert!(got.windows(2).all(|w| w[0].at <= w[1].at), "{id}");
        let mut breaches: Vec<_> = got
            .iter()
            .filter(|d| d.fact.kind() == "breached")
            .map(|d| format!("{:?}", d.fact))
            .collect();
        let n = breaches.len();
        breaches.dedup();
        assert_eq!(breaches.len(), n, "{id}: a breach fired twice");
        assert!(n >= 2, "{id}: {n}");
    }
    let v = Service::open_read_only(&db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);
    s.stop().await;
}

#[derive(Default)]
struct Received {
    healthy: Vec<(HeaderMap, String, Instant)>,
    flaky_calls: std::collections::HashMap<String, usize>,
    hang_calls: usize,
    wecom: Vec<Value>,
    dingtalk: Vec<(String, Value)>,
    mail: Vec<String>,
}

async fn receivers(got: Arc<Mutex<Received>>) -> String {
    let g1 = got.clone();
    let g2 = got.clone();
    let g3 = got.clone();
    let g4 = got.clone();
    let g5 = got.clone();
    let app = axum::Router::new()
        .route(
            "/healthy",
            post(move |h: HeaderMap, body: String| async move {
                g1.lock().unwrap().healthy.push((h, body, Instant::now()));
                "ok"
            }),
        )
        .route(
            "/flaky",
            post(move |h: HeaderMap| async move {
                let mut g = g2.lock().unwrap();
                let id = h["x-steward-delivery"].to_str().unwrap().to_owned();
                let n = g.flaky_calls.entry(id).or_default();
                *n += 1;
                if *n <= 2 {
                    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down")
                } else {
                    (axum::http::StatusCode::OK, "ok")
                }
            }),
        )
        .route(
            "/hang",
            post(move || async move {
                g3.lock().unwrap().hang_calls += 1;
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/wecom",
            post(move |body: String| async move {
                g4.lock()
                    .unwrap()
                    .wecom
                    .push(serde_json::from_str(&body).unwrap());
                r#"{"errcode":0,"errmsg":"ok"}"#
            }),
        )
        .route(
            "/dingtalk",
            post(move |RawQuery(q): RawQuery, body: String| async move {
                g5.lock()
                    .unwrap()
                    .dingtalk
                    .push((q.unwrap_or_default(), serde_json::from_str(&body).unwrap()));
                r#"{"errcode":0,"errmsg":"ok"}"#
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Just enough SMTP to take a message: greeting, EHLO, MAIL, RCPT, DATA, QUIT.
async fn smtp(got: Arc<Mutex<Received>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let got = got.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 localhost ESMTP test\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            got.lock().unwrap().mail.push(data.take().unwrap());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 localhost\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(answer).await.unwrap();
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_delivered_retried_and_dead_lettered() {
    let got = Arc::new(Mutex::new(Received::default()));
    let base = receivers(got.clone()).await;
    let smtp_port = smtp(got.clone()).await;
    let deployment = Deployment::parse(&format!(
        r#"
[dispatch]
max_attempts = 3
base_delay_seconds = 1
max_delay_seconds = 2
timeout_seconds = 2

[channels.healthy]
type = "webhook"
url = "{base}/healthy"
secret = "s3cret"
[channels.flaky]
type = "webhook"
url = "{base}/flaky"
secret = "s3cret"
[channels.hang]
type = "webhook"
url = "{base}/hang"
secret = "s3cret"
[channels.wecom]
type = "wecom"
url = "{base}/wecom?key=K"
[channels.dingtalk]
type = "dingtalk"
url = "{base}/dingtalk?access_token=T"
secret = "SECabc"
[channels.mail]
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "steward@example.com"
to = ["engineering@example.com"]

[[route]]
estate = "riverside"
to = "engineering"
channels = ["healthy", "flaky", "hang", "wecom", "dingtalk", "mail"]
"#
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, Some(deployment)).await;
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "o", &emergency("T1", "riverside"))
            .await
            .status,
        201
    );
    // 09:30: the emergency response limit breaches and escalates, notifying engineering.
    let breach = Instant::now();
    clock.set(at("2026-07-06T09:30:00+08:00"));
    until("the healthy delivery", || {
        !got.lock().unwrap().healthy.is_empty()
    })
    .await;
    // The hanging receiver did not hold it up (its attempt takes the 2 s timeout).
    assert!(got.lock().unwrap().healthy[0].2 - breach < Duration::from_millis(1900));
    // Let the retries come due on the server's clock.
    let done = || {
        let svc = Service::open_read_only(&db).unwrap();
        let rows = svc
            .store()
            .read(|tx| tx.outbox(Some("T1"), 100, None))
            .unwrap();
        rows.iter()
            .all(|r| r.deliveries.iter().all(|d| d.state != "pending"))
            && !rows.is_empty()
    };
    let start_wait = Instant::now();
    while !done() {
        assert!(
            start_wait.elapsed() < Duration::from_secs(30),
            "deliveries did not settle"
        );
        clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = s.get(&tok.center, "/v1/outbox?ticket=T1").await;
    assert_eq!(r.status, 200);
    let entry = r.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["recipient"] == "engineering")
        .unwrap()
        .clone();
    let state = |ch: &str| {
        let d = entry["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["channel"] == ch)
            .unwrap()
            .clone();
        (
            d["state"].as_str().unwrap().to_owned(),
            d["attempts"].as_i64().unwrap(),
            d["last_error"].clone(),
        )
    };
    assert_eq!(state("healthy"), ("delivered".into(), 1, Value::Null));
    assert_eq!(state("wecom").0, "delivered");
    assert_eq!(state("dingtalk").0, "delivered");
    assert_eq!(state("mail").0, "delivered");
    assert_eq!(state("flaky").0, "delivered");
    assert_eq!(state("flaky").1, 3);
    let (hang, attempts, error) = state("hang");
    assert_eq!((hang.as_str(), attempts), ("dead", 3));
    assert_eq!(error, "timed out");
    assert_eq!(entry["state"], "dead");

    {
        let g = got.lock().unwrap();
        // The webhook: JSON, signed over timestamp.body, with the delivery id.
        let seq = entry["seq"].as_i64().unwrap();
        let (h, body, _) = g
            .healthy
            .iter()
            .find(|(h, _, _)| {
                h["x-steward-delivery"].to_str().unwrap() == format!("{seq}-engineering-healthy")
            })
            .unwrap();
        let ts: i64 = h["x-steward-timestamp"].to_str().unwrap().parse().unwrap();
        assert_eq!(
            h["x-steward-signature"].to_str().unwrap(),
            signature("s3cret", ts, body.as_bytes())
        );
        let m: Value = serde_json::from_str(body).unwrap();
        assert_eq!(m["ticket"], "T1");
        assert_eq!(m["seq"], seq);
        assert!(m["text"].as_str().unwrap().contains("T1"));
        // The robots' text messages, DingTalk's signed.
        assert_eq!(g.wecom[0]["msgtype"], "text");
        assert!(
            g.wecom[0]["text"]["content"]
                .as_str()
                .unwrap()
                .contains("T1 · riverside → engineering")
        );
        let (q, dt) = &g.dingtalk[0];
        assert!(
            q.starts_with("access_token=T&timestamp=") && q.contains("&sign="),
            "{q}"
        );
        assert_eq!(dt["msgtype"], "text");
        assert!(
            g.mail
                .iter()
                .any(|m| m.contains("Subject: [steward] T1 riverside: escalated")),
            "{:?}",
            g.mail
        );
        assert!(
            g.mail.iter().all(|m| m.contains("ticket: T1")),
            "{:?}",
            g.mail
        );
        // Each notification failed twice there, then went through: one delivery id per notification.
        assert!(
            g.flaky_calls.values().all(|n| *n == 3),
            "{:?}",
            g.flaky_calls
        );
        // Two notifications, three attempts each: every attempt reached the receiver
        // (or timed out on the way).
        assert!((1..=6).contains(&g.hang_calls), "{}", g.hang_calls);
    }
    // `audit verify` rebuilds the outbox from the log.
    let v = Service::open_read_only(&db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);
    s.stop().await;
}

#[test]
fn audit_verify_rebuilds_the_outbox_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = database(dir.path(), t0());
    {
        // `steward tick` from cron fills the outbox as well: the trigger is in the schema.
        let mut svc = Service::open(&db).unwrap();
        svc.open_ticket(intake("T1"), t0()).unwrap();
        svc.tick(at("2026-07-06T09:31:00+08:00")).unwrap();
        let rows = svc.store().read(|tx| tx.outbox_rows()).unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(svc.verify().unwrap().ok);
    }
    crate::backend::exec(
        &db,
        "DELETE FROM outbox WHERE recipient = 'service_center';
         INSERT INTO outbox (seq, recipient, ticket, kind, at) VALUES (2, 'leadership', 'T1', 'notified', '2026-07-06T01:00:00Z');
         UPDATE outbox SET ticket = 'T9' WHERE kind = 'notified' AND recipient = 'engineering';",
    );
    let v = Service::open_read_only(&db).unwrap().verify().unwrap();
    assert!(!v.ok);
    let problems: Vec<String> = v
        .findings
        .iter()
        .filter(|f| f.area == "outbox")
        .map(|f| format!("{}: {}", f.subject, f.problem))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("to service_center") && p.contains("missing from the outbox")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("event 2 to leadership") && p.contains("inserted by hand")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("is `T9`")),
        "{problems:?}"
    );
}
