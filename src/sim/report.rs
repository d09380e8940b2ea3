//! The replay report: per policy, limits breached per rule, escalations per ladder
//! step, revisits falling due per day, tickets dispatched per department per day;
//! and for two policies, the tickets whose outcome differs. Workers each fill one
//! and they are merged, so the figures do not depend on how the work was split.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::engine::{Decision, Fact};

use super::history::LineError;
use super::outcome::{Acc, Difference};

/// Figures for one policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub opened: u64,
    pub closed: u64,
    pub closed_invalid: u64,
    /// Tickets still open when the history ended, or finished after `--idle-days`.
    pub unfinished: u64,
    pub reopened: u64,
    /// Limit id → breaches.
    pub breaches: BTreeMap<String, u64>,
    /// Limit id → milestones reached after the deadline.
    pub met_late: BTreeMap<String, u64>,
    /// Ladder step → escalations to it.
    pub escalations: BTreeMap<String, u64>,
    /// Local day → revisits falling due that day (scheduled due dates, and event-driven revisits on the event's day).
    pub revisits_due: BTreeMap<NaiveDate, u64>,
    pub revisits_overdue: u64,
    /// Department → local day → tickets routed or assigned to it that day.
    pub workload: BTreeMap<String, BTreeMap<NaiveDate, u64>>,
    /// History commands this policy refused (e.g. a close while a revisit it requires is pending).
    pub refused: u64,
    /// Category the history recorded but the policy does not know → (lines, first line).
    pub unknown_categories: BTreeMap<String, (u64, u64)>,
    /// The first refusals: (line, ticket, reason).
    pub refusal_sample: Vec<(u64, String, String)>,
}

const SAMPLE: usize = 20;

fn add<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_insert(0) += v;
    }
}

impl Stats {
    /// Account one decision.
    pub fn note(&mut self, d: &Decision, tz: Tz, acc: &mut Acc) {
        let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        acc.note(d);
        match &d.fact {
            Fact::Opened { .. } => self.opened += 1,
            Fact::Classified {
                route: Some(dept), ..
            } if !acc.routed => {
                acc.routed = true;
                self.dispatch(dept, day(d.at));
            }
            Fact::Assigned { department, .. } => self.dispatch(department, day(d.at)),
            Fact::Breached { limit, .. } => *self.breaches.entry(limit.clone()).or_insert(0) += 1,
            Fact::ClockMet {
                limit,
                on_time: false,
            } => *self.met_late.entry(limit.clone()).or_insert(0) += 1,
            Fact::Escalated { to, .. } => *self.escalations.entry(to.clone()).or_insert(0) += 1,
            Fact::RevisitScheduled { due: Some(due), .. } => {
                *self.revisits_due.entry(day(*due)).or_insert(0) += 1
            }
            Fact::RevisitDue { .. } => *self.revisits_due.entry(day(d.at)).or_insert(0) += 1,
            Fact::RevisitOverdue { .. } => self.revisits_overdue += 1,
            Fact::Reopened { .. } => self.reopened += 1,
            Fact::Closed { invalid: None } => self.closed += 1,
            Fact::Closed { invalid: Some(_) } => self.closed_invalid += 1,
            _ => {}
        }
    }

    fn dispatch(&mut self, dept: &str, day: NaiveDate) {
        *self
            .workload
            .entry(dept.to_string())
            .or_default()
            .entry(day)
            .or_insert(0) += 1;
    }

    pub fn refusal(&mut self, line: u64, ticket: &str, reason: String) {
        self.refused += 1;
        if self.refusal_sample.len() < SAMPLE {
            self.refusal_sample.push((line, ticket.to_string(), reason));
        }
    }

    pub fn unknown_category(&mut self, category: &str, line: u64) {
        let e = self
            .unknown_categories
            .entry(category.to_string())
            .or_insert((0, line));
        e.0 += 1;
        e.1 = e.1.min(line);
    }

    pub fn merge(&mut self, o: &Stats) {
        self.opened += o.opened;
        self.closed += o.closed;
        self.closed_invalid += o.closed_invalid;
        self.unfinished += o.unfinished;
        self.reopened += o.reopened;
        add(&mut self.breaches, &o.breaches);
        add(&mut self.met_late, &o.met_late);
        add(&mut self.escalations, &o.escalations);
        add(&mut self.revisits_due, &o.revisits_due);
        self.revisits_overdue += o.revisits_overdue;
        for (dept, days) in &o.workload {
            add(self.workload.entry(dept.clone()).or_default(), days);
        }
        self.refused += o.refused;
        for (c, (n, first)) in &o.unknown_categories {
            let e = self
                .unknown_categories
                .entry(c.clone())
                .or_insert((0, *first));
            e.0 += n;
            e.1 = e.1.min(*first);
        }
        self.refusal_sample.extend(o.refusal_sample.iter().cloned());
        self.refusal_sample.sort();
        self.refusal_sample.truncate(SAMPLE);
    }

