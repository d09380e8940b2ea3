//! What every database command needs: the time and the open database, and how
//! a command fails. The CLI is the only place that reads the clock; the engine is
//! handed `now`.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;

use crate::service::{AppError, Service};
use crate::store::Store;

use super::args::{Format, Global};

/// The --format of this run, for [`fail`], which is called far from the flags.
static FORMAT: OnceLock<Format> = OnceLock::new();

pub fn set_format(format: Format) {
    let _ = FORMAT.set(format);
}

pub fn now(g: &Global) -> Result<DateTime<Utc>, String> {
    match &g.now {
        Some(text) => time_arg(text, &g.db),
        None => Ok(Utc::now().trunc_subsecs(0)),
    }
}

/// A time given on the command line: RFC 3339, or a local time without offset read in
/// the time zone of the database's active policy.
pub fn time_arg(text: &str, db: &Path) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = parse_time(text) {
        return Ok(t);
    }
    if parse_naive(text).is_none() {
        return Err(bad_time(text));
    }
    let tz = active_tz(db).ok_or_else(|| {
        format!(
            "local time `{text}` needs a time zone and `{}` has no active policy: add an offset (like 2026-07-06T09:00:00+08:00) or apply a policy first",
            crate::store::display_name(db)
        )
    })?;
    parse_local(text, tz)
}

pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(0))
        .map_err(|_| bad_time(text))
}

fn bad_time(text: &str) -> String {
    format!(
        "bad time `{text}`: expected RFC 3339 like 2026-07-06T09:00:00+08:00, or local time like 2026-07-06T09:00 or `2026-07-06 09:00`"
    )
}

/// `2026-07-06T09:00`, `2026-07-06 09:00` and the same with seconds.
fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// A local time without offset, read in `tz`. A time that falls in a daylight-saving
/// gap does not exist and is refused; one that occurs twice takes the earlier.
pub fn parse_local(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let naive = parse_naive(text).ok_or_else(|| bad_time(text))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!("local time `{text}` does not exist in {tz} (a daylight-saving gap)")
        })
}

/// The time zone of the company-wide active policy, read without compiling it.
pub fn active_tz(db: &Path) -> Option<Tz> {
    #[derive(serde::Deserialize)]
    struct Head {
        timezone: String,
    }
    let store = Store::open_read_only(db).ok()?;
    let text = store
        .read(|tx| -> Result<_, crate::store::StoreError> {
            match tx.meta("active_policy")? {
                Some(fp) => tx.policy(&fp),
                None => Ok(None),
            }
        })
        .ok()??;
    serde_json::from_str::<Head>(&text)
        .ok()?
        .timezone
        .parse()
        .ok()
}

/// Open (or create) the database: for `policy apply`, which starts one.
pub fn open(g: &Global) -> Result<Service, AppError> {
    Service::open(&g.db)
}

/// Open a database that must exist already: a ticket command on a mistyped path
/// says so and leaves no empty database file behind.
pub fn open_existing(g: &Global) -> Result<Service, AppError> {
    // A PostgreSQL database is created by its administrator, not by steward:
    // connecting says whether it is there.
    if !crate::store::is_postgres(&g.db) && !g.db.exists() {
        return Err(AppError::Invalid(format!(
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

/// An error, exit code 2: one line on stderr, or `{"error": "..."}` on stdout with
/// `--format json`, so a script reading the JSON sees the failure in the same stream.
pub fn fail(message: impl std::fmt::Display) -> i32 {
    if FORMAT.get() == Some(&Format::Json) {
        super::output::json(&serde_json::json!({ "error": message.to_string() }));
    } else {
        super::output::eprint(&format!(
            "error: {}\n",
            super::output::terminal_safe(&message.to_string(), true)
        ));
    }
    super::EXIT_INPUT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_read_in_the_policy_zone() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let want = parse_time("2026-07-06T09:00:00+08:00").unwrap();
        assert_eq!(parse_local("2026-07-06T09:00", tz).unwrap(), want);
        assert_eq!(parse_local("2026-07-06 09:00", tz).unwrap(), want);
        assert_eq!(parse_local(" 2026-07-06 09:00:00 ", tz).unwrap(), want);
        assert!(parse_local("2026-07-06", tz).is_err());
        assert!(parse_local("06/07/2026 09:00", tz).is_err());
    }

    #[test]
    fn a_daylight_saving_gap_is_refused() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let err = parse_local("2026-03-29 02:30", tz).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        // 02:30 on 25 October 2026 happens twice in Berlin: the first (CEST) is taken.
        let t = parse_local("2026-10-25 02:30", tz).unwrap();
        assert_eq!(t, parse_time("2026-10-25T00:30:00Z").unwrap());
    }
}
