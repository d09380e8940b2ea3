//! Reports and KPIs the seed procedures ask for: the daily complaint report
//! (日报, K1/L3), weekly statistics (K2) and the quarterly report (K3, K4, V1),
//! computed from the event log alone so that the same log always gives the
//! same figures, and naming the policy fingerprints in force.
//!
//! | file | owns |
//! |---|---|
//! | `period.rs` | report kinds, periods cut in the policy's timezone, chart buckets |
//! | `aggregate.rs` | the single streaming fold over the log (pure) |
//! | `event.rs` | the fields of each fact the fold reads, from a `Fact` or a payload |
//! | `finish.rs` | rates, per-specialist/department tables, K4 against households (pure) |
//! | `figures.rs` | the serializable [`PeriodReport`] every renderer prints |
//! | `households.rs` | `--households E=N` and the `--estates` TOML file |
//! | `render/*.rs` | table, CSV and self-contained HTML with SVG charts |
//!
//! [`generate`] is the only function that touches the store: it reads the
//! active policy's timezone, streams the log once through [`Aggregator`], and
//! looks up the in-force policies' labels.
//!
//! ```no_run
//! use steward::report::{self, PeriodSpec, ReportKind, Request};
//! let store = steward::store::Store::open_read_only("steward.db".as_ref()).ok().unwrap();
//! let req = Request {
//!     kind: ReportKind::Quarterly,
//!     period: PeriodSpec::Quarter(2026, 3),
//!     estate: None,
//!     households: Default::default(),
//!     now: chrono::Utc::now(),
//! };
//! let r = report::generate(&store, &req).ok().unwrap();
//! println!("{}", report::render::table(&r));
//! ```

/// The steward build, as reports name it: version and git commit (from `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("STEWARD_GIT_COMMIT"),
    ")"
);

mod aggregate;
mod error;
mod event;
mod figures;
mod finish;
pub mod households;
pub mod lang;
mod period;
pub mod render;
pub mod visits;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

pub use aggregate::{Aggregator, Heads};
pub use error::ReportError;
pub use event::Ev;
pub use figures::*;
pub use finish::finish;
pub use households::Households;
pub use lang::Lang;
pub use period::{Period, PeriodSpec, ReportKind, parse_date, parse_quarter};

use crate::store::{Store, StoreError, Tx};

/// What to report on.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: ReportKind,
    pub period: PeriodSpec,
    pub estate: Option<String>,
    pub households: Households,
    /// The CLI's `--now`: only used for the default period.
    pub now: DateTime<Utc>,
}

/// Reads the log once and computes the report; see the module documentation.
pub fn generate(store: &Store, req: &Request) -> Result<PeriodReport, ReportError> {
    let name = store.path().display().to_string();
    store.read(|tx| -> Result<PeriodReport, ReportError> {
        let fp = active_fingerprint(tx, req.estate.as_deref())?;
        let active = head(tx, &fp)?.ok_or(ReportError::NoPolicy)?;
        let tz: Tz = active.timezone.parse().map_err(|_| {
            ReportError::BadPolicy(
                fp.clone(),
                format!("unknown timezone `{}`", active.timezone),
            )
        })?;
        let today = req.now.with_timezone(&tz).date_naive();
        let period = Period::resolve(req.kind, &req.period, tz, today)?;
        // The period just before, folded in the same pass, for the comparison.
        let before = Period::resolve(req.kind, &period.previous(req.kind), tz, today)?;
        let mut prev = Aggregator::new(before, req.estate.clone(), false);
        let mut agg = Aggregator::new(period, req.estate.clone(), req.kind == ReportKind::Daily);

        let mut visits: Vec<(DateTime<Utc>, String)> = Vec::new();
        tx.for_each_event(|e| {
            let bad = |error: serde_json::Error| StoreError::Corrupt {
                path: name.clone(),
                detail: format!("event {} has an unreadable payload: {error}", e.seq),
            };
            match &e.ticket {
                Some(t) => {
                    let now = agg.observe(t, e.at, &e.kind, &e.fingerprint);
                    let then = prev.observe(t, e.at, &e.kind, &e.fingerprint);
                    if now || then {
                        let ev = Ev::from_payload(&e.kind, &e.payload).map_err(bad)?;
                        if now {
                            agg.apply(t, &e.fingerprint, e.at, &ev);
                        }
                        if then {
                            prev.apply(t, &e.fingerprint, e.at, &ev);
                        }
                    }
                }
                None if e.kind == crate::store::OWNER_VISITED => {
                    visits.push((e.at, visits::estate_of(&e.payload).map_err(bad)?));
                }
                None if e.kind == "policy_applied" => {
                    let p: Applied = serde_json::from_str(&e.payload).map_err(bad)?;
                    agg.policy_applied(e.at, &p.fingerprint, p.estate.as_deref());
                    prev.policy_applied(e.at, &p.fingerprint, p.estate.as_deref());
                }
                _ => {}
            }
            Ok(())
        })?;

        let registry = crate::service::registry::registry(tx)
            .map_err(|e| ReportError::Households(e.to_string()))?;
        check_scope(&agg, &registry)?;
        let mut heads = Heads::new();
        for fp in agg.fingerprints() {
            if let Some(h) = head(tx, &fp)? {
                heads.insert(fp, h);
            }
        }
        // K4's denominator: the registry's households, unless given on the command line.
        let mut households = req.households.clone();
        for (id, e) in &registry {
            households.entry(id.clone()).or_insert(e.households);
        }
        households.retain(|_, n| *n > 0);
        let period_now = agg.period.clone();
        let empty = agg.activity == 0;
        let before = prev.period.clone();
        let mut report = finish(agg, req.kind, &households, &heads);
        report.previous = Some(Previous {
            label: before.label.clone(),
            first_day: before.first_day,
            last_day: before.last_day,
            headline: finish(prev, req.kind, &households, &heads).headline,
        });
        if empty {
            report.notes.push(lang::NO_TICKETS.to_owned());
        }
        let declared: Vec<String> = registry.keys().cloned().collect();
        report.visits = visits::figure(&period_now, &declared, req.estate.as_deref(), &visits);
        report.lang = active
            .locale
            .as_deref()
            .map(Lang::from_locale)
            .unwrap_or_default();
        report.generated_at = req.now.with_timezone(&tz).to_rfc3339();
        report.steward_version = VERSION.to_owned();
        Ok(report)
    })
}

