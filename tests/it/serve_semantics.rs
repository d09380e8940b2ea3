#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward serve` where it must agree with the CLI and keep its records
//! whole: a refused open gives its ticket number back, scheduler firings say
//! who fired them, `/metrics` is closed unless opened, every CLI ticket
//! command has its route, external events are those the policy declares, and
//! notifications logged before the outbox existed are held, never dropped and
//! never sent by surprise.

use std::time::Duration;

use clap::CommandFactory;
use serde_json::Value;
use steward::serve::{ManualClock, routes};
use steward::service::Service;

use crate::serve_support::*;

fn request_events(db: &std::path::Path) -> Vec<(i64, Value)> {
    let svc = Service::open_read_only(db).unwrap();
    let mut out = Vec::new();
    svc.store()
        .read(|tx| {
            tx.for_each_event(|e| {
                if e.kind == "request" {
                    out.push((e.seq, serde_json::from_str(&e.payload).unwrap()));
                }
                Ok(())
            })
        })
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_open_gives_its_ticket_number_back() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let before = events(&db);
    let refused = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "bad-kind",
            r#"{"estate":"riverside","kind":"pizza","text":"x"}"#,
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.json);
    assert_eq!(
        refused.json["detail"],
        "unknown kind `pizza`: expected inquiry, repair, complaint or suggestion"
    );
    assert_eq!(events(&db), before, "a refused open wrote nothing");
    let ok = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "good",
            r#"{"estate":"riverside","kind":"repair","text":"客厅灯具不亮"}"#,
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.json);
    assert_eq!(ok.json["ticket"], "T00001", "as the CLI numbers it");
    s.stop().await;

    // The CLI on the same database: a refused open, then the next number.
    let out = assert_cmd_steward(
        &db,
        &[
            "ticket",
            "open",
            "--estate",
            "riverside",
            "--kind",
            "pizza",
            "--text",
            "x",
        ],
    );
    assert!(!out.status.success());
    let out = assert_cmd_steward(
        &db,
        &[
            "ticket",
            "open",
            "--estate",
            "riverside",
            "--kind",
            "repair",
            "--text",
            "门禁坏了",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("T00002"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn assert_cmd_steward(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--db")
        .arg(db)
        .args(["--now", "2026-07-06T09:05:00+08:00"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_firings_record_who_fired_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let r = s
        .post(&tok.desk, "/v1/tickets", "o", &emergency("T1", "riverside"))
        .await;
    assert_eq!(r.status, 201);
    let opened = request_events(&db);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].1["actor"], "desk-riverside");

    clock.set(at("2026-07-06T09:15:00+08:00"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let fired = loop {
        let r = request_events(&db);
        if r.len() > 1 {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the warning never fired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (seq, by) = &fired[1];
    assert_eq!(by["actor"], "scheduler", "{by}");
    assert_eq!(by["role"], "scheduler", "{by}");
    assert_eq!(by["command"], "tick", "{by}");
    assert_eq!(by["tickets"], serde_json::json!(["T1"]), "{by}");
    assert_eq!(by["at"], "2026-07-06T01:15:00Z", "{by}");
    // Right after the facts it caused, in the same transaction.
    let svc = Service::open_read_only(&db).unwrap();
    let (_, timeline) = svc.timeline("T1").unwrap();
    let warned = timeline
        .iter()
        .find(|r| r.decision.fact.kind() == "warned")
        .unwrap();
    assert!(warned.seq < *seq);
    assert!(timeline.iter().all(|r| r.seq < *seq));
    assert!(svc.verify().unwrap().ok);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_token_unless_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let anonymous = s.get("", "/metrics").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.json);
    let desk = s.get(&tok.desk, "/metrics").await;
    assert_eq!(desk.status, 403, "{}", desk.json);
    assert_eq!(
        desk.json["detail"],
        "token `desk-riverside` (front-desk) may not read the metrics"
    );
    for t in [&tok.auditor, &tok.center, &tok.admin] {
        let m = s.get(t, "/metrics").await;
        assert_eq!(m.status, 200);
        assert!(m.json.as_str().unwrap().contains("steward_open_tickets 0"));
    }
    s.stop().await;

    let mut s = start_with(&db, &clock, None, |c| c.metrics_public = true).await;
    let m = s.get("", "/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.content_type.starts_with("text/plain"));
    s.stop().await;
}

#[test]
fn every_cli_ticket_command_has_a_route() {
    let cli = steward::cli::Cli::command();
    let routes: Vec<(String, String)> = routes::table()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.clone()))
        .collect();
    let has = |m: &str, p: &str| routes.iter().any(|(rm, rp)| rm == m && rp == p);
    let ticket = cli.find_subcommand("ticket").unwrap();
    let mut checked = 0;
    for sub in ticket.get_subcommands() {
        let name = sub.get_name();
        let (method, path) = match name {
            "open" => ("post", "/v1/tickets".to_owned()),
            "show" => ("get", "/v1/tickets/{id}".to_owned()),
            "list" => ("get", "/v1/tickets".to_owned()),
            action => ("post", format!("/v1/tickets/{{id}}/{action}")),
        };
        assert!(
            has(method, &path),
            "`steward ticket {name}` has no route {method} {path}"
        );
        checked += 1;
    }
    assert!(checked >= 18, "{checked}");
    // The other commands that act on tickets or read what the server shows.
    for (cmd, sub, method, path) in [
        ("event", "rain", "post", "/v1/events"),
        ("event", "feed", "post", "/v1/events/feed"),
        ("outbox", "list", "get", "/v1/outbox"),
        ("audit", "verify", "get", "/v1/audit/verify"),
    ] {
        let c = cli.find_subcommand(cmd).unwrap();
        assert!(c.find_subcommand(sub).is_some(), "steward {cmd} {sub}");
        assert!(
            has(method, path),
            "`steward {cmd} {sub}` has no route {method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_events_are_the_kinds_the_policy_declares() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let before = events(&db);
    let r = s
        .post(
            &tok.center,
            "/v1/events",
            "snow",
            r#"{"estate":"riverside","kind":"snow"}"#,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(
        r.json["detail"],
        "event kind `snow` is not declared by policy `vk-shanghai`, which governs estate `riverside`: it declares: rain"
    );
    assert_eq!(events(&db), before);

    // A leak repair waits for the next rain (V4) once resolved.
    let open = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "leak",
            r#"{"id":"LK","estate":"riverside","kind":"repair","text":"卫生间天花板渗水"}"#,
        )
        .await;
    assert_eq!(open.status, 201, "{}", open.json);
    for (k, action) in [("r1", "respond"), ("r2", "resolve")] {
        let r = s
            .post(&tok.desk, &format!("/v1/tickets/LK/{action}"), k, "{}")
            .await;
        assert_eq!(r.status, 200, "{action}: {}", r.json);
    }
    let rain = s
        .post(
            &tok.center,
            "/v1/events",
            "rain",
            r#"{"estate":"riverside","kind":"rain"}"#,
        )
        .await;
    assert_eq!(rain.status, 200, "{}", rain.json);
    assert_eq!(rain.json["fired"][0]["ticket"], "LK", "{}", rain.json);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_runs_through_the_policys_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    // The embedded default has no event-source plug-in: the CLI's message, nothing written.
    let before = events(&db);
    let r = s
        .post(
            &tok.center,
            "/v1/events/feed",
            "f1",
            r#"{"plugin":"weather","input":"riverside,2026-07-06T08:00,12.5\n"}"#,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert!(
        r.json["detail"].as_str().unwrap().contains("weather"),
        "{}",
        r.json
    );
    assert_eq!(events(&db), before);
    let desk = s
        .post(
            &tok.desk,
            "/v1/events/feed",
            "f2",
            r#"{"plugin":"weather","input":""}"#,
        )
        .await;
    assert_eq!(desk.status, 403);
    s.stop().await;
}

/// A database as it stood before the outbox existed (schema 4), with two
/// notifications in its log, brought up to date by opening it.
fn database_from_before_the_outbox(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let db = dir.join("old.db");
    {
        let mut svc = Service::open(&db).unwrap();
        let company = steward::policy::embedded::load("vk-shanghai").ok().unwrap();
        svc.apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, t0())
            .unwrap();
        let intake = serde_json::from_str(&emergency("OLD", "riverside")).unwrap();
        svc.open_ticket(intake, t0()).unwrap();
        svc.tick(at("2026-07-06T09:15:00+08:00")).unwrap();
        // Answered in time: nothing of it falls due while the server runs below.
        let respond = steward::engine::Command::Act {
            action: steward::policy::model::Action::Respond,
            by: String::new(),
            note: String::new(),
        };
        svc.execute("OLD", &respond, at("2026-07-06T09:16:00+08:00"))
            .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TRIGGER events_outbox; DROP TABLE deliveries; DROP TABLE outbox;
             DROP TABLE idempotency; DROP TABLE tokens; DROP INDEX events_estates;
             DROP INDEX events_visits; DROP INDEX events_external; PRAGMA user_version = 4;",
        )
        .unwrap();
    }
    let mut svc = Service::open(&db).unwrap();
    let admin = steward::serve::auth::create(&mut svc, "admin", "admin", &[], t0())
        .unwrap()
        .token;
    (db, admin)
}

fn outbox_states(db: &std::path::Path) -> Vec<(String, String, String)> {
    let svc = Service::open_read_only(db).unwrap();
    svc.store()
        .read(|tx| tx.outbox(None, 100, None))
        .unwrap()
        .into_iter()
        .map(|v| (v.entry.ticket, v.entry.recipient, v.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_from_before_the_outbox_are_held_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let (db, admin) = database_from_before_the_outbox(dir.path());
    // The warning's notification is in the outbox, held: not lost, not sent.
    assert_eq!(
        outbox_states(&db),
        [("OLD".into(), "engineering".into(), "held".into())]
    );
    let v = Service::open_read_only(&db).unwrap().verify().unwrap();
    assert!(v.ok, "{:?}", v.findings);

    // A receiver, and a server whose deployment routes everything to it.
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| async move {
            g.lock().unwrap().push(body);
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let deployment = steward::outbox::Deployment::parse(&format!(
        "[channels.hook]\ntype = \"webhook\"\nurl = \"http://{addr}/hook\"\nsecret = \"s\"\n\n[[route]]\nto = \"*\"\nchannels = [\"hook\"]\n"
    ))
    .unwrap();
    let clock = ManualClock::new(at("2026-07-06T09:20:00+08:00"));
    let mut s = start(&db, &clock, Some(deployment)).await;
    // A new notification is delivered; the held one is not.
    let r = s
        .post(&admin, "/v1/tickets", "new", &emergency("NEW", "riverside"))
        .await;
    assert_eq!(r.status, 201);
    clock.set(at("2026-07-06T09:35:00+08:00"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        got.lock().unwrap().iter().all(|b| b.contains("\"NEW\"")),
        "{:?}",
        got.lock().unwrap()
    );
    let held = s.get(&admin, "/v1/outbox?state=held").await;
    assert_eq!(held.json["entries"][0]["ticket"], "OLD", "{}", held.json);
    let m = s.get(&admin, "/metrics").await;
    assert!(m.json.as_str().unwrap().contains("steward_outbox_held 1"));

    // Released by an operator, it is routed and delivered like any other.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--db")
        .arg(&db)
        .args(["outbox", "release", "--ticket", "OLD"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "released 1 held notification(s); the dispatcher of a running server routes them within 5 s\n"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !got.lock().unwrap().iter().any(|b| b.contains("\"OLD\"")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the released one was not delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.stop().await;
    assert!(
        outbox_states(&db)
            .iter()
            .all(|(_, _, state)| state == "delivered"),
        "{:?}",
        outbox_states(&db)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_beside_a_running_server_are_safe_and_no_timer_fires_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let ids: Vec<String> = (1..=6).map(|i| format!("T{i}")).collect();
    for id in &ids {
        let r = s
            .post(&tok.desk, "/v1/tickets", id, &emergency(id, "riverside"))
            .await;
        assert_eq!(r.status, 201);
    }
    // The CLI answers one ticket while the server runs.
    let cli = |now: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
            .arg("--db")
            .arg(&db)
            .args(["--now", now])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli("2026-07-06T09:05:00+08:00", &["ticket", "respond", "T1"]);
    let t1 = s.get(&tok.desk, "/v1/tickets/T1").await;
    assert!(
        t1.json["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "action_recorded"),
        "the server reads what the CLI wrote: {}",
        t1.json
    );

    // 09:30: the server's scheduler and a `steward tick` from cron, at once.
    clock.set(at("2026-07-06T09:30:00+08:00"));
    let db2 = db.clone();
    let cron = std::thread::spawn(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
            .arg("--db")
            .arg(&db2)
            .args(["--now", "2026-07-06T09:30:00+08:00", "tick"])
            .output()
            .unwrap()
    });
    let out = cron.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let svc = Service::open_read_only(&db).unwrap();
    let breaches = |id: &str| {
        svc.ticket(id)
            .unwrap()
            .1
            .iter()
            .filter(|d| d.fact.kind() == "breached")
            .count()
    };
    while ids[1..].iter().any(|id| breaches(id) == 0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the breaches never fired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(breaches("T1"), 0, "T1 was answered in time");
    for id in &ids[1..] {
        // L2.emergency's first response, once; nothing else is due by 09:30.
        assert_eq!(breaches(id), 1, "{id}");
    }
    assert!(svc.verify().unwrap().ok);
    s.stop().await;
}
