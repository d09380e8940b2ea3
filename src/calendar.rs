//! Business calendars and deadline arithmetic. This module owns the
//! [`Calendar`] type (time zone, working weekdays, daily working hours,
//! holidays and make-up workdays), validation of the text that describes it,
//! and every computation that turns a `crate::limit_duration::LimitDuration` into instants:
//! deadlines, working time elapsed between two instants, and resuming paused
//! clocks. Everything is a pure function of its arguments; nothing reads the
//! clock.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::limit_duration::LimitDuration;

pub mod grid;
pub mod ics;
pub mod statutory;

const MINUTES_PER_DAY: u32 = 24 * 60;

/// How far ahead any search for working time may go. Without a bound a
/// calendar with (almost) no working days would loop forever.
pub const SEARCH_DAYS: i64 = 3660;

/// Longest accepted holiday range, so a typo such as `2026-01-01..2062-01-01`
/// cannot make the calendar allocate tens of thousands of dates.
pub const MAX_HOLIDAY_RANGE_DAYS: i64 = 366;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Why a calendar could not be built or a deadline could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("expected a weekday `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`, found `{0}`")]
    UnknownWorkday(String),
    #[error("weekday `{0}` is listed more than once")]
    DuplicateWorkday(String),
    #[error("expected working hours like `09:00-12:00`, found `{0}`")]
    BadHours(String),
    #[error("working hours `{0}` must end after they start")]
    EmptyHours(String),
    #[error("working hours `{0}` and `{1}` overlap")]
    OverlappingHours(String, String),
    #[error("expected at least one range of working hours like `09:00-18:00`")]
    NoHours,
    #[error("expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `{0}`")]
    BadHoliday(String),
    #[error("holiday range `{0}` ends before it starts")]
    ReversedHolidayRange(String),
    #[error("holiday range `{0}` is longer than 366 days")]
    HolidayRangeTooLong(String),
    #[error("expected a make-up workday like `2026-09-27`, found `{0}`")]
    BadMakeupWorkday(String),
    #[error("`{0}` is both a holiday and a make-up workday")]
    HolidayAndMakeup(NaiveDate),
    #[error("expected at least one workday or make-up workday, the calendar has no working time")]
    NoWorkingDays,
    #[error("expected a non-negative number of minutes, found `{0}`")]
    NegativeMinutes(i64),
    #[error("span `{0}` cannot be turned into a deadline")]
    InvalidSpan(String),
    #[error("instant `{0}` is outside the supported years 1900 to 9998")]
    OutOfRange(DateTime<Utc>),
    #[error("no working time to fit the limit within 3660 days after `{0}`")]
    NoWorkingTime(DateTime<Utc>),
}

/// A business calendar: which local days and hours count as working time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    workdays: [bool; 7],
    /// Minutes after local midnight, sorted and non-overlapping. Minutes rather
    /// than `NaiveTime` because `24:00` (end of day) must be representable.
    hours: Vec<(u32, u32)>,
    holidays: BTreeSet<NaiveDate>,
    makeup_workdays: BTreeSet<NaiveDate>,
    business_days: BusinessDays,
}

/// Where "N business days" ends. The calendar says which, because the documents and
/// the law read "N 个工作日内" differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessDays {
    /// The same clock time on the N-th working day, counted from the first opening
    /// at or after intake: Wednesday 10:00 plus one business day is Thursday 10:00.
    #[default]
    SameTime,
    /// The close of business of the N-th working day after the intake day, the day
    /// of intake not counted (Civil Code arts. 201, 203): Wednesday 10:00 plus one
    /// business day is Thursday at closing.
    CloseOfBusiness,
}

impl BusinessDays {
    pub fn parse(s: &str) -> Option<BusinessDays> {
        match s {
            "same_time" => Some(BusinessDays::SameTime),
            "close_of_business" => Some(BusinessDays::CloseOfBusiness),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BusinessDays::SameTime => "same_time",
            BusinessDays::CloseOfBusiness => "close_of_business",
        }
    }
}

impl Calendar {
    /// workdays like ["mon","tue",...] (3-letter, lowercase; error on unknown), hours like ["09:00-12:00","13:30-18:00"] (error on bad format, end <= start, overlaps; "00:00-24:00" means all day), holidays: list of "YYYY-MM-DD" or ranges "YYYY-MM-DD..YYYY-MM-DD" (inclusive; error if reversed), makeup: list of "YYYY-MM-DD". A date both holiday and makeup is an error. Empty workdays with no makeup days is an error (no working time at all).
    pub fn new(
        tz: Tz,
        workdays: &[&str],
        hours: &[&str],
        holidays: &[&str],
        makeup_workdays: &[&str],
    ) -> Result<Calendar, CalendarError> {
        let mut days = [false; 7];
        for name in workdays {
            let index = WEEKDAYS
                .iter()
                .position(|w| w == name)
                .ok_or_else(|| CalendarError::UnknownWorkday(name.to_string()))?;
            if days[index] {
                return Err(CalendarError::DuplicateWorkday(name.to_string()));
            }
            days[index] = true;
        }

        let hours = parse_hours(hours)?;

        let mut holiday_set = BTreeSet::new();
        for text in holidays {
            let text = text.trim();
            let bad = || CalendarError::BadHoliday(text.to_string());
            match text.split_once("..") {
                Some((from, to)) => {
                    let from = parse_date(from).ok_or_else(bad)?;
                    let to = parse_date(to).ok_or_else(bad)?;
                    if to < from {
                        return Err(CalendarError::ReversedHolidayRange(text.to_string()));
                    }
                    if (to - from).num_days() >= MAX_HOLIDAY_RANGE_DAYS {
                        return Err(CalendarError::HolidayRangeTooLong(text.to_string()));
                    }
                    holiday_set.extend(from.iter_days().take_while(|d| *d <= to));
                }
                None => {
                    holiday_set.insert(parse_date(text).ok_or_else(bad)?);
                }
            }
        }

        let mut makeup_set = BTreeSet::new();
        for text in makeup_workdays {
            let date = parse_date(text)
                .ok_or_else(|| CalendarError::BadMakeupWorkday(text.to_string()))?;
            if holiday_set.contains(&date) {
                return Err(CalendarError::HolidayAndMakeup(date));
            }
            makeup_set.insert(date);
        }

        if !days.contains(&true) && makeup_set.is_empty() {
            return Err(CalendarError::NoWorkingDays);
        }

        Ok(Calendar {
            tz,
            workdays: days,
            hours,
            holidays: holiday_set,
            makeup_workdays: makeup_set,
            business_days: BusinessDays::SameTime,
        })
    }

