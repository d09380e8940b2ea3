//! The route table: the router and the OpenAPI document are both built from
//! [`table`], so a route cannot be served without being documented or the
//! other way round (a test calls every documented operation on a live server).

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State as Ax};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};

use super::State;
use super::bodies::ACTIONS;
use super::problem::Problem;
use super::{api, page};

/// One operation: method, path (axum's `{param}` syntax, which is also
/// OpenAPI's), what it does, who may call it, and its request body schema.
pub struct Route {
    pub method: &'static str,
    pub path: String,
    pub summary: String,
    /// `None`: no token needed.
    pub needs: Option<&'static str>,
    pub body: Option<Value>,
    /// Success status.
    pub ok: u16,
    handler: MethodRouter<State>,
}

fn route(
    method: &'static str,
    path: impl Into<String>,
    summary: impl Into<String>,
    needs: Option<&'static str>,
    ok: u16,
    handler: MethodRouter<State>,
) -> Route {
    Route {
        method,
        path: path.into(),
        summary: summary.into(),
        needs,
        body: None,
        ok,
        handler,
    }
}

fn with_body(mut r: Route, body: Value) -> Route {
    r.body = Some(body);
    r
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

fn note() -> Value {
    obj(
        &[],
        json!({"by": {"type": "string"}, "note": {"type": "string"}}),
    )
}

fn action_body(action: &str) -> Value {
    let s = json!({"type": "string"});
    match action {
        "classify" => obj(
            &[],
            json!({"category": s, "class": {"type": "integer", "minimum": 1, "maximum": 3}, "major": {"type": "boolean"}}),
        ),
        "assign" => obj(
            &["department"],
            json!({"department": s, "tier": {"enum": ["L1", "L2", "L3"]}, "lead": s}),
        ),
        "pause" | "reopen" => obj(&["reason"], json!({"reason": s})),
        "resume" => obj(&[], json!({})),
        "resolve" => obj(&[], json!({"note": s})),
        "revisit" => obj(
            &["ok"],
            json!({"ok": {"type": "boolean"}, "channel": s, "note": s}),
        ),
        "close" => obj(&[], json!({"invalid": s})),
        "act" => obj(&["step"], json!({"step": s, "by": s, "note": s})),
        "deadline" => obj(
            &["limit", "by", "reason"],
            json!({"limit": s, "at": {"type": "string", "format": "date-time"}, "within": s, "by": s, "reason": s}),
        ),
        "waive-revisit" => obj(
            &["reason"],
            json!({"slot": s, "all": {"type": "boolean"}, "reason": s, "by": s}),
        ),
        "compensation" => obj(
            &["amount"],
            json!({"amount": {"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,2})?$"}, "note": s}),
        ),
        _ => note(),
    }
}

pub fn table() -> Vec<Route> {
    let s = json!({"type": "string"});
    let mut t = vec![
        route(
            "get",
            "/healthz",
            "Liveness: the process answers",
            None,
            200,
            get(api::healthz),
        ),
        route(
            "get",
            "/readyz",
            "Readiness: serving and the database is readable",
            None,
            200,
            get(api::readyz),
        ),
        route(
            "get",
            "/metrics",
            "Prometheus metrics (without a token only when the server runs with --metrics-public)",
            Some("metrics"),
            200,
            get(api::metrics),
        ),
        route(
            "get",
            "/openapi.json",
            "This document",
            None,
            200,
            get(openapi_handler),
        ),
        route(
            "get",
            "/",
            "The page: tickets due soon and breached, per estate and department",
            None,
            200,
            get(page::home),
        ),
        route(
            "get",
            "/tickets/{id}",
            "The page of one ticket: its state and timeline with the rule of each event",
            None,
            200,
            get(page::ticket),
        ),
        with_body(
            route(
                "post",
                "/v1/tickets",
                "Open a ticket under the active policy of its estate (D1, D2)",
                Some("open"),
                201,
                post(api::open),
            ),
            obj(
                &["estate", "kind", "text"],
                json!({"id": s, "estate": s, "unit": s, "owner": s, "channel": s, "kind": s, "text": s,
                       "urgency": s, "major": {"type": "boolean"}, "phase": s,
                       "tags": {"type": "array", "items": s}, "class": {"type": "integer", "minimum": 0, "maximum": 3}}),
            ),
        ),
        route(
            "get",
            "/v1/tickets",
            "Tickets, newest first, filtered (estate, status, category, department, due_before, breached), a page at a time (limit, cursor)",
            Some("read"),
            200,
            get(api::list),
        ),
        route(
            "get",
            "/v1/tickets/{id}",
            "A ticket's state and timeline: each event with its rule, seq and policy fingerprint",
            Some("read"),
            200,
            get(api::show),
        ),
        with_body(
            route(
                "post",
                "/v1/events",
                "An external event of a kind the estate's policy declares (e.g. rain, V4) for the tickets waiting for it; the same event counts once",
                Some("event"),
                200,
                post(api::event),
            ),
            obj(&["estate", "kind"], json!({"estate": s, "kind": s})),
        ),
        with_body(
            route(
                "post",
                "/v1/events/feed",
                "A feed (e.g. hourly rainfall CSV) through the active policy's event-source plug-in, as `steward event feed`",
                Some("event"),
                200,
                post(api::feed),
            ),
            obj(&["plugin", "input"], json!({"plugin": s, "input": s})),
        ),
        route(
            "get",
            "/v1/outbox",
            "Notifications and their delivery state (ticket, state, limit)",
            Some("outbox"),
            200,
            get(api::outbox),
        ),
        route(
            "get",
            "/v1/audit/verify",
            "audit verify: the hash chain and every projection rebuilt from the log",
            Some("audit"),
            200,
            get(api::verify),
        ),
    ];
    for (action, summary) in ACTIONS {
        let name: &'static str = action;
        let handler = post(
            move |Ax(s): Ax<State>,
                  Path(id): Path<String>,
                  h: HeaderMap,
                  b: std::result::Result<Bytes, BytesRejection>| async move {
                api::act(s, id, name, h, b).await
            },
        );
        t.push(with_body(
            route(
                "post",
                format!("/v1/tickets/{{id}}/{action}"),
                *summary,
                Some("act"),
                200,
                handler,
            ),
            action_body(action),
        ));
    }
    t
}

pub fn router(state: State) -> Router {
    let limit = state.body_limit;
    let mut by_path: BTreeMap<String, MethodRouter<State>> = BTreeMap::new();
    for r in table() {
        let merged = match by_path.remove(&r.path) {
            Some(m) => m.merge(r.handler),
            None => r.handler,
        };
        by_path.insert(r.path, merged);
    }
    let mut router = Router::new();
    for (path, m) in by_path {
        router = router.route(&path, m);
    }
    router
        .fallback(api::no_route)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Metrics, the request time limit and a log line for every request.
async fn observe(Ax(s): Ax<State>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = match tokio::time::timeout(s.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Problem::unavailable(format!(
            "the request took longer than {} s; a command that reached the writer still commits: retry with the same Idempotency-Key to get its answer",
            s.request_timeout.as_secs()
        ))
        .into_response(),
    };
    let took = started.elapsed();
    let status = response.status().as_u16();
    s.metrics.observe(&method, &route, status, took);
    tracing::info!(%method, %route, status, micros = took.as_micros() as u64, "request");
    response
}

async fn openapi_handler() -> Response {
    let mut r = openapi().to_string().into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

/// The OpenAPI 3.1 document of [`table`].
pub fn openapi() -> Value {
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    let problem_response = |what: &str| json!({"description": what, "content": {"application/problem+json": {"schema": problem}}});
    let mut paths = serde_json::Map::new();
    for r in table() {
        let mut op = serde_json::Map::new();
        op.insert("summary".into(), json!(r.summary));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}{}",
                r.method,
                r.path.replace(['/', '{', '}', '-', '.'], "_")
            )),
        );
        let mut params = Vec::new();
        if r.path.contains("{id}") {
            params.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if r.method == "post" {
            params.push(json!({"name": "Idempotency-Key", "in": "header", "required": true,
                "description": "A unique key per request; a retry with the same key returns the first response and writes nothing",
                "schema": {"type": "string", "maxLength": 200}}));
        }
        if r.path == "/v1/tickets" && r.method == "get" {
            for (n, ty) in [
                ("estate", "string"),
                ("status", "string"),
                ("category", "string"),
                ("department", "string"),
                ("due_before", "string"),
                ("breached", "boolean"),
                ("limit", "integer"),
                ("cursor", "string"),
            ] {
                params.push(
                    json!({"name": n, "in": "query", "required": false, "schema": {"type": ty}}),
                );
            }
        }
        if r.path == "/v1/outbox" {
            for (n, ty) in [
                ("ticket", "string"),
                ("state", "string"),
                ("limit", "integer"),
            ] {
                params.push(
                    json!({"name": n, "in": "query", "required": false, "schema": {"type": ty}}),
                );
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(b) = &r.body {
            op.insert(
                "requestBody".into(),
                json!({"required": false, "content": {"application/json": {"schema": b}}}),
            );
        }
        let mut responses = serde_json::Map::new();
        responses.insert(r.ok.to_string(), json!({"description": "OK"}));
        if let Some(perm) = r.needs {
            op.insert("security".into(), json!([{"bearer": []}]));
            op.insert("x-steward-permission".into(), json!(perm));
            responses.insert(
                "401".into(),
                problem_response("No valid token; nothing was written"),
            );
            responses.insert(
                "403".into(),
                problem_response("The token's role or estates do not allow it"),
            );
        }
        if r.method == "post" {
            responses.insert(
                "400".into(),
                problem_response(
                    "Malformed JSON, unknown fields, wrong types, or no Idempotency-Key",
                ),
            );
            responses.insert(
                "409".into(),
                problem_response(
                    "Refused by the procedure (an illegal transition); nothing was written",
                ),
            );
            responses.insert("413".into(), problem_response("The body is over the limit"));
            responses.insert(
                "422".into(),
                problem_response(
                    "A value the policy does not know (estate, step, limit, category, event kind) or an Idempotency-Key reused with another body; nothing was written",
                ),
            );
        }
        if r.path.contains("{id}") {
            responses.insert("404".into(), problem_response("Unknown ticket"));
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(r.path.clone()).or_insert_with(|| json!({}));
        if let Some(m) = entry.as_object_mut() {
            m.insert(r.method.to_owned(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "steward", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Complaint and repair procedures as data, enforced to the minute. Errors are RFC 9457 problem details."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"}}}}
        }
    })
}
