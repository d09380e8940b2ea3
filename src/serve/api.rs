//! The JSON handlers. Each one: who is asking (401), may they (403), is the
//! request well formed (400/413), then one call into the service, through the
//! writer for commands and a read-only connection for reads. The JSON shapes
//! are the CLI's `--format json` shapes (docs/cli-json.md).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as Ax};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::cli::ticket_json;
use crate::engine::{Command, Ticket};
use crate::store::TicketQuery;

use super::State;
use super::auth::{self, Actor, Perm};
use super::bodies;
use super::problem::Problem;
use super::writer::{Answer, Op, policy_tz};

pub type Result<T> = std::result::Result<T, Problem>;

/// The bearer token of the request: `Authorization: Bearer …`, or for the
/// page the `steward_token` cookie.
pub fn secret(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|s| s.trim().to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("steward_token=").map(str::to_owned))
}

pub async fn actor(s: &State, headers: &HeaderMap) -> Result<Actor> {
    let Some(secret) = secret(headers) else {
        return Err(Problem::unauthorized(
            "no API token: send `Authorization: Bearer <token>` (`steward token create` makes one)",
        ));
    };
    let sha256 = auth::hash(&secret);
    if let Some(a) = s.tokens.get(&sha256) {
        return Ok(a);
    }
    let a = s
        .readers
        .with(move |svc| {
            auth::lookup(svc, &secret)?.ok_or_else(|| {
                Problem::unauthorized("the API token is not valid (unknown or revoked)")
            })
        })
        .await?;
    s.tokens.put(&a);
    Ok(a)
}

async fn allowed(s: &State, headers: &HeaderMap, p: Perm) -> Result<Actor> {
    let a = actor(s, headers).await?;
    a.check(p).map_err(Problem::forbidden)?;
    Ok(a)
}

fn idempotency_key(headers: &HeaderMap) -> Result<String> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::trim).unwrap_or(""));
    match key {
        Some(k) if !k.is_empty() && k.len() <= 200 => Ok(k.to_owned()),
        Some(_) => Err(Problem::bad_request(
            "the Idempotency-Key header must be 1 to 200 visible ASCII characters",
        )),
        None => Err(Problem::bad_request(
            "every POST needs an Idempotency-Key header (a unique string such as a UUID): a retry with the same key returns the first response and writes nothing",
        )),
    }
}

fn body(b: std::result::Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                format!("the request body is larger than the limit of {limit} bytes; nothing was written"),
            )
        } else {
            Problem::new(r.status(), "bad-body", r.body_text())
        }
    })
}

fn request_digest(method: &str, path: &str, body: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(body.len() + path.len() + 8);
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(body);
    crate::digest::sha256_hex(&bytes)
}

pub fn answer(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if status.is_success() {
        "application/json"
    } else {
        super::problem::CONTENT_TYPE
    };
    let mut r = (status, a.body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if a.replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn either(r: Result<Response>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

// ---- commands ---------------------------------------------------------------

pub async fn open(
    Ax(s): Ax<State>,
    headers: HeaderMap,
    b: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Open).await?;
            let key = idempotency_key(&headers)?;
            let b = body(b, s.body_limit)?;
            let intake = bodies::open(&b)?;
            actor
                .check_estate(&intake.estate)
                .map_err(Problem::forbidden)?;
            let request = request_digest("POST", "/v1/tickets", &b);
            Ok(answer(
                submit(&s, Op::Open(intake), actor, key, request).await,
            ))
        }
        .await,
    )
}

pub async fn act(
    s: State,
    id: String,
    action: &'static str,
    headers: HeaderMap,
    b: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Act).await?;
            let key = idempotency_key(&headers)?;
            let b = body(b, s.body_limit)?;
            let command: Command = bodies::action(action, &b)?;
            // The ticket's estate is checked against the token's by the
            // writer, which reads the ticket anyway: no extra round trip.
            let request = request_digest("POST", &format!("/v1/tickets/{id}/{action}"), &b);
            Ok(answer(
                submit(&s, Op::Execute { id, command }, actor, key, request).await,
            ))
        }
        .await,
    )
}

pub async fn event(
    Ax(s): Ax<State>,
    headers: HeaderMap,
    b: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Event).await?;
            let key = idempotency_key(&headers)?;
            let b = body(b, s.body_limit)?;
            let e: bodies::Event = bodies::parse(&b, "event")?;
            actor.check_estate(&e.estate).map_err(Problem::forbidden)?;
            let request = request_digest("POST", "/v1/events", &b);
            let op = Op::Event {
                estate: e.estate,
                kind: e.kind,
            };
            Ok(answer(submit(&s, op, actor, key, request).await))
        }
        .await,
    )
}

