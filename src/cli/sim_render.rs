//! Human text for simulation results: a scenario's timeline with its checks, failed
//! expectations as expected vs actual, and the `policy test` summary with coverage.

use std::fmt::Write as _;

use crate::sim::runner::{Event, Outcome};
use crate::sim::suite::{Case, Suite};

use super::{output, timeline};

/// A scenario's timeline (unless `quiet`), its failures and a one-line verdict.
pub fn outcome(o: &Outcome, quiet: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario: {}  ({}, policy {})",
        o.name,
        o.path.display(),
        o.policy
    );
    if !quiet {
        let rows: Vec<Vec<String>> = o.timeline.iter().filter_map(|e| row(e, o)).collect();
        out.push_str(&output::table(
            &["time", "ticket", "what happened", "rule"],
            &rows,
        ));
    }
    out.push_str(&failures(o));
    let _ = writeln!(
        out,
        "{}: {} step(s), {} check(s){}\n",
        if o.passed() { "ok" } else { "FAILED" },
        o.steps,
        o.checks,
        if o.passed() {
            String::new()
        } else {
            format!(", {} failed", o.failures.len())
        }
    );
    out
}

fn row(e: &Event, o: &Outcome) -> Option<Vec<String>> {
    let tz = o.tz;
    Some(match e {
        Event::Fact { ticket, decision } => {
            if matches!(decision.fact, crate::engine::Fact::MilestoneReached { .. }) {
                return None;
            }
            vec![
                timeline::local(decision.at, tz),
                ticket.clone(),
                timeline::summary(&decision.fact, tz),
                decision.rule.clone().unwrap_or_default(),
            ]
        }
        Event::Refused {
            at,
            ticket,
            step,
            error,
            expected,
        } => vec![
            timeline::local(*at, tz),
            ticket.clone(),
            format!(
                "{} {step}: {error}",
                if *expected {
                    "refused as expected:"
                } else {
                    "REFUSED"
                }
            ),
            String::new(),
        ],
        Event::External { at, estate, kind } => vec![
            timeline::local(*at, tz),
            estate.clone(),
            format!("{kind} at estate {estate}"),
            String::new(),
        ],
        Event::Checked {
            at,
            ticket,
            ok,
            location,
        } => vec![
            timeline::local(*at, tz),
            ticket.clone(),
            format!(
                "{} ({location})",
                if *ok {
                    "✓ expectations hold"
                } else {
                    "✗ EXPECTATION FAILED"
                }
            ),
            String::new(),
        ],
    })
}

/// Each failure: where, when, which ticket, expected vs actual.
pub fn failures(o: &Outcome) -> String {
    let mut out = String::new();
    for f in &o.failures {
        let _ = writeln!(
            out,
            "FAIL {} (at {}, ticket {}): {}\n  expected: {}\n  actual:   {}",
            f.location, f.when, f.ticket, f.mismatch.check, f.mismatch.expected, f.mismatch.actual
        );
    }
    out
}

pub fn suite(s: &Suite, quiet: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy {} ({}): {} scenario(s)",
        s.policy,
        s.policy_path.display(),
        s.cases.len()
    );
    for case in &s.cases {
        match case {
            Case::Ran(o) => {
                if !quiet || !o.passed() {
                    let file = o.path.file_name().map(|f| f.to_string_lossy().into_owned());
                    let _ = writeln!(
                        out,
                        "  {:<4}  {}  {}",
                        if o.passed() { "ok" } else { "FAIL" },
                        crate::width::pad(&file.unwrap_or_default(), 36),
                        o.name
                    );
                }
                for line in failures(o).lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
            Case::Error { path, message } => {
                let _ = writeln!(out, "  ERROR {}", path.display());
                for line in message.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
    }
    let c = &s.coverage;
    let _ = writeln!(
        out,
        "coverage: {} of {} rule ids cited by the policy are exercised: {}",
        c.covered(),
        c.cited.len(),
        c.fired.join(" ")
    );
    if !c.claimed_only.is_empty() {
        let _ = writeln!(
            out,
            "  claimed by a scenario but no decision cited them: {}",
            c.claimed_only.join(" ")
        );
    }
    if !c.uncovered.is_empty() {
        let _ = writeln!(out, "  not exercised: {}", c.uncovered.join(" "));
    }
    if !c.unknown_claims.is_empty() {
        let _ = writeln!(
            out,
            "  claimed but not cited by this policy: {}",
            c.unknown_claims.join(" ")
        );
    }
    let _ = writeln!(out, "result: {} passed, {} failed", s.passed(), s.failed());
    out
}
