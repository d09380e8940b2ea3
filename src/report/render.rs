//! Renderers of a [`PeriodReport`]: an aligned text table, CSV (one long table of
//! `section,name,metric,value` rows, easy to pivot), JSON (serde) and one
//! self-contained HTML file with inline CSS and SVG charts.

mod charts;
mod csv;
mod html;
mod sections;
pub mod svg;
mod text;

pub use csv::csv;
pub use html::html;
pub use text::table;

use super::figures::PeriodReport;
use super::lang::Lang;

/// The report as pretty JSON.
pub fn json(r: &PeriodReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

/// `87.5 %`, or `—` when there was nothing to divide by.
pub fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// `0.412 ‰`, or `—`.
pub fn per_mille(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.3} ‰"))
}

/// A rate as a CSV number (fraction), empty when undefined.
fn num(rate: Option<f64>) -> String {
    rate.map_or_else(String::new, |r| format!("{r:.6}"))
}

/// The report's headline, shared by every text format.
fn title(r: &PeriodReport) -> String {
    let l = r.lang;
    let name = match (r.kind, l) {
        (super::ReportKind::Daily, Lang::En) => "daily complaint report (日报)",
        (super::ReportKind::Weekly, Lang::En) => "weekly statistics (周报)",
        (super::ReportKind::Quarterly, Lang::En) => "quarterly report (季报)",
        (super::ReportKind::Daily, _) => l.t("daily complaint report"),
        (super::ReportKind::Weekly, _) => l.t("weekly statistics"),
        (super::ReportKind::Quarterly, _) => l.t("quarterly report"),
    };
    match l {
        Lang::En => format!("steward {name} — {}", r.period.label),
        Lang::ZhCn => format!("{name} — {}", r.period.label),
    }
}

/// When the report is due (K1, K2), in the report's language.
fn due(r: &PeriodReport) -> Option<String> {
    let next = r.period.last_day + chrono::Duration::days(1);
    match (r.lang, r.kind) {
        (Lang::En, _) => r.due.clone(),
        (_, super::ReportKind::Daily) => Some(format!("{next} 12:00 前（K1、L3：次日中午前）")),
        (_, super::ReportKind::Weekly) => Some(format!("{next}（K2：每周一）")),
        (_, super::ReportKind::Quarterly) => None,
    }
}

/// A specialist, department or estate with its policy label: `engineering (工程部)`.
fn named(name: &str, label: Option<&str>) -> String {
    match label {
        Some(l) if !l.is_empty() && l != name => format!("{name} ({l})"),
        _ => name.to_owned(),
    }
}

/// A change between two rates, in percentage points.
fn delta_pct(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!("{:+.1} pp", (a - b) * 100.0),
        _ => "—".to_owned(),
    }
}

/// A change between two counts.
fn delta(now: u64, before: u64) -> String {
    let d = now as i128 - before as i128;
    if d == 0 {
        "±0".to_owned()
    } else {
        format!("{d:+}")
    }
}

/// The comparison with the previous period: (metric, this period, previous, change).
fn comparison(r: &PeriodReport) -> Option<(String, Vec<Vec<String>>)> {
    let p = r.previous.as_ref()?;
    let (a, b) = (&r.headline, &p.headline);
    let l = r.lang;
    let count = |label: &'static str, now: u64, before: u64| {
        vec![
            l.t(label).to_owned(),
            now.to_string(),
            before.to_string(),
            delta(now, before),
        ]
    };
    let rate = |label: &'static str, now: Option<f64>, before: Option<f64>| {
        vec![
            l.t(label).to_owned(),
            pct(now),
            pct(before),
            delta_pct(now, before),
        ]
    };
    let rows = vec![
        count("tickets opened", a.tickets_opened, b.tickets_opened),
        count("complaints", a.complaints, b.complaints),
        rate(
            "complaint close rate (K3)",
            a.complaint_close_rate,
            b.complaint_close_rate,
        ),
        rate(
            "on-time rate over all limits",
            a.on_time_rate,
            b.on_time_rate,
        ),
        count("breaches", a.breaches, b.breaches),
        rate(
            "revisit rate (V1 target 100 %)",
            a.revisit_rate,
            b.revisit_rate,
        ),
        count("escalations", a.escalations, b.escalations),
    ];
    Some((format!("{} – {}", p.first_day, p.last_day), rows))
}

/// Terminal columns of `s` ([`crate::width::width`]).
pub fn display_width(s: &str) -> usize {
    crate::width::width(s)
}

fn short(fp: &str) -> &str {
    fp.get(..12).unwrap_or(fp)
}