    /// 24x7: every day a working day, hours 00:00-24:00. Business spans then equal wall spans.
    pub fn always(tz: Tz) -> Calendar {
        Calendar {
            tz,
            workdays: [true; 7],
            hours: vec![(0, MINUTES_PER_DAY)],
            holidays: BTreeSet::new(),
            makeup_workdays: BTreeSet::new(),
            business_days: BusinessDays::SameTime,
        }
    }

    /// The same calendar with "N business days" ending as `rule` says.
    pub fn with_business_days(mut self, rule: BusinessDays) -> Calendar {
        self.business_days = rule;
        self
    }

    /// Where "N business days" ends on this calendar.
    pub fn business_days(&self) -> BusinessDays {
        self.business_days
    }

    /// The zone in which dates, hours and anchored times are read.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// makeup workday => true even on a weekend; holiday => false even on a weekday; else workdays[weekday].
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        self.workdays[date.weekday().num_days_from_monday() as usize]
    }

    /// A listed holiday (even on a day that is not a workday anyway).
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date) && !self.makeup_workdays.contains(&date)
    }

    /// A listed make-up workday (调休).
    pub fn is_makeup_workday(&self, date: NaiveDate) -> bool {
        self.makeup_workdays.contains(&date)
    }

    /// The working weekdays, Monday first.
    pub fn workdays(&self) -> [bool; 7] {
        self.workdays
    }

    /// The daily working hours as `HH:MM-HH:MM`.
    pub fn hours_text(&self) -> Vec<String> {
        let clock = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        self.hours
            .iter()
            .map(|&(s, e)| format!("{}-{}", clock(s), clock(e)))
            .collect()
    }

    /// true when `t` is inside working hours of a working day (local time in tz).
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        if !in_range(t) {
            return false;
        }
        // Neighbouring dates too: around DST folds an interval of one local
        // date can end on an instant whose local date is another.
        let date = self.local_date(t);
        [date.pred_opt(), Some(date), date.succ_opt()]
            .into_iter()
            .flatten()
            .any(|d| self.intervals(d).any(|(s, e)| s <= t && t < e))
    }

    /// Add `minutes` of working time to `start`. If start is outside hours, counting begins at the next opening. minutes == 0 returns start unchanged. Must terminate even for calendars with very sparse working days (bound the search, e.g. give up after 3660 days and return an error).
    ///
    /// When the working time runs out exactly at a closing instant, that
    /// closing instant is returned (not the next opening), so a limit of the
    /// whole afternoon ends at 18:00 rather than at 09:00 the next day.
    pub fn add_business_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if minutes < 0 {
            return Err(CalendarError::NegativeMinutes(minutes));
        }
        check_range(start)?;
        if minutes == 0 {
            return Ok(start);
        }
        // Seconds, because `start` may carry seconds and the inverse
        // (`business_minutes_between`) must count exactly what was added.
        let mut remaining = minutes.saturating_mul(60);
        self.walk(start, |begin, end| {
            let available = (end - begin).num_seconds();
            if remaining <= available {
                ControlFlow::Break(begin + Duration::seconds(remaining))
            } else {
                remaining -= available;
                ControlFlow::Continue(())
            }
        })
    }

    /// Working minutes between a and b (0 if b <= a). Inverse of add_business_minutes: business_minutes_between(s, add_business_minutes(s, m)) == m.
    ///
    /// Instants outside the supported years are clamped to them; partial
    /// minutes are dropped.
    pub fn business_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let a = a.clamp(range_start(), range_end());
        let b = b.clamp(range_start(), range_end());
        if b <= a {
            return 0;
        }
        let first = self.local_date(a).pred_opt().unwrap_or(NaiveDate::MIN);
        let last = self.local_date(b).succ_opt().unwrap_or(NaiveDate::MAX);
        let seconds: i64 = first
            .iter_days()
            .take_while(|d| *d <= last)
            .flat_map(|d| self.intervals(d))
            .map(|(s, e)| (e.min(b) - s.max(a)).num_seconds().max(0))
            .sum();
        seconds / 60
    }

    /// The deadline for a span started at `start`. Wall: start + minutes. Business: add_business_minutes. BusinessDays: see LimitDuration docs. Anchored: local date of start + days (or n-th next working day if business) at hour:minute local; if days == 0 and that time has already passed, the same time the next (working) day. Handle DST gaps/folds in tz deterministically (take the earliest valid instant; for a gap, shift forward to the first valid minute).
    ///
    /// "Already passed" includes "exactly now": a `same day 18:00` limit
    /// started at 18:00 would otherwise be breached the moment it starts.
    pub fn deadline(
        &self,
        span: &LimitDuration,
        start: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, CalendarError> {
        check_range(start)?;
        match *span {
            LimitDuration::Wall { minutes } => add_wall(start, minutes),
            LimitDuration::Business { minutes } => self.add_business_minutes(start, minutes),
            LimitDuration::BusinessDays { days }
                if self.business_days == BusinessDays::CloseOfBusiness =>
            {
                let date = self.nth_working_day(self.local_date(start), days, start)?;
                self.intervals(date)
                    .last()
                    .map(|(_, close)| close)
                    .ok_or(CalendarError::NoWorkingTime(start))
            }
            LimitDuration::BusinessDays { days } => {
                let opening = self.next_opening(start)?;
                let local = opening.with_timezone(&self.tz).naive_local();
                let date = self.nth_working_day(local.date(), days, start)?;
                Ok(self.resolve(date.and_time(local.time())))
            }
            LimitDuration::Anchored {
                days,
                hour,
                minute,
                business,
            } => {
                let at = NaiveTime::from_hms_opt(hour, minute, 0)
                    .ok_or_else(|| CalendarError::InvalidSpan(span.to_string()))?;
                let today = self.local_date(start);
                let date = if business {
                    self.nth_working_day(today, days, start)?
                } else {
                    add_days(today, days, start)?
                };
                let deadline = self.resolve(date.and_time(at));
                if days > 0 || deadline > start {
                    return Ok(deadline);
                }
                let next = if business {
                    self.nth_working_day(date, 1, start)?
                } else {
                    add_days(date, 1, start)?
                };
                Ok(self.resolve(next.and_time(at)))
            }
        }
    }

    /// How much of the span `span` is used between a and b, in minutes of the span's own measure: wall minutes for Wall and Anchored, working minutes for Business and BusinessDays. Used to pause clocks.
    pub fn elapsed(&self, span: &LimitDuration, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        match span {
            LimitDuration::Wall { .. } | LimitDuration::Anchored { .. } => {
                (b - a).num_minutes().max(0)
            }
            LimitDuration::Business { .. } | LimitDuration::BusinessDays { .. } => {
                self.business_minutes_between(a, b)
            }
        }
    }

    /// Advance `from` by `minutes` measured the way `span` measures time (wall for Wall/Anchored, working minutes for Business/BusinessDays). Used to resume paused clocks.
    pub fn advance(
        &self,
        span: &LimitDuration,
        from: DateTime<Utc>,
        minutes: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        match span {
            LimitDuration::Wall { .. } | LimitDuration::Anchored { .. } => {
                if minutes < 0 {
                    return Err(CalendarError::NegativeMinutes(minutes));
                }
                check_range(from)?;
                add_wall(from, minutes)
            }
            LimitDuration::Business { .. } | LimitDuration::BusinessDays { .. } => {
                self.add_business_minutes(from, minutes)
            }
        }
    }

    /// Total minutes of the span measured from `start` (i.e. elapsed(span, start, deadline(span,start))).
    pub fn span_minutes(
        &self,
        span: &LimitDuration,
        start: DateTime<Utc>,
    ) -> Result<i64, CalendarError> {
        let deadline = self.deadline(span, start)?;
        Ok(self.elapsed(span, start, deadline))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Local wall time to an instant: the earliest instant in a fold, the
    /// first valid minute after a gap.
    fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut candidate = local;
        // Real gaps last at most a day (Samoa skipped 2011-12-30); two days of
        // minutes is a generous bound that still keeps this loop finite.
        for _ in 0..=2 * MINUTES_PER_DAY {
            if let Some(t) = self.tz.from_local_datetime(&candidate).earliest() {
                return t.with_timezone(&Utc);
            }
            match candidate.checked_add_signed(Duration::minutes(1)) {
                Some(next) => candidate = next,
                None => break,
            }
        }
        // Unreachable with real tz data; reading the local time with the
        // offset in force at the same UTC reading still gives a sane instant.
        let offset = self.tz.offset_from_utc_datetime(&local).fix();
        local.checked_sub_offset(offset).unwrap_or(local).and_utc()
    }

    /// The working intervals of one local date as half-open UTC ranges, in
    /// order. Empty for non-working days and for hours swallowed by a DST gap.
    fn intervals(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let working = self.is_working_day(date);
        let midnight = date.and_time(NaiveTime::MIN);
        self.hours
            .iter()
            .filter(move |_| working)
            .filter_map(move |&(s, e)| {
                let at = |m: u32| midnight.checked_add_signed(Duration::minutes(i64::from(m)));
                let start = self.resolve(at(s)?);
                let end = self.resolve(at(e)?);
                (end > start).then_some((start, end))
            })
    }

    /// Visits the working time from `from` onwards, interval by interval
    /// (clipped to start no earlier than `from`), until `visit` breaks or the
    /// search bound is reached.
    fn walk<R>(
        &self,
        from: DateTime<Utc>,
        mut visit: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> ControlFlow<R>,
    ) -> Result<R, CalendarError> {
        let first = self
            .local_date(from)
            .pred_opt()
            .ok_or(CalendarError::OutOfRange(from))?;
        for date in first.iter_days().take(SEARCH_DAYS as usize + 2) {
            for (s, e) in self.intervals(date) {
                if e <= from {
                    continue;
                }
                if let ControlFlow::Break(r) = visit(s.max(from), e) {
                    return Ok(r);
                }
            }
        }
        Err(CalendarError::NoWorkingTime(from))
    }

    fn next_opening(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.walk(t, |begin, _| ControlFlow::Break(begin))
    }

    /// The n-th working day after `date`; for n == 0, `date` itself when it is
    /// a working day, else the next one.
    fn nth_working_day(
        &self,
        date: NaiveDate,
        n: u32,
        start: DateTime<Utc>,
    ) -> Result<NaiveDate, CalendarError> {
        let mut left = n;
        let mut days = date.iter_days();
        if n > 0 {
            days.next();
        }
        for d in days.take(SEARCH_DAYS as usize) {
            if self.is_working_day(d) {
                if left <= 1 {
                    return Ok(d);
                }
                left -= 1;
            }
        }
        Err(CalendarError::NoWorkingTime(start))
    }
}

