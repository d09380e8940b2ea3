//! The period a report covers: whole local days in the policy's timezone, turned
//! into a half-open UTC interval `[start, end)` once, so the fold compares
//! instants only. Also the chart buckets (days, or 7-day runs for long periods).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::ReportError;

/// Which report: decides the default period and the layout, not the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Daily,
    Weekly,
    Quarterly,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Weekly => "weekly",
            ReportKind::Quarterly => "quarterly",
        }
    }

    /// The seed rules the report answers to.
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            ReportKind::Daily => &["K1", "L3"],
            ReportKind::Weekly => &["K2", "K3", "K4", "V1"],
            ReportKind::Quarterly => &["K3", "K4", "V1"],
        }
    }
}

/// How the user named the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodSpec {
    /// The last complete period before `now` (yesterday, last week, last quarter).
    Default,
    Day(NaiveDate),
    WeekOf(NaiveDate),
    /// Year and quarter 1–4.
    Quarter(i32, u32),
    /// Inclusive local dates.
    Range(NaiveDate, NaiveDate),
}

/// A resolved period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub label: String,
    /// First and last local day, inclusive.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub timezone: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub days: i64,
    /// Days per chart bucket: 1, or 7 when the period is longer than 31 days.
    pub bucket_days: i64,
    #[serde(skip)]
    pub tz: Tz,
}

impl Period {
    /// Resolves `spec` for a report of `kind`, in `tz`, with `today` (the local
    /// date of `--now`) for the defaults.
    pub fn resolve(
        kind: ReportKind,
        spec: &PeriodSpec,
        tz: Tz,
        today: NaiveDate,
    ) -> Result<Period, ReportError> {
        let (first, last, label) = match (spec, kind) {
            (PeriodSpec::Range(from, to), _) => {
                if from > to {
                    return Err(ReportError::Reversed {
                        from: from.to_string(),
                        to: to.to_string(),
                    });
                }
                (*from, *to, format!("{from} – {to}"))
            }
            (PeriodSpec::Day(d), _) => (*d, *d, d.to_string()),
            (PeriodSpec::WeekOf(d), _) => week(*d),
            (PeriodSpec::Quarter(y, q), _) => quarter(*y, *q)?,
            (PeriodSpec::Default, ReportKind::Daily) => {
                let d = today.pred_opt().ok_or(ReportError::OutOfRange)?;
                (d, d, d.to_string())
            }
            (PeriodSpec::Default, ReportKind::Weekly) => week(today - Duration::days(7)),
            (PeriodSpec::Default, ReportKind::Quarterly) => {
                let q = (today.month0() / 3) as i32; // 0-based current quarter
                let (y, q) = if q == 0 {
                    (today.year() - 1, 4)
                } else {
                    (today.year(), q as u32)
                };
                quarter(y, q)?
            }
        };
        let end_day = last.succ_opt().ok_or(ReportError::OutOfRange)?;
        let days = (end_day - first).num_days();
        Ok(Period {
            label,
            first_day: first,
            last_day: last,
            timezone: tz.name().to_owned(),
            start: local_midnight(tz, first)?,
            end: local_midnight(tz, end_day)?,
            days,
            bucket_days: if days > 31 { 7 } else { 1 },
            tz,
        })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    /// The period of the same kind just before this one: the day, week or quarter
    /// before, or for a custom range the same number of days before it.
    pub fn previous(&self, kind: ReportKind) -> PeriodSpec {
        let day_before = self.first_day - Duration::days(1);
        let whole_quarter = self.first_day.day() == 1
            && self.first_day.month0().is_multiple_of(3)
            && (self.last_day + Duration::days(1)).day() == 1
            && (60..=92).contains(&self.days);
        match kind {
            _ if self.days == 1 => PeriodSpec::Day(day_before),
            ReportKind::Weekly
                if self.days == 7 && self.first_day.weekday() == chrono::Weekday::Mon =>
            {
                PeriodSpec::WeekOf(day_before)
            }
            ReportKind::Quarterly if whole_quarter => {
                PeriodSpec::Quarter(day_before.year(), day_before.month0() / 3 + 1)
            }
            _ => PeriodSpec::Range(self.first_day - Duration::days(self.days), day_before),
        }
    }

    /// Number of chart buckets.
    pub fn buckets(&self) -> usize {
        ((self.days + self.bucket_days - 1) / self.bucket_days).max(1) as usize
    }

    /// The chart bucket of an instant inside the period.
    pub fn bucket(&self, at: DateTime<Utc>) -> usize {
        let day = at.with_timezone(&self.tz).date_naive();
        let offset = (day - self.first_day).num_days().max(0);
        ((offset / self.bucket_days) as usize).min(self.buckets() - 1)
    }

    /// First local day of bucket `i`.
    pub fn bucket_start(&self, i: usize) -> NaiveDate {
        self.first_day + Duration::days(i as i64 * self.bucket_days)
    }

    /// Local calendar date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// An instant as local `YYYY-MM-DD HH:MM`.
    pub fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// Monday to Sunday around `d`.
fn week(d: NaiveDate) -> (NaiveDate, NaiveDate, String) {
    let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    let sunday = monday + Duration::days(6);
    let iso = monday.iso_week();
    (
        monday,
        sunday,
        format!("{}-W{:02} ({monday} – {sunday})", iso.year(), iso.week()),
    )
}

fn quarter(year: i32, q: u32) -> Result<(NaiveDate, NaiveDate, String), ReportError> {
    if !(1..=4).contains(&q) {
        return Err(ReportError::BadQuarter(format!("{year}Q{q}")));
    }
    let first = NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1).ok_or(ReportError::OutOfRange)?;
    let next = if q == 4 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, q * 3 + 1, 1)
    }
    .ok_or(ReportError::OutOfRange)?;
    let last = next.pred_opt().ok_or(ReportError::OutOfRange)?;
    Ok((first, last, format!("{year}Q{q} ({first} – {last})")))
}