pub async fn feed(
    Ax(s): Ax<State>,
    headers: HeaderMap,
    b: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Event).await?;
            let key = idempotency_key(&headers)?;
            let b = body(b, s.body_limit)?;
            let f: bodies::Feed = bodies::parse(&b, "feed")?;
            let request = request_digest("POST", "/v1/events/feed", &b);
            let op = Op::Feed {
                plugin: f.plugin,
                input: f.input,
            };
            Ok(answer(submit(&s, op, actor, key, request).await))
        }
        .await,
    )
}

async fn submit(s: &State, op: Op, actor: Actor, key: String, request: String) -> Answer {
    s.writer.submit(op, actor, Some(key), request).await
}

// ---- reads ------------------------------------------------------------------

pub async fn show(Ax(s): Ax<State>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Read).await?;
            let v = s
                .readers
                .with(move |svc| {
                    let (ticket, recorded) = svc.timeline(&id)?;
                    actor
                        .check_estate(&ticket.intake.estate)
                        .map_err(Problem::forbidden)?;
                    let tz = svc.store().read(|tx| {
                        Ok::<_, crate::store::StoreError>(policy_tz(tx, &ticket.fingerprint))
                    })?;
                    Ok(ticket_json::detail(&ticket, &recorded, tz))
                })
                .await?;
            Ok(json(StatusCode::OK, &v))
        }
        .await,
    )
}

const LIST_KEYS: [&str; 9] = [
    "estate",
    "status",
    "category",
    "department",
    "due_before",
    "breached",
    "limit",
    "cursor",
    "token",
];

/// The filters of `GET /v1/tickets`, checked: unknown names and bad values are refused.
pub struct ListQuery {
    pub estate: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub breached: bool,
    pub limit: usize,
    pub after: Option<(DateTime<Utc>, String)>,
}

pub fn list_query(q: &HashMap<String, String>, actor: &Actor) -> Result<ListQuery> {
    if let Some(k) = q.keys().find(|k| !LIST_KEYS.contains(&k.as_str())) {
        return Err(Problem::bad_request(format!(
            "unknown query parameter `{k}`: use {}",
            LIST_KEYS[..8].join(", ")
        )));
    }
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let status = get("status");
    if let Some(st) = &status
        && !["open", "resolved", "closed", "invalid"].contains(&st.as_str())
    {
        return Err(Problem::bad_request(format!(
            "status `{st}` is not one of open, resolved, closed, invalid"
        )));
    }
    let due_before = get("due_before")
        .map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| {
                    Problem::bad_request(format!(
                        "bad time `{t}`: expected RFC 3339 like 2026-07-06T09:00:00+08:00"
                    ))
                })
        })
        .transpose()?;
    let breached = match get("breached").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "breached `{other}` is not true or false"
            )));
        }
    };
    let limit = match get("limit") {
        None => 50,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(Problem::bad_request(format!(
                    "limit `{n}` is not a number from 1 to 1000"
                )));
            }
        },
    };
    let after = get("cursor").map(|c| decode_cursor(&c)).transpose()?;
    let mut estate = get("estate");
    if let Some(e) = &estate {
        actor.check_estate(e).map_err(Problem::forbidden)?;
    } else if actor.estates.len() == 1 {
        estate = actor.estates.first().cloned();
    } else if !actor.estates.is_empty() {
        return Err(Problem::bad_request(format!(
            "token `{}` is for several estates: name one with estate= ({})",
            actor.name,
            actor.estates.join(", ")
        )));
    }
    Ok(ListQuery {
        estate,
        status,
        category: get("category"),
        department: get("department"),
        due_before,
        breached,
        limit,
        after,
    })
}

fn encode_cursor(t: &Ticket) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        t.opened_at.to_rfc3339(),
        t.id()
    ))
}

