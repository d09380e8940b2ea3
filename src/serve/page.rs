//! The page for people: server-rendered HTML, no scripts, no build step.
//! `/` lists open tickets due in the next hours, per estate and department,
//! and the breached ones; `/tickets/{id}` shows one ticket's state and its
//! timeline, each event with the rule that caused it.
//!
//! A browser cannot send a bearer header, so `?token=…` is taken once: it is
//! set as an HttpOnly, SameSite=Strict cookie and the browser is sent back
//! to the same page without it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use axum::extract::{Path, Query, State as Ax};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::cli::{ticket_json, timeline};

use super::State;
use super::api::{self, ListQuery};
use super::auth::{Actor, Perm};
use super::problem::Problem;
use super::writer::policy_tz;

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
th{background:#f4f4f4}.breached{color:#b00020;font-weight:600}h2{margin-top:2rem}code{font-size:90%}";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// A token in the query: set the cookie and redirect without it (the other
/// parameters kept).
fn take_token(path: &str, q: &HashMap<String, String>) -> Option<Response> {
    let token = q.get("token")?;
    let mut rest: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "token")
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect();
    rest.sort();
    let path = if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    let cookie = format!("steward_token={token}; HttpOnly; SameSite=Strict; Path=/");
    let mut r = (StatusCode::SEE_OTHER, "").into_response();
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&path).ok()?);
    r.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).ok()?);
    Some(r)
}

async fn who(s: &State, headers: &HeaderMap) -> Result<Actor, Response> {
    match api::actor(s, headers).await {
        Ok(a) if a.role.may(Perm::Read) => Ok(a),
        Ok(a) => Err(problem_page(Problem::forbidden(format!(
            "token `{}` may not read tickets",
            a.name
        )))),
        Err(p) if p.status == 401 => {
            let form = "<h1>steward</h1><form method=\"get\"><label>API token <input name=\"token\" type=\"password\" size=\"48\"></label> <button>Open</button></form>";
            let mut r = Html(shell("steward", form)).into_response();
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Err(r)
        }
        Err(p) => Err(problem_page(p)),
    }
}

fn problem_page(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!(
        "<h1>{}</h1><p id=\"problem\">{}</p>",
        escape(&p.title),
        escape(&p.detail)
    );
    let mut r = Html(shell(&p.title, &body)).into_response();
    *r.status_mut() = status;
    r
}

pub async fn home(
    Ax(s): Ax<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = take_token("/", &q) {
        return r;
    }
    let actor = match who(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let hours: i64 = q
        .get("hours")
        .and_then(|h| h.parse().ok())
        .filter(|h| (1..=168).contains(h))
        .unwrap_or(8);
    let now = s.clock.now();
    let estates: Vec<Option<String>> = if actor.estates.is_empty() {
        vec![None]
    } else {
        actor.estates.iter().cloned().map(Some).collect()
    };
    let rendered = s
        .readers
        .with(move |svc| {
            let mut due = Vec::new();
            let mut breached = Vec::new();
            for estate in &estates {
                let base = ListQuery {
                    estate: estate.clone(),
                    status: Some("open".into()),
                    category: None,
                    department: None,
                    due_before: Some(now + chrono::Duration::hours(hours)),
                    breached: false,
                    limit: 500,
                    after: None,
                };
                due.extend(api::list_page(svc, &base)?.0);
                let b = ListQuery {
                    due_before: None,
                    breached: true,
                    ..base
                };
                breached.extend(api::list_page(svc, &b)?.0);
            }
            Ok((due, breached))
        })
        .await;
    let (due, breached) = match rendered {
        Ok(x) => x,
        Err(p) => return problem_page(p),
    };
    let mut groups: BTreeMap<(String, String), Vec<_>> = BTreeMap::new();
    for row in due {
        let dept = row
            .0
            .department
            .clone()
            .unwrap_or_else(|| "unassigned".into());
        groups
            .entry((row.0.intake.estate.clone(), dept))
            .or_default()
            .push(row);
    }
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>steward</h1><p>As of <time>{}</time> · signed in as <b>{}</b> ({})</p>",
        escape(&now.to_rfc3339()),
        escape(&actor.name),
        actor.role.as_str()
    );
    let _ = write!(body, "<h2 id=\"due\">Due in the next {hours} hours</h2>");
    if groups.is_empty() {
        body.push_str("<p class=\"empty\">Nothing is due.</p>");
    }
    for ((estate, dept), mut rows) in groups {
        rows.sort_by_key(|r| r.1);
        let _ = write!(body, "<h3>{} · {}</h3>", escape(&estate), escape(&dept));
        body.push_str(&table_of(&rows));
    }
    body.push_str("<h2 id=\"breached\">Breached</h2>");
    if breached.is_empty() {
        body.push_str("<p class=\"empty\">No open ticket has breached a limit.</p>");
    } else {
        body.push_str(&table_of(&breached));
    }
    Html(shell("steward", &body)).into_response()
}

fn table_of(
    rows: &[(
        crate::engine::Ticket,
        Option<chrono::DateTime<chrono::Utc>>,
        chrono_tz::Tz,
    )],
) -> String {
    let mut t = String::from(
        "<table><tr><th>ticket</th><th>estate</th><th>category</th><th>step</th><th>next deadline</th><th>breaches</th><th>text</th></tr>",
    );
    for (ticket, due, tz) in rows {
        let id = escape(ticket.id());
        let class = if ticket.breaches > 0 {
            " class=\"breached\""
        } else {
            ""
        };
        let _ = write!(
            t,
            "<tr{class}><td><a href=\"/tickets/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&ticket.intake.estate),
            escape(ticket.category.as_deref().unwrap_or("-")),
            escape(ticket_json::step(ticket)),
            due.map(|d| timeline::local(d, *tz))
                .unwrap_or_else(|| "-".into()),
            ticket.breaches,
            escape(&ticket.intake.text),
        );
    }
    t.push_str("</table>");
    t
}

pub async fn ticket(
    Ax(s): Ax<State>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = take_token(&format!("/tickets/{}", urlencode(&id)), &q) {
        return r;
    }
    let actor = match who(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let shown = s
        .readers
        .with(move |svc| {
            let (ticket, recorded) = svc.timeline(&id)?;
            actor
                .check_estate(&ticket.intake.estate)
                .map_err(Problem::forbidden)?;
            let tz = svc
                .store()
                .read(|tx| Ok::<_, crate::store::StoreError>(policy_tz(tx, &ticket.fingerprint)))?;
            Ok((ticket, recorded, tz))
        })
        .await;
    let (ticket, recorded, tz) = match shown {
        Ok(x) => x,
        Err(p) => return problem_page(p),
    };
    let id = escape(ticket.id());
    let mut body = format!(
        "<p><a href=\"/\">← all tickets</a></p><h1>{id}</h1><pre id=\"state\">{}</pre><h2>Timeline</h2>",
        escape(&timeline::state(&ticket, tz))
    );
    body.push_str("<table id=\"timeline\"><tr><th>time</th><th>what happened</th><th>why (rule)</th><th>policy</th></tr>");
    for r in &recorded {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&timeline::local(r.decision.at, tz)),
            escape(&timeline::summary(&r.decision.fact, tz)),
            escape(r.decision.rule.as_deref().unwrap_or("-")),
            escape(timeline::short(&r.fingerprint)),
        );
    }
    body.push_str("</table>");
    Html(shell(ticket.id(), &body)).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
