//! The report as one self-contained HTML file: inline CSS, inline SVG charts,
//! no scripts and nothing fetched, so it opens the same in any browser and can
//! be mailed as it is. Every piece of user text (estates, names, notes,
//! complaint texts) goes through [`escape`].

use std::fmt::Write;

use super::svg::escape;
use super::{charts, pct, per_mille, sections, short, title};
use crate::report::figures::{CloseRow, KindCounts, Report};

const CSS: &str = "body{font-family:system-ui,'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px;margin:2px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:22px;font-weight:600}.card .k{font-size:12px;color:#666}
.bad{color:#b03030}.good{color:#2c7a4a}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #eee;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
.note{background:#fff8e0;border-left:3px solid #e0b040;padding:6px 10px;font-size:13px}
code{font-size:12px}";

/// One HTML table; cells are escaped, numeric-looking cells right-aligned.
fn table(o: &mut String, header: &[&str], rows: &[Vec<String>]) {
    o.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(o, "<tr><td colspan=\"{}\">none</td></tr>", header.len());
    }
    for row in rows {
        o.push_str("<tr>");
        for cell in row {
            let numeric = cell
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '—')
                && !cell.contains(' ')
                || cell.ends_with(" %")
                || cell.ends_with(" ‰");
            let _ = write!(
                o,
                "<td{}>{}</td>",
                if numeric { " class=\"n\"" } else { "" },
                escape(cell)
            );
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

fn close_rows(rows: &[CloseRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.label.clone().unwrap_or_default(),
                c.complaints.to_string(),
                c.complaints_closed.to_string(),
                pct(c.complaint_close_rate),
                c.tickets.to_string(),
                c.tickets_closed.to_string(),
                pct(c.close_rate),
            ]
        })
        .collect()
}

pub fn html(r: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let t = title(r);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>\n",
        escape(&t)
    );
    let _ = write!(o, "<h1>{}</h1>", escape(&t));
    let p = &r.period;
    let _ = write!(
        o,
        "<p class=\"meta\">{} to {} · {} day{} · {} · rules {} · estate {}</p>",
        p.first_day,
        p.last_day,
        p.days,
        if p.days == 1 { "" } else { "s" },
        escape(&p.timezone),
        escape(&r.rules.join(", ")),
        escape(r.estate.as_deref().unwrap_or("all"))
    );
    if let Some(due) = &r.due {
        let _ = write!(o, "<p class=\"meta\">due {}</p>", escape(due));
    }
    o.push_str("<p class=\"meta\">policies in force: ");
    let pols: Vec<String> = r
        .policies
        .iter()
        .map(|pol| {
            format!(
                "<code title=\"sha256:{}\">{} {} sha256:{}</code>{}",
                escape(&pol.fingerprint),
                escape(pol.id.as_deref().unwrap_or("?")),
                escape(pol.version.as_deref().unwrap_or("")),
                escape(short(&pol.fingerprint)),
                if pol.scopes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", escape(&pol.scopes.join(", ")))
                }
            )
        })
        .collect();
    o.push_str(&pols.join("; "));
    o.push_str("</p>\n<div class=\"cards\">");
    card(
        &mut o,
        &r.tickets.opened.to_string(),
        "tickets opened",
        None,
    );
    card(&mut o, &r.complaints.opened.to_string(), "complaints", None);
    card(
        &mut o,
        &pct(r.complaints.close_rate),
        "complaint close rate (K3)",
        None,
    );
    let all_met = r
        .valid_rate
        .estates
        .iter()
        .filter_map(|e| e.meets_target)
        .collect::<Vec<_>>();
    let k4 = match &r.valid_rate.overall {
        Some(e) => per_mille(e.per_mille_per_year),
        None if r.valid_rate.estates.len() == 1 => {
            per_mille(r.valid_rate.estates[0].per_mille_per_year)
        }
        None => "see table".to_owned(),
    };
    card(
        &mut o,
        &k4,
        "valid complaints / 1,000 households / year (K4 < 0.5 ‰)",
        (!all_met.is_empty()).then(|| all_met.iter().all(|m| *m)),
    );
    card(
        &mut o,
        &pct(r.revisits.rate),
        "revisit rate (V1 target 100 %)",
        r.revisits.rate.map(|x| x >= 1.0),
    );
    card(&mut o, &r.breaches.to_string(), "limits breached", None);
    o.push_str("</div>\n");

    if !r.new_complaints.is_empty() {
        o.push_str("<h2>New complaints by specialist (K1, L3)</h2>");
        let rows: Vec<Vec<String>> = r
            .new_complaints
            .iter()
            .map(|l| {
                vec![
                    l.specialist.clone(),
                    l.ticket.clone(),
                    l.estate.clone(),
                    l.category.clone(),
                    l.opened.clone(),
                    l.text.clone(),
                    l.first_response.clone().unwrap_or_else(|| "—".into()),
                    match (&l.plan, &l.plan_note) {
                        (Some(at), Some(n)) => format!("{at} {n}"),
                        (Some(at), None) => at.clone(),
                        _ => "—".into(),
                    },
                    l.plan_due.clone().unwrap_or_else(|| "—".into()),
                    l.committed.clone().unwrap_or_else(|| "—".into()),
                    l.status.clone(),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
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
            ],
            &rows,
        );
    }

    let per = if r.period.bucket_days == 1 {
        "day"
    } else {
        "7 days"
    };
    let _ = write!(
        o,
        "<h2>Tickets opened per {per}, by kind</h2>\n{}\n",
        charts::tickets(r)
    );
    let _ = write!(
        o,
        "<h2>On-time rate per {per}, over all limits</h2>\n{}\n",
        charts::on_time(r)
    );
    let _ = write!(
        o,
        "<h2>Revisit completion of repairs resolved per {per} (V1)</h2>\n{}\n",
        charts::revisits(r)
    );

    o.push_str("<h2>Tickets</h2>");
    let kinds: Vec<Vec<String>> = KindCounts::NAMES
        .iter()
        .enumerate()
        .map(|(i, k)| vec![(*k).to_owned(), r.tickets.by_kind.get(i).to_string()])
        .collect();
    table(&mut o, &["kind", "opened"], &kinds);
    let c = &r.complaints;
    let _ = write!(
        o,
        "<p class=\"meta\">complaints {}: valid {}, invalid {} (D5), closed {}; tickets closed {}, reopened {}, compensation claims {}</p>",
        c.opened,
        c.valid,
        c.invalid,
        c.closed,
        r.tickets.closed,
        r.tickets.reopened,
        r.tickets.compensation_claims
    );

    let close_header = [
        "name",
        "label",
        "complaints",
        "closed",
        "complaint close rate",
        "all tickets",
        "closed",
        "close rate",
    ];
    o.push_str("<h2>Close rate by specialist (K3)</h2>");
    table(&mut o, &close_header, &close_rows(&r.specialists));
    o.push_str("<h2>Close rate by department (K3)</h2>");
    table(&mut o, &close_header, &close_rows(&r.departments));

    let _ = write!(
        o,
        "<h2>Valid complaints per 1,000 households per year (K4, target below {} ‰)</h2>",
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
                    .map_or_else(|| "unknown".into(), |h| h.to_string()),
                e.valid.to_string(),
                per_mille(e.per_mille_per_year),
                e.meets_target
                    .map_or("—", |m| if m { "yes" } else { "no" })
                    .into(),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "estate",
            "households",
            "valid complaints",
            "rate",
            "meets target",
        ],
        &rows,
    );

    let rv = &r.revisits;
    o.push_str("<h2>Revisits (V1, target 100 %)</h2>");
    table(
        &mut o,
        &[
            "repairs resolved",
            "revisited",
            "not yet due",
            "revisit rate",
            "revisits overdue",
        ],
        &[vec![
            rv.resolved_repairs.to_string(),
            rv.revisited.to_string(),
            rv.not_yet_due.to_string(),
            pct(rv.rate),
            rv.overdue.to_string(),
        ]],
    );

    o.push_str("<h2>On-time rate per limit</h2>");
    let limits = sections::limits(r);
    table(&mut o, limits.header, &limits.rows);

    o.push_str("<h2>Escalations per ladder step (E3)</h2>");
    let escalations = sections::escalations(r);
    table(&mut o, escalations.header, &escalations.rows);

    o.push_str("<h2>Top categories and estates</h2>");
    let categories = sections::top_categories(r);
    table(&mut o, categories.header, &categories.rows);
    let estates = sections::top_estates(r);
    table(&mut o, estates.header, &estates.rows);

    for n in &r.notes {
        let _ = write!(o, "<p class=\"note\">{}</p>", escape(n));
    }
    o.push_str("<p class=\"meta\">computed from the event log by steward; the same log gives the same figures.</p>\n</body></html>\n");
    o
}
