//! `steward visit`: record a visit to an estate's owners (K5), as an event of the log.

use clap::Args;

use super::args::{Format, Global, TableJson};
use super::context::{fail, now, open_existing, time_arg};
use super::{EXIT_OK, output, timeline};
use crate::service::visits::Visit;

#[derive(Args, Debug)]
pub struct VisitArgs {
    /// The estate whose owners were visited
    #[arg(long)]
    estate: String,
    /// The unit visited (omit for a visit to the estate's owners at large)
    #[arg(long, default_value = "")]
    unit: String,
    /// Who made the visit
    #[arg(long)]
    by: String,
    /// What the owners said
    #[arg(long, default_value = "")]
    note: String,
    /// When it was made (default: --now); RFC 3339 or local time in the policy's zone
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: TableJson,
}

pub fn run(a: &VisitArgs, g: &Global) -> i32 {
    let result = (|| -> Result<_, String> {
        let at = match &a.at {
            Some(t) => time_arg(t, &g.db)?,
            None => now(g)?,
        };
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let visit = Visit {
            estate: a.estate.clone(),
            unit: a.unit.clone(),
            by: a.by.clone(),
            note: a.note.clone(),
        };
        let recorded = svc.record_visit(&visit, at).map_err(|e| e.to_string())?;
        let tz = svc
            .active_policy_for(Some(&a.estate))
            .map(|p| p.tz)
            .unwrap_or(chrono_tz::UTC);
        Ok((recorded, tz))
    })();
    let (r, tz) = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if g.format == Format::Json {
        output::json(&serde_json::json!({
            "seq": r.seq, "time": super::ticket_json::time(r.at, tz), "estate": r.visit.estate,
            "unit": r.visit.unit, "by": r.visit.by, "note": r.visit.note, "rule": "K5",
        }));
    } else {
        let unit = if r.visit.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", r.visit.unit)
        };
        println!(
            "{} visit to {}{unit} by {} recorded (event {}, K5)",
            timeline::local(r.at, tz),
            r.visit.estate,
            r.visit.by,
            r.seq
        );
    }
    EXIT_OK
}
