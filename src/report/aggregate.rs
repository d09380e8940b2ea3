//! The fold: one pass over the event log, in `seq` order, into per-period
//! aggregates. Pure — no store, no clock — so it is tested on plain
//! `Vec<Decision>`s; [`super::generate`] feeds it from SQLite.
//!
//! State kept per ticket is one small record (interned estate, kind, category,
//! department, a few flags) for tickets opened before the period's end, because
//! an event inside the period (a breach, a resolution) must be attributed to
//! the ticket's estate and kind; the daily report's detail (text, plan, running
//! deadlines) is kept only for complaints opened in the period, and only when
//! asked for. Events at or after the period's end are never parsed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::event::Ev;
use super::figures::{KindCounts, PolicyHead};
use super::period::Period;
use crate::engine::Decision;
use crate::policy::model::Kind;

const NONE: u32 = u32::MAX;

/// Strings seen many times (estates, categories, people) stored once.
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: HashMap<String, u32>,
    pub(super) names: Vec<String>,
}

impl Interner {
    pub(super) fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }

    pub(super) fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }
}

/// What the fold remembers of one ticket.
#[derive(Debug)]
pub(super) struct Rec {
    pub(super) estate: u32,
    /// Index into [`KindCounts::NAMES`], or `NONE`.
    pub(super) kind: u32,
    pub(super) category: u32,
    pub(super) department: u32,
    pub(super) assigned: bool,
    /// Opened inside the period: counted in the close and valid rates.
    pub(super) cohort: bool,
    pub(super) specialist: u32,
    pub(super) resolved: bool,
    pub(super) closed: bool,
    pub(super) invalid: bool,
    pub(super) revisit: Option<RevisitTrack>,
    pub(super) detail: Option<Box<Detail>>,
}

/// A repair first resolved in the period.
#[derive(Debug, Clone, Copy)]
pub(super) struct RevisitTrack {
    pub(super) bucket: usize,
    pub(super) first_due: Option<DateTime<Utc>>,
    pub(super) revisited: bool,
}

/// The daily report's line for a new complaint.
#[derive(Debug, Default)]
pub(super) struct Detail {
    pub(super) opened_at: Option<DateTime<Utc>>,
    pub(super) text: String,
    pub(super) first_response: Option<DateTime<Utc>>,
    pub(super) plan: Option<(DateTime<Utc>, String)>,
    pub(super) plan_due: Option<DateTime<Utc>>,
    /// Running clocks: limit → deadline.
    pub(super) clocks: BTreeMap<String, DateTime<Utc>>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LimitAcc {
    pub(super) on_time: u64,
    pub(super) breached: u64,
    pub(super) met_late: u64,
}

/// The running aggregates; see the module documentation.
#[derive(Debug)]
pub struct Aggregator {
    pub(super) period: Period,
    pub(super) estate: Option<String>,
    detail: bool,
    pub(super) names: Interner,
    pub(super) tickets: HashMap<Box<str>, Rec>,
    pub(super) estates_seen: BTreeSet<u32>,
    pub(super) log_span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Events of reported tickets inside the period.
    pub(super) activity: u64,
    pub(super) opened: KindCounts,
    pub(super) series_opened: Vec<KindCounts>,
    pub(super) series_clocks: Vec<(u64, u64)>,
    /// Interned limit id → counts.
    pub(super) limits: HashMap<u32, LimitAcc>,
    /// Interned ladder step → escalations onto it.
    pub(super) escalations: HashMap<u32, u64>,
    pub(super) reopened: u64,
    pub(super) compensation: u64,
    pub(super) revisits_overdue: u64,
    pub(super) fingerprints: HashMap<String, u64>,
    /// Scope (`None` = company) → fingerprint active when the period began.
    pub(super) active_at_start: BTreeMap<Option<String>, String>,
    /// (scope, fingerprint) applied inside the period.
    pub(super) applied: Vec<(Option<String>, String)>,
}

impl Aggregator {
    /// `estate` limits the report to one estate; `detail` keeps the daily
    /// report's per-complaint lines.
    pub fn new(period: Period, estate: Option<String>, detail: bool) -> Aggregator {
        let n = period.buckets();
        Aggregator {
            period,
            estate,
            detail,
            names: Interner::default(),
            tickets: HashMap::new(),
            estates_seen: BTreeSet::new(),
            log_span: None,
            activity: 0,
            opened: KindCounts::default(),
            series_opened: vec![KindCounts::default(); n],
            series_clocks: vec![(0, 0); n],
            limits: HashMap::new(),
            escalations: HashMap::new(),
            reopened: 0,
            compensation: 0,
            revisits_overdue: 0,
            fingerprints: HashMap::new(),
            active_at_start: BTreeMap::new(),
            applied: Vec::new(),
        }
    }