/// The first instant of local day `d`; on a day that starts inside a DST gap,
/// the first instant that exists.
fn local_midnight(tz: Tz, d: NaiveDate) -> Result<DateTime<Utc>, ReportError> {
    let midnight = d.and_hms_opt(0, 0, 0).ok_or(ReportError::OutOfRange)?;
    for hour in 0..3 {
        if let Some(t) = tz
            .from_local_datetime(&(midnight + Duration::hours(hour)))
            .earliest()
        {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(ReportError::OutOfRange)
}

/// `2026Q3`, `2026-Q3` or `2026q3`.
pub fn parse_quarter(text: &str) -> Result<(i32, u32), ReportError> {
    let bad = || ReportError::BadQuarter(text.to_owned());
    let t = text.trim().to_ascii_uppercase();
    let (y, q) = t.split_once('Q').ok_or_else(bad)?;
    let y: i32 = y.trim_end_matches('-').parse().map_err(|_| bad())?;
    let q: u32 = q.parse().map_err(|_| bad())?;
    if !(1..=4).contains(&q) || !(1..=9998).contains(&y) {
        return Err(bad());
    }
    Ok((y, q))
}

/// A local date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, ReportError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ReportError::BadDate(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn the_previous_period_is_the_one_just_before() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let today = d("2026-07-20");
        let prev = |kind, spec: PeriodSpec| {
            let p = Period::resolve(kind, &spec, tz, today).unwrap();
            let before = Period::resolve(kind, &p.previous(kind), tz, today).unwrap();
            assert_eq!(before.end, p.start, "adjacent");
            assert_eq!(before.days, p.days, "same length for {spec:?}");
            (before.first_day.to_string(), before.label)
        };
        let day = prev(ReportKind::Daily, PeriodSpec::Day(d("2026-03-01")));
        assert_eq!(day.0, "2026-02-28");
        let week = prev(ReportKind::Weekly, PeriodSpec::WeekOf(d("2026-07-08")));
        assert_eq!(week.0, "2026-06-29");
        assert!(week.1.starts_with("2026-W27"), "{}", week.1);
        // Quarters differ in length; the one before is a whole quarter all the same.
        let p = Period::resolve(
            ReportKind::Quarterly,
            &PeriodSpec::Quarter(2026, 1),
            tz,
            today,
        )
        .unwrap();
        let before = Period::resolve(
            ReportKind::Quarterly,
            &p.previous(ReportKind::Quarterly),
            tz,
            today,
        )
        .unwrap();
        assert_eq!(before.label, "2025Q4 (2025-10-01 – 2025-12-31)");
        let range = prev(
            ReportKind::Weekly,
            PeriodSpec::Range(d("2026-07-01"), d("2026-07-10")),
        );
        assert_eq!(range.0, "2026-06-21");
    }

    #[test]
    fn quarter_boundaries_are_local_midnights() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let p = Period::resolve(
            ReportKind::Quarterly,
            &PeriodSpec::Quarter(2026, 3),
            tz,
            d("2026-10-05"),
        )
        .unwrap();
        assert_eq!(p.first_day, d("2026-07-01"));
        assert_eq!(p.last_day, d("2026-09-30"));
        assert_eq!(p.start.to_rfc3339(), "2026-06-30T16:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-09-30T16:00:00+00:00");
        assert_eq!(p.days, 92);
        assert_eq!(p.buckets(), 14);
    }

    #[test]
    fn defaults_are_the_last_complete_period() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let today = d("2026-07-08"); // a Wednesday
        let day = Period::resolve(ReportKind::Daily, &PeriodSpec::Default, tz, today).unwrap();
        assert_eq!(day.first_day, d("2026-07-07"));
        let week = Period::resolve(ReportKind::Weekly, &PeriodSpec::Default, tz, today).unwrap();
        assert_eq!(
            (week.first_day, week.last_day),
            (d("2026-06-29"), d("2026-07-05"))
        );
        let q = Period::resolve(ReportKind::Quarterly, &PeriodSpec::Default, tz, today).unwrap();
        assert_eq!(q.first_day, d("2026-04-01"));
        let q1 = Period::resolve(
            ReportKind::Quarterly,
            &PeriodSpec::Default,
            tz,
            d("2026-02-01"),
        )
        .unwrap();
        assert_eq!(q1.first_day, d("2025-10-01"));
    }

    #[test]
    fn quarters_parse_and_bad_ones_do_not() {
        assert_eq!(parse_quarter("2026Q3").unwrap(), (2026, 3));
        assert_eq!(parse_quarter("2026-q4").unwrap(), (2026, 4));
        for bad in ["2026Q5", "2026Q0", "Q3", "2026", "xQ1"] {
            assert!(parse_quarter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reversed_range_is_refused() {
        let tz: Tz = "UTC".parse().unwrap();
        let spec = PeriodSpec::Range(d("2026-07-10"), d("2026-07-01"));
        let err = Period::resolve(ReportKind::Weekly, &spec, tz, d("2026-07-20")).unwrap_err();
        assert!(err.to_string().contains("after"), "{err}");
    }
}
