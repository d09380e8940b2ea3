//! API tokens and what each role may do. A token is `stw_` followed by 40 hex
//! digits from the OS random source; the database keeps only its SHA-256 (a
//! fast hash is enough for 160 random bits: there is nothing to guess).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::digest;
use crate::service::{AppError, Service};
use crate::store::TokenRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opens tickets and acts on them, in its estates.
    FrontDesk,
    /// Acts on tickets (classify, respond, plan, resolve, ...), in its estates.
    Specialist,
    /// Everything on tickets, external events and the outbox, in all estates by default.
    ServiceCenter,
    /// Reads everything, including the outbox and `audit verify`; writes nothing.
    Auditor,
    /// Everything, including tokens.
    Admin,
}

/// One kind of thing a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    Read,
    Open,
    Act,
    Event,
    Outbox,
    Audit,
    Tokens,
    Metrics,
}

impl Role {
    pub const NAMES: [&'static str; 5] = [
        "front-desk",
        "specialist",
        "service-center",
        "auditor",
        "admin",
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.replace('_', "-").as_str() {
            "front-desk" => Role::FrontDesk,
            "specialist" => Role::Specialist,
            "service-center" => Role::ServiceCenter,
            "auditor" => Role::Auditor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::FrontDesk => "front-desk",
            Role::Specialist => "specialist",
            Role::ServiceCenter => "service-center",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn may(self, p: Perm) -> bool {
        use Perm::*;
        match self {
            Role::FrontDesk => matches!(p, Read | Open | Act),
            Role::Specialist => matches!(p, Read | Act),
            Role::ServiceCenter => matches!(p, Read | Open | Act | Event | Outbox | Metrics),
            Role::Auditor => matches!(p, Read | Outbox | Audit | Metrics),
            Role::Admin => true,
        }
    }

    /// Roles that work in particular estates must be given them.
    pub fn needs_estate(self) -> bool {
        matches!(self, Role::FrontDesk | Role::Specialist)
    }
}

/// Who is asking: the token's name (recorded in the log), role and estates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    /// Empty: all estates.
    pub estates: Vec<String>,
    /// The SHA-256 of its secret, by which the writer checks it is still live.
    pub sha256: String,
}

impl Actor {
    pub fn sees(&self, estate: &str) -> bool {
        self.estates.is_empty() || self.estates.iter().any(|e| e == estate)
    }

    /// `Err` with the message of a 403 unless the role may do `p`.
    pub fn check(&self, p: Perm) -> Result<(), String> {
        if self.role.may(p) {
            Ok(())
        } else {
            Err(format!(
                "token `{}` ({}) may not {}",
                self.name,
                self.role.as_str(),
                match p {
                    Perm::Read => "read tickets",
                    Perm::Open => "open tickets",
                    Perm::Act => "act on tickets",
                    Perm::Event => "record external events",
                    Perm::Outbox => "read the outbox",
                    Perm::Audit => "run audit verify",
                    Perm::Tokens => "manage tokens",
                    Perm::Metrics => "read the metrics",
                }
            ))
        }
    }

    pub fn check_estate(&self, estate: &str) -> Result<(), String> {
        if self.sees(estate) {
            Ok(())
        } else {
            Err(format!(
                "token `{}` is not for estate `{estate}` (it is for {})",
                self.name,
                self.estates.join(", ")
            ))
        }
    }
}

/// A new token as `token create` prints it once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub token: String,
    #[serde(flatten)]
    pub row: TokenRow,
}

pub fn hash(secret: &str) -> String {
    digest::sha256_hex(secret.as_bytes())
}

/// Creates a token; the secret is returned and never stored.
pub fn create(
    svc: &mut Service,
    name: &str,
    role: &str,
    estates: &[String],
    now: DateTime<Utc>,
) -> Result<Created, AppError> {
    let role = Role::parse(role).ok_or_else(|| {
        AppError::Invalid(format!(
            "unknown role `{role}`: use one of {}",
            Role::NAMES.join(", ")
        ))
    })?;
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "a token needs a name of 1 to 100 printable characters".into(),
        ));
    }
    if role.needs_estate() && estates.is_empty() {
        return Err(AppError::Invalid(format!(
            "a {} token works in particular estates: give --estate at least once",
            role.as_str()
        )));
    }
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::System(format!("the OS random source failed: {e}")))?;
    let secret = format!("stw_{}", digest::hex(&bytes));
    let row = TokenRow {
        id: digest::hex(&bytes[..4]),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        estates: estates.to_vec(),
        sha256: hash(&secret),
        created_at: now,
        revoked_at: None,
    };
    let exists = svc.store().read(|tx| tx.tokens())?;
    if exists.iter().any(|t| t.name == name) {
        return Err(AppError::Invalid(format!(
            "a token named `{name}` exists already (revoke it first, or choose another name)"
        )));
    }
    svc.batch(|b| b.tx().insert_token(&row).map_err(AppError::from))?;
    Ok(Created { token: secret, row })
}

/// The actor a bearer token stands for; `None` for an unknown or revoked token.
pub fn lookup(svc: &Service, secret: &str) -> Result<Option<Actor>, AppError> {
    let Some(row) = svc.store().read(|tx| tx.token_by_hash(&hash(secret)))? else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    Ok(Some(Actor {
        name: row.name,
        role,
        estates: row.estates,
        sha256: row.sha256,
    }))
}

/// How long a token checked against the database is believed without asking
/// again. Commands ask again anyway, in their own transaction, so a revoked
/// token writes nothing from the moment it is revoked; reads stop within this.
pub const CACHE_FOR: Duration = Duration::from_secs(2);

/// Tokens recently found live, by the SHA-256 of their secret: a request
/// with a known token costs no database round trip before its command.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<String, (Actor, Instant)>>);

impl Cache {
    pub fn get(&self, sha256: &str) -> Option<Actor> {
        let map = self.0.lock().ok()?;
        let (actor, at) = map.get(sha256)?;
        (at.elapsed() < CACHE_FOR).then(|| actor.clone())
    }

    pub fn put(&self, actor: &Actor) {
        if let Ok(mut map) = self.0.lock() {
            // Bounded: a flood of distinct (bad) tokens is never cached, and
            // good ones are few; drop the stale ones when it grows.
            if map.len() > 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < CACHE_FOR);
            }
            map.insert(actor.sha256.clone(), (actor.clone(), Instant::now()));
        }
    }
}
