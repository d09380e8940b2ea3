//! The deployment file: where notifications go. Policies name roles and
//! departments (`service_center`, `engineering`); this file, kept beside the
//! server and outside the policy (it holds secrets), maps them per estate to
//! channels. See docs/serve.md for the format.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    #[serde(default)]
    pub dispatch: Dispatch,
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
}

/// Retry schedule: attempt `n` (1-based) failing waits
/// `min(max_delay, base_delay * 2^(n-1))`, times a random factor in [0.5, 1]
/// (so a crowd of failures does not retry in step); after `max_attempts`
/// attempts the delivery is dead (kept, shown, not retried).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    #[serde(default = "max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "base_delay")]
    pub base_delay_seconds: u64,
    #[serde(default = "max_delay")]
    pub max_delay_seconds: u64,
    /// How long one attempt may take (connect, send, answer).
    #[serde(default = "timeout")]
    pub timeout_seconds: u64,
    /// How long a server's claim on a delivery lasts: another server on the
    /// same database sends it only after that, if the first never recorded
    /// an outcome (it died mid-send). Longer than an attempt's timeout, so a
    /// live server's attempt ends before anybody else may claim it.
    #[serde(default = "lease")]
    pub lease_seconds: u64,
}

fn max_attempts() -> u32 {
    8
}
fn base_delay() -> u64 {
    10
}
fn max_delay() -> u64 {
    3600
}
fn timeout() -> u64 {
    10
}
fn lease() -> u64 {
    60
}

impl Default for Dispatch {
    fn default() -> Self {
        Dispatch {
            max_attempts: max_attempts(),
            base_delay_seconds: base_delay(),
            max_delay_seconds: max_delay(),
            timeout_seconds: timeout(),
            lease_seconds: lease(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Channel {
    /// JSON POST, signed with HMAC-SHA256 of `timestamp.body` under `secret`.
    Webhook { url: String, secret: String },
    /// A WeCom (企业微信) group robot: its webhook URL with the key.
    Wecom { url: String },
    /// A DingTalk (钉钉) group robot: its webhook URL, and the signing secret
    /// when the robot has 加签 turned on.
    Dingtalk {
        url: String,
        #[serde(default)]
        secret: Option<String>,
    },
    /// E-mail over SMTP.
    Email {
        host: String,
        #[serde(default)]
        port: Option<u16>,
        /// `tls` (implicit TLS, port 465), `starttls` (587) or `none` (a local relay).
        #[serde(default = "starttls")]
        security: String,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        from: String,
        to: Vec<String>,
    },
}

fn starttls() -> String {
    "starttls".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// An estate id, or `*` for all.
    #[serde(default = "any")]
    pub estate: String,
    /// A role or department the policy notifies, or `*` for all.
    pub to: String,
    pub channels: Vec<String>,
}

fn any() -> String {
    "*".into()
}

impl Deployment {
    pub fn load(path: &Path) -> Result<Deployment, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read deployment file `{}`: {e}", path.display()))?;
        Deployment::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Deployment, String> {
        let d: Deployment = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, r) in d.routes.iter().enumerate() {
            for c in &r.channels {
                if !d.channels.contains_key(c) {
                    return Err(format!(
                        "route {} (to `{}`) names channel `{c}`, which no [channels.{c}] table defines",
                        i + 1,
                        r.to
                    ));
                }
            }
        }
        for (name, c) in &d.channels {
            if let Channel::Email { security, .. } = c
                && !["tls", "starttls", "none"].contains(&security.as_str())
            {
                return Err(format!(
                    "channel `{name}`: security `{security}` is not one of tls, starttls, none"
                ));
            }
            let url = match c {
                Channel::Webhook { url, .. }
                | Channel::Wecom { url }
                | Channel::Dingtalk { url, .. } => url,
                Channel::Email { .. } => continue,
            };
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!(
                    "channel `{name}`: url `{url}` is not an http(s) URL"
                ));
            }
        }
        if d.dispatch.max_attempts == 0 {
            return Err("dispatch.max_attempts must be at least 1".into());
        }
        // Attempts are given at least one second (see the dispatcher), and
        // the outcome must be recorded before the lease lapses.
        let attempt = d.dispatch.timeout_seconds.max(1);
        if d.dispatch.lease_seconds <= attempt {
            return Err(format!(
                "dispatch.lease_seconds ({}) must be longer than dispatch.timeout_seconds ({attempt}): \
                 another server would claim a delivery while this one is still sending it",
                d.dispatch.lease_seconds
            ));
        }
        Ok(d)
    }

    /// The channels an entry for `recipient` of `estate` goes to, each once, in name order.
    pub fn channels_for(&self, estate: &str, recipient: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .routes
            .iter()
            .filter(|r| {
                (r.estate == "*" || r.estate == estate) && (r.to == "*" || r.to == recipient)
            })
            .flat_map(|r| r.channels.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The delay before the next attempt after `attempts` failed ones, with
    /// `jitter` in [0, 1) from the caller (the random factor).
    pub fn backoff(&self, attempts: u32, jitter: f64) -> std::time::Duration {
        let d = &self.dispatch;
        let exp = d
            .base_delay_seconds
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
        let capped = exp.min(d.max_delay_seconds) as f64;
        std::time::Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[dispatch]
max_attempts = 3
base_delay_seconds = 2
max_delay_seconds = 5

[channels.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret = "s3cret"

[channels.sc]
type = "wecom"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"

[[route]]
estate = "riverside"
to = "service_center"
channels = ["sc", "hook"]

[[route]]
to = "*"
channels = ["hook"]
"#;

    #[test]
    fn routes_match_estate_and_recipient() {
        let d = Deployment::parse(FILE).unwrap();
        assert_eq!(
            d.channels_for("riverside", "service_center"),
            ["hook", "sc"]
        );
        assert_eq!(d.channels_for("gardens", "service_center"), ["hook"]);
        assert_eq!(d.channels_for("gardens", "engineering"), ["hook"]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let d = Deployment::parse(FILE).unwrap();
        assert_eq!(d.backoff(1, 1.0).as_secs(), 2);
        assert_eq!(d.backoff(2, 1.0).as_secs(), 4);
        assert_eq!(d.backoff(3, 1.0).as_secs(), 5);
        assert_eq!(d.backoff(30, 1.0).as_secs(), 5);
        assert_eq!(d.backoff(2, 0.0).as_secs(), 2);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = Deployment::parse("[[route]]\nto = \"x\"\nchannels = [\"nope\"]\n").unwrap_err();
        assert!(e.contains("channel `nope`"), "{e}");
        let e = Deployment::parse("[channels.a]\ntype = \"fax\"\n").unwrap_err();
        assert!(e.contains("fax") && e.contains("line"), "{e}");
        let e =
            Deployment::parse("[channels.a]\ntype = \"wecom\"\nurl = \"ftp://x\"\n").unwrap_err();
        assert!(e.contains("not an http"), "{e}");
        let e = Deployment::parse("[dispatch]\ntimeout_seconds = 30\nlease_seconds = 30\n")
            .unwrap_err();
        assert_eq!(
            e,
            "dispatch.lease_seconds (30) must be longer than dispatch.timeout_seconds (30): \
             another server would claim a delivery while this one is still sending it"
        );
        let d = Deployment::parse("[dispatch]\ntimeout_seconds = 5\n").unwrap();
        assert_eq!(d.dispatch.lease_seconds, 60);
    }
}