    /// Looks at an event's columns and says whether its payload is needed; the
    /// caller parses it and calls [`Aggregator::apply`] only then. Counts the
    /// event towards the period's activity and policy fingerprints.
    pub fn observe(
        &mut self,
        ticket: &str,
        at: DateTime<Utc>,
        kind: &str,
        fingerprint: &str,
    ) -> bool {
        self.log_span = Some(match self.log_span {
            None => (at, at),
            Some((a, b)) => (a.min(at), b.max(at)),
        });
        if at >= self.period.end {
            return false;
        }
        if !self.tickets.contains_key(ticket) {
            return kind == "opened";
        }
        if at < self.period.start {
            return matches!(kind, "classified" | "assigned");
        }
        self.activity += 1;
        match self.fingerprints.get_mut(fingerprint) {
            Some(n) => *n += 1,
            None => {
                self.fingerprints.insert(fingerprint.to_owned(), 1);
            }
        }
        !matches!(
            kind,
            "milestone_reached"
                | "warned"
                | "notified"
                | "paused"
                | "resumed"
                | "clock_paused"
                | "hook_failed"
                | "condition_failed"
                | "revisit_due"
                | "revisit_cancelled"
                | "policy_moved"
        )
    }

    /// Observes and applies one logged decision: the whole fold for callers
    /// that already hold parsed decisions (tests, simulations).
    pub fn push(&mut self, ticket: &str, fingerprint: &str, d: &Decision) {
        if self.observe(ticket, d.at, d.fact.kind(), fingerprint) {
            self.apply(ticket, fingerprint, d.at, &Ev::from_fact(&d.fact));
        }
    }

    /// A `policy_applied` event: `estate` is `None` for the company-wide policy.
    pub fn policy_applied(&mut self, at: DateTime<Utc>, fingerprint: &str, estate: Option<&str>) {
        if at >= self.period.end {
            return;
        }
        if let (Some(want), Some(e)) = (&self.estate, estate)
            && want != e
        {
            return;
        }
        let scope = estate.map(str::to_owned);
        if at < self.period.start {
            self.active_at_start.insert(scope, fingerprint.to_owned());
        } else {
            self.applied.push((scope, fingerprint.to_owned()));
        }
    }

