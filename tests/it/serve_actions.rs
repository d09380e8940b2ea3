#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The ticket actions a policy shapes, over HTTP: a declared step (`act`), a
//! deadline a person sets (`deadline`, E2) and a waived revisit
//! (`waive-revisit`, V1). Each answers what the CLI's `--format json` answers
//! for the same command on a second database with the same policy and times,
//! a retry with the same Idempotency-Key writes nothing, and every refusal is
//! the CLI's message with nothing written.

use crate::cli_support::{self, json_at as cli_json};
use crate::serve_support::*;
use serde_json::{Value, json};
use std::path::Path;
use steward::serve::ManualClock;

/// The CLI's error for a command that is refused (exit code 2), without `error: `.
fn cli_error(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = cli_support::run_at(db, now, args);
    assert_eq!(code, 2, "steward {args:?} should fail: {out}{err}");
    err.trim()
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("no `error: ` in {err}"))
        .to_owned()
}

/// An Idempotency-Key of its own for each request (headers are ASCII).
fn key(what: &str, body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("{what}-{:016x}", h.finish())
}

/// A problem answer: its status, its type and, if given, the CLI's message.
fn assert_problem(r: &Reply, status: u16, kind: &str, cli_message: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.json);
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{}",
        r.content_type
    );
    assert_eq!(r.json["status"], status, "{}", r.json);
    assert_eq!(
        r.json["type"],
        format!("urn:steward:problem:{kind}"),
        "{}",
        r.json
    );
    if let Some(m) = cli_message {
        assert_eq!(r.json["detail"], m, "{}", r.json);
    }
}

/// What both the API's and the CLI's `ticket show` say of a ticket: its
/// state and clocks, and each event's kind, rule, time and fingerprint (the
/// server's log also holds a `request` event per command, so seqs differ).
fn comparable(show: &Value) -> (Value, Vec<Value>) {
    let timeline = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["kind"], e["rule"], e["time"], e["fingerprint"], e["fact"]]))
        .collect();
    (show["ticket"].clone(), timeline)
}

