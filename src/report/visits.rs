//! K5: the customer-service department visits owners three times a month (004:
//! 客户服务部安排人员每月走访业户3次). Counted per estate and calendar month, from
//! the `owner_visited` events of the log (`steward visit`), for each month the
//! period touches, up to the period's end.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::period::Period;

/// Visits a month the procedure asks for (004).
pub const VISITS_PER_MONTH: u64 = 3;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Visits {
    pub target_per_month: u64,
    pub months: Vec<VisitMonth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VisitMonth {
    pub estate: String,
    /// `2026-07`.
    pub month: String,
    /// Visits from the first of the month to `through`.
    pub visits: u64,
    /// The last day counted: the month's last day, or the period's when earlier.
    pub through: NaiveDate,
    /// Met (3 or more), missed (the month is over with fewer), or `None` while
    /// the month is still running and short of 3.
    pub meets_target: Option<bool>,
}

#[derive(Deserialize)]
struct Payload {
    estate: String,
}

/// Reads the estate of one `owner_visited` payload.
pub fn estate_of(payload: &str) -> Result<String, serde_json::Error> {
    serde_json::from_str::<Payload>(payload).map(|p| p.estate)
}

/// The K5 rows for `estates` (the registry's, or the one estate asked for) and
/// any estate with a visit; `visits` are `(time, estate)` of every visit logged.
pub fn figure(
    period: &Period,
    estates: &[String],
    only: Option<&str>,
    visits: &[(DateTime<Utc>, String)],
) -> Visits {
    let mut names: Vec<String> = estates.to_vec();
    for (_, e) in visits {
        if !names.contains(e) {
            names.push(e.clone());
        }
    }
    if let Some(o) = only {
        names.retain(|e| e == o);
        if names.is_empty() {
            names.push(o.to_owned());
        }
    }
    names.sort();
    let mut months = Vec::new();
    let mut first = month_start(period.first_day);
    while first <= period.last_day {
        let next = next_month(first);
        let last_of_month = next.pred_opt().unwrap_or(first);
        let through = last_of_month.min(period.last_day);
        let mut count: BTreeMap<&str, u64> = BTreeMap::new();
        for (at, e) in visits {
            let day = at.with_timezone(&period.tz).date_naive();
            if day >= first && day <= through {
                *count.entry(e.as_str()).or_insert(0) += 1;
            }
        }
        for e in &names {
            let n = count.get(e.as_str()).copied().unwrap_or(0);
            let meets_target = if n >= VISITS_PER_MONTH {
                Some(true)
            } else if through == last_of_month {
                Some(false)
            } else {
                None
            };
            months.push(VisitMonth {
                estate: e.clone(),
                month: first.format("%Y-%m").to_string(),
                visits: n,
                through,
                meets_target,
            });
        }
        first = next;
    }
    Visits {
        target_per_month: VISITS_PER_MONTH,
        months,
    }
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{PeriodSpec, ReportKind};

    fn period(spec: PeriodSpec, kind: ReportKind) -> Period {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        Period::resolve(kind, &spec, tz, today).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn months_of_a_quarter_are_met_missed_or_running() {
        let q = period(PeriodSpec::Quarter(2026, 3), ReportKind::Quarterly);
        let v = vec![
            (at("2026-07-01T00:30:00+08:00"), "a".to_owned()),
            (at("2026-07-10T10:00:00+08:00"), "a".to_owned()),
            (at("2026-07-31T23:59:00+08:00"), "a".to_owned()),
            // 1 August 00:10 in Shanghai is still 31 July in UTC: counted in August.
            (at("2026-08-01T00:10:00+08:00"), "a".to_owned()),
            (at("2026-10-01T09:00:00+08:00"), "a".to_owned()),
        ];
        let f = figure(&q, &["a".to_owned(), "b".to_owned()], None, &v);
        let row = |e: &str, m: &str| {
            f.months
                .iter()
                .find(|r| r.estate == e && r.month == m)
                .map(|r| (r.visits, r.meets_target))
                .unwrap()
        };
        assert_eq!(row("a", "2026-07"), (3, Some(true)));
        assert_eq!(row("a", "2026-08"), (1, Some(false)));
        assert_eq!(row("a", "2026-09"), (0, Some(false)));
        assert_eq!(row("b", "2026-07"), (0, Some(false)));
        assert_eq!(f.months.len(), 6);
    }

    #[test]
    fn a_daily_report_counts_the_month_so_far() {
        let d = period(
            PeriodSpec::Day(NaiveDate::from_ymd_opt(2026, 7, 8).unwrap()),
            ReportKind::Daily,
        );
        let v = vec![
            (at("2026-07-02T10:00:00+08:00"), "a".to_owned()),
            (at("2026-07-09T10:00:00+08:00"), "a".to_owned()),
        ];
        let f = figure(&d, &[], Some("a"), &v);
        assert_eq!(f.months.len(), 1);
        assert_eq!(f.months[0].visits, 1);
        assert_eq!(f.months[0].meets_target, None);
        assert_eq!(
            f.months[0].through,
            NaiveDate::from_ymd_opt(2026, 7, 8).unwrap()
        );
    }
}
