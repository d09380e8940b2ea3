//! The replay report as a side-by-side table, as CSV (`section,key,day,a,b`), and
//! the warnings (malformed lines, unknown categories, refused commands, orphans).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use crate::sim::report::{Report, Stats};

use super::output;

const SHOWN_DIFFS: usize = 20;

fn header(r: &Report, first: &str) -> Vec<String> {
    let mut h = vec![first.to_string()];
    let two = r.policies.len() == 2;
    for (i, p) in r.policies.iter().enumerate() {
        h.push(if two {
            format!("{} {}", ["A", "B"][i], p.id)
        } else {
            p.id.clone()
        });
    }
    if two {
        h.push("B−A".into());
    }
    h
}

fn row(key: String, values: &[u64]) -> Vec<String> {
    let mut v = vec![key];
    v.extend(values.iter().map(u64::to_string));
    if let [a, b] = values {
        let d = *b as i64 - *a as i64;
        v.push(if d == 0 { "0".into() } else { format!("{d:+}") });
    }
    v
}

/// A titled table; a section with no rows (e.g. nothing met late) is left out.
fn section(out: &mut String, r: &Report, title: &str, rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        return;
    }
    let h = header(r, title);
    let hs: Vec<&str> = h.iter().map(String::as_str).collect();
    out.push_str(&output::table(&hs, &rows));
    out.push('\n');
}

/// Rows of a map section: every key either side has, with each side's count.
fn keyed<K: Ord + Clone>(
    stats: &[Stats],
    get: impl Fn(&Stats) -> &BTreeMap<K, u64>,
    label: impl Fn(&K) -> String,
) -> Vec<Vec<String>> {
    let keys: BTreeSet<K> = stats.iter().flat_map(|s| get(s).keys().cloned()).collect();
    keys.iter()
        .map(|k| {
            let vals: Vec<u64> = stats
                .iter()
                .map(|s| get(s).get(k).copied().unwrap_or(0))
                .collect();
            row(label(k), &vals)
        })
        .collect()
}

