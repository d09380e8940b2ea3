//! `steward policy explain PATH --ticket JSON`: read the ticket, ask
//! [`crate::policy::explain`] what the policy does with it, print a table or JSON.
//!
//! The ticket must say when it was opened (`opened_at`, RFC 3339) unless `--now`
//! is given: deadlines are computed from it and a made-up default would hide that.
//! A malformed ticket is one line on stderr and exit 2.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::args::{Format, Global};
use super::{EXIT_INPUT, EXIT_OK, load, output};
use crate::policy::CompiledPolicy;
use crate::policy::explain::{Explanation, explain};
use crate::policy::model::{Kind, Phase};
use crate::script::facts::TicketFacts;

/// The `--ticket` JSON: the fields of [`TicketFacts`] a caller may give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketInput {
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    estate: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    major: bool,
    #[serde(default)]
    phase: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    class: i64,
    opened_at: Option<String>,
}

pub fn run(path: &Path, ticket: &str, g: &Global) -> i32 {
    let Some(loaded) = load::policy(path, g.format) else {
        return EXIT_INPUT;
    };
    let loaded = &loaded;
    let (facts, opened_at) = match parse_ticket(ticket, g.now.as_deref()) {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("error: bad --ticket: {msg}");
            return EXIT_INPUT;
        }
    };
    let compiled = match CompiledPolicy::with_plugins(loaded.policy.clone(), &loaded.wasm) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("error: the policy cannot run: {msg}");
            return EXIT_INPUT;
        }
    };
    let e = explain(&compiled, &facts, opened_at);
    match g.format {
        Format::Json => output::json(&serde_json::to_value(&e).unwrap_or_default()),
        _ => print!("{}", render(&e)),
    }
    EXIT_OK
}

fn parse_ticket(text: &str, now: Option<&str>) -> Result<(TicketFacts, DateTime<Utc>), String> {
    let t: TicketInput = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if Kind::parse(&t.kind).is_none() {
        return Err(format!(
            "unknown kind `{}`; expected one of: {}",
            t.kind,
            Kind::ALL.join(", ")
        ));
    }
    if !t.phase.is_empty() && Phase::parse(&t.phase).is_none() {
        return Err(format!(
            "unknown phase `{}`; expected `before_occupancy` or `after_occupancy`",
            t.phase
        ));
    }
    if !(0..=3).contains(&t.class) {
        return Err(format!(
            "complaint class must be 0 (unknown), 1, 2 or 3, found {}",
            t.class
        ));
    }
    let (when, what) = match (&t.opened_at, now) {
        (Some(at), _) => (at.as_str(), "`opened_at`"),
        (None, Some(now)) => (now, "--now"),
        (None, None) => {
            return Err("the ticket needs `opened_at` (RFC 3339), or pass --now".to_string());
        }
    };
    let opened_at = DateTime::parse_from_rfc3339(when)
        .map_err(|e| {
            format!("{what} `{when}` is not an RFC 3339 time like 2026-07-01T09:00:00+08:00: {e}")
        })?
        .with_timezone(&Utc);
    let facts = TicketFacts {
        kind: t.kind,
        class: t.class,
        text: t.text,
        estate: t.estate,
        unit: t.unit,
        channel: t.channel,
        urgency: t.urgency,
        major: t.major,
        phase: t.phase,
        tags: t.tags,
        ..TicketFacts::default()
    };
    Ok((facts, opened_at))
}