    pub fn total_breaches(&self) -> u64 {
        self.breaches.values().sum()
    }
}

/// A policy as replayed.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub path: String,
    pub id: String,
    pub version: String,
    pub fingerprint: String,
    /// Estate → its own policy (`--estate-policy`), as `policy apply --estate` sets live.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub estates: BTreeMap<String, EstatePolicy>,
}

/// An estate's own policy on one side.
#[derive(Debug, Clone, Serialize)]
pub struct EstatePolicy {
    pub path: String,
    pub id: String,
    pub version: String,
    pub fingerprint: String,
}

/// One estate's tickets under one side, counted when each ticket is final.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EstateStats {
    pub tickets: u64,
    pub closed: u64,
    pub closed_invalid: u64,
    pub unfinished: u64,
    /// Tickets that breached at least one limit.
    pub breached: u64,
    pub escalations: u64,
    pub revisits_overdue: u64,
    pub reopened: u64,
    pub refused: u64,
}

impl EstateStats {
    pub fn merge(&mut self, o: &EstateStats) {
        self.tickets += o.tickets;
        self.closed += o.closed;
        self.closed_invalid += o.closed_invalid;
        self.unfinished += o.unfinished;
        self.breached += o.breached;
        self.escalations += o.escalations;
        self.revisits_overdue += o.revisits_overdue;
        self.reopened += o.reopened;
        self.refused += o.refused;
    }
}

/// One estate across the sides.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EstateRow {
    /// Per side, in the order of `policies`.
    pub sides: Vec<EstateStats>,
    /// Tickets of this estate whose outcome differs between A and B.
    pub differing: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub history: String,
    /// Well-formed lines replayed.
    pub records: u64,
    pub policies: Vec<PolicyInfo>,
    /// The estate the replay was restricted to (`--estate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estate: Option<String>,
    /// Lines of other estates' tickets left out by `--estate`.
    pub filtered_lines: u64,
    pub stats: Vec<Stats>,
    /// Per estate, per side.
    pub estates: BTreeMap<String, EstateRow>,
    /// Tickets whose outcome differs between A and B (the first `max_diffs` by history line).
    pub differing: Vec<Difference>,
    pub differing_total: u64,
    /// Lines for a ticket that is not open in the replay (never opened, closed, or finished idle).
    pub orphan_lines: u64,
    pub orphan_sample: Vec<(u64, String)>,
    /// Lines opening a ticket id that is already open.
    pub duplicate_opens: u64,
    /// Malformed lines (skipped).
    pub malformed: u64,
    pub malformed_sample: Vec<LineError>,
}

/// What one worker found; merged into the report.
#[derive(Debug, Default)]
pub struct Partial {
    pub records: u64,
    pub stats: Vec<Stats>,
    pub estates: BTreeMap<String, EstateRow>,
    pub differing: BTreeMap<u64, Difference>,
    pub differing_total: u64,
    pub orphan_lines: u64,
    pub orphan_sample: Vec<(u64, String)>,
    pub duplicate_opens: u64,
}

impl Partial {
    pub fn new(policies: usize) -> Partial {
        Partial {
            stats: vec![Stats::default(); policies],
            ..Partial::default()
        }
    }

    /// Keep the `max` differences first in history order.
    pub fn differ(&mut self, d: Difference, max: usize) {
        self.differing_total += 1;
        self.differing.insert(d.line, d);
        while self.differing.len() > max {
            self.differing.pop_last();
        }
    }

    pub fn orphan(&mut self, line: u64, ticket: &str) {
        self.orphan_lines += 1;
        if self.orphan_sample.len() < SAMPLE {
            self.orphan_sample.push((line, ticket.to_string()));
        }
    }

    pub fn merge(&mut self, o: Partial, max: usize) {
        self.records += o.records;
        for (a, b) in self.stats.iter_mut().zip(&o.stats) {
            a.merge(b);
        }
        for (estate, row) in o.estates {
            let mine = self.estates.entry(estate).or_default();
            mine.differing += row.differing;
            if mine.sides.len() < row.sides.len() {
                mine.sides.resize(row.sides.len(), EstateStats::default());
            }
            for (a, b) in mine.sides.iter_mut().zip(&row.sides) {
                a.merge(b);
            }
        }
        self.differing_total += o.differing_total;
        self.differing.extend(o.differing);
        while self.differing.len() > max {
            self.differing.pop_last();
        }
        self.orphan_lines += o.orphan_lines;
        self.orphan_sample.extend(o.orphan_sample);
        self.orphan_sample.sort();
        self.orphan_sample.truncate(SAMPLE);
        self.duplicate_opens += o.duplicate_opens;
    }
}