fn week(d: &NaiveDate) -> NaiveDate {
    *d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn by_week(m: &BTreeMap<NaiveDate, u64>) -> BTreeMap<NaiveDate, u64> {
    let mut w = BTreeMap::new();
    for (d, n) in m {
        *w.entry(week(d)).or_insert(0) += n;
    }
    w
}

pub fn table(r: &Report, daily: bool) -> String {
    let mut out = String::new();
    let tickets = r.stats.first().map_or(0, |s| s.opened);
    let only = match &r.estate {
        Some(e) => format!(
            " of estate {e} ({} lines of other estates left out)",
            r.filtered_lines
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "replay of {}{only}: {} lines, {tickets} tickets\n",
        r.history, r.records
    );
    for (i, p) in r.policies.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}{} {} ({}) sha256:{}",
            if r.policies.len() == 2 {
                format!("policy {}: ", ["A", "B"][i])
            } else {
                "policy: ".into()
            },
            p.id,
            p.version,
            p.path,
            &p.fingerprint.get(..12).unwrap_or(&p.fingerprint)
        );
        for (estate, e) in &p.estates {
            let _ = writeln!(
                out,
                "  estate {estate}: {} {} ({}) sha256:{}",
                e.id,
                e.version,
                e.path,
                &e.fingerprint.get(..12).unwrap_or(&e.fingerprint)
            );
        }
    }
    out.push('\n');
    let s = &r.stats;
    let pick = |f: &dyn Fn(&Stats) -> u64| s.iter().map(f).collect::<Vec<_>>();
    section(
        &mut out,
        r,
        "tickets",
        vec![
            row("opened".into(), &pick(&|x| x.opened)),
            row("closed".into(), &pick(&|x| x.closed)),
            row("closed as invalid".into(), &pick(&|x| x.closed_invalid)),
            row("unfinished at the end".into(), &pick(&|x| x.unfinished)),
            row("reopened".into(), &pick(&|x| x.reopened)),
            row("revisits overdue".into(), &pick(&|x| x.revisits_overdue)),
            row("history commands refused".into(), &pick(&|x| x.refused)),
        ],
    );
    let mut breaches = keyed(s, |x| &x.breaches, String::clone);
    breaches.push(row("total".into(), &pick(&|x| x.total_breaches())));
    section(&mut out, r, "limits breached per rule", breaches);
    section(
        &mut out,
        r,
        "met late per rule",
        keyed(s, |x| &x.met_late, String::clone),
    );
    section(
        &mut out,
        r,
        "escalations per ladder step",
        keyed(s, |x| &x.escalations, String::clone),
    );
    let days: BTreeSet<NaiveDate> = s
        .iter()
        .flat_map(|x| x.revisits_due.keys().copied())
        .collect();
    let weekly = !daily && days.len() > 31;
    if weekly {
        let w: Vec<BTreeMap<NaiveDate, u64>> = s.iter().map(|x| by_week(&x.revisits_due)).collect();
        let rows = keyed_maps(&w, |d| format!("week of {d}"));
        section(
            &mut out,
            r,
            "revisits due per week (per day: --daily, --format json|csv)",
            rows,
        );
    } else {
        section(
            &mut out,
            r,
            "revisits due per day",
            keyed(s, |x| &x.revisits_due, |d| d.to_string()),
        );
    }
    let depts: BTreeSet<String> = s.iter().flat_map(|x| x.workload.keys().cloned()).collect();
    let mut rows = Vec::new();
    for dept in &depts {
        let maps: Vec<BTreeMap<NaiveDate, u64>> = s
            .iter()
            .map(|x| {
                let m = x.workload.get(dept).cloned().unwrap_or_default();
                if weekly { by_week(&m) } else { m }
            })
            .collect();
        rows.extend(keyed_maps(&maps, |d| {
            if weekly {
                format!("{dept} week of {d}")
            } else {
                format!("{dept} {d}")
            }
        }));
    }
    section(
        &mut out,
        r,
        if weekly {
            "dispatched per department per week"
        } else {
            "dispatched per department per day"
        },
        rows,
    );
    estates(&mut out, r);
    if r.policies.len() == 2 {
        let _ = writeln!(
            out,
            "tickets whose outcome differs: {} of {tickets}",
            r.differing_total
        );
        let rows: Vec<Vec<String>> = r
            .differing
            .iter()
            .take(SHOWN_DIFFS)
            .map(|d| {
                vec![
                    d.ticket.clone(),
                    d.estate.clone(),
                    d.line.to_string(),
                    d.fields.join(","),
                    d.a.describe(),
                    d.b.describe(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            out.push_str(&output::table(
                &["ticket", "estate", "line", "differs", "A", "B"],
                &rows,
            ));
        }
        if r.differing_total as usize > rows.len() {
            let _ = writeln!(
                out,
                "… {} more (the first {} are in --format json or csv; raise --max-diffs for more)",
                r.differing_total as usize - rows.len(),
                r.differing.len()
            );
        }
    }
    out
}

/// Per estate: tickets, closed, breached, escalations and, with two sides, how
/// many differ. One row per estate and side.
fn estates(out: &mut String, r: &Report) {
    if r.estates.is_empty() {
        return;
    }
    let two = r.policies.len() == 2;
    let mut rows = Vec::new();
    for (estate, row) in &r.estates {
        for (i, s) in row.sides.iter().enumerate() {
            let mut v = vec![
                estate.clone(),
                if two {
                    ["A", "B"][i].to_string()
                } else {
                    r.policies.first().map(|p| p.id.clone()).unwrap_or_default()
                },
                s.tickets.to_string(),
                s.closed.to_string(),
                s.closed_invalid.to_string(),
                s.unfinished.to_string(),
                s.breached.to_string(),
                s.escalations.to_string(),
                s.revisits_overdue.to_string(),
                s.refused.to_string(),
            ];
            if two {
                v.push(if i == 0 {
                    row.differing.to_string()
                } else {
                    String::new()
                });
            }
            rows.push(v);
        }
    }
    let mut h = vec![
        "estate",
        "policy",
        "tickets",
        "closed",
        "invalid",
        "unfinished",
        "breached",
        "escalations",
        "revisits overdue",
        "refused",
    ];
    if two {
        h.push("differing");
    }
    out.push_str("per estate\n");
    out.push_str(&output::table(&h, &rows));
    out.push('\n');
}

fn keyed_maps(
    maps: &[BTreeMap<NaiveDate, u64>],
    label: impl Fn(&NaiveDate) -> String,
) -> Vec<Vec<String>> {
    let keys: BTreeSet<NaiveDate> = maps.iter().flat_map(|m| m.keys().copied()).collect();
    keys.iter()
        .map(|k| {
            let vals: Vec<u64> = maps
                .iter()
                .map(|m| m.get(k).copied().unwrap_or(0))
                .collect();
            row(label(k), &vals)
        })
        .collect()
}

/// `section,key,day,a,b`: every figure, per day where it is per day, then the differing tickets.
pub fn csv(r: &Report) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["section", "key", "day", "a", "b"]);
    let s = &r.stats;
    let mut put = |section: &str, key: &str, day: &str, vals: Vec<String>| {
        let mut rec = vec![section.to_string(), key.to_string(), day.to_string()];
        rec.extend(vals);
        rec.resize(5, String::new());
        let _ = w.write_record(&rec);
    };
    let nums = |f: &dyn Fn(&Stats) -> u64| s.iter().map(|x| f(x).to_string()).collect::<Vec<_>>();
    put("tickets", "opened", "", nums(&|x| x.opened));
    put("tickets", "closed", "", nums(&|x| x.closed));
    put("tickets", "closed_invalid", "", nums(&|x| x.closed_invalid));
    put("tickets", "unfinished", "", nums(&|x| x.unfinished));
    put("tickets", "reopened", "", nums(&|x| x.reopened));
    put(
        "tickets",
        "revisits_overdue",
        "",
        nums(&|x| x.revisits_overdue),
    );
    put("tickets", "refused", "", nums(&|x| x.refused));
    type Get = fn(&Stats) -> &BTreeMap<String, u64>;
    let maps: [(&str, Get); 3] = [
        ("breached", |x| &x.breaches),
        ("met_late", |x| &x.met_late),
        ("escalated", |x| &x.escalations),
    ];
    for (name, get) in maps {
        let keys: BTreeSet<&String> = s.iter().flat_map(|x| get(x).keys()).collect();
        for k in keys {
            put(
                name,
                k,
                "",
                s.iter()
                    .map(|x| get(x).get(k).copied().unwrap_or(0).to_string())
                    .collect(),
            );
        }
    }
    let days: BTreeSet<NaiveDate> = s
        .iter()
        .flat_map(|x| x.revisits_due.keys().copied())
        .collect();
    for d in days {
        put(
            "revisits_due",
            "",
            &d.to_string(),
            s.iter()
                .map(|x| x.revisits_due.get(&d).copied().unwrap_or(0).to_string())
                .collect(),
        );
    }
    let depts: BTreeSet<&String> = s.iter().flat_map(|x| x.workload.keys()).collect();
    for dept in depts {
        let days: BTreeSet<NaiveDate> = s
            .iter()
            .filter_map(|x| x.workload.get(dept))
            .flat_map(|m| m.keys().copied())
            .collect();
        for d in days {
            put(
                "dispatched",
                dept,
                &d.to_string(),
                s.iter()
                    .map(|x| {
                        x.workload
                            .get(dept)
                            .and_then(|m| m.get(&d))
                            .copied()
                            .unwrap_or(0)
                            .to_string()
                    })
                    .collect(),
            );
        }
    }
    for (estate, row) in &r.estates {
        for (field, get) in [
            (
                "tickets",
                (|s: &crate::sim::report::EstateStats| s.tickets)
                    as fn(&crate::sim::report::EstateStats) -> u64,
            ),
            ("closed", |s| s.closed),
            ("closed_invalid", |s| s.closed_invalid),
            ("unfinished", |s| s.unfinished),
            ("breached", |s| s.breached),
            ("escalations", |s| s.escalations),
            ("revisits_overdue", |s| s.revisits_overdue),
            ("refused", |s| s.refused),
        ] {
            put(
                "estate",
                &format!("{estate}.{field}"),
                "",
                row.sides.iter().map(|s| get(s).to_string()).collect(),
            );
        }
    }
    for d in &r.differing {
        put(
            "differs",
            &d.ticket,
            "",
            vec![d.a.describe(), d.b.describe()],
        );
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Problems with the input, for stderr: never silent.
pub fn warnings(r: &Report) -> String {
    let mut out = String::new();
    for e in &r.malformed_sample {
        let _ = writeln!(out, "error: {e}");
    }
    if r.malformed as usize > r.malformed_sample.len() {
        let _ = writeln!(
            out,
            "error: … {} more malformed line(s)",
            r.malformed as usize - r.malformed_sample.len()
        );
    }
    if r.malformed > 0 {
        let _ = writeln!(
            out,
            "{}: {} malformed line(s) skipped",
            r.history, r.malformed
        );
    }
    for (i, s) in r.stats.iter().enumerate() {
        let id = r.policies.get(i).map_or("", |p| p.id.as_str());
        for (c, (n, first)) in &s.unknown_categories {
            let _ = writeln!(
                out,
                "warning: {}:{first}: category `{c}` is unknown to policy {id} ({n} line(s)); those tickets were classified by the policy's own conditions",
                r.history
            );
        }
    }
    if r.orphan_lines > 0 {
        let sample: Vec<String> = r
            .orphan_sample
            .iter()
            .take(5)
            .map(|(l, t)| format!("{}:{l} ({t})", r.history))
            .collect();
        let _ = writeln!(
            out,
            "warning: {} line(s) for tickets not open in the replay (never opened, already closed, or finished idle), e.g. {}",
            r.orphan_lines,
            sample.join(", ")
        );
    }
    if r.duplicate_opens > 0 {
        let _ = writeln!(
            out,
            "warning: {} line(s) open a ticket id that is already open; skipped",
            r.duplicate_opens
        );
    }
    out
}
