//! From the fold's running aggregates to the [`PeriodReport`]: rates, the per-
//! specialist and per-department tables, the valid-complaint rate against the
//! households the user gave, top lists, and the notes that say what could not
//! be computed. Pure, like the fold.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;

use super::aggregate::{Aggregator, Heads, Rec};
use super::figures::*;
use super::households::Households;
use super::period::ReportKind;

const NONE: u32 = u32::MAX;
const TOP: usize = 10;
const COMPLAINT: u32 = 2;

#[derive(Default)]
struct CloseAcc {
    complaints: u64,
    complaints_closed: u64,
    tickets: u64,
    tickets_closed: u64,
}

impl CloseAcc {
    fn add(&mut self, r: &Rec) {
        self.tickets += 1;
        self.tickets_closed += u64::from(r.closed);
        if r.kind == COMPLAINT {
            self.complaints += 1;
            self.complaints_closed += u64::from(r.closed);
        }
    }

    fn row(self, name: String, label: Option<String>) -> CloseRow {
        CloseRow {
            name,
            label,
            complaint_close_rate: ratio(self.complaints_closed, self.complaints),
            complaints: self.complaints,
            complaints_closed: self.complaints_closed,
            close_rate: ratio(self.tickets_closed, self.tickets),
            tickets: self.tickets,
            tickets_closed: self.tickets_closed,
        }
    }
}

