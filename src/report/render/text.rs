//! The report as aligned plain-text tables for a terminal.

use std::fmt::Write;

use super::{pct, per_mille, sections, short, title};
use crate::report::figures::{CloseRow, KindCounts, Report};

pub fn table(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", title(r));
    let _ = writeln!(
        o,
        "period {} to {} ({} day{}, {}), rules {}",
        r.period.first_day,
        r.period.last_day,
        r.period.days,
        if r.period.days == 1 { "" } else { "s" },
        r.period.timezone,
        r.rules.join(", ")
    );
    if let Some(due) = &r.due {
        let _ = writeln!(o, "due {due}");
    }
    let _ = writeln!(o, "estate {}", r.estate.as_deref().unwrap_or("all"));
    let _ = writeln!(o, "\npolicies in force");
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
                p.scopes.join(" "),
                p.events.to_string(),
            ]
        })
        .collect();
    o.push_str(&grid(
        &["fingerprint", "policy", "applied/active", "events"],
        &rows,
    ));

    let t = &r.tickets;
    let kinds: Vec<String> = KindCounts::NAMES
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} {}", t.by_kind.get(i)))
        .collect();
    let _ = writeln!(
        o,
        "\ntickets opened {} ({}); closed by the period's end {}; reopened {}; compensation claims {}",
        t.opened,
        kinds.join(", "),
        t.closed,
        t.reopened,
        t.compensation_claims
    );
    let c = &r.complaints;
    let _ = writeln!(
        o,
        "complaints {}: valid {}, invalid {} (D5); closed {}, close rate {}",
        c.opened,
        c.valid,
        c.invalid,
        c.closed,
        pct(c.close_rate)
    );

    if !r.new_complaints.is_empty() || r.kind == crate::report::ReportKind::Daily {
        let _ = writeln!(o, "\nnew complaints, by specialist (K1, L3)");
        let rows: Vec<Vec<String>> = r
            .new_complaints
            .iter()
            .map(|l| {
                let plan = match (&l.plan, &l.plan_note) {
                    (Some(at), Some(n)) => format!("{at} {n}"),
                    (Some(at), None) => at.clone(),
                    _ => "—".into(),
                };
                vec![
                    l.specialist.clone(),
                    l.ticket.clone(),
                    l.estate.clone(),
                    l.category.clone(),
                    l.opened.clone(),
                    l.first_response.clone().unwrap_or_else(|| "—".into()),
                    plan,
                    l.plan_due.clone().unwrap_or_else(|| "—".into()),
                    l.committed.clone().unwrap_or_else(|| "—".into()),
                    l.status.clone(),
                ]
            })
            .collect();
        o.push_str(&grid(
            &[
                "specialist",
                "ticket",
                "estate",
                "category",
                "opened",
                "responded",
                "plan",
                "plan due",
                "next deadline",
                "status",
            ],
            &rows,
        ));
    }

    let _ = writeln!(o, "\ncomplaint close rate by specialist (K3)");
    o.push_str(&close_rows(&r.specialists, false));
    let _ = writeln!(o, "\nclose rate by department (K3)");
    o.push_str(&close_rows(&r.departments, true));

    let v = &r.valid_rate;
    let _ = writeln!(
        o,
        "\nvalid complaints per 1,000 households per year (K4, target below {} ‰)",
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
                    .map_or_else(|| "unknown".into(), |h| h.to_string()),
                e.valid.to_string(),
                per_mille(e.per_mille_per_year),
                e.meets_target
                    .map_or("—", |m| if m { "yes" } else { "NO" })
                    .into(),
            ]
        })
        .collect();
    o.push_str(&grid(
        &["estate", "households", "valid", "rate", "meets target"],
        &rows,
    ));

    let rv = &r.revisits;
    let _ = writeln!(
        o,
        "\nrevisits (V1, target 100 %): {} repairs resolved, {} revisited, {} not yet due; revisit rate {}; {} revisits went overdue",
        rv.resolved_repairs,
        rv.revisited,
        rv.not_yet_due,
        pct(rv.rate),
        rv.overdue
    );

    let _ = writeln!(o, "\non-time rate per limit ({} breaches)", r.breaches);
    let limits = sections::limits(r);
    o.push_str(&grid(limits.header, &limits.rows));

    let _ = writeln!(o, "\nescalations per ladder step (E3)");
    let escalations = sections::escalations(r);
    o.push_str(&grid(escalations.header, &escalations.rows));

    let _ = writeln!(o, "\ntop categories");
    let categories = sections::top_categories(r);
    o.push_str(&grid(categories.header, &categories.rows));
    let _ = writeln!(o, "\ntop estates");
    let estates = sections::top_estates(r);
    o.push_str(&grid(estates.header, &estates.rows));

    for n in &r.notes {
        let _ = writeln!(o, "\nnote: {n}");
    }
    o
}

fn close_rows(rows: &[CloseRow], all_kinds: bool) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            let mut v = vec![
                match &c.label {
                    Some(l) => format!("{} ({l})", c.name),
                    None => c.name.clone(),
                },
                c.complaints.to_string(),
                c.complaints_closed.to_string(),
                pct(c.complaint_close_rate),
            ];
            if all_kinds {
                v.extend([
                    c.tickets.to_string(),
                    c.tickets_closed.to_string(),
                    pct(c.close_rate),
                ]);
            }
            v
        })
        .collect();
    if all_kinds {
        grid(
            &[
                "department",
                "complaints",
                "closed",
                "rate",
                "all tickets",
                "closed",
                "rate",
            ],
            &body,
        )
    } else {
        grid(&["specialist", "complaints", "closed", "close rate"], &body)
    }
}

/// Columns padded to the widest cell; wide (CJK) characters count double.
fn grid(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| -> usize {
        s.chars()
            .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
            .sum()
    };
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
        line(vec!["(none)"]);
    }
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
