//! One delivery attempt over one channel. Every attempt carries the same
//! delivery id (`<seq>-<recipient>-<channel>`), so a receiver that sees a
//! retry of something it already has can drop it: delivery is at least once.

use std::time::Duration;

use base64::Engine;

use super::deploy::Channel;
use crate::store::OutboxEntry;

/// What is sent: the entry and its text, as a person reads it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Message {
    pub delivery_id: String,
    pub seq: i64,
    pub ticket: String,
    pub estate: String,
    pub recipient: String,
    pub kind: String,
    pub rule: Option<String>,
    pub at: String,
    pub text: String,
    /// The decided fact as the log records it.
    pub fact: serde_json::Value,
}

impl Message {
    pub fn new(e: &OutboxEntry, channel: &str, text: String, tz: chrono_tz::Tz) -> Message {
        let fact = serde_json::from_str::<serde_json::Value>(&e.payload)
            .ok()
            .and_then(|v| v.get("fact").cloned())
            .unwrap_or(serde_json::Value::Null);
        Message {
            delivery_id: delivery_id(e.seq, &e.recipient, channel),
            seq: e.seq,
            ticket: e.ticket.clone(),
            estate: e.estate.clone(),
            recipient: e.recipient.clone(),
            kind: e.kind.clone(),
            rule: e.rule.clone(),
            at: e.at.with_timezone(&tz).to_rfc3339(),
            text,
            fact,
        }
    }
}

pub fn delivery_id(seq: i64, recipient: &str, channel: &str) -> String {
    format!("{seq}-{recipient}-{channel}")
}

/// `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: the value of the
/// `X-Steward-Signature` header (the timestamp is in `X-Steward-Timestamp`).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = crate::digest::hmac_sha256(
        secret.as_bytes(),
        &[timestamp.to_string().as_bytes(), b".", body],
    );
    format!("sha256={}", crate::digest::hex(&mac))
}

/// DingTalk's 加签: `timestamp` (ms) and the URL-encoded Base64 of
/// HMAC-SHA256 over `timestamp + "\n" + secret`, keyed by the secret.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let text = format!("{timestamp_ms}\n{secret}");
    let mac = crate::digest::hmac_sha256(secret.as_bytes(), &[text.as_bytes()]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(mac);
    b64.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Sends `m` over `channel`; `Err` says why the attempt failed.
pub async fn send(
    client: &reqwest::Client,
    name: &str,
    channel: &Channel,
    m: &Message,
    now_unix: i64,
    timeout: Duration,
) -> Result<(), String> {
    match channel {
        Channel::Webhook { url, secret } => {
            let body = serde_json::to_vec(m).map_err(|e| e.to_string())?;
            let r = client
                .post(url)
                .timeout(timeout)
                .header("content-type", "application/json")
                .header("x-steward-delivery", &m.delivery_id)
                .header("x-steward-timestamp", now_unix.to_string())
                .header("x-steward-signature", signature(secret, now_unix, &body))
                .body(body)
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let status = r.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("{name}: the receiver answered {status}"))
            }
        }
        Channel::Wecom { url } => robot(client, name, url, m, timeout).await,
        Channel::Dingtalk { url, secret } => {
            let url = match secret {
                Some(s) => {
                    let ms = now_unix.saturating_mul(1000);
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{sep}timestamp={ms}&sign={}", dingtalk_sign(s, ms))
                }
                None => url.clone(),
            };
            robot(client, name, &url, m, timeout).await
        }
        Channel::Email { .. } => super::mail::send(name, channel, m, timeout).await,
    }
}

/// WeCom and DingTalk group robots take the same text message and both answer
/// 200 with `errcode` 0 on success; anything else is a failure.
async fn robot(
    client: &reqwest::Client,
    name: &str,
    url: &str,
    m: &Message,
    timeout: Duration,
) -> Result<(), String> {
    let body = serde_json::json!({"msgtype": "text", "text": {"content": m.text}});
    let r = client
        .post(url)
        .timeout(timeout)
        .json(&body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = r.status();
    if !status.is_success() {
        return Err(format!("{name}: the robot answered {status}"));
    }
    let answer: serde_json::Value = r
        .json()
        .await
        .map_err(|e| format!("{name}: the robot's answer is not JSON: {e}"))?;
    match answer.get("errcode").and_then(serde_json::Value::as_i64) {
        Some(0) => Ok(()),
        code => Err(format!(
            "{name}: the robot refused the message (errcode {}, {})",
            code.map_or("missing".to_owned(), |c| c.to_string()),
            answer.get("errmsg").and_then(|v| v.as_str()).unwrap_or("")
        )),
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The primitive is checked against RFC 4231 in `digest`; here the framing.
        let mac = crate::digest::hmac_sha256(b"k", &[b"1.{}"]);
        let a = signature("k", 1, b"{}");
        assert_eq!(a, format!("sha256={}", crate::digest::hex(&mac)));
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("k", 2, b"{}"));
        assert_ne!(a, signature("k2", 1, b"{}"));
    }

    #[test]
    fn dingtalk_sign_is_url_encoded_base64() {
        let s = dingtalk_sign("SECxyz", 1_700_000_000_000);
        assert!(
            !s.contains('+') && !s.contains('/') && !s.contains('='),
            "{s}"
        );
        assert_eq!(s, dingtalk_sign("SECxyz", 1_700_000_000_000));
    }
}
