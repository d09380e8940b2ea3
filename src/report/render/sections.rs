//! The report's plain tables — on-time rate per limit, escalations per ladder step,
//! top categories and estates — as header and rows, so the text and HTML renderers
//! show the same columns from one definition.

use super::pct;
use crate::report::figures::Report;

pub struct Section {
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

pub fn limits(r: &Report) -> Section {
    Section {
        header: &[
            "limit",
            "label",
            "on time",
            "breached",
            "met late",
            "on-time rate",
        ],
        rows: r
            .limits
            .iter()
            .map(|l| {
                vec![
                    l.limit.clone(),
                    l.label.clone().unwrap_or_default(),
                    l.on_time.to_string(),
                    l.breached.to_string(),
                    l.met_late.to_string(),
                    pct(l.rate),
                ]
            })
            .collect(),
    }
}

pub fn escalations(r: &Report) -> Section {
    Section {
        header: &["to step", "label", "escalations"],
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

pub fn top_categories(r: &Report) -> Section {
    Section {
        header: &["category", "label", "tickets"],
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

pub fn top_estates(r: &Report) -> Section {
    Section {
        header: &["estate", "tickets"],
        rows: r
            .top_estates
            .iter()
            .map(|c| vec![c.name.clone(), c.count.to_string()])
            .collect(),
    }
}
