//! What every database command needs: the time and the open database. The CLI is
//! the only place that reads the clock; the engine is handed `now`.

use chrono::{DateTime, SubsecRound, Utc};

use crate::service::{AppError, Service};

use super::args::Global;

pub fn now(g: &Global) -> Result<DateTime<Utc>, String> {
    match &g.now {
        Some(text) => parse_time(text),
        None => Ok(Utc::now().trunc_subsecs(0)),
    }
}

pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(0))
        .map_err(|_| format!("bad time `{text}`: expected RFC 3339 like 2026-07-01T09:00:00+08:00"))
}

/// Open (or create) the database: for `policy apply`, which starts one.
pub fn open(g: &Global) -> Result<Service, AppError> {
    Service::open(&g.db)
}

/// Open a database that must exist already: a ticket command on a mistyped path
/// says so and leaves no empty database file behind.
pub fn open_existing(g: &Global) -> Result<Service, AppError> {
    if !g.db.exists() {
        return Err(AppError::Policy(format!(
            "{}: run `steward policy apply PATH` to create it",
            crate::store::StoreError::NotFound {
                path: g.db.display().to_string(),
            }
        )));
    }
    Service::open(&g.db)
}

pub fn open_read_only(g: &Global) -> Result<Service, AppError> {
    Service::open_read_only(&g.db)
}

/// One-line error, exit code 2.
pub fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!(
        "error: {}",
        super::output::terminal_safe(&message.to_string(), true)
    );
    super::EXIT_INPUT
}
