#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward serve` against a real server on 127.0.0.1 with a real HTTP client:
//! every documented route answers, commands go through the service with the
//! CLI's messages, retries with an Idempotency-Key write nothing, bad input
//! and bad tokens are refused with nothing written, and tokens are confined to
//! their role and estates.

use crate::serve_support::*;
use serde_json::Value;
use steward::serve::ManualClock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let r = s
        .post(
            &tok.admin,
            "/v1/tickets",
            "k-open",
            &emergency("T1", "riverside"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);

    let doc = s.get(&tok.admin, "/openapi.json").await;
    assert_eq!(doc.status, 200);
    let paths = doc.json["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in paths {
        for (method, op) in methods.as_object().unwrap() {
            operations += 1;
            let url = format!("{}{}", s.base, path.replace("{id}", "T1"));
            let req = match method.as_str() {
                "get" => s.http.get(&url),
                "post" => s
                    .http
                    .post(&url)
                    .header("idempotency-key", format!("k-{path}")),
                other => panic!("undocumented method {other}"),
            };
            let r = reply(req.bearer_auth(&tok.admin).body("{}").send().await.unwrap()).await;
            assert_ne!(r.status, 405, "{method} {path}");
            let kind = r.json.get("type").and_then(Value::as_str).unwrap_or("");
            assert_ne!(
                kind, "urn:steward:problem:no-route",
                "{method} {path} is documented but not served"
            );
            assert!(
                op["responses"].get(r.status.to_string()).is_some(),
                "{method} {path} answered {}, which its responses do not list",
                r.status
            );
        }
    }
    // Each ticket action, the commands and reads, the operations routes and the page.
    assert_eq!(operations, 18 + 13);
    // And a route that is not documented is not served.
    let r = s.get(&tok.admin, "/v1/nothing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["type"], "urn:steward:problem:no-route");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_return_the_cli_json_and_retries_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;

    let open = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "open-1",
            &emergency("", "riverside"),
        )
        .await;
    assert_eq!(open.status, 201, "{}", open.json);
    let id = open.json["ticket"].as_str().unwrap().to_owned();
    assert_eq!(id, "T00001");
    assert_eq!(open.json["status"], "open");
    let kinds: Vec<&str> = open.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "opened");
    assert!(kinds.contains(&"clock_started"), "{kinds:?}");
    let after_open = events(&db);

    // The same request with the same key: the same answer, nothing written.
    let again = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "open-1",
            &emergency("", "riverside"),
        )
        .await;
    assert_eq!(again.status, 201);
    assert!(again.replayed);
    assert_eq!(again.json, open.json);
    assert_eq!(events(&db), after_open);
    // The same key for another request is refused.
    let other = s
        .post(
            &tok.desk,
            "/v1/tickets",
            "open-1",
            &emergency("X9", "riverside"),
        )
        .await;
    assert_eq!(other.status, 422, "{}", other.json);
    assert!(
        other.json["detail"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    assert_eq!(events(&db), after_open);

    clock.advance(chrono::Duration::minutes(5));
    let resp = s
        .post(
            &tok.specialist,
            &format!("/v1/tickets/{id}/respond"),
            "r-1",
            r#"{"by":"张三","note":"已电话联系"}"#,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.json);
    let again = s
        .post(
            &tok.specialist,
            &format!("/v1/tickets/{id}/respond"),
            "r-1",
            r#"{"by":"张三","note":"已电话联系"}"#,
        )
        .await;
    assert!(again.replayed);
    assert_eq!(again.json, resp.json);

    // The timeline: every decision with its rule, seq and fingerprint.
    let show = s.get(&tok.desk, &format!("/v1/tickets/{id}")).await;
    assert_eq!(show.status, 200);
    let timeline = show.json["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .all(|e| e["seq"].is_i64() && e["fingerprint"].as_str().is_some_and(|f| f.len() == 64)),
        "{timeline:?}"
    );
    assert!(timeline.iter().any(|e| e["kind"] == "action_recorded"));
    assert!(timeline.iter().any(|e| e["rule"] == "L2.emergency"));

    // The actor of each command is in the log.
    let svc = steward::service::Service::open_read_only(&db).unwrap();
    let mut actors = Vec::new();
    svc.store()
        .read(|tx| {
            tx.for_each_event(|e| {
                if e.kind == "request" {
                    actors.push(serde_json::from_str::<Value>(&e.payload).unwrap());
                }
                Ok(())
            })
        })
        .unwrap();
    assert_eq!(actors.len(), 2, "{actors:?}");
    assert_eq!(actors[0]["actor"], "desk-riverside");
    assert_eq!(actors[0]["command"], "open");
    assert_eq!(actors[1]["actor"], "specialist-riverside");
    assert_eq!(actors[1]["command"], "respond");
    assert_eq!(actors[1]["idempotency_key"], "r-1");

    // Lists, filtered, a page at a time.
    for n in 2..=4 {
        let r = s
            .post(
                &tok.desk,
                "/v1/tickets",
                &format!("open-{n}"),
                &emergency("", "riverside"),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let page1 = s
        .get(
            &tok.center,
            "/v1/tickets?estate=riverside&status=open&limit=3",
        )
        .await;
    assert_eq!(page1.status, 200, "{}", page1.json);
    let ids: Vec<&str> = page1.json["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T00004", "T00003", "T00002"]);
    let cursor = page1.json["next_cursor"].as_str().unwrap();
    let page2 = s
        .get(
            &tok.center,
            &format!("/v1/tickets?estate=riverside&limit=3&cursor={cursor}"),
        )
        .await;
    let ids: Vec<&str> = page2.json["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T00001"]);
    assert!(page2.json["next_cursor"].is_null());
    let due = s.get(&tok.center, "/v1/tickets?due_before=2026-07-06T09:31:00%2B08:00&category=repair&department=engineering&breached=false").await;
    assert_eq!(due.status, 200, "{}", due.json);
    let breached = s.get(&tok.center, "/v1/tickets?breached=true").await;
    assert_eq!(breached.json["tickets"].as_array().unwrap().len(), 0);

    // External events and the outbox.
    let ev = s
        .post(
            &tok.center,
            "/v1/events",
            "rain-1",
            r#"{"estate":"riverside","kind":"rain"}"#,
        )
        .await;
    assert_eq!(ev.status, 200, "{}", ev.json);
    assert!(ev.json["fired"].is_array());
    assert_eq!(ev.json["duplicate"], false, "{}", ev.json);
    // The same rain (kind, estate, time) under another key counts once.
    let again = s
        .post(
            &tok.center,
            "/v1/events",
            "rain-2",
            r#"{"estate":"riverside","kind":"rain"}"#,
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["duplicate"], true, "{}", again.json);
    assert_eq!(again.json["seq"], ev.json["seq"], "{}", again.json);
    let ob = s.get(&tok.auditor, "/v1/outbox").await;
    assert_eq!(ob.status, 200, "{}", ob.json);
    assert!(ob.json["entries"].is_array());
    let v = s.get(&tok.auditor, "/v1/audit/verify").await;
    assert_eq!(v.status, 200, "{}", v.json);
    assert_eq!(v.json["ok"], true);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    let r = s
        .post(
            &tok.admin,
            "/v1/tickets",
            "o",
            &emergency("T1", "riverside"),
        )
        .await;
    assert_eq!(r.status, 201);
    let before = events(&db);
    let t1 = emergency("T1", "riverside");
    let cases: Vec<(&str, &str, &str, u16, &str)> = vec![
        (
            "/v1/tickets",
            "a",
            "{not json",
            400,
            "bad ticket JSON: key must be a string at line 1 column 2",
        ),
        (
            "/v1/tickets",
            "b",
            r#"{"estate":"riverside","kind":"repair","text":"x","colour":"red"}"#,
            400,
            "unknown field `colour`",
        ),
        (
            "/v1/tickets",
            "c",
            r#"{"estate":"riverside","kind":"repair","text":5}"#,
            400,
            "invalid type: integer `5`, expected a string",
        ),
        ("/v1/tickets", "d", &t1, 409, "ticket `T1` already exists"),
        (
            "/v1/tickets/T404/respond",
            "e",
            "{}",
            404,
            "unknown ticket `T404`",
        ),
        (
            "/v1/tickets/T1/revisit",
            "f",
            r#"{"ok":true}"#,
            409,
            "cannot revisit ticket `T1`",
        ),
        (
            "/v1/tickets/T1/close",
            "g",
            "{}",
            409,
            "cannot close ticket `T1`",
        ),
        (
            "/v1/tickets/T1/compensation",
            "h",
            r#"{"amount":"lots"}"#,
            400,
            "`--amount lots` is not an amount",
        ),
        (
            "/v1/tickets/T1/assign",
            "i",
            r#"{"department":"engineering","tier":"L9"}"#,
            400,
            "tier `L9` is not one of L1, L2, L3",
        ),
        (
            "/v1/tickets/T1/pause",
            "j",
            r#"{"reason":"nap"}"#,
            422,
            "nap",
        ),
        (
            "/v1/events",
            "k2",
            r#"{"estate":"riverside","kind":"rian"}"#,
            422,
            "event kind `rian` is not declared by policy `vk-shanghai`, which governs estate `riverside`: did you mean `rain`?",
        ),
        (
            "/v1/events",
            "k",
            r#"{"estate":"riverside"}"#,
            400,
            "missing field `kind`",
        ),
    ];
    for (path, key, body, status, detail) in cases {
        let r = s.post(&tok.admin, path, key, body).await;
        assert_eq!(r.status, status, "{path} {body}: {}", r.json);
        assert_eq!(r.content_type, "application/problem+json");
        let d = r.json["detail"].as_str().unwrap();
        assert!(d.contains(detail), "{path} {body}: {d}");
        assert_eq!(r.json["status"], status);
        assert!(
            r.json["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:steward:problem:")
        );
    }
    // Oversized body.
    let big = format!(
        r#"{{"estate":"riverside","kind":"repair","text":"{}"}}"#,
        "x".repeat(20_000)
    );
    let r = s.post(&tok.admin, "/v1/tickets", "big", &big).await;
    assert_eq!(r.status, 413, "{}", r.json);
    // No Idempotency-Key.
    let r = reply(
        s.http
            .post(format!("{}/v1/tickets/T1/respond", s.base))
            .bearer_auth(&tok.admin)
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    // No token, a wrong token, a revoked token.
    let r = reply(
        s.http
            .post(format!("{}/v1/tickets", s.base))
            .header("idempotency-key", "z")
            .body(emergency("T2", "riverside"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = s
        .post(
            "stw_0000",
            "/v1/tickets",
            "z",
            &emergency("T2", "riverside"),
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.json["detail"].as_str().unwrap().contains("not valid"));
    {
        let mut svc = steward::service::Service::open(&db).unwrap();
        svc.batch(|b| {
            b.tx()
                .revoke_token("center", t0())
                .map_err(steward::service::AppError::from)
        })
        .unwrap();
    }
    let r = s
        .post(
            &tok.center,
            "/v1/tickets",
            "z",
            &emergency("T2", "riverside"),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = s.get("", "/v1/tickets").await;
    assert_eq!(r.status, 401);
    // Bad list filters.
    for q in [
        "status=lost",
        "limit=0",
        "breached=maybe",
        "due_before=tomorrow",
        "colour=red",
        "cursor=abc",
    ] {
        let r = s.get(&tok.admin, &format!("/v1/tickets?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.json);
    }
    assert_eq!(events(&db), before, "a refused request wrote to the log");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_confined_to_their_role_and_estates() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "a", &emergency("R1", "riverside"))
            .await
            .status,
        201
    );
    assert_eq!(
        s.post(
            &tok.desk_gardens,
            "/v1/tickets",
            "a",
            &emergency("G1", "gardens")
        )
        .await
        .status,
        201
    );
    let before = events(&db);
    let (r2, r3) = (emergency("R2", "gardens"), emergency("R3", "riverside"));
    let cases: Vec<(&str, &str, &str, u16)> = vec![
        // A front desk of riverside cannot open for, read, act on or list gardens.
        (&tok.desk, "POST /v1/tickets", &r2, 403),
        (&tok.desk, "GET /v1/tickets/G1", "", 403),
        (&tok.desk, "POST /v1/tickets/G1/respond", "{}", 403),
        (&tok.desk, "GET /v1/tickets?estate=gardens", "", 403),
        (&tok.desk, "GET /v1/outbox", "", 403),
        (
            &tok.desk,
            "POST /v1/events",
            r#"{"estate":"riverside","kind":"rain"}"#,
            403,
        ),
        // A specialist acts but does not open.
        (&tok.specialist, "POST /v1/tickets", &r3, 403),
        // An auditor reads everything and writes nothing.
        (&tok.auditor, "POST /v1/tickets/R1/respond", "{}", 403),
        (&tok.auditor, "GET /v1/tickets/G1", "", 200),
        (&tok.auditor, "GET /v1/audit/verify", "", 200),
        (&tok.center, "GET /v1/audit/verify", "", 403),
        (&tok.center, "GET /v1/tickets/G1", "", 200),
    ];
    for (token, what, body, status) in cases {
        let (method, path) = what.split_once(' ').unwrap();
        let r = if method == "GET" {
            s.get(token, path).await
        } else {
            s.post(token, path, "k", body).await
        };
        assert_eq!(r.status, status, "{what}: {}", r.json);
        if status == 403 {
            assert_eq!(r.json["type"], "urn:steward:problem:forbidden");
        }
    }
    // A riverside list shows riverside only, without naming the estate.
    let r = s.get(&tok.desk, "/v1/tickets").await;
    let ids: Vec<&str> = r.json["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["R1"]);
    assert_eq!(events(&db), before);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tok) = database(dir.path(), t0());
    let clock = ManualClock::new(t0());
    let mut s = start(&db, &clock, None).await;
    assert_eq!(
        s.post(&tok.desk, "/v1/tickets", "a", &emergency("R1", "riverside"))
            .await
            .status,
        201
    );
    assert_eq!(s.get("", "/healthz").await.status, 200);
    let ready = s.get("", "/readyz").await;
    assert_eq!(ready.status, 200);
    assert!(ready.json["events"].as_i64().unwrap() > 0);
    let m = s.get(&tok.auditor, "/metrics").await;
    assert_eq!(m.status, 200);
    let text = m.json.as_str().unwrap();
    for want in [
        "steward_open_tickets 1",
        "steward_due_timers 0",
        "steward_breached_open_tickets 0",
        "steward_outbox_pending 0",
        "steward_outbox_dead 0",
        r#"steward_http_requests_total{method="POST",route="/v1/tickets",status="201"} 1"#,
        r#"steward_http_request_duration_seconds_count{method="POST",route="/v1/tickets"} 1"#,
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    s.stop().await;
    // After shutdown nothing answers.
    assert!(
        s.http
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .is_err()
    );
}
