//! Renderers of a [`Report`]: an aligned text table, CSV (one long table of
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

use super::figures::Report;

/// The report as pretty JSON.
pub fn json(r: &Report) -> String {
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
fn title(r: &Report) -> String {
    let name = match r.kind {
        super::ReportKind::Daily => "daily complaint report (日报)",
        super::ReportKind::Weekly => "weekly statistics (周报)",
        super::ReportKind::Quarterly => "quarterly report (季报)",
    };
    format!("steward {name} — {}", r.period.label)
}

fn short(fp: &str) -> &str {
    fp.get(..12).unwrap_or(fp)
}