/// Builds the report. `heads` are the stored policies named by
/// [`Aggregator::fingerprints`], for labels; `households` the user's counts.
pub fn finish(
    agg: Aggregator,
    kind: ReportKind,
    households: &Households,
    heads: &Heads,
) -> PeriodReport {
    let label = |f: fn(&PolicyHead) -> &BTreeMap<String, String>, id: &str| {
        heads.values().find_map(|h| f(h).get(id).cloned())
    };
    let p = &agg.period;
    let name = |i: u32, none: &str| -> String {
        if i == NONE {
            none.to_owned()
        } else {
            agg.names.name(i).to_owned()
        }
    };

    let mut specialists: BTreeMap<String, CloseAcc> = BTreeMap::new();
    let mut departments: BTreeMap<String, CloseAcc> = BTreeMap::new();
    let mut by_estate: BTreeMap<String, CloseAcc> = BTreeMap::new();
    let mut categories: HashMap<u32, u64> = HashMap::new();
    let mut estates: HashMap<u32, u64> = HashMap::new();
    let mut valid_by_estate: BTreeMap<String, u64> = BTreeMap::new();
    let mut complaints = ComplaintFigures {
        opened: 0,
        valid: 0,
        invalid: 0,
        closed: 0,
        close_rate: None,
    };
    let mut closed = 0;
    let mut revisits = Revisits {
        resolved_repairs: 0,
        revisited: 0,
        not_yet_due: 0,
        rate: None,
        target: 1.0,
        overdue: agg.revisits_overdue,
    };
    let mut series_revisits = vec![(0u64, 0u64); p.buckets()];
    let mut lines = Vec::new();

    for (id, r) in &agg.tickets {
        if let Some(t) = r.revisit {
            revisits.resolved_repairs += 1;
            series_revisits[t.bucket].0 += 1;
            if t.revisited {
                revisits.revisited += 1;
                series_revisits[t.bucket].1 += 1;
            } else if t.first_due.is_some_and(|d| d >= p.end) {
                revisits.not_yet_due += 1;
            }
        }
        if !r.cohort {
            continue;
        }
        closed += u64::from(r.closed);
        *categories.entry(r.category).or_default() += 1;
        *estates.entry(r.estate).or_default() += 1;
        departments
            .entry(name(r.department, "unrouted"))
            .or_default()
            .add(r);
        by_estate.entry(name(r.estate, "")).or_default().add(r);
        if r.kind == COMPLAINT {
            specialists
                .entry(name(r.specialist, "unassigned"))
                .or_default()
                .add(r);
            complaints.opened += 1;
            complaints.closed += u64::from(r.closed);
            if r.invalid {
                complaints.invalid += 1;
            } else {
                complaints.valid += 1;
                *valid_by_estate.entry(name(r.estate, "")).or_default() += 1;
            }
            if let Some(d) = &r.detail {
                lines.push(line(&agg, id, r, d, &name));
            }
        }
    }
    complaints.close_rate = ratio(complaints.closed, complaints.opened);
    revisits.rate = ratio(
        revisits.revisited,
        revisits.resolved_repairs - revisits.not_yet_due,
    );
    lines.sort_by(|a, b| {
        (&a.specialist, &a.opened, &a.ticket).cmp(&(&b.specialist, &b.opened, &b.ticket))
    });

    let mut notes = Vec::new();

    // K4: the estates of the report, each with its households when known.
    let mut estate_names: Vec<String> = estates.keys().map(|&i| name(i, "")).collect();
    if let Some(e) = &agg.estate
        && !estate_names.contains(e)
    {
        estate_names.push(e.clone());
    }
    estate_names.sort();
    let years = p.days as f64 / 365.0;
    let rate = |estate: String, valid: u64, households: Option<u64>| {
        let per_mille = households.map(|h| valid as f64 / h as f64 / years * 1000.0);
        EstateRate {
            estate,
            households,
            valid,
            per_mille_per_year: per_mille,
            meets_target: per_mille.map(|r| r < VALID_RATE_TARGET_PER_MILLE),
        }
    };
    let mut unknown = Vec::new();
    let estate_rates: Vec<EstateRate> = estate_names
        .iter()
        .map(|e| {
            let h = households.get(e).copied();
            if h.is_none() {
                unknown.push(e.clone());
            }
            rate(e.clone(), valid_by_estate.get(e).copied().unwrap_or(0), h)
        })
        .collect();
    let overall = (unknown.is_empty() && estate_rates.len() > 1).then(|| {
        rate(
            "all".to_owned(),
            complaints.valid,
            Some(estate_rates.iter().filter_map(|r| r.households).sum()),
        )
    });
    if !unknown.is_empty() {
        notes.push(format!(
            "households unknown for {}: valid-complaint rate (K4) not computed there; declare them with `steward estate add`, or give --households ESTATE=N or --estates FILE",
            unknown.join(", ")
        ));
    }
    if revisits.not_yet_due > 0 {
        notes.push(format!(
            "{} resolved repairs have their first revisit due after the period; they are left out of the revisit rate",
            revisits.not_yet_due
        ));
    }
    let zones: Vec<&str> = heads.values().map(|h| h.timezone.as_str()).collect();
    if zones.iter().any(|z| *z != p.timezone) {
        notes.push(format!(
            "policies in force disagree on the timezone; days are cut in {}",
            p.timezone
        ));
    }

    let mut limit_accs: Vec<(String, _)> =
        agg.limits.iter().map(|(&i, a)| (name(i, ""), *a)).collect();
    limit_accs.sort_by(|a, b| a.0.cmp(&b.0));
    let limits = limit_accs
        .iter()
        .map(|(id, a)| LimitRow {
            limit: id.clone(),
            label: label(|h| &h.limits, id).or_else(|| {
                super::lang::builtin_limit_label(id, super::lang::Lang::En).map(str::to_owned)
            }),
            on_time: a.on_time,
            breached: a.breached,
            met_late: a.met_late,
            rate: ratio(a.on_time, a.on_time + a.breached),
        })
        .collect();
    let breaches = agg.limits.values().map(|a| a.breached).sum();

    // Escalations in ladder order, then any step the ladder no longer has.
    let escalated: BTreeMap<String, u64> = agg
        .escalations
        .iter()
        .map(|(&i, n)| (name(i, ""), *n))
        .collect();
    let ladder: Vec<(String, String)> = heads
        .values()
        .max_by_key(|h| h.ladder.len())
        .map(|h| h.ladder.clone())
        .unwrap_or_default();
    let mut escalations: Vec<StepRow> = ladder
        .iter()
        .skip(1)
        .map(|(id, l)| StepRow {
            step: id.clone(),
            label: Some(l.clone()),
            count: escalated.get(id).copied().unwrap_or(0),
        })
        .collect();
    for (step, n) in &escalated {
        if !ladder.iter().any(|(id, _)| id == step) {
            escalations.push(StepRow {
                step: step.clone(),
                label: None,
                count: *n,
            });
        }
    }

    let top = |counts: HashMap<u32, u64>, labels: fn(&PolicyHead) -> &BTreeMap<String, String>| {
        let mut v: Vec<Count> = counts
            .into_iter()
            .map(|(i, n)| {
                let id = name(i, "unclassified");
                Count {
                    label: label(labels, &id),
                    name: id,
                    count: n,
                }
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        v.truncate(TOP);
        v
    };

    let series = (0..p.buckets())
        .map(|i| Bucket {
            start: p.bucket_start(i),
            days: p.bucket_days.min(p.days - i as i64 * p.bucket_days),
            opened: agg.series_opened[i],
            on_time: agg.series_clocks[i].0,
            settled: agg.series_clocks[i].1,
            resolved: series_revisits[i].0,
            revisited: series_revisits[i].1,
        })
        .collect();

    let mut policies: BTreeMap<String, PolicyInForce> = BTreeMap::new();
    let mut scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (scope, fp) in agg
        .active_at_start
        .iter()
        .chain(agg.applied.iter().map(|(s, f)| (s, f)))
    {
        let s = scope
            .as_ref()
            .map_or("company".to_owned(), |e| format!("estate:{e}"));
        let v = scopes.entry(fp.clone()).or_default();
        if !v.contains(&s) {
            v.push(s);
        }
    }
    for fp in agg.fingerprints() {
        let h = heads.get(&fp);
        policies.insert(
            fp.clone(),
            PolicyInForce {
                id: h.map(|h| h.id.clone()),
                version: h.map(|h| h.version.clone()),
                title: h.map(|h| h.title.clone()),
                scopes: scopes.remove(&fp).unwrap_or_default(),
                events: agg.fingerprints.get(&fp).copied().unwrap_or(0),
                fingerprint: fp,
            },
        );
    }

    let due = match kind {
        ReportKind::Daily => Some(format!(
            "{} 12:00 (K1, L3: before noon the next day)",
            p.last_day + Duration::days(1)
        )),
        ReportKind::Weekly => Some(format!(
            "{} (K2: every Monday)",
            p.last_day + Duration::days(1)
        )),
        ReportKind::Quarterly => None,
    };

    let headline = Headline {
        tickets_opened: agg.opened.total(),
        complaints: complaints.opened,
        complaint_close_rate: complaints.close_rate,
        on_time_rate: {
            let on_time: u64 = agg.limits.values().map(|a| a.on_time).sum();
            ratio(on_time, on_time + breaches)
        },
        breaches,
        revisit_rate: revisits.rate,
        escalations: agg.escalations.values().sum(),
    };

    PeriodReport {
        kind,
        lang: super::lang::Lang::En,
        generated_at: String::new(),
        steward_version: String::new(),
        headline,
        previous: None,
        estates: by_estate.into_iter().map(|(n, a)| a.row(n, None)).collect(),
        rules: kind.rules().iter().map(|s| (*s).to_owned()).collect(),
        due,
        estate: agg.estate.clone(),
        policies: policies.into_values().collect(),
        tickets: TicketFigures {
            opened: agg.opened.total(),
            by_kind: agg.opened,
            closed,
            reopened: agg.reopened,
            compensation_claims: agg.compensation,
        },
        complaints,
        specialists: specialists
            .into_iter()
            .map(|(n, a)| a.row(n, None))
            .collect(),
        departments: departments
            .into_iter()
            .map(|(n, a)| {
                let l = label(|h| &h.departments, &n);
                a.row(n, l)
            })
            .collect(),
        valid_rate: ValidRate {
            target_per_mille: VALID_RATE_TARGET_PER_MILLE,
            estates: estate_rates,
            overall,
        },
        revisits,
        limits,
        breaches,
        escalations,
        top_categories: top(categories, |h| &h.categories),
        top_estates: top(estates, |_| &EMPTY),
        series,
        new_complaints: lines,
        visits: Default::default(),
        notes,
        period: agg.period.clone(),
    }
}

static EMPTY: BTreeMap<String, String> = BTreeMap::new();

fn line(
    agg: &Aggregator,
    id: &str,
    r: &Rec,
    d: &super::aggregate::Detail,
    name: &dyn Fn(u32, &str) -> String,
) -> ComplaintLine {
    let p = &agg.period;
    let committed = d
        .clocks
        .iter()
        .min_by_key(|(_, at)| **at)
        .map(|(limit, at)| format!("{} ({limit})", p.local(*at)));
    let status = if r.closed {
        if r.invalid {
            "closed invalid"
        } else {
            "closed"
        }
    } else if r.resolved {
        "resolved"
    } else {
        "open"
    };
    ComplaintLine {
        ticket: id.to_owned(),
        estate: name(r.estate, ""),
        specialist: name(r.specialist, "unassigned"),
        category: name(r.category, "unclassified"),
        opened: d.opened_at.map(|t| p.local(t)).unwrap_or_default(),
        text: d.text.clone(),
        first_response: d.first_response.map(|t| p.local(t)),
        plan: d.plan.as_ref().map(|(t, _)| p.local(*t)),
        plan_note: d
            .plan
            .as_ref()
            .map(|(_, n)| n.clone())
            .filter(|n| !n.is_empty()),
        plan_due: d.plan_due.map(|t| p.local(t)),
        committed,
        status: status.to_owned(),
    }
}
