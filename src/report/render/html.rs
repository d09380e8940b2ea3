//! The report as one self-contained HTML file: inline CSS, inline SVG charts,
//! no scripts and nothing fetched, so it opens the same in any browser and can
//! be mailed as it is. Every piece of user text (estates, names, notes,
//! complaint texts) goes through [`escape`].
//!
//! Layout, top to bottom: the headline and a provenance block (period, generated
//! at, steward version, the full fingerprints of the policies in force), the key
//! figures as cards, the comparison with the previous period, the daily list of
//! new complaints, the charts at full width, then the tables.

use std::fmt::Write;

use super::svg::escape;
use super::{charts, comparison, due, pct, per_mille, sections, title};
use crate::report::figures::{KindCounts, PeriodReport};

const CSS: &str = "body{font-family:'Noto Sans CJK SC','Noto Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',system-ui,sans-serif;margin:24px auto;max-width:1040px;color:#222;padding:0 20px;line-height:1.45}
h1{font-size:24px;margin-bottom:6px}h2{font-size:18px;margin-top:30px;border-bottom:2px solid #e3e3e3;padding-bottom:4px}
.meta{color:#444;font-size:13px;margin:2px 0}
.prov{background:#f7f8fa;border:1px solid #e3e6ea;border-radius:6px;padding:10px 14px;margin:12px 0;font-size:13px}
.prov table{margin:4px 0 0}.prov td,.prov th{border:none;padding:1px 12px 1px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px}
.card .v{font-size:26px;font-weight:600}.card .k{font-size:13px;color:#555}
.bad{color:#b03030}.good{color:#2c7a4a}
table{border-collapse:collapse;font-size:14px;margin:8px 0}
th,td{border-bottom:1px solid #eee;padding:5px 12px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.up{color:#2c7a4a}td.down{color:#b03030}
svg.chart{display:block;margin:8px 0;width:100%;height:auto}
.note{background:#fff8e0;border-left:3px solid #e0b040;padding:6px 10px;font-size:14px}
code{font-size:12px;font-family:ui-monospace,monospace;word-break:break-all}";

/// Whether a cell reads as a number: `12`, `87.5 %`, `0.412 ‰`, `+3`, `-1.5 pp`, `—`.
fn is_number(cell: &str) -> bool {
    let core = cell
        .trim_end_matches(" %")
        .trim_end_matches(" ‰")
        .trim_end_matches(" pp");
    core == "—" || core == "±0" || core.parse::<f64>().is_ok()
}

/// One HTML table; cells are escaped. A column is right-aligned when every cell in
/// it is a number, so ids, dates and names stay left-aligned whatever they start with.
fn table(o: &mut String, header: &[&str], rows: &[Vec<String>], none: &str) {
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| !rows.is_empty() && rows.iter().all(|r| r.get(i).is_none_or(|c| is_number(c))))
        .collect();
    let class = |i: usize| if numeric[i] { " class=\"n\"" } else { "" };
    o.push_str("<table><thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let _ = write!(o, "<th{}>{}</th>", class(i), escape(h));
    }
    o.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            o,
            "<tr><td colspan=\"{}\">{}</td></tr>",
            header.len(),
            escape(none)
        );
    }
    for row in rows {
        o.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(o, "<td{}>{}</td>", class(i), escape(cell));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>\n");
}

fn card(o: &mut String, value: &str, key: &str, good: Option<bool>) {
    let class = match good {
        Some(true) => " good",
        Some(false) => " bad",
        None => "",
    };
    let _ = write!(
        o,
        "<div class=\"card\"><div class=\"v{class}\">{}</div><div class=\"k\">{}</div></div>",
        escape(value),
        escape(key)
    );
}

fn provenance(o: &mut String, r: &PeriodReport) {
    let l = r.lang;
    let p = &r.period;
    o.push_str("<div class=\"prov\">");
    let _ = write!(
        o,
        "<div>{} <b>{} {} {}</b> · {} {} · {} {} · {} {} · {} {}</div>",
        escape(l.t("period")),
        p.first_day,
        escape(l.t("to")),
        p.last_day,
        p.days,
        escape(if p.days == 1 { l.t("day") } else { l.t("days") }),
        escape(l.t("time zone")),
        escape(&p.timezone),
        escape(l.t("rules")),
        escape(&r.rules.join(", ")),
        escape(l.t("estate")),
        escape(r.estate.as_deref().unwrap_or(l.t("all estates")))
    );
    if let Some(d) = due(r) {
        let _ = write!(o, "<div>{} {}</div>", escape(l.t("due")), escape(&d));
    }
    let _ = write!(
        o,
        "<div>{} <b>{}</b> · {} <code>{}</code></div>",
        escape(l.t("generated")),
        escape(&r.generated_at),
        escape(l.t("steward version")),
        escape(&r.steward_version)
    );
    let _ = write!(
        o,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        escape(l.t("policies in force")),
        escape(l.t("scope")),
        escape(l.t("events")),
        escape(l.t("fingerprint"))
    );
    for pol in &r.policies {
        let scopes: Vec<String> = pol
            .scopes
            .iter()
            .map(|s| match s.as_str() {
                "company" => l.t("company").to_owned(),
                other => other.to_owned(),
            })
            .collect();
        let _ = write!(
            o,
            "<tr><td>{} {} {}</td><td>{}</td><td class=\"n\">{}</td><td><code>sha256:{}</code></td></tr>",
            escape(pol.id.as_deref().unwrap_or("?")),
            escape(pol.version.as_deref().unwrap_or("")),
            escape(pol.title.as_deref().unwrap_or("")),
            escape(&scopes.join(", ")),
            pol.events,
            escape(&pol.fingerprint)
        );
    }
    o.push_str("</tbody></table></div>\n");
}

fn cards(o: &mut String, r: &PeriodReport) {
    let l = r.lang;
    o.push_str("<div class=\"cards\">");
    card(
        o,
        &r.tickets.opened.to_string(),
        l.t("tickets opened"),
        None,
    );
    card(o, &r.complaints.opened.to_string(), l.t("complaints"), None);
    card(
        o,
        &pct(r.complaints.close_rate),
        l.t("complaint close rate (K3)"),
        None,
    );
    let all_met: Vec<bool> = r
        .valid_rate
        .estates
        .iter()
        .filter_map(|e| e.meets_target)
        .collect();
    let k4 = match &r.valid_rate.overall {
        Some(e) => per_mille(e.per_mille_per_year),
        None if r.valid_rate.estates.len() == 1 => {
            per_mille(r.valid_rate.estates[0].per_mille_per_year)
        }
        None if r.valid_rate.estates.is_empty() => "—".to_owned(),
        None => l.t("see table").to_owned(),
    };
    card(
        o,
        &k4,
        l.t("valid complaints / 1,000 households / year (K4 < 0.5 ‰)"),
        (!all_met.is_empty()).then(|| all_met.iter().all(|m| *m)),
    );
    card(
        o,
        &pct(r.revisits.rate),
        l.t("revisit rate (V1 target 100 %)"),
        r.revisits.rate.map(|x| x >= 1.0),
    );
    card(
        o,
        &r.breaches.to_string(),
        l.t("limits breached"),
        Some(r.breaches == 0),
    );
    o.push_str("</div>\n");
}

pub fn html(r: &PeriodReport) -> String {
    let l = r.lang;
    let mut o = String::with_capacity(64 * 1024);
    let t = title(r);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>\n",
        l.html_lang(),
        escape(&t)
    );
    let _ = write!(o, "<h1>{}</h1>", escape(&t));
    provenance(&mut o, r);
    cards(&mut o, r);
    let none = l.t("none");

    if let Some((span, rows)) = comparison(r) {
        let _ = write!(
            o,
            "<h2>{} <span class=\"meta\">({})</span></h2>",
            escape(l.t("Comparison with the previous period")),
            escape(&span)
        );
        table(
            &mut o,
            &[
                l.t("metric"),
                l.t("this period"),
                l.t("previous period"),
                l.t("change"),
            ],
            &rows,
            none,
        );
    }

    if !r.new_complaints.is_empty() || r.kind == crate::report::ReportKind::Daily {
        let _ = write!(
            o,
            "<h2>{}</h2>",
            escape(l.t("New complaints by specialist (K1, L3)"))
        );
        let rows: Vec<Vec<String>> = r
            .new_complaints
            .iter()
            .map(|x| {
                vec![
                    x.specialist.clone(),
                    x.ticket.clone(),
                    x.estate.clone(),
                    x.category.clone(),
                    x.opened.clone(),
                    x.text.clone(),
                    x.first_response.clone().unwrap_or_else(|| "—".into()),
                    match (&x.plan, &x.plan_note) {
                        (Some(at), Some(n)) => format!("{at} {n}"),
                        (Some(at), None) => at.clone(),
                        _ => "—".into(),
                    },
                    x.plan_due.clone().unwrap_or_else(|| "—".into()),
                    x.committed.clone().unwrap_or_else(|| "—".into()),
                    l.status(&x.status),
                ]
            })
            .collect();
        let header: Vec<&str> = [
            "specialist",
            "ticket",
            "estate",
            "category",
            "opened",
            "complaint",
            "responded",
            "initial plan",
            "plan due",
            "next deadline",
            "status",
        ]
        .iter()
        .map(|h| l.t(h))
        .collect();
        table(&mut o, &header, &rows, none);
    }

    let weekly = r.period.bucket_days != 1;
    let headings = if weekly {
        [
            "Tickets opened per 7 days, by kind",
            "On-time rate per 7 days, over all limits",
            "Revisit completion of repairs resolved per 7 days (V1)",
        ]
    } else {
        [
            "Tickets opened per day, by kind",
            "On-time rate per day, over all limits",
            "Revisit completion of repairs resolved per day (V1)",
        ]
    };
    for (h, chart) in
        headings
            .iter()
            .zip([charts::tickets(r), charts::on_time(r), charts::revisits(r)])
    {
        let _ = write!(o, "<h2>{}</h2>\n{chart}\n", escape(l.t(h)));
    }

    let _ = write!(o, "<h2>{}</h2>", escape(l.t("Tickets")));
    let kinds: Vec<Vec<String>> = KindCounts::NAMES
        .iter()
        .enumerate()
        .map(|(i, k)| vec![l.kind(k).to_owned(), r.tickets.by_kind.get(i).to_string()])
        .collect();
    table(&mut o, &[l.t("kind"), l.t("tickets opened")], &kinds, none);
    let c = &r.complaints;
    let facts = [
        (l.t("complaints"), c.opened),
        (l.t("valid"), c.valid),
        (l.t("invalid (D5)"), c.invalid),
        (l.t("complaints closed"), c.closed),
        (l.t("tickets closed"), r.tickets.closed),
        (l.t("reopened"), r.tickets.reopened),
        (l.t("compensation claims"), r.tickets.compensation_claims),
    ];
    let rows: Vec<Vec<String>> = facts
        .iter()
        .map(|(k, v)| vec![(*k).to_owned(), v.to_string()])
        .collect();
    table(&mut o, &[l.t("metric"), l.t("this period")], &rows, none);

    for (heading, s) in [
        ("By estate", sections::close_rates(l, "estate", &r.estates)),
        (
            "Close rate by specialist (K3)",
            sections::close_rates(l, "specialist", &r.specialists),
        ),
        (
            "Close rate by department (K3)",
            sections::close_rates(l, "department", &r.departments),
        ),
    ] {
        let _ = write!(o, "<h2>{}</h2>", escape(l.t(heading)));
        table(&mut o, &s.header, &s.rows, none);
    }

    let _ = write!(
        o,
        "<h2>{} (&lt; {} ‰)</h2>",
        escape(l.t("Valid complaints per 1,000 households per year (K4)")),
        r.valid_rate.target_per_mille
    );
    let rows: Vec<Vec<String>> = r
        .valid_rate
        .estates
        .iter()
        .chain(r.valid_rate.overall.iter())
        .map(|e| {
            vec![
                e.estate.clone(),
                e.households
                    .map_or_else(|| l.t("unknown").into(), |h| h.to_string()),
                e.valid.to_string(),
                per_mille(e.per_mille_per_year),
                e.meets_target
                    .map_or("—", |m| if m { l.t("yes") } else { l.t("no") })
                    .into(),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            l.t("estate"),
            l.t("households"),
            l.t("valid complaints"),
            l.t("rate"),
            l.t("meets target"),
        ],
        &rows,
        none,
    );

    let k5 = sections::visits(r);
    let _ = write!(
        o,
        "<h2>{}</h2>",
        escape(l.t("Owner visits (K5, 3 a month)"))
    );
    table(&mut o, &k5.header, &k5.rows, none);

    let rv = &r.revisits;
    let _ = write!(o, "<h2>{}</h2>", escape(l.t("Revisits (V1, target 100 %)")));
    table(
        &mut o,
        &[
            l.t("repairs resolved"),
            l.t("revisited"),
            l.t("not yet due"),
            l.t("revisit rate"),
            l.t("revisits overdue"),
        ],
        &[vec![
            rv.resolved_repairs.to_string(),
            rv.revisited.to_string(),
            rv.not_yet_due.to_string(),
            pct(rv.rate),
            rv.overdue.to_string(),
        ]],
        none,
    );

    for (heading, s) in [
        ("On-time rate per limit", sections::limits(r)),
        ("Escalations per ladder step (E3)", sections::escalations(r)),
        ("Top categories", sections::top_categories(r)),
        ("Top estates", sections::top_estates(r)),
    ] {
        let _ = write!(o, "<h2>{}</h2>", escape(l.t(heading)));
        table(&mut o, &s.header, &s.rows, none);
    }

    if !r.notes.is_empty() {
        let _ = write!(o, "<h2>{}</h2>", escape(l.t("Notes")));
    }
    for n in &r.notes {
        let _ = write!(o, "<p class=\"note\">{}</p>", escape(&l.note(n)));
    }
    let _ = write!(
        o,
        "<p class=\"meta\">{}</p>\n</body></html>\n",
        escape(l.t("computed from the event log by steward; the same log gives the same figures."))
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_all_number_columns_are_right_aligned() {
        let mut o = String::new();
        let rows = vec![
            vec![
                "2026-07-06".into(),
                "3".into(),
                "87.5 %".into(),
                "3-2-1201".into(),
            ],
            vec!["2026-07-07".into(), "12".into(), "—".into(), "9号楼".into()],
        ];
        table(&mut o, &["day", "n", "rate", "unit"], &rows, "none");
        assert!(o.contains("<td>2026-07-06</td><td class=\"n\">3</td><td class=\"n\">87.5 %</td><td>3-2-1201</td>"), "{o}");
        assert!(o.contains("<th>day</th><th class=\"n\">n</th>"), "{o}");
    }
}