/// An unknown estate is the user's mistake, said plainly. A period without tickets is
/// not: a day without complaints is a report of zeros (cron runs it every morning).
fn check_scope(
    agg: &Aggregator,
    registry: &BTreeMap<String, crate::service::Estate>,
) -> Result<(), ReportError> {
    if let Some(e) = &agg.estate {
        let known = agg.estates();
        if !registry.is_empty() && !registry.contains_key(e) {
            let hint = crate::diagnostic::did_you_mean(e, registry.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            return Err(ReportError::Households(format!(
                "unknown estate `{e}`: {hint}declared: {}",
                registry.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        if !known.contains(e) && !registry.contains_key(e) {
            let list = if known.is_empty() {
                "no estate at all (the log has no tickets)".to_owned()
            } else {
                let mut shown: Vec<String> =
                    known.iter().take(10).map(|k| format!("`{k}`")).collect();
                if known.len() > 10 {
                    shown.push(format!("and {} more", known.len() - 10));
                }
                shown.join(", ")
            };
            return Err(ReportError::UnknownEstate {
                estate: e.clone(),
                known: list,
            });
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct Applied {
    fingerprint: String,
    #[serde(default)]
    estate: Option<String>,
}

fn active_fingerprint(tx: &Tx<'_>, estate: Option<&str>) -> Result<String, ReportError> {
    tx.active_policy(estate)?.ok_or(ReportError::NoPolicy)
}

#[derive(Deserialize)]
struct Labeled {
    label: String,
}

#[derive(Deserialize)]
struct RawStep {
    id: String,
    label: String,
}

#[derive(Deserialize, Default)]
struct RawEscalation {
    #[serde(default)]
    ladder: Vec<RawStep>,
}

/// The few fields of a stored policy a report shows; the rest is ignored.
#[derive(Deserialize)]
struct RawHead {
    id: String,
    version: String,
    title: String,
    timezone: String,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    departments: BTreeMap<String, Labeled>,
    #[serde(default)]
    limits: BTreeMap<String, Labeled>,
    #[serde(default)]
    categories: BTreeMap<String, Labeled>,
    #[serde(default)]
    escalation: RawEscalation,
}

fn head(tx: &Tx<'_>, fp: &str) -> Result<Option<PolicyHead>, ReportError> {
    let Some(text) = tx.policy(fp)? else {
        return Ok(None);
    };
    let raw: RawHead = serde_json::from_str(&text)
        .map_err(|e| ReportError::BadPolicy(fp.to_owned(), e.to_string()))?;
    let labels = |m: BTreeMap<String, Labeled>| m.into_iter().map(|(k, v)| (k, v.label)).collect();
    Ok(Some(PolicyHead {
        id: raw.id,
        version: raw.version,
        title: raw.title,
        timezone: raw.timezone,
        locale: raw.locale,
        ladder: raw
            .escalation
            .ladder
            .into_iter()
            .map(|s| (s.id, s.label))
            .collect(),
        departments: labels(raw.departments),
        limits: labels(raw.limits),
        categories: labels(raw.categories),
    }))
}
