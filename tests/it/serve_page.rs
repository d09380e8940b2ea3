#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The page at `/`, loaded by headless Chromium from a live server on
//! loopback: the token given once in the URL becomes a cookie, the DOM holds
//! the tickets due soon under their estate and department, the breached ones,
//! and a ticket's timeline with the rule of each event. Skipped, with a note,
//! when `/usr/bin/chromium` is not installed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve_support::*;
use steward::serve::ManualClock;

const CHROMIUM: &str = "/usr/bin/chromium";

fn dump_dom(url: &str) -> String {
    let profile = tempfile::TempDir::new().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "chromium timed out"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_due_breached_and_a_timeline() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "a", &emergency("E1", "riverside"))
            .await
            .status,
        201
    );
    clock.set(at("2026-07-06T09:40:00+08:00"));
    let due = || {
        steward::service::Service::open_read_only(&db)
            .unwrap()
            .ticket("E1")
            .unwrap()
            .0
            .breaches
    };
    let start_wait = Instant::now();
    while due() == 0 {
        assert!(start_wait.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let quiet = serde_json::json!({"id": "Q1", "estate": "riverside", "kind": "complaint", "text": "电梯运行噪音大"}).to_string();
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "b", &quiet).await.status,
        201
    );

    let base = s.base.clone();
    let token = tok.desk.clone();
    let (home, ticket) = tokio::task::spawn_blocking(move || {
        (
            dump_dom(&format!("{base}/?token={token}&hours=48")),
            dump_dom(&format!("{base}/tickets/E1?token={token}")),
        )
    })
    .await
    .unwrap();
    assert!(
        home.contains("signed in as <b>desk-riverside</b>"),
        "{home}"
    );
    assert!(home.contains("Due in the next 48 hours"), "{home}");
    // Q1 is due within 48 hours, under its estate and department.
    let due_part = &home[home.find("id=\"due\"").unwrap()..home.find("id=\"breached\"").unwrap()];
    assert!(due_part.contains("riverside · "), "{due_part}");
    assert!(due_part.contains("href=\"/tickets/Q1\""), "{due_part}");
    let breached_part = &home[home.find("id=\"breached\"").unwrap()..];
    assert!(
        breached_part.contains("class=\"breached\""),
        "{breached_part}"
    );
    assert!(
        breached_part.contains("href=\"/tickets/E1\""),
        "{breached_part}"
    );
    assert!(
        !breached_part.contains("href=\"/tickets/Q1\""),
        "{breached_part}"
    );

    assert!(ticket.contains("<h1>E1</h1>"), "{ticket}");
    let timeline = &ticket[ticket.find("id=\"timeline\"").unwrap()..];
    assert!(timeline.contains("<code>L2.emergency</code>"), "{timeline}");
    assert!(timeline.contains("BREACHED"), "{timeline}");
    let fp = steward::service::Service::open_read_only(&db)
        .unwrap()
        .ticket("E1")
        .unwrap()
        .0
        .fingerprint;
    assert!(
        timeline.contains(&format!("<code>{}</code>", &fp[..12])),
        "{timeline}"
    );

    // Without a token: the sign-in form, nothing of the tickets.
    let r = reply(s.http.get(format!("{}/", s.base)).send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    assert!(r.json.as_str().unwrap().contains("API token"));
    s.stop().await;
}
