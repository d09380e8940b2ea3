//! The report as aligned plain-text tables for a terminal, in the report's language.

use std::fmt::Write;

use super::{comparison, due, pct, per_mille, sections, short, title};
use crate::report::figures::{KindCounts, PeriodReport};
use crate::report::lang::Lang;

pub fn table(r: &PeriodReport) -> String {
    let l = r.lang;
    let mut o = String::new();
    let _ = writeln!(o, "{}", title(r));
    let p = &r.period;
    let _ = writeln!(
        o,
        "{} {} {} {} ({} {}, {}), {} {}",
        l.t("period"),
        p.first_day,
        l.t("to"),
        p.last_day,
        p.days,
        if p.days == 1 { l.t("day") } else { l.t("days") },
        p.timezone,
        l.t("rules"),
        r.rules.join(", ")
    );
    if let Some(d) = due(r) {
        let _ = writeln!(o, "{} {d}", l.t("due"));
    }
    let _ = writeln!(
        o,
        "{} {}",
        l.t("estate"),
        r.estate.as_deref().unwrap_or(l.t("all estates"))
    );
    let _ = writeln!(
        o,
        "{} {}  {} {}",
        l.t("generated"),
        r.generated_at,
        l.t("steward version"),
        r.steward_version
    );
    let _ = writeln!(o, "\n{}", l.t("policies in force"));
    let rows: Vec<Vec<String>> = r
        .policies
        .iter()
        .map(|p| {
            vec![
                format!("sha256:{}", short(&p.fingerprint)),
                format!(
                    "{} {}",
                    p.id.as_deref().unwrap_or("?"),
                    p.version.as_deref().unwrap_or("")
                ),
                p.scopes
                    .iter()
                    .map(|s| if s == "company" { l.t("company") } else { s })
                    .collect::<Vec<_>>()
                    .join(" "),
                p.events.to_string(),
            ]
        })
        .collect();
    o.push_str(&grid(
        l,
        &[
            l.t("fingerprint"),
            l.t("policy"),
            l.t("scope"),
            l.t("events"),
        ],
        &rows,
    ));

    let t = &r.tickets;
    let kinds: Vec<String> = KindCounts::NAMES
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} {}", l.kind(k), t.by_kind.get(i)))
        .collect();
    let c = &r.complaints;
    match l {
        Lang::En => {
            let _ = writeln!(
                o,
                "\ntickets opened {} ({}); closed by the period's end {}; reopened {}; compensation claims {}",
                t.opened,
                kinds.join(", "),
                t.closed,
                t.reopened,
                t.compensation_claims
            );
            let _ = writeln!(
                o,
                "complaints {}: valid {}, invalid {} (D5); closed {}, close rate {}",
                c.opened,
                c.valid,
                c.invalid,
                c.closed,
                pct(c.close_rate)
            );
        }
        Lang::ZhCn => {
            let _ = writeln!(
                o,
                "\n新增工单 {}（{}）；期末已关闭 {}；重新打开 {}；赔偿申请 {}",
                t.opened,
                kinds.join("，"),
                t.closed,
                t.reopened,
                t.compensation_claims
            );
            let _ = writeln!(
                o,
                "投诉 {}：有效 {}，无效 {}（D5）；已关闭 {}，关闭率 {}",
                c.opened,
                c.valid,
                c.invalid,
                c.closed,
                pct(c.close_rate)
            );
        }
    }

    if let Some((span, rows)) = comparison(r) {
        let _ = writeln!(
            o,
            "\n{} ({span})",
            l.t("Comparison with the previous period")
        );
        o.push_str(&grid(
            l,
            &[
                l.t("metric"),
                l.t("this period"),
                l.t("previous period"),
                l.t("change"),
            ],
            &rows,
        ));
    }

    if !r.new_complaints.is_empty() || r.kind == crate::report::ReportKind::Daily {
        let _ = writeln!(o, "\n{}", l.t("New complaints by specialist (K1, L3)"));
        let rows: Vec<Vec<String>> = r
            .new_complaints
            .iter()
            .map(|x| {
                let plan = match (&x.plan, &x.plan_note) {
                    (Some(at), Some(n)) => format!("{at} {n}"),
                    (Some(at), None) => at.clone(),
                    _ => "—".into(),
                };
                vec![
                    x.specialist.clone(),
                    x.ticket.clone(),
                    x.estate.clone(),
                    x.category.clone(),
                    x.opened.clone(),
                    x.first_response.clone().unwrap_or_else(|| "—".into()),
                    plan,
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
            "responded",
            "initial plan",
            "plan due",
            "next deadline",
            "status",
        ]
        .iter()
        .map(|h| l.t(h))
        .collect();
        o.push_str(&grid(l, &header, &rows));
    }

    for (heading, section) in [
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
        let _ = writeln!(o, "\n{}", l.t(heading));
        o.push_str(&grid(l, &section.header, &section.rows));
    }

    let v = &r.valid_rate;
    let _ = writeln!(
        o,
        "\n{} (< {} ‰)",
        l.t("Valid complaints per 1,000 households per year (K4)"),
        v.target_per_mille
    );
    let rows: Vec<Vec<String>> = v
        .estates
        .iter()
        .chain(v.overall.iter())
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
    o.push_str(&grid(
        l,
        &[
            l.t("estate"),
            l.t("households"),
            l.t("valid complaints"),
            l.t("rate"),
            l.t("meets target"),
        ],
        &rows,
    ));

    let k5 = sections::visits(r);
    let _ = writeln!(o, "\n{}", l.t("Owner visits (K5, 3 a month)"));
    o.push_str(&grid(l, &k5.header, &k5.rows));

    let rv = &r.revisits;
    let _ = writeln!(o, "\n{}", l.t("Revisits (V1, target 100 %)"));
    o.push_str(&grid(
        l,
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
    ));

    let _ = writeln!(
        o,
        "\n{} ({} {})",
        l.t("On-time rate per limit"),
        l.t("breaches"),
        r.breaches
    );
    for (heading, s) in [
        (None, sections::limits(r)),
        (
            Some("Escalations per ladder step (E3)"),
            sections::escalations(r),
        ),
        (Some("Top categories"), sections::top_categories(r)),
        (Some("Top estates"), sections::top_estates(r)),
    ] {
        if let Some(h) = heading {
            let _ = writeln!(o, "\n{}", l.t(h));
        }
        o.push_str(&grid(l, &s.header, &s.rows));
    }

    for n in &r.notes {
        let _ = writeln!(o, "\n{}: {}", l.t("note"), l.note(n));
    }
    o
}

/// Columns padded to the widest cell; wide (CJK) characters count double.
fn grid(l: Lang, header: &[&str], rows: &[Vec<String>]) -> String {
    let width = crate::report::render::display_width;
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i].saturating_sub(width(c)) + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    if rows.is_empty() {
        line(vec![if l == Lang::En { "(none)" } else { "（无）" }]);
    }
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