fn range_start() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1900, 1, 1)
        .unwrap_or(NaiveDate::MIN)
        .and_time(NaiveTime::MIN)
        .and_utc()
}

fn range_end() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 1, 1)
        .unwrap_or(NaiveDate::MAX)
        .and_time(NaiveTime::MIN)
        .and_utc()
}

fn in_range(t: DateTime<Utc>) -> bool {
    range_start() <= t && t < range_end()
}

/// Keeps every instant far from chrono's limits, where converting to local
/// time would panic, and leaves room for a year-long limit plus the search
/// bound.
fn check_range(t: DateTime<Utc>) -> Result<(), CalendarError> {
    if in_range(t) {
        Ok(())
    } else {
        Err(CalendarError::OutOfRange(t))
    }
}

fn add_wall(start: DateTime<Utc>, minutes: i64) -> Result<DateTime<Utc>, CalendarError> {
    if minutes < 0 {
        return Err(CalendarError::NegativeMinutes(minutes));
    }
    Duration::try_minutes(minutes)
        .and_then(|d| start.checked_add_signed(d))
        .filter(|t| in_range(*t))
        .ok_or(CalendarError::OutOfRange(start))
}

fn add_days(date: NaiveDate, days: u32, start: DateTime<Utc>) -> Result<NaiveDate, CalendarError> {
    date.checked_add_days(chrono::Days::new(u64::from(days)))
        .ok_or(CalendarError::OutOfRange(start))
}