fn decode_cursor(c: &str) -> Result<(DateTime<Utc>, String)> {
    let bad = || Problem::bad_request(format!("cursor `{c}` is not one this server handed out"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (t, id) = text.split_once('|').ok_or_else(bad)?;
    let t = DateTime::parse_from_rfc3339(t).map_err(|_| bad())?;
    Ok((t.with_timezone(&Utc), id.to_owned()))
}

/// A ticket of a list, its nearest deadline, and its policy's time zone.
pub type Listed = (Ticket, Option<DateTime<Utc>>, chrono_tz::Tz);

/// The page of tickets a query selects, newest first, and the cursor of the next page.
pub fn list_page(
    svc: &crate::service::Service,
    q: &ListQuery,
) -> Result<(Vec<Listed>, Option<String>)> {
    let query = TicketQuery {
        estate: q.estate.as_deref(),
        status: q.status.as_deref(),
        category: q.category.as_deref(),
        department: q.department.as_deref(),
        breached: q.breached,
        due_before: q.due_before,
        sort: crate::store::TicketSort::Newest,
        limit: Some(q.limit + 1),
    };
    let mut zones = super::writer::Zones::default();
    let rows = svc.store().read(|tx| -> Result<_> {
        let mut out = Vec::new();
        let after = q.after.as_ref().map(|(t, id)| (*t, id.as_str()));
        let mut bad = None;
        tx.list_tickets_after(&query, after, |listed| {
            match crate::service::parse_ticket(&listed.row) {
                Ok(t) => {
                    let tz = zones.of(tx, &t.fingerprint);
                    out.push((t, listed.next_due, tz));
                }
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
            Ok(())
        })?;
        if let Some(e) = bad {
            return Err(Problem::from_app(&e));
        }
        Ok(out)
    })?;
    let mut rows = rows;
    let next = if rows.len() > q.limit {
        rows.truncate(q.limit);
        rows.last().map(|(t, _, _)| encode_cursor(t))
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn list(
    Ax(s): Ax<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Read).await?;
            let q = list_query(&q, &actor)?;
            let v = s
                .readers
                .with(move |svc| {
                    let (rows, next) = list_page(svc, &q)?;
                    let tickets: Vec<_> = rows
                        .iter()
                        .map(|(t, due, tz)| ticket_json::row(t, *due, *tz))
                        .collect();
                    Ok(serde_json::json!({"tickets": tickets, "next_cursor": next}))
                })
                .await?;
            Ok(json(StatusCode::OK, &v))
        }
        .await,
    )
}

pub async fn outbox(
    Ax(s): Ax<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    either(
        async {
            let actor = allowed(&s, &headers, Perm::Outbox).await?;
            if let Some(k) = q
                .keys()
                .find(|k| !["ticket", "state", "limit"].contains(&k.as_str()))
            {
                return Err(Problem::bad_request(format!(
                    "unknown query parameter `{k}`: use ticket, state, limit"
                )));
            }
            let limit = match q.get("limit") {
                None => 100,
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        Problem::bad_request(format!("limit `{n}` is not a number from 1 to 1000"))
                    })?,
            };
            let state = q.get("state").cloned();
            if let Some(st) = &state
                && !["unrouted", "held", "no channel", "pending", "delivered", "dead"]
                    .contains(&st.as_str())
            {
                return Err(Problem::bad_request(format!(
                    "state `{st}` is not one of unrouted, held, no channel, pending, delivered, dead"
                )));
            }
            let ticket = q.get("ticket").cloned();
            let rows = s
                .readers
                .with(move |svc| {
                    Ok(svc
                        .store()
                        .read(|tx| tx.outbox(ticket.as_deref(), limit, state.as_deref()))?)
                })
                .await?;
            let rows: Vec<_> = rows
                .into_iter()
                .filter(|r| actor.sees(&r.entry.estate))
                .collect();
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "entries": rows }),
            ))
        }
        .await,
    )
}

pub async fn verify(Ax(s): Ax<State>, headers: HeaderMap) -> Response {
    either(
        async {
            allowed(&s, &headers, Perm::Audit).await?;
            let v = s.readers.with(|svc| Ok(svc.verify()?)).await?;
            let status = if v.ok {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            Ok(json(status, &serde_json::to_value(&v).unwrap_or_default()))
        }
        .await,
    )
}

// ---- operations ---------------------------------------------------------------

pub async fn healthz() -> Response {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

pub async fn readyz(Ax(s): Ax<State>) -> Response {
    if !s.ready.load(std::sync::atomic::Ordering::Acquire) {
        return Problem::unavailable("the server is starting or shutting down").into_response();
    }
    match s
        .readers
        .with(|svc| Ok(svc.store().read(|tx| tx.head_seq())?))
        .await
    {
        Ok(head) => json(
            StatusCode::OK,
            &serde_json::json!({"status": "ready", "events": head}),
        ),
        Err(p) => Problem::unavailable(format!("the database cannot be read: {}", p.detail))
            .into_response(),
    }
}

pub async fn metrics(Ax(s): Ax<State>, headers: HeaderMap) -> Response {
    if !s.metrics_public
        && let Err(p) = allowed(&s, &headers, Perm::Metrics).await
    {
        return p.into_response();
    }
    let now = s.clock.now();
    match s
        .readers
        .with(move |svc| Ok(svc.store().read(|tx| tx.gauges(now))?))
        .await
    {
        Ok(g) => {
            let mut r = s.metrics.render(&g).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        Err(p) => p.into_response(),
    }
}

pub async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        format!("no route {method} {}: see /openapi.json", uri.path()),
    )
    .into_response()
}
