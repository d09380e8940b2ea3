//! The figures of a report, as plain serializable data: what every renderer
//! (table, JSON, CSV, HTML) prints. Rates are fractions in `[0, 1]` (the
//! valid-complaint rate is per mille per year) and `None` when there is
//! nothing to divide by, so an empty denominator never reads as 0 % or 100 %.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::lang::Lang;
use super::period::{Period, ReportKind};

/// K4: valid complaints below 0.5 ‰ of households per year.
pub const VALID_RATE_TARGET_PER_MILLE: f64 = 0.5;

#[derive(Debug, Clone, Serialize)]
pub struct PeriodReport {
    pub kind: ReportKind,
    /// The language of the table and HTML renderings (the policy's `locale` by default).
    pub lang: Lang,
    /// `--now` (or the clock) in the policy's time zone, RFC 3339.
    pub generated_at: String,
    /// The steward build that computed the report: version and git commit.
    pub steward_version: String,
    pub rules: Vec<String>,
    pub period: Period,
    /// When the report is due, as the procedure says (K1, K2).
    pub due: Option<String>,
    pub estate: Option<String>,
    pub policies: Vec<PolicyInForce>,
    pub tickets: TicketFigures,
    pub complaints: ComplaintFigures,
    pub specialists: Vec<CloseRow>,
    pub departments: Vec<CloseRow>,
    /// Per-estate close rates over tickets opened in the period.
    pub estates: Vec<CloseRow>,
    /// The headline figures, and the same for the period just before, to compare.
    pub headline: Headline,
    pub previous: Option<Previous>,
    pub valid_rate: ValidRate,
    pub revisits: Revisits,
    pub limits: Vec<LimitRow>,
    pub breaches: u64,
    pub escalations: Vec<StepRow>,
    pub top_categories: Vec<Count>,
    pub top_estates: Vec<Count>,
    pub series: Vec<Bucket>,
    /// The daily report's list: new complaints with plan and committed dates (K1, L3).
    pub new_complaints: Vec<ComplaintLine>,
    /// K5: owner visits per estate and month (three a month, 004).
    pub visits: super::visits::Visits,
    pub notes: Vec<String>,
}

/// The figures a manager compares period against period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Headline {
    pub tickets_opened: u64,
    pub complaints: u64,
    pub complaint_close_rate: Option<f64>,
    /// Over all limits: met on time / (met on time + breached).
    pub on_time_rate: Option<f64>,
    pub breaches: u64,
    pub revisit_rate: Option<f64>,
    pub escalations: u64,
}

/// The period of the same length just before the report's, and its headline.
#[derive(Debug, Clone, Serialize)]
pub struct Previous {
    pub label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub headline: Headline,
}

/// A policy that decided something in the period, or was active when it began.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyInForce {
    pub fingerprint: String,
    pub id: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    /// `company` or `estate:ID` when the period saw it applied or active.
    pub scopes: Vec<String>,
    /// Ticket events in the period logged under it.
    pub events: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub inquiry: u64,
    pub repair: u64,
    pub complaint: u64,
    pub suggestion: u64,
}

impl KindCounts {
    pub const NAMES: [&'static str; 4] = ["inquiry", "repair", "complaint", "suggestion"];

    pub fn get(&self, i: usize) -> u64 {
        [self.inquiry, self.repair, self.complaint, self.suggestion][i]
    }

    pub fn add(&mut self, i: usize) {
        match i {
            0 => self.inquiry += 1,
            1 => self.repair += 1,
            2 => self.complaint += 1,
            _ => self.suggestion += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.inquiry + self.repair + self.complaint + self.suggestion
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketFigures {
    pub opened: u64,
    pub by_kind: KindCounts,
    /// Opened in the period and closed (valid or invalid) by its end.
    pub closed: u64,
    pub reopened: u64,
    pub compensation_claims: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComplaintFigures {
    pub opened: u64,
    pub valid: u64,
    pub invalid: u64,
    pub closed: u64,
    pub close_rate: Option<f64>,
}

/// Close rate of one specialist or department (K3), over tickets opened in the period.
#[derive(Debug, Clone, Serialize)]
pub struct CloseRow {
    pub name: String,
    pub label: Option<String>,
    pub complaints: u64,
    pub complaints_closed: u64,
    pub complaint_close_rate: Option<f64>,
    pub tickets: u64,
    pub tickets_closed: u64,
    pub close_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidRate {
    pub target_per_mille: f64,
    pub estates: Vec<EstateRate>,
    /// Over all estates, when every estate with valid complaints has a household count.
    pub overall: Option<EstateRate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EstateRate {
    pub estate: String,
    pub households: Option<u64>,
    pub valid: u64,
    /// Valid complaints per 1,000 households per year, extrapolated from the period.
    pub per_mille_per_year: Option<f64>,
    pub meets_target: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revisits {
    /// Repairs first resolved in the period.
    pub resolved_repairs: u64,
    /// ... and revisited by the period's end.
    pub revisited: u64,
    /// ... not revisited, but whose first revisit falls due after the period.
    pub not_yet_due: u64,
    /// revisited / (resolved − not yet due); the target is 100 % (V1).
    pub rate: Option<f64>,
    pub target: f64,
    /// Revisits that went overdue in the period.
    pub overdue: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LimitRow {
    pub limit: String,
    pub label: Option<String>,
    pub on_time: u64,
    pub breached: u64,
    /// Reached after a breach (already counted in `breached`).
    pub met_late: u64,
    /// on_time / (on_time + breached).
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: String,
    pub label: Option<String>,
    /// Escalations that moved a ticket onto this step in the period.
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub name: String,
    pub label: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub start: NaiveDate,
    pub days: i64,
    pub opened: KindCounts,
    /// Clocks met on time / met on time or breached, in the bucket.
    pub on_time: u64,
    pub settled: u64,
    /// Repairs first resolved in the bucket / of those, revisited by the period's end.
    pub resolved: u64,
    pub revisited: u64,
}

/// One new complaint in the daily report.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintLine {
    pub ticket: String,
    pub estate: String,
    pub specialist: String,
    pub category: String,
    pub opened: String,
    pub text: String,
    pub first_response: Option<String>,
    /// When and what the initial plan was (L3).
    pub plan: Option<String>,
    pub plan_note: Option<String>,
    /// The initial-plan deadline the policy set.
    pub plan_due: Option<String>,
    /// The nearest deadline still running at the period's end, and its limit.
    pub committed: Option<String>,
    pub status: String,
}

/// `num / den`, or `None` when `den` is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Labels of a stored policy, for readable names next to ids.
#[derive(Debug, Clone, Default)]
pub struct PolicyHead {
    pub id: String,
    pub version: String,
    pub title: String,
    pub timezone: String,
    /// The policy's `locale`, e.g. `zh-CN`, when it names one.
    pub locale: Option<String>,
    pub ladder: Vec<(String, String)>,
    pub departments: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
    pub categories: BTreeMap<String, String>,
}
