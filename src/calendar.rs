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
            LimitDuration::CalendarDays { days } => {
                let local = start.with_timezone(&self.tz).naive_local();
                let date = add_days(local.date(), days, start)?;
                Ok(self.resolve(date.and_time(local.time())))
            }
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
            LimitDuration::Wall { .. }
            | LimitDuration::CalendarDays { .. }
            | LimitDuration::Anchored { .. } => (b - a).num_minutes().max(0),
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
            LimitDuration::Wall { .. }
            | LimitDuration::CalendarDays { .. }
            | LimitDuration::Anchored { .. } => {
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
mod tests;