fn render(e: &Explanation) -> String {
    let mut out = String::new();
    let f = &e.facts;
    let fp: String = e.fingerprint.chars().take(16).collect();
    out.push_str(&format!(
        "policy     {} {}  sha256:{fp}…\n",
        e.policy, e.version
    ));
    out.push_str(&format!("ticket     {} “{}”", f.kind, f.text));
    for (name, v) in [
        ("estate", &f.estate),
        ("unit", &f.unit),
        ("channel", &f.channel),
        ("urgency", &f.urgency),
    ] {
        if !v.is_empty() {
            out.push_str(&format!("  {name} {v}"));
        }
    }
    out.push_str(&format!(
        "\nopened     {} ({})\n\n",
        local(&e.opened_at),
        e.timezone
    ));

    let c = &e.category;
    out.push_str(&format!("category   {}  {}\n", c.id, c.label));
    let why = match (&c.error, &c.matched, c.default) {
        _ if c.hook.is_some() => {
            format!("decided by hook {}", c.hook.as_deref().unwrap_or_default())
        }
        (Some(err), _, _) => format!("the policy's fallback applies: {err}"),
        (None, Some(m), _) => format!("matched `{}`", flat(m, 120)),
        (None, None, true) => {
            "no category matched; the policy's default category applies".to_string()
        }
        (None, None, false) => format!(
            "the category has no condition: it takes every {} not matched before",
            f.kind
        ),
    };
    out.push_str(&format!("           {why}\n"));
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    let class = c.class.map_or("-".to_string(), |k| k.to_string());
    out.push_str(&format!(
        "           class {class}  route {}  form {}  report_to {}  publish_result {}\n",
        dash(&c.route),
        dash(&c.form),
        list(&c.report_to),
        yes(c.publish_result),
    ));
    out.push_str(&format!(
        "           emergency {}  major {}  rules {}\n\n",
        yes(c.emergency),
        yes(c.major),
        list(&c.rules)
    ));

    out.push_str("limits\n");
    let rows: Vec<Vec<String>> = e
        .limits
        .iter()
        .map(|l| {
            let applies = match &l.error {
                Some(err) => format!("error: {err}"),
                None => yes(l.applies).to_string(),
            };
            let deadline = match (&l.deadline, l.applies, l.from.as_str()) {
                (Some(d), _, _) => local(d),
                // A limit whose deadline a person sets has none until they do.
                (None, true, _) if l.within.starts_with("set by ") => "set per ticket".to_string(),
                (None, true, from) => format!("{from} + {}", l.within),
                (None, false, _) => "-".to_string(),
            };
            let warn = match (&l.warn, l.warn_at) {
                (Some(w), Some(p)) => format!("{} ({p}%)", local(w)),
                (None, Some(p)) if l.applies => format!("at {p}%"),
                _ => "-".to_string(),
            };
            let mut breach = l.on_breach.clone();
            if !l.notify.is_empty() {
                breach.push_str(&format!("; notify {}", l.notify.join(", ")));
            }
            if l.repeat {
                breach.push_str("; repeats");
            }
            vec![
                l.id.clone(),
                applies,
                l.condition
                    .as_deref()
                    .map_or("(always)".to_string(), |c| flat(c, 40)),
                l.milestone.clone(),
                l.within.clone(),
                deadline,
                warn,
                breach,
                list(&l.rules),
            ]
        })
        .collect();
    let header = [
        "ID",
        "APPLIES",
        "CONDITION",
        "MILESTONE",
        "WITHIN",
        "DEADLINE",
        "WARN",
        "ON BREACH",
        "RULES",
    ];
    out.push_str(&indent(&output::table(&header, &rows)));

    out.push_str("\nescalation ladder\n");
    let rows: Vec<Vec<String>> = e
        .ladder
        .iter()
        .map(|s| {
            vec![
                s.step.to_string(),
                s.id.clone(),
                s.label.clone(),
                list(&s.notify),
            ]
        })
        .collect();
    out.push_str(&indent(&output::table(
        &["#", "STEP", "LABEL", "NOTIFY"],
        &rows,
    )));

    out.push_str("\nrevisits\n");
    let mut rows = Vec::new();
    for r in e.revisits.iter().filter(|r| r.applies) {
        for (i, s) in r.steps.iter().enumerate() {
            let (id, label) = if i == 0 {
                (r.id.clone(), r.label.clone())
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![
                id,
                label,
                format!("#{}", i + 1),
                s.step.clone(),
                s.due.clone(),
                list(&r.rules),
            ]);
        }
    }
    if rows.is_empty() {
        out.push_str("  none apply\n");
    } else {
        out.push_str(&indent(&output::table(
            &["ID", "LABEL", "STEP", "WHEN", "DUE", "RULES"],
            &rows,
        )));
    }
    let skipped: Vec<String> = e
        .revisits
        .iter()
        .filter(|r| !r.applies)
        .map(|r| match &r.error {
            Some(err) => format!("{} (error: {err})", r.id),
            None => r.id.clone(),
        })
        .collect();
    if !skipped.is_empty() {
        out.push_str(&format!("  not applying: {}\n", skipped.join(", ")));
    }

    out.push_str("\npauses (reasons that may stop clocks)\n");
    let rows: Vec<Vec<String>> = e
        .pauses
        .iter()
        .map(|p| {
            let applies = match &p.error {
                Some(err) => format!("error: {err}"),
                None => yes(p.applies).to_string(),
            };
            vec![
                p.id.clone(),
                p.label.clone(),
                applies,
                p.condition
                    .as_deref()
                    .map_or("(always)".to_string(), |c| flat(c, 40)),
                list(&p.stops),
                list(&p.rules),
            ]
        })
        .collect();
    out.push_str(&indent(&output::table(
        &["ID", "LABEL", "APPLIES", "CONDITION", "STOPS", "RULES"],
        &rows,
    )));
    out
}

/// `2026-07-01T09:30:00+08:00` → `2026-07-01 09:30 Wed`; other text unchanged.
fn local(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%Y-%m-%d %H:%M %a").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(", ")
    }
}

/// Whitespace collapsed (conditions span lines), cut to `max` columns.
fn flat(s: &str, max: usize) -> String {
    crate::width::one_line(s, max)
}

fn indent(table: &str) -> String {
    table.lines().map(|l| format!("  {l}\n")).collect()
}