    /// Applies an event that [`Aggregator::observe`] asked for.
    pub fn apply(&mut self, ticket: &str, fingerprint: &str, at: DateTime<Utc>, ev: &Ev<'_>) {
        let in_period = self.period.contains(at);
        if let Ev::Opened { estate, kind, text } = ev {
            self.open(ticket, fingerprint, at, estate, kind, text);
            return;
        }
        let Some(rec) = self.tickets.get_mut(ticket) else {
            return;
        };
        match ev {
            Ev::Classified { category, route } => {
                rec.category = self.names.id(category);
                if !rec.assigned {
                    rec.department = route.as_deref().map_or(NONE, |r| self.names.id(r));
                }
            }
            Ev::Assigned { department } => {
                rec.department = self.names.id(department);
                rec.assigned = true;
            }
            _ if !in_period => {}
            Ev::Action { action, by, note } => {
                let handling = matches!(action.as_ref(), "respond" | "plan");
                if handling && rec.specialist == NONE && !by.trim().is_empty() {
                    rec.specialist = self.names.id(by.trim());
                }
                if let Some(detail) = rec.detail.as_deref_mut() {
                    match action.as_ref() {
                        "respond" if detail.first_response.is_none() => {
                            detail.first_response = Some(at);
                        }
                        "plan" if detail.plan.is_none() => {
                            detail.plan = Some((at, note.to_string()));
                        }
                        _ => {}
                    }
                }
            }
            Ev::ClockStarted {
                limit,
                milestone,
                deadline,
            } => {
                if let Some(detail) = rec.detail.as_deref_mut() {
                    if milestone == "initial_plan" && detail.plan_due.is_none() {
                        detail.plan_due = Some(*deadline);
                    }
                    detail.clocks.insert(limit.to_string(), *deadline);
                }
            }
            Ev::ClockResumed { limit, deadline } => {
                if let Some(detail) = rec.detail.as_deref_mut() {
                    detail.clocks.insert(limit.to_string(), *deadline);
                }
            }
            Ev::ClockCancelled { limit } => {
                if let Some(detail) = rec.detail.as_deref_mut() {
                    detail.clocks.remove(limit.as_ref());
                }
            }
            Ev::ClockMet { limit, on_time } => {
                if let Some(detail) = rec.detail.as_deref_mut() {
                    detail.clocks.remove(limit.as_ref());
                }
                let acc = self.limits.entry(self.names.id(limit)).or_default();
                if *on_time {
                    acc.on_time += 1;
                    let b = self.period.bucket(at);
                    self.series_clocks[b].0 += 1;
                    self.series_clocks[b].1 += 1;
                } else {
                    acc.met_late += 1;
                }
            }
            Ev::Breached { limit } => {
                if let Some(detail) = rec.detail.as_deref_mut() {
                    detail.clocks.remove(limit.as_ref());
                }
                self.limits
                    .entry(self.names.id(limit))
                    .or_default()
                    .breached += 1;
                let b = self.period.bucket(at);
                self.series_clocks[b].1 += 1;
            }
            Ev::Escalated { to } => {
                *self.escalations.entry(self.names.id(to)).or_default() += 1;
            }
            Ev::Resolved => {
                rec.resolved = true;
                if rec.kind == 1 && rec.revisit.is_none() {
                    rec.revisit = Some(RevisitTrack {
                        bucket: self.period.bucket(at),
                        first_due: None,
                        revisited: false,
                    });
                }
            }
            Ev::RevisitScheduled { due: Some(due) } => {
                if let Some(t) = rec.revisit.as_mut()
                    && t.first_due.is_none()
                {
                    t.first_due = Some(*due);
                }
            }
            Ev::RevisitDone => {
                if let Some(t) = rec.revisit.as_mut() {
                    t.revisited = true;
                }
            }
            Ev::RevisitOverdue => self.revisits_overdue += 1,
            Ev::Reopened => {
                self.reopened += 1;
                rec.resolved = false;
                rec.closed = false;
                rec.invalid = false;
            }
            Ev::Closed { invalid } => {
                rec.closed = true;
                rec.invalid = *invalid;
                if let Some(detail) = rec.detail.as_deref_mut() {
                    detail.clocks.clear();
                }
            }
            Ev::Compensation => self.compensation += 1,
            _ => {}
        }
    }

    fn open(
        &mut self,
        ticket: &str,
        fingerprint: &str,
        at: DateTime<Utc>,
        estate_name: &str,
        kind: &str,
        text: &str,
    ) {
        let estate = self.names.id(estate_name);
        self.estates_seen.insert(estate);
        if self.estate.as_deref().is_some_and(|e| e != estate_name) {
            return;
        }
        let kind = Kind::parse(kind).map_or(NONE, |k| k as u32);
        let cohort = self.period.contains(at);
        let detail = (cohort && self.detail && kind == Kind::Complaint as u32).then(|| {
            Box::new(Detail {
                opened_at: Some(at),
                text: text.to_owned(),
                ..Detail::default()
            })
        });
        self.tickets.insert(
            ticket.into(),
            Rec {
                estate,
                kind,
                category: NONE,
                department: NONE,
                assigned: false,
                cohort,
                specialist: NONE,
                resolved: false,
                closed: false,
                invalid: false,
                revisit: None,
                detail,
            },
        );
        if cohort {
            self.activity += 1;
            *self.fingerprints.entry(fingerprint.to_owned()).or_default() += 1;
            if kind != NONE {
                self.opened.add(kind as usize);
                let b = self.period.bucket(at);
                self.series_opened[b].add(kind as usize);
            }
        }
    }

    /// The fingerprints whose stored policies the report names.
    pub fn fingerprints(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.fingerprints.keys().cloned().collect();
        all.extend(self.active_at_start.values().cloned());
        all.extend(self.applied.iter().map(|(_, fp)| fp.clone()));
        all
    }

    /// Estates seen in the log, by name.
    pub fn estates(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .estates_seen
            .iter()
            .map(|&i| self.names.name(i).to_owned())
            .collect();
        v.sort();
        v
    }
}

/// Kept for the heads argument of [`super::finish`]: id → labels.
pub type Heads = BTreeMap<String, PolicyHead>;