fn kinds(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The server's database and the CLI's, both with the embedded vk-shanghai
/// applied at t0 and the same ticket opened at t0.
struct Pair {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    db: std::path::PathBuf,
    cli_db: std::path::PathBuf,
    tok: Tokens,
    clock: ManualClock,
    s: Server,
}

const OPENED: &str = "2026-07-06T09:00:00+08:00";

async fn pair(kind: &str, text: &str) -> Pair {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let (db, tok) = database(d1.path(), t0());
    let (cli_db, _) = database(d2.path(), t0());
    let clock = ManualClock::new(t0());
    let s = start(&db, &clock, None).await;
    let body = json!({"id": "T1", "estate": "riverside", "kind": kind, "text": text}).to_string();
    let r = s.post(&tok.desk, "/v1/tickets", "open", &body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let c = cli_json(
        &cli_db,
        OPENED,
        &[
            "ticket",
            "open",
            "--id",
            "T1",
            "--estate",
            "riverside",
            "--kind",
            kind,
            "--text",
            text,
        ],
    );
    assert_eq!(r.json, c);
    Pair {
        _dirs: (d1, d2),
        db,
        cli_db,
        tok,
        clock,
        s,
    }
}

impl Pair {
    /// Each `(now, action, body, cli args)` as the service center at `now`,
    /// over HTTP and on the CLI's database: both answer the same.
    async fn both(&self, steps: &[(&str, &str, &str, Vec<&str>)]) {
        for (now, action, body, args) in steps {
            self.clock.set(at(now));
            let r = self
                .s
                .post(
                    &self.tok.center,
                    &format!("/v1/tickets/T1/{action}"),
                    action,
                    body,
                )
                .await;
            assert_eq!(r.status, 200, "{action}: {}", r.json);
            assert_eq!(r.json, cli_json(&self.cli_db, now, args), "{action}");
        }
    }

    async fn same_ticket(&self, now: &str) {
        let api = self.s.get(&self.tok.center, "/v1/tickets/T1").await;
        assert_eq!(api.status, 200, "{}", api.json);
        let c = cli_json(&self.cli_db, now, &["ticket", "show", "T1"]);
        assert_eq!(comparable(&api.json), comparable(&c));
    }

    /// `body` to `action` is refused with `status`/`kind` and nothing is written.
    async fn refused(
        &self,
        token: &str,
        action: &str,
        body: &str,
        status: u16,
        kind: &str,
    ) -> Reply {
        let before = events(&self.db);
        let r = self
            .s
            .post(
                token,
                &format!("/v1/tickets/T1/{action}"),
                &key(action, body),
                body,
            )
            .await;
        assert_problem(&r, status, kind, None);
        assert_eq!(events(&self.db), before, "{action} {body} wrote something");
        let doc = self.s.get(token, "/openapi.json").await;
        let route = format!("/v1/tickets/{{id}}/{action}");
        assert!(
            doc.json["paths"][&route]["post"]["responses"]
                .get(status.to_string())
                .is_some(),
            "the OpenAPI document lists no {status} for POST {route}"
        );
        r
    }
}

const ACT: &str = r#"{"step":"contact_experts","by":"客户服务中心","note":"已联系"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_step_answers_as_the_cli_and_its_retry_writes_nothing() {
    let mut p = pair("complaint", "集体投诉地下车库渗水").await;
    let now = "2026-07-06T10:00:00+08:00";
    p.clock.set(at(now));
    let before = events(&p.db);
    let r =
        p.s.post(&p.tok.center, "/v1/tickets/T1/act", "act-1", ACT)
            .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(!r.replayed);
    assert_eq!(r.json["status"], "open");
    assert_eq!(
        kinds(&r.json),
        ["action_recorded", "milestone_reached", "clock_started"]
    );
    assert_eq!(r.json["events"][2]["rule"], "L6.expert");
    assert_eq!(
        r.json["events"][2]["fact"]["deadline"],
        "2026-07-07T02:00:00Z"
    );
    let c = cli_json(
        &p.cli_db,
        now,
        &[
            "ticket",
            "act",
            "T1",
            "contact_experts",
            "--by",
            "客户服务中心",
            "--note",
            "已联系",
        ],
    );
    assert_eq!(r.json, c);
    p.same_ticket(now).await;
    let after = events(&p.db);
    // Three engine events and the request.
    assert_eq!(after, before + 4);

    let again =
        p.s.post(&p.tok.center, "/v1/tickets/T1/act", "act-1", ACT)
            .await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert!(again.replayed);
    assert_eq!(again.json, r.json);
    assert_eq!(events(&p.db), after);
    p.same_ticket(now).await;
    p.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_answers_as_the_cli_and_its_retry_writes_nothing() {
    let mut p = pair("complaint", "集体投诉地下车库渗水").await;
    // Before L4's warning at 10:30: the server's timers and the CLI's agree.
    let now = "2026-07-06T10:00:00+08:00";
    p.clock.set(at(now));
    let body = r#"{"limit":"E2.deadline","within":"3 business days","by":"王经理","reason":"需协调施工单位"}"#;
    let before = events(&p.db);
    let r =
        p.s.post(&p.tok.center, "/v1/tickets/T1/deadline", "dl-1", body)
            .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(kinds(&r.json), ["clock_started", "deadline_set"]);
    assert_eq!(r.json["events"][1]["rule"], "E2.deadline");
    assert_eq!(r.json["events"][1]["fact"]["by"], "王经理");
    assert_eq!(
        r.json["events"][1]["fact"]["deadline"],
        "2026-07-09T10:00:00Z"
    );
    let c = cli_json(
        &p.cli_db,
        now,
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadline",
            "--within",
            "3 business days",
            "--by",
            "王经理",
            "--reason",
            "需协调施工单位",
        ],
    );
    assert_eq!(r.json, c);
    p.same_ticket(now).await;
    let show = p.s.get(&p.tok.center, "/v1/tickets/T1").await;
    let clock = show.json["ticket"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["limit"] == "E2.deadline")
        .unwrap()
        .clone();
    assert_eq!(clock["deadline"], "2026-07-09T18:00:00+08:00");
    assert_eq!(clock["deadline_set_by"], "王经理");
    let after = events(&p.db);
    assert_eq!(after, before + 3);

    let again =
        p.s.post(&p.tok.center, "/v1/tickets/T1/deadline", "dl-1", body)
            .await;
    assert!(again.replayed);
    assert_eq!(again.status, 200);
    assert_eq!(again.json, r.json);
    assert_eq!(events(&p.db), after);

    // An instant replaces it, as `--at` does.
    let at_body = r#"{"limit":"E2.deadline","at":"2026-07-08T12:00:00+08:00","by":"王经理","reason":"业主要求提前"}"#;
    let r =
        p.s.post(&p.tok.center, "/v1/tickets/T1/deadline", "dl-2", at_body)
            .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let c = cli_json(
        &p.cli_db,
        now,
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadline",
            "--at",
            "2026-07-08 12:00",
            "--by",
            "王经理",
            "--reason",
            "业主要求提前",
        ],
    );
    assert_eq!(r.json, c);
    p.same_ticket(now).await;
    p.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waived_revisit_answers_as_the_cli_and_its_retry_writes_nothing() {
    let mut p = pair("repair", "外墙渗水，卧室墙面发霉").await;
    // Resolved, revisited once: V4#2 waits for the next rain.
    p.both(&[
        (
            "2026-07-07T09:00:00+08:00",
            "resolve",
            "{}",
            vec!["ticket", "resolve", "T1"],
        ),
        (
            "2026-07-08T10:00:00+08:00",
            "revisit",
            r#"{"ok":true,"note":"墙面已干"}"#,
            vec!["ticket", "revisit", "T1", "--ok", "--note", "墙面已干"],
        ),
    ])
    .await;
    let now = "2026-07-08T10:05:00+08:00";
    p.clock.set(at(now));
    let body = r#"{"slot":"V4#2","reason":"业主表示雨后不必再回访","by":"王专员"}"#;
    let before = events(&p.db);
    let r =
        p.s.post(&p.tok.center, "/v1/tickets/T1/waive-revisit", "w-1", body)
            .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["status"], "resolved", "{}", r.json);
    let waived = r.json["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(waived["rule"], "V4", "{waived}");
    assert_eq!(
        waived["what"],
        "revisit V4#2 waived by 王专员: 业主表示雨后不必再回访"
    );
    let c = cli_json(
        &p.cli_db,
        now,
        &[
            "ticket",
            "waive-revisit",
            "T1",
            "--slot",
            "V4#2",
            "--reason",
            "业主表示雨后不必再回访",
            "--by",
            "王专员",
        ],
    );
    assert_eq!(r.json, c);
    p.same_ticket(now).await;
    let show = p.s.get(&p.tok.center, "/v1/tickets/T1").await;
    let slot = show.json["ticket"]["revisits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "V4#2")
        .unwrap_or_else(|| panic!("{}", show.json))
        .clone();
    assert_eq!(slot["state"], "waived", "{slot}");
    let after = events(&p.db);
    assert!(after > before);

    let again =
        p.s.post(&p.tok.center, "/v1/tickets/T1/waive-revisit", "w-1", body)
            .await;
    assert!(again.replayed);
    assert_eq!(again.status, 200);
    assert_eq!(again.json, r.json);
    assert_eq!(events(&p.db), after);
    p.same_ticket(now).await;
    p.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_the_clis_messages_and_write_nothing() {
    let mut p = pair("complaint", "集体投诉地下车库渗水").await;
    let now = "2026-07-06T10:00:00+08:00";
    p.clock.set(at(now));
    let center = p.tok.center.clone();

    // A token of another estate.
    for (action, body) in [
        ("act", ACT),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"1d","by":"王","reason":"r"}"#,
        ),
        ("waive-revisit", r#"{"all":true,"reason":"x"}"#),
    ] {
        let r = p
            .refused(&p.tok.desk_gardens, action, body, 403, "forbidden")
            .await;
        assert!(
            r.json["detail"]
                .as_str()
                .unwrap()
                .contains("is not for estate `riverside`"),
            "{}",
            r.json
        );
    }

    // An undeclared step, an unknown limit: the CLI's did-you-mean.
    let r = p
        .refused(
            &center,
            "act",
            r#"{"step":"contact_expert"}"#,
            422,
            "invalid",
        )
        .await;
    let m = cli_error(&p.cli_db, now, &["ticket", "act", "T1", "contact_expert"]);
    assert_eq!(r.json["detail"], m);
    assert!(m.contains("did you mean `contact_experts`?"), "{m}");
    let r = p
        .refused(
            &center,
            "deadline",
            r#"{"limit":"E2.deadlin","within":"1d","by":"王","reason":"r"}"#,
            422,
            "invalid",
        )
        .await;
    let m = cli_error(
        &p.cli_db,
        now,
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadlin",
            "--within",
            "1d",
            "--by",
            "王",
            "--reason",
            "r",
        ],
    );
    assert_eq!(r.json["detail"], m);
    assert!(m.contains("did you mean `E2.deadline`?"), "{m}");
    // A limit of the policy that the ticket has no deadline of: refused by
    // the procedure, as the CLI refuses it.
    let r = p
        .refused(
            &center,
            "deadline",
            r#"{"limit":"L5","within":"1d","by":"王","reason":"r"}"#,
            409,
            "refused",
        )
        .await;
    let m = cli_error(
        &p.cli_db,
        now,
        &[
            "ticket", "deadline", "T1", "L5", "--within", "1d", "--by", "王", "--reason", "r",
        ],
    );
    assert_eq!(r.json["detail"], m);
    assert!(m.contains("limit `L5` does not apply to it"), "{m}");
    // A deadline in the past, said in local time.
    let r = p
        .refused(
            &center,
            "deadline",
            r#"{"limit":"E2.deadline","at":"2026-07-06T09:30:00+08:00","by":"王","reason":"r"}"#,
            409,
            "refused",
        )
        .await;
    let m = cli_error(
        &p.cli_db,
        now,
        &[
            "ticket",
            "deadline",
            "T1",
            "E2.deadline",
            "--at",
            "2026-07-06 09:30",
            "--by",
            "王",
            "--reason",
            "r",
        ],
    );
    assert_eq!(r.json["detail"], m);
    // Nothing to waive before resolution.
    let r = p
        .refused(
            &center,
            "waive-revisit",
            r#"{"slot":"V4#2","reason":"x"}"#,
            409,
            "refused",
        )
        .await;
    let m = cli_error(
        &p.cli_db,
        now,
        &[
            "ticket",
            "waive-revisit",
            "T1",
            "--slot",
            "V4#2",
            "--reason",
            "x",
        ],
    );
    assert_eq!(r.json["detail"], m);

    // Malformed bodies and unknown or missing fields.
    for (action, body, needle) in [
        ("act", r#"{"step":"#, "bad `act` JSON"),
        (
            "act",
            r#"{"step":"contact_experts","bogus":1}"#,
            "unknown field `bogus`",
        ),
        ("act", r#"{"by":"x"}"#, "missing field `step`"),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"1d","by":"王"}"#,
            "missing field `reason`",
        ),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"1d","at":"2026-07-08T12:00:00+08:00","by":"王","reason":"r"}"#,
            "give exactly one of `at` and `within`",
        ),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"3 dyas","by":"王","reason":"r"}"#,
            "`within`",
        ),
        (
            "deadline",
            r#"{"limit":"E2.deadline","at":"tomorrow","by":"王","reason":"r"}"#,
            "RFC 3339",
        ),
        (
            "waive-revisit",
            r#"{"reason":"x"}"#,
            "give a `slot` or `\"all\": true`",
        ),
        (
            "waive-revisit",
            r#"{"slot":"V4#2","reason":"x","when":"now"}"#,
            "unknown field `when`",
        ),
    ] {
        let r = p.refused(&center, action, body, 400, "bad-request").await;
        assert!(
            r.json["detail"].as_str().unwrap().contains(needle),
            "{action} {body}: {}",
            r.json
        );
    }

    // An unknown ticket.
    for (action, body) in [
        ("act", ACT),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"1d","by":"王","reason":"r"}"#,
        ),
        ("waive-revisit", r#"{"all":true,"reason":"x"}"#),
    ] {
        let before = events(&p.db);
        let r =
            p.s.post(
                &center,
                &format!("/v1/tickets/T9/{action}"),
                &format!("nf-{action}"),
                body,
            )
            .await;
        assert_problem(&r, 404, "unknown-ticket", Some("unknown ticket `T9`"));
        assert_eq!(events(&p.db), before);
    }
    p.same_ticket(now).await;
    p.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_ticket_refuses_each_action_with_409_and_writes_nothing() {
    let mut p = pair("repair", "外墙渗水，卧室墙面发霉").await;
    p.both(&[
        (
            "2026-07-07T09:00:00+08:00",
            "resolve",
            "{}",
            vec!["ticket", "resolve", "T1"],
        ),
        (
            "2026-07-08T10:00:00+08:00",
            "revisit",
            r#"{"ok":true}"#,
            vec!["ticket", "revisit", "T1", "--ok"],
        ),
        (
            "2026-07-08T10:05:00+08:00",
            "waive-revisit",
            r#"{"all":true,"reason":"业主表示无需回访"}"#,
            vec![
                "ticket",
                "waive-revisit",
                "T1",
                "--all",
                "--reason",
                "业主表示无需回访",
            ],
        ),
        (
            "2026-07-08T10:10:00+08:00",
            "close",
            "{}",
            vec!["ticket", "close", "T1"],
        ),
    ])
    .await;
    let now = "2026-07-08T10:11:00+08:00";
    p.clock.set(at(now));
    let center = p.tok.center.clone();
    for (action, body, args) in [
        (
            "act",
            ACT,
            vec![
                "ticket",
                "act",
                "T1",
                "contact_experts",
                "--by",
                "客户服务中心",
                "--note",
                "已联系",
            ],
        ),
        (
            "act",
            r#"{"step":"update","by":"张三"}"#,
            vec!["ticket", "act", "T1", "update", "--by", "张三"],
        ),
        (
            "deadline",
            r#"{"limit":"E2.deadline","within":"1d","by":"王","reason":"r"}"#,
            vec![
                "ticket",
                "deadline",
                "T1",
                "E2.deadline",
                "--within",
                "1d",
                "--by",
                "王",
                "--reason",
                "r",
            ],
        ),
        (
            "waive-revisit",
            r#"{"all":true,"reason":"x"}"#,
            vec!["ticket", "waive-revisit", "T1", "--all", "--reason", "x"],
        ),
    ] {
        let before = events(&p.db);
        let r =
            p.s.post(
                &center,
                &format!("/v1/tickets/T1/{action}"),
                &key("closed", body),
                body,
            )
            .await;
        assert_eq!(r.status, 409, "{action} {body}: {}", r.json);
        assert_eq!(
            r.json["detail"],
            cli_error(&p.cli_db, now, &args),
            "{action}"
        );
        assert_eq!(events(&p.db), before, "{action} wrote something");
    }
    p.same_ticket(now).await;
    p.s.stop().await;
}
