#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! A steward server on loopback for the tests: a fresh database with the
//! embedded default policy, tokens for each role, a manual clock, and a
//! reqwest client.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward::outbox::Deployment;
use steward::policy::embedded;
use steward::serve::{self, ManualClock, Running, auth};
use steward::service::Service;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Monday 2026-07-06 09:00 in Shanghai.
pub fn t0() -> DateTime<Utc> {
    at("2026-07-06T09:00:00+08:00")
}

pub struct Tokens {
    pub admin: String,
    pub desk: String,
    pub specialist: String,
    pub center: String,
    pub auditor: String,
    pub desk_gardens: String,
}

/// A database with the embedded policy applied at `start` and one token per role.
pub fn database(dir: &Path, start: DateTime<Utc>) -> (PathBuf, Tokens) {
    let db = crate::backend::fresh_db(dir);
    let mut svc = Service::open(&db).unwrap();
    let company = embedded::load("vk-shanghai").ok().unwrap();
    svc.apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, start)
        .unwrap();
    let mut mk = |name: &str, role: &str, estates: &[&str]| {
        let e: Vec<String> = estates.iter().map(|s| s.to_string()).collect();
        auth::create(&mut svc, name, role, &e, start).unwrap().token
    };
    let tokens = Tokens {
        admin: mk("admin", "admin", &[]),
        desk: mk("desk-riverside", "front-desk", &["riverside"]),
        specialist: mk("specialist-riverside", "specialist", &["riverside"]),
        center: mk("center", "service-center", &[]),
        auditor: mk("auditor", "auditor", &[]),
        desk_gardens: mk("desk-gardens", "front-desk", &["gardens"]),
    };
    (db, tokens)
}

pub struct Server {
    pub running: Option<Running>,
    pub base: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

pub async fn start(db: &Path, clock: &ManualClock, deployment: Option<Deployment>) -> Server {
    start_with(db, clock, deployment, |_| {}).await
}

/// [`start`] with the configuration changed by `f` first.
pub async fn start_with(
    db: &Path,
    clock: &ManualClock,
    deployment: Option<Deployment>,
    f: impl FnOnce(&mut serve::Config),
) -> Server {
    let mut config = serve::Config::new(db.to_path_buf());
    config.clock = Arc::new(clock.clone());
    config.deployment = deployment;
    config.body_limit = 16 * 1024;
    f(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = serve::start(config, listener, false).await.unwrap();
    let base = format!("http://{}", running.addr);
    Server {
        running: Some(running),
        base,
        clock: clock.clone(),
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap(),
    }
}

pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub replayed: bool,
    pub content_type: String,
}

impl Server {
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        reply(r).await
    }

    pub async fn post(&self, token: &str, path: &str, key: &str, body: &str) -> Reply {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        reply(r).await
    }
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        json,
        replayed,
        content_type,
    }
}

/// The number of events in the log.
pub fn events(db: &Path) -> i64 {
    let svc = Service::open_read_only(db).unwrap();
    svc.store().read(|tx| tx.event_count()).unwrap()
}

pub fn emergency(id: &str, estate: &str) -> String {
    serde_json::json!({"id": id, "estate": estate, "kind": "repair", "text": "厨房水管爆裂，漏水严重", "urgency": "emergency"}).to_string()
}
