//! The report's plain tables — on-time rate per limit, escalations per ladder step,
//! top categories and estates, the per-estate breakdown — as header and rows, so the
//! text and HTML renderers show the same columns from one definition, in the
//! report's language.

use super::{named, pct};
use crate::report::figures::{CloseRow, PeriodReport};
use crate::report::lang::{Lang, builtin_limit_label};

pub struct Section {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn header(l: Lang, words: &[&'static str]) -> Vec<&'static str> {
    words.iter().map(|w| l.t(w)).collect()
}

pub fn limits(r: &PeriodReport) -> Section {
    let l = r.lang;
    Section {
        header: header(
            l,
            &[
                "limit",
                "label",
                "on time",
                "breached",
                "met late",
                "on-time rate",
            ],
        ),
        rows: r
            .limits
            .iter()
            .map(|x| {
                let label = builtin_limit_label(&x.limit, l)
                    .map(str::to_owned)
                    .or_else(|| x.label.clone())
                    .unwrap_or_default();
                vec![
                    x.limit.clone(),
                    label,
                    x.on_time.to_string(),
                    x.breached.to_string(),
                    x.met_late.to_string(),
                    pct(x.rate),
                ]
            })
            .collect(),
    }
}

pub fn escalations(r: &PeriodReport) -> Section {
    Section {
        header: header(r.lang, &["to step", "label", "escalations"]),
        rows: r
            .escalations
            .iter()
            .map(|s| {
                vec![
                    s.step.clone(),
                    s.label.clone().unwrap_or_default(),
                    s.count.to_string(),
                ]
            })
            .collect(),
    }
}

pub fn top_categories(r: &PeriodReport) -> Section {
    Section {
        header: header(r.lang, &["category", "label", "tickets"]),
        rows: r
            .top_categories
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.label.clone().unwrap_or_default(),
                    c.count.to_string(),
                ]
            })
            .collect(),
    }
}

pub fn top_estates(r: &PeriodReport) -> Section {
    Section {
        header: header(r.lang, &["estate", "tickets"]),
        rows: r
            .top_estates
            .iter()
            .map(|c| vec![c.name.clone(), c.count.to_string()])
            .collect(),
    }
}

/// Close rates per specialist, department or estate (K3). `first` names the first
/// column; a policy label, where there is one, follows the id in the same cell, so
/// no column is left empty for specialists, who have no label.
pub fn close_rates(l: Lang, first: &'static str, rows: &[CloseRow]) -> Section {
    Section {
        header: header(
            l,
            &[
                first,
                "complaints",
                "complaints closed",
                "complaint close rate",
                "all tickets",
                "tickets closed",
                "close rate",
            ],
        ),
        rows: rows
            .iter()
            .map(|c| {
                let name = match c.name.as_str() {
                    "unrouted" => l.t("unrouted").to_owned(),
                    "unassigned" => l.t("unassigned").to_owned(),
                    n => n.to_owned(),
                };
                vec![
                    named(&name, c.label.as_deref()),
                    c.complaints.to_string(),
                    c.complaints_closed.to_string(),
                    pct(c.complaint_close_rate),
                    c.tickets.to_string(),
                    c.tickets_closed.to_string(),
                    pct(c.close_rate),
                ]
            })
            .collect(),
    }
}

/// K5: visits per estate and month, with whether the month met 3 (004).
pub fn visits(r: &PeriodReport) -> Section {
    let l = r.lang;
    Section {
        header: header(
            l,
            &[
                "estate",
                "month",
                "visits",
                "counted through",
                "meets target",
            ],
        ),
        rows: r
            .visits
            .months
            .iter()
            .map(|m| {
                vec![
                    m.estate.clone(),
                    m.month.clone(),
                    m.visits.to_string(),
                    m.through.to_string(),
                    match m.meets_target {
                        Some(true) => l.t("yes").to_owned(),
                        Some(false) => l.t("no").to_owned(),
                        None => l.t("in progress").to_owned(),
                    },
                ]
            })
            .collect(),
    }
}