/// A day written `YYYY-MM-DD`, zero-padded: the one date syntax of calendars, used by
/// `policy check` and by the calendar itself alike.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDate::from_ymd_opt(
        text[0..4].parse().ok()?,
        text[5..7].parse().ok()?,
        text[8..10].parse().ok()?,
    )
}

/// `HH:MM` as minutes after midnight; `24:00` only when it may end a range.
fn parse_clock(text: &str, allow_end_of_day: bool) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    match (h, m) {
        (24, 0) if allow_end_of_day => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn parse_hours(hours: &[&str]) -> Result<Vec<(u32, u32)>, CalendarError> {
    let mut ranges = Vec::with_capacity(hours.len());
    for text in hours {
        let bad = || CalendarError::BadHours(text.to_string());
        let (from, to) = text.split_once('-').ok_or_else(bad)?;
        let from = parse_clock(from, false).ok_or_else(bad)?;
        let to = parse_clock(to, true).ok_or_else(bad)?;
        if to <= from {
            return Err(CalendarError::EmptyHours(text.to_string()));
        }
        ranges.push((from, to, *text));
    }
    if ranges.is_empty() {
        return Err(CalendarError::NoHours);
    }
    ranges.sort_by_key(|&(from, to, _)| (from, to));
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for pair in ranges.windows(2) {
        let (_, prev_end, prev_text) = pair[0];
        let (next_start, _, next_text) = pair[1];
        if next_start < prev_end {
            return Err(CalendarError::OverlappingHours(
                prev_text.to_string(),
                next_text.to_string(),
            ));
        }
    }
    // Touching ranges (`09:00-12:00`, `12:00-18:00`) are one stretch of work;
    // merging them keeps 12:00 from looking like a closing instant.
    for (from, to, _) in ranges {
        match merged.last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => merged.push((from, to)),
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Weekday};
    use proptest::prelude::*;

    fn office() -> Calendar {
        Calendar::new(
            chrono_tz::Asia::Shanghai,
            &["mon", "tue", "wed", "thu", "fri"],
            &["09:00-12:00", "13:30-18:00"],
            &["2026-10-01..2026-10-07"],
            &["2026-09-27", "2026-10-10"],
        )
        .unwrap()
    }

    /// An instant written as Shanghai wall time, e.g. `cst("2026-09-25 16:00")`.
    fn cst(text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(text: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn span(text: &str) -> LimitDuration {
        text.parse().unwrap()
    }

    fn new_err(workdays: &[&str], hours: &[&str], holidays: &[&str], makeup: &[&str]) -> String {
        Calendar::new(chrono_tz::UTC, workdays, hours, holidays, makeup)
            .unwrap_err()
            .to_string()
    }

    const WEEK: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
    const DAY: [&str; 1] = ["09:00-18:00"];

    #[test]
    fn fixture_dates_fall_on_the_expected_weekdays() {
        assert_eq!(date("2026-09-25").weekday(), Weekday::Fri);
        assert_eq!(date("2026-09-27").weekday(), Weekday::Sun);
        assert_eq!(date("2026-09-30").weekday(), Weekday::Wed);
        assert_eq!(date("2026-10-08").weekday(), Weekday::Thu);
        assert_eq!(date("2026-10-10").weekday(), Weekday::Sat);
        assert_eq!(date("2026-07-03").weekday(), Weekday::Fri);
    }

    #[test]
    fn working_days_follow_holidays_and_makeup_days() {
        let cal = office();
        assert!(cal.is_working_day(date("2026-09-25")));
        assert!(!cal.is_working_day(date("2026-09-26")));
        assert!(cal.is_working_day(date("2026-09-27")));
        for day in 1..=7 {
            let d = NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
            assert!(!cal.is_working_day(d), "{d}");
        }
        assert!(cal.is_working_day(date("2026-10-08")));
        assert!(cal.is_working_day(date("2026-10-10")));
        assert!(!cal.is_working_day(date("2026-10-11")));
        assert_eq!(cal.tz(), chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn is_open_respects_hours_lunch_and_holidays() {
        let cal = office();
        assert!(!cal.is_open(cst("2026-07-01 08:59")));
        assert!(cal.is_open(cst("2026-07-01 09:00")));
        assert!(cal.is_open(cst("2026-07-01 11:59")));
        assert!(!cal.is_open(cst("2026-07-01 12:00")));
        assert!(!cal.is_open(cst("2026-07-01 13:29")));
        assert!(cal.is_open(cst("2026-07-01 13:30")));
        assert!(!cal.is_open(cst("2026-07-01 18:00")));
        assert!(!cal.is_open(cst("2026-07-04 10:00")), "saturday");
        assert!(!cal.is_open(cst("2026-10-02 10:00")), "holiday");
        assert!(cal.is_open(cst("2026-09-27 10:00")), "make-up sunday");
        assert!(!cal.is_open(DateTime::<Utc>::MAX_UTC));
        assert!(!cal.is_open(DateTime::<Utc>::MIN_UTC));
    }

    #[test]
    fn business_hours_reach_the_makeup_sunday() {
        // 2h on Friday 16:00-18:00, Saturday is off, 2h on the make-up Sunday 09:00-11:00.
        let cal = office();
        let end = cal
            .add_business_minutes(cst("2026-09-25 16:00"), 240)
            .unwrap();
        assert_eq!(end, cst("2026-09-27 11:00"));
        assert_eq!(
            cal.deadline(&span("4 business hours"), cst("2026-09-25 16:00"))
                .unwrap(),
            cst("2026-09-27 11:00")
        );
    }

    #[test]
    fn business_hours_skip_the_holiday_week() {
        // 1h on Wednesday 17:00-18:00, 3h on Thursday 09:00-12:00.
        let cal = office();
        let end = cal
            .deadline(&span("4 business hours"), cst("2026-09-30 17:00"))
            .unwrap();
        assert_eq!(end, cst("2026-10-08 12:00"));
    }

    #[test]
    fn counting_skips_lunch_evenings_and_weekends() {
        let cal = office();
        let add = |start, minutes| cal.add_business_minutes(cst(start), minutes).unwrap();
        assert_eq!(add("2026-07-01 11:00", 120), cst("2026-07-01 14:30"));
        assert_eq!(add("2026-07-01 12:30", 60), cst("2026-07-01 14:30"));
        assert_eq!(add("2026-07-01 12:30", 1), cst("2026-07-01 13:31"));
        assert_eq!(add("2026-07-01 20:00", 60), cst("2026-07-02 10:00"));
        assert_eq!(add("2026-07-01 06:00", 30), cst("2026-07-01 09:30"));
        assert_eq!(add("2026-07-03 17:00", 120), cst("2026-07-06 10:00"));
        // Exactly the rest of the morning ends at the closing instant.
        assert_eq!(add("2026-07-01 11:00", 60), cst("2026-07-01 12:00"));
        assert_eq!(add("2026-07-01 09:00", 450), cst("2026-07-01 18:00"));
        assert_eq!(add("2026-07-01 09:00", 451), cst("2026-07-02 09:01"));
        // Zero minutes leaves even a closed start untouched.
        assert_eq!(add("2026-07-01 20:00", 0), cst("2026-07-01 20:00"));
    }

    #[test]
    fn seconds_in_the_start_are_kept() {
        let cal = office();
        let start = cst("2026-07-01 11:59") + Duration::seconds(30);
        let end = cal.add_business_minutes(start, 1).unwrap();
        assert_eq!(end, cst("2026-07-01 13:30") + Duration::seconds(30));
        assert_eq!(cal.business_minutes_between(start, end), 1);
    }

    #[test]
    fn minutes_between_counts_only_working_time() {
        let cal = office();
        let between = |a, b| cal.business_minutes_between(cst(a), cst(b));
        assert_eq!(between("2026-07-01 09:00", "2026-07-01 18:00"), 450);
        assert_eq!(between("2026-07-01 11:00", "2026-07-01 14:30"), 120);
        assert_eq!(between("2026-07-01 12:10", "2026-07-01 13:20"), 0);
        assert_eq!(between("2026-07-03 17:00", "2026-07-06 10:00"), 120);
        assert_eq!(between("2026-09-30 17:00", "2026-10-08 12:00"), 240);
        assert_eq!(between("2026-07-01 14:00", "2026-07-01 10:00"), 0);
        assert_eq!(between("2026-07-01 10:00", "2026-07-01 10:00"), 0);
        // A full ordinary week is 5 days of 7.5 hours.
        assert_eq!(between("2026-07-06 00:00", "2026-07-13 00:00"), 5 * 450);
    }

    #[test]
    fn long_spans_walk_day_by_day() {
        let cal = office();
        let start = cst("2026-01-05 09:00");
        // 10,000 minutes is 22 working days plus 100 minutes.
        let end = cal.add_business_minutes(start, 10_000).unwrap();
        assert_eq!(cal.business_minutes_between(start, end), 10_000);
        assert_eq!(end, cst("2026-02-04 10:40"));
    }

    #[test]
    fn anchored_deadlines() {
        let cal = office();
        let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
        assert_eq!(
            at("next day 12:00", "2026-07-01 15:00"),
            cst("2026-07-02 12:00")
        );
        assert_eq!(
            at("next day 12:00", "2026-07-03 15:00"),
            cst("2026-07-04 12:00")
        );
        assert_eq!(
            at("next business day 12:00", "2026-07-03 15:00"),
            cst("2026-07-06 12:00")
        );
        assert_eq!(
            at("next business day 12:00", "2026-09-30 15:00"),
            cst("2026-10-08 12:00")
        );
        assert_eq!(
            at("same day 18:00", "2026-07-01 15:00"),
            cst("2026-07-01 18:00")
        );
        assert_eq!(
            at("same day 18:00", "2026-07-01 19:00"),
            cst("2026-07-02 18:00")
        );
        assert_eq!(
            at("same day 18:00", "2026-07-01 18:00"),
            cst("2026-07-02 18:00")
        );
        assert_eq!(
            at("same business day 18:00", "2026-07-03 19:00"),
            cst("2026-07-06 18:00")
        );
        assert_eq!(
            at("same business day 18:00", "2026-07-04 10:00"),
            cst("2026-07-06 18:00")
        );
        assert_eq!(
            at("in 2 days 09:00", "2026-07-01 15:00"),
            cst("2026-07-03 09:00")
        );
        assert_eq!(
            at("in 2 business days 09:00", "2026-07-02 15:00"),
            cst("2026-07-06 09:00")
        );
    }

    #[test]
    fn anchored_day_is_the_local_date() {
        // 2026-07-01 17:00 UTC is already 07-02 01:00 in Shanghai.
        let cal = office();
        let end = cal
            .deadline(&span("next day 12:00"), utc("2026-07-01 17:00"))
            .unwrap();
        assert_eq!(end, cst("2026-07-03 12:00"));
    }

    #[test]
    fn business_days_keep_the_time_of_day() {
        let cal = office();
        let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
        assert_eq!(
            at("2 business days", "2026-09-30 10:00"),
            cst("2026-10-09 10:00")
        );
        assert_eq!(
            at("1 business day", "2026-07-01 15:20"),
            cst("2026-07-02 15:20")
        );
        assert_eq!(
            at("1 business day", "2026-07-03 10:00"),
            cst("2026-07-06 10:00")
        );
        // Outside hours the count starts at the next opening.
        assert_eq!(
            at("1 business day", "2026-07-01 20:00"),
            cst("2026-07-03 09:00")
        );
        assert_eq!(
            at("1 business day", "2026-07-01 12:30"),
            cst("2026-07-02 13:30")
        );
        assert_eq!(
            at("1 business day", "2026-07-01 18:00"),
            cst("2026-07-03 09:00")
        );
    }

    /// Civil Code arts. 201/203: the day of intake is not counted and the period
    /// ends at the close of business of its last working day.
    #[test]
    fn business_days_can_end_at_close_of_business() {
        let cal = office().with_business_days(BusinessDays::CloseOfBusiness);
        let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
        // Wednesday 10:00 + 1: Thursday at closing, whatever the hour of intake.
        assert_eq!(
            at("1 business day", "2026-07-01 10:00"),
            cst("2026-07-02 18:00")
        );
        assert_eq!(
            at("1 business day", "2026-07-01 08:00"),
            cst("2026-07-02 18:00")
        );
        assert_eq!(
            at("1 business day", "2026-07-01 20:00"),
            cst("2026-07-02 18:00")
        );
        // Friday + 1: Monday. Saturday (not a working day, not counted) + 1: Monday.
        assert_eq!(
            at("1 business day", "2026-07-03 17:00"),
            cst("2026-07-06 18:00")
        );
        assert_eq!(
            at("1 business day", "2026-07-04 11:00"),
            cst("2026-07-06 18:00")
        );
        // Across the holiday week: 09-30 + 2 = 10-08, 10-09 (make-up 10-10 not yet).
        assert_eq!(
            at("2 business days", "2026-09-30 10:00"),
            cst("2026-10-09 18:00")
        );
        assert_eq!(
            at("3 business days", "2026-09-30 10:00"),
            cst("2026-10-10 18:00")
        );
        // The measure for pausing stays working minutes: Wednesday's last 2 h and
        // Thursday's 7.5 h.
        let limit = span("1 business day");
        assert_eq!(
            cal.span_minutes(&limit, cst("2026-07-01 16:00")).unwrap(),
            120 + 450
        );
        // The default reading keeps the clock time.
        assert_eq!(office().business_days(), BusinessDays::SameTime);
        assert_eq!(
            BusinessDays::parse("close_of_business"),
            Some(BusinessDays::CloseOfBusiness)
        );
        assert_eq!(BusinessDays::parse("closing"), None);
    }

    #[test]
    fn wall_deadlines_ignore_the_calendar() {
        let cal = office();
        assert_eq!(
            cal.deadline(&span("2h"), cst("2026-07-04 23:00")).unwrap(),
            cst("2026-07-05 01:00")
        );
        assert_eq!(
            cal.deadline(&span("1w"), cst("2026-09-30 10:00")).unwrap(),
            cst("2026-10-07 10:00")
        );
    }

    #[test]
    fn elapsed_advance_and_span_minutes_use_the_span_measure() {
        let cal = office();
        let wall = span("2h");
        let business = span("4 business hours");
        let days = span("2 business days");
        let anchored = span("next day 12:00");
        let (a, b) = (cst("2026-07-01 11:00"), cst("2026-07-01 14:00"));
        assert_eq!(cal.elapsed(&wall, a, b), 180);
        assert_eq!(cal.elapsed(&anchored, a, b), 180);
        assert_eq!(cal.elapsed(&business, a, b), 90);
        assert_eq!(cal.elapsed(&days, a, b), 90);
        assert_eq!(cal.elapsed(&wall, b, a), 0);

        assert_eq!(cal.advance(&wall, a, 90).unwrap(), cst("2026-07-01 12:30"));
        assert_eq!(
            cal.advance(&anchored, a, 90).unwrap(),
            cst("2026-07-01 12:30")
        );
        assert_eq!(
            cal.advance(&business, a, 90).unwrap(),
            cst("2026-07-01 14:00")
        );
        assert_eq!(cal.advance(&days, a, 90).unwrap(), cst("2026-07-01 14:00"));

        assert_eq!(cal.span_minutes(&wall, a).unwrap(), 120);
        assert_eq!(cal.span_minutes(&business, a).unwrap(), 240);
        assert_eq!(cal.span_minutes(&days, a).unwrap(), 900);
        assert_eq!(cal.span_minutes(&anchored, a).unwrap(), 25 * 60);
        // Started outside hours, only the working time up to the deadline counts.
        assert_eq!(
            cal.span_minutes(&days, cst("2026-07-01 20:00")).unwrap(),
            900
        );
    }

    #[test]
    fn pausing_and_resuming_reaches_the_same_deadline() {
        let cal = office();
        let limit = span("4 business hours");
        let start = cst("2026-07-01 16:00");
        let paused_at = cst("2026-07-02 10:00");
        let resumed_at = cst("2026-07-06 14:00");
        let used = cal.elapsed(&limit, start, paused_at);
        assert_eq!(used, 180);
        let left = cal.span_minutes(&limit, start).unwrap() - used;
        assert_eq!(
            cal.advance(&limit, resumed_at, left).unwrap(),
            cst("2026-07-06 15:00")
        );
    }

    #[test]
    fn dst_gap_and_fold_resolve_deterministically() {
        let cal = Calendar::always(chrono_tz::America::New_York);
        // 2026-03-08 02:30 does not exist in New York; 03:00 EDT is the first valid minute.
        let end = cal
            .deadline(&span("next day 02:30"), utc("2026-03-07 17:00"))
            .unwrap();
        assert_eq!(end, utc("2026-03-08 07:00"));
        // 2026-11-01 01:30 happens twice; the earlier one is 01:30 EDT.
        let end = cal
            .deadline(&span("next day 01:30"), utc("2026-10-31 17:00"))
            .unwrap();
        assert_eq!(end, utc("2026-11-01 05:30"));
        // A 24x7 calendar counts the real length of the short and long days.
        let start = utc("2026-03-07 17:00");
        assert_eq!(
            cal.add_business_minutes(start, 24 * 60).unwrap(),
            utc("2026-03-08 17:00")
        );
        assert_eq!(
            cal.business_minutes_between(utc("2026-11-01 04:00"), utc("2026-11-02 05:00")),
            25 * 60
        );
    }

    #[test]
    fn dst_gap_inside_working_hours_is_not_working_time() {
        let cal = Calendar::new(
            chrono_tz::America::New_York,
            &["sun"],
            &["01:00-04:00"],
            &[],
            &[],
        )
        .unwrap();
        // On 2026-03-08 02:00-03:00 never happens, so only two hours are worked.
        let (a, b) = (utc("2026-03-08 00:00"), utc("2026-03-09 00:00"));
        assert_eq!(cal.business_minutes_between(a, b), 120);
        assert_eq!(
            cal.add_business_minutes(a, 120).unwrap(),
            utc("2026-03-08 08:00")
        );
    }

    #[test]
    fn sparse_calendars_give_up_instead_of_looping() {
        let cal = Calendar::new(chrono_tz::UTC, &[], &DAY, &[], &["2026-01-05"]).unwrap();
        let start = utc("2026-01-01 00:00");
        assert_eq!(
            cal.add_business_minutes(start, 540).unwrap(),
            utc("2026-01-05 18:00")
        );
        let error = cal.add_business_minutes(start, 541).unwrap_err();
        assert_eq!(error, CalendarError::NoWorkingTime(start));
        assert_eq!(
            error.to_string(),
            "no working time to fit the limit within 3660 days after `2026-01-01 00:00:00 UTC`"
        );
        assert!(cal.deadline(&span("2 business days"), start).is_err());
        assert!(
            cal.deadline(&span("next business day 12:00"), utc("2026-01-06 00:00"))
                .is_err()
        );
        assert!(
            cal.deadline(&span("1 business day"), utc("2026-01-06 00:00"))
                .is_err()
        );
    }

    #[test]
    fn runtime_errors() {
        let cal = office();
        let start = cst("2026-07-01 10:00");
        assert_eq!(
            cal.add_business_minutes(start, -5).unwrap_err().to_string(),
            "expected a non-negative number of minutes, found `-5`"
        );
        assert_eq!(
            cal.advance(&span("2h"), start, -1).unwrap_err(),
            CalendarError::NegativeMinutes(-1)
        );
        assert_eq!(
            cal.deadline(&LimitDuration::Wall { minutes: -1 }, start)
                .unwrap_err(),
            CalendarError::NegativeMinutes(-1)
        );
        let bad = LimitDuration::Anchored {
            days: 1,
            hour: 24,
            minute: 0,
            business: false,
        };
        assert_eq!(
            cal.deadline(&bad, start).unwrap_err().to_string(),
            "span `next day 24:00` cannot be turned into a deadline"
        );
        let far = DateTime::<Utc>::MAX_UTC;
        assert_eq!(
            cal.add_business_minutes(far, 1).unwrap_err(),
            CalendarError::OutOfRange(far)
        );
        assert!(
            cal.deadline(&span("2h"), far)
                .unwrap_err()
                .to_string()
                .contains("is outside the supported years 1900 to 9998")
        );
        assert!(
            cal.deadline(&span("next day 12:00"), DateTime::<Utc>::MIN_UTC)
                .is_err()
        );
        assert!(cal.advance(&span("2h"), start, i64::MAX).is_err());
        assert!(cal.add_business_minutes(start, i64::MAX).is_err());
        // Instants before 1900 are clamped to 1900-01-01 (a Monday), not a panic.
        let utc_office = Calendar::new(chrono_tz::UTC, &WEEK, &DAY, &[], &[]).unwrap();
        assert_eq!(
            utc_office.business_minutes_between(DateTime::<Utc>::MIN_UTC, utc("1900-01-02 00:00")),
            540
        );
        assert_eq!(
            utc_office.business_minutes_between(DateTime::<Utc>::MIN_UTC, utc("1899-12-31 00:00")),
            0
        );
        assert_eq!(
            utc_office.business_minutes_between(DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC),
            0
        );
    }

    #[test]
    fn new_accepts_unsorted_touching_and_all_day_hours() {
        let cal = Calendar::new(
            chrono_tz::UTC,
            &["mon"],
            &["13:00-18:00", "09:00-13:00"],
            &[],
            &[],
        )
        .unwrap();
        // Touching ranges merge, so 13:00 is not a closing instant.
        assert!(cal.is_open(utc("2026-07-06 13:00")));
        assert_eq!(
            cal.add_business_minutes(utc("2026-07-06 09:00"), 540)
                .unwrap(),
            utc("2026-07-06 18:00")
        );
        let all_day = Calendar::new(chrono_tz::UTC, &WEEK, &["00:00-24:00"], &[], &[]).unwrap();
        assert!(all_day.is_open(utc("2026-07-06 23:59")));
        assert!(all_day.is_open(utc("2026-07-07 00:00")));
        assert!(!all_day.is_open(utc("2026-07-11 12:00")));
        let single_holiday =
            Calendar::new(chrono_tz::UTC, &WEEK, &DAY, &["2026-07-06"], &[]).unwrap();
        assert!(!single_holiday.is_working_day(date("2026-07-06")));
        assert!(single_holiday.is_working_day(date("2026-07-07")));
    }

    #[test]
    fn new_rejects_bad_calendars_with_messages() {
        let cases: [(String, &str); 17] = [
            (
                new_err(&["monday"], &DAY, &[], &[]),
                "expected a weekday `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`, found `monday`",
            ),
            (
                new_err(&["Mon"], &DAY, &[], &[]),
                "expected a weekday `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`, found `Mon`",
            ),
            (
                new_err(&["mon", "mon"], &DAY, &[], &[]),
                "weekday `mon` is listed more than once",
            ),
            (
                new_err(&WEEK, &["9-18"], &[], &[]),
                "expected working hours like `09:00-12:00`, found `9-18`",
            ),
            (
                new_err(&WEEK, &["09:00"], &[], &[]),
                "expected working hours like `09:00-12:00`, found `09:00`",
            ),
            (
                new_err(&WEEK, &["09:00-25:00"], &[], &[]),
                "expected working hours like `09:00-12:00`, found `09:00-25:00`",
            ),
            (
                new_err(&WEEK, &["24:00-24:00"], &[], &[]),
                "expected working hours like `09:00-12:00`, found `24:00-24:00`",
            ),
            (
                new_err(&WEEK, &["18:00-09:00"], &[], &[]),
                "working hours `18:00-09:00` must end after they start",
            ),
            (
                new_err(&WEEK, &["09:00-09:00"], &[], &[]),
                "working hours `09:00-09:00` must end after they start",
            ),
            (
                new_err(&WEEK, &["09:00-12:00", "11:00-14:00"], &[], &[]),
                "working hours `09:00-12:00` and `11:00-14:00` overlap",
            ),
            (
                new_err(&WEEK, &[], &[], &[]),
                "expected at least one range of working hours like `09:00-18:00`",
            ),
            (
                new_err(&WEEK, &DAY, &["2026-13-01"], &[]),
                "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `2026-13-01`",
            ),
            (
                new_err(&WEEK, &DAY, &["2026-10-07..2026-10-01"], &[]),
                "holiday range `2026-10-07..2026-10-01` ends before it starts",
            ),
            (
                new_err(&WEEK, &DAY, &["2026-01-01..2027-01-02"], &[]),
                "holiday range `2026-01-01..2027-01-02` is longer than 366 days",
            ),
            (
                new_err(&WEEK, &DAY, &[], &["2026-09-27..2026-09-28"]),
                "expected a make-up workday like `2026-09-27`, found `2026-09-27..2026-09-28`",
            ),
            (
                new_err(&WEEK, &DAY, &["2026-10-01..2026-10-07"], &["2026-10-03"]),
                "`2026-10-03` is both a holiday and a make-up workday",
            ),
            (
                new_err(&[], &DAY, &["2026-10-01"], &[]),
                "expected at least one workday or make-up workday, the calendar has no working time",
            ),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual, expected);
        }
        assert_eq!(
            new_err(&WEEK, &DAY, &["26-10-01"], &[]),
            "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `26-10-01`"
        );
        assert_eq!(
            new_err(&WEEK, &DAY, &["2026-10-01..x"], &[]),
            "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `2026-10-01..x`"
        );
    }

    fn start_in_2026() -> impl Strategy<Value = DateTime<Utc>> {
        let year = utc("2026-01-01 00:00").timestamp();
        (0..365 * 86_400i64).prop_map(move |s| DateTime::from_timestamp(year + s, 0).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn between_inverts_add(start in start_in_2026(), minutes in 0..20_000i64) {
            let cal = office();
            let end = cal.add_business_minutes(start, minutes).unwrap();
            prop_assert_eq!(cal.business_minutes_between(start, end), minutes);
        }

        #[test]
        fn add_is_monotonic(start in start_in_2026(), a in 0..20_000i64, b in 0..20_000i64) {
            let cal = office();
            let (lo, hi) = (a.min(b), a.max(b));
            let lo_end = cal.add_business_minutes(start, lo).unwrap();
            let hi_end = cal.add_business_minutes(start, hi).unwrap();
            prop_assert!(lo_end <= hi_end);
            if lo < hi {
                prop_assert!(lo_end < hi_end);
            }
        }

        #[test]
        fn add_ends_in_working_time_or_at_closing(start in start_in_2026(), minutes in 1..20_000i64) {
            let cal = office();
            let end = cal.add_business_minutes(start, minutes).unwrap();
            let closing = !cal.is_open(end) && cal.is_open(end - Duration::seconds(1));
            prop_assert!(cal.is_open(end) || closing, "{} is neither open nor a closing instant", end);
            prop_assert!(end > start);
        }

        #[test]
        fn always_calendar_adds_wall_minutes(start in start_in_2026(), minutes in 0..200_000i64) {
            // New York so the run crosses DST changes, which must not matter.
            let cal = Calendar::always(chrono_tz::America::New_York);
            let end = cal.add_business_minutes(start, minutes).unwrap();
            prop_assert_eq!(end, start + Duration::minutes(minutes));
            prop_assert_eq!(cal.business_minutes_between(start, end), minutes);
        }

        #[test]
        fn span_minutes_then_advance_reaches_the_deadline(
            start in start_in_2026(),
            minutes in 1..5_000i64,
        ) {
            let cal = office();
            let limit = LimitDuration::Business { minutes };
            let total = cal.span_minutes(&limit, start).unwrap();
            prop_assert_eq!(total, minutes);
            prop_assert_eq!(
                cal.advance(&limit, start, total).unwrap(),
                cal.deadline(&limit, start).unwrap()
            );
        }
    }
}
