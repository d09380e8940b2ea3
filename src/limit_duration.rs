//! How long a limit is: the `within` values of policy files. This module owns
//! the [`LimitDuration`] type, its text grammar (parsing and the canonical form it
//! prints and serializes as) and the strictness order between durations. It knows
//! nothing about calendars; turning a duration into a deadline is
//! `crate::calendar`'s job.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

const MINUTES_PER_HOUR: i64 = 60;
const MINUTES_PER_DAY: i64 = 24 * MINUTES_PER_HOUR;
const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;

/// Longest accepted limit. A limit of more than a year is almost certainly a
/// typo in a policy file, and the bound keeps all deadline arithmetic far away
/// from overflow.
pub const MAX_DAYS: u32 = 366;
const MAX_MINUTES: i64 = MAX_DAYS as i64 * MINUTES_PER_DAY;

const EXPECTED: &str = "expected a duration like `30m`, `2h`, `3d`, `1w`, `3 calendar days`, `4 business hours` or `next day 12:00`";

/// How long a limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitDuration {
    /// Wall-clock time: "30m", "2h", "24h", "3d", "1w", also compound "1h30m", "1d12h". Stored in whole minutes.
    /// A day here is 24 elapsed hours, so across a DST change "3d" ends an hour off the start's local time.
    Wall { minutes: i64 },
    /// Calendar days: "3 calendar days", "1 calendar week" = the same local time of day n dates later,
    /// however long those days are (23 or 25 hours across a DST change).
    CalendarDays { days: u32 },
    /// Working time counted only inside the calendar's hours: "4 business hours", "30 business minutes", "1 business hour". Stored in minutes.
    Business { minutes: i64 },
    /// Whole working days: "2 business days" = the same local time-of-day on the n-th next working day (if start is outside hours, count from the next opening).
    BusinessDays { days: u32 },
    /// Anchored local time: "next day 12:00" (days=1), "same day 18:00" (days=0), "in 2 days 09:00" (days=2); business=true for "next business day 12:00" (the n-th next *working* day).
    Anchored {
        days: u32,
        hour: u32,
        minute: u32,
        business: bool,
    },
}

/// Why a span text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitDurationError {
    #[error("{EXPECTED}, found an empty value")]
    Empty,
    #[error("{EXPECTED}, found `{0}`")]
    Syntax(String),
    #[error("expected a duration longer than zero, found `{0}`")]
    NotPositive(String),
    #[error("expected a duration of at most 366 days, found `{0}`")]
    TooLong(String),
    #[error("expected a time of day from `00:00` to `23:59`, found `{0}`")]
    BadTime(String),
}

impl LimitDuration {
    /// A total order for comparing strictness where decidable: Some(Ordering) when both are Wall, both Business, both BusinessDays, or both Anchored with same `business` flag (compare days then time); None otherwise.
    pub fn compare(&self, other: &LimitDuration) -> Option<Ordering> {
        match (self, other) {
            (LimitDuration::Wall { minutes: a }, LimitDuration::Wall { minutes: b }) => {
                Some(a.cmp(b))
            }
            (LimitDuration::Business { minutes: a }, LimitDuration::Business { minutes: b }) => {
                Some(a.cmp(b))
            }
            (LimitDuration::BusinessDays { days: a }, LimitDuration::BusinessDays { days: b }) => {
                Some(a.cmp(b))
            }
            (LimitDuration::CalendarDays { days: a }, LimitDuration::CalendarDays { days: b }) => {
                Some(a.cmp(b))
            }
            (
                LimitDuration::Anchored {
                    days: da,
                    hour: ha,
                    minute: ma,
                    business: ba,
                },
                LimitDuration::Anchored {
                    days: db,
                    hour: hb,
                    minute: mb,
                    business: bb,
                },
            ) if ba == bb => Some((da, ha, ma).cmp(&(db, hb, mb))),
            _ => None,
        }
    }

    /// True for Business / BusinessDays / Anchored{business:true}: the limit needs a calendar.
    pub fn needs_calendar(&self) -> bool {
        match self {
            LimitDuration::Wall { .. } | LimitDuration::CalendarDays { .. } => false,
            LimitDuration::Business { .. } | LimitDuration::BusinessDays { .. } => true,
            LimitDuration::Anchored { business, .. } => *business,
        }
    }
}

impl FromStr for LimitDuration {
    type Err = LimitDurationError;

    fn from_str(input: &str) -> Result<LimitDuration, LimitDurationError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(LimitDurationError::Empty);
        }
        let lower = trimmed.to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let syntax = || LimitDurationError::Syntax(trimmed.to_string());

        if lower.starts_with('-') {
            return Err(LimitDurationError::NotPositive(trimmed.to_string()));
        }
        match words.as_slice() {
            ["next" | "same" | "in", ..] => parse_anchored(trimmed, &words),
            [count, "business", unit] => {
                let count = parse_count(trimmed, count)?;
                match *unit {
                    "day" | "days" => Ok(LimitDuration::BusinessDays {
                        days: checked_days(trimmed, count)?,
                    }),
                    "hour" | "hours" => Ok(LimitDuration::Business {
                        minutes: checked_minutes(trimmed, count, MINUTES_PER_HOUR)?,
                    }),
                    "minute" | "minutes" | "min" | "mins" => Ok(LimitDuration::Business {
                        minutes: checked_minutes(trimmed, count, 1)?,
                    }),
                    _ => Err(syntax()),
                }
            }
            [count, "calendar", unit] => {
                let count = parse_count(trimmed, count)?;
                let per = match *unit {
                    "day" | "days" => 1,
                    "week" | "weeks" => 7,
                    _ => return Err(syntax()),
                };
                Ok(LimitDuration::CalendarDays {
                    days: checked_days(trimmed, count.saturating_mul(per))?,
                })
            }
            _ => parse_wall(trimmed, &lower),
        }
    }
}

/// A positive decimal count; signs and fractions are syntax errors because
/// limits are whole minutes and the canonical form never contains them.
fn parse_count(input: &str, text: &str) -> Result<u64, LimitDurationError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LimitDurationError::Syntax(input.to_string()));
    }
    let count: u64 = text
        .parse()
        .map_err(|_| LimitDurationError::TooLong(input.to_string()))?;
    if count == 0 {
        return Err(LimitDurationError::NotPositive(input.to_string()));
    }
    Ok(count)
}

fn checked_days(input: &str, count: u64) -> Result<u32, LimitDurationError> {
    if count > u64::from(MAX_DAYS) {
        return Err(LimitDurationError::TooLong(input.to_string()));
    }
    u32::try_from(count).map_err(|_| LimitDurationError::TooLong(input.to_string()))
}

fn checked_minutes(input: &str, count: u64, unit: i64) -> Result<i64, LimitDurationError> {
    i64::try_from(count)
        .ok()
        .and_then(|c| c.checked_mul(unit))
        .filter(|m| *m <= MAX_MINUTES)
        .ok_or_else(|| LimitDurationError::TooLong(input.to_string()))
}

fn parse_anchored(input: &str, words: &[&str]) -> Result<LimitDuration, LimitDurationError> {
    let syntax = || LimitDurationError::Syntax(input.to_string());
    let (time, head) = words.split_last().ok_or_else(syntax)?;
    let (days, business) = match head {
        ["next", "day"] => (1, false),
        ["same", "day"] => (0, false),
        ["next", "business", "day"] => (1, true),
        ["same", "business", "day"] => (0, true),
        ["in", count, "day" | "days"] => (checked_days(input, parse_count(input, count)?)?, false),
        ["in", count, "business", "day" | "days"] => {
            (checked_days(input, parse_count(input, count)?)?, true)
        }
        _ => return Err(syntax()),
    };
    let (hour, minute) = parse_time_of_day(input, time)?;
    Ok(LimitDuration::Anchored {
        days,
        hour,
        minute,
        business,
    })
}

fn parse_time_of_day(input: &str, text: &str) -> Result<(u32, u32), LimitDurationError> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| LimitDurationError::Syntax(input.to_string()))?;
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(LimitDurationError::Syntax(input.to_string()));
    }
    let bad_time = || LimitDurationError::BadTime(text.to_string());
    let hour: u32 = h.parse().map_err(|_| bad_time())?;
    let minute: u32 = m.parse().map_err(|_| bad_time())?;
    if hour > 23 || minute > 59 {
        return Err(bad_time());
    }
    Ok((hour, minute))
}

fn wall_unit(word: &str) -> Option<i64> {
    match word {
        "m" | "min" | "mins" | "minute" | "minutes" => Some(1),
        "h" | "hour" | "hours" => Some(MINUTES_PER_HOUR),
        "d" | "day" | "days" => Some(MINUTES_PER_DAY),
        "w" | "week" | "weeks" => Some(MINUTES_PER_WEEK),
        _ => None,
    }
}

/// Compound wall durations such as `1d12h` or `1 day 12 hours`. Units must
/// strictly decrease so every value has one reading and `30m1h` or `1h1h`
/// (almost certainly typos) are rejected.
fn parse_wall(input: &str, lower: &str) -> Result<LimitDuration, LimitDurationError> {
    let syntax = || LimitDurationError::Syntax(input.to_string());
    let mut rest = lower;
    let mut total: i64 = 0;
    let mut last_unit = i64::MAX;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(syntax());
        }
        let (number, after) = rest.split_at(digits_end);
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (word, after) = after.split_at(unit_end);
        let unit = wall_unit(word).ok_or_else(syntax)?;
        if unit >= last_unit {
            return Err(syntax());
        }
        last_unit = unit;
        // The digits are already validated, so a parse failure can only be overflow.
        let count: u64 = number
            .parse()
            .map_err(|_| LimitDurationError::TooLong(input.to_string()))?;
        let minutes = checked_minutes(input, count, unit)?;
        total = total
            .checked_add(minutes)
            .filter(|t| *t <= MAX_MINUTES)
            .ok_or_else(|| LimitDurationError::TooLong(input.to_string()))?;
        rest = after;
    }
    if last_unit == i64::MAX {
        return Err(syntax());
    }
    if total == 0 {
        return Err(LimitDurationError::NotPositive(input.to_string()));
    }
    Ok(LimitDuration::Wall { minutes: total })
}

impl fmt::Display for LimitDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LimitDuration::Wall { minutes } => {
                if minutes == 0 {
                    return f.write_str("0m");
                }
                if minutes < 0 {
                    f.write_str("-")?;
                }
                let mut left = minutes.unsigned_abs();
                for (size, suffix) in [
                    (MINUTES_PER_WEEK, "w"),
                    (MINUTES_PER_DAY, "d"),
                    (MINUTES_PER_HOUR, "h"),
                    (1, "m"),
                ] {
                    let size = size.unsigned_abs();
                    if left >= size {
                        write!(f, "{}{suffix}", left / size)?;
                        left %= size;
                    }
                }
                Ok(())
            }
            LimitDuration::Business { minutes } => {
                let text = if minutes != 0 && minutes % MINUTES_PER_HOUR == 0 {
                    let hours = minutes / MINUTES_PER_HOUR;
                    if hours == 1 {
                        "1 business hour".to_string()
                    } else {
                        format!("{hours} business hours")
                    }
                } else if minutes == 1 {
                    "1 business minute".to_string()
                } else {
                    format!("{minutes} business minutes")
                };
                f.write_str(&text)
            }
            LimitDuration::CalendarDays { days: 7 } => f.write_str("1 calendar week"),
            LimitDuration::CalendarDays { days } if days % 7 == 0 => {
                write!(f, "{} calendar weeks", days / 7)
            }
            LimitDuration::CalendarDays { days: 1 } => f.write_str("1 calendar day"),
            LimitDuration::CalendarDays { days } => write!(f, "{days} calendar days"),
            LimitDuration::BusinessDays { days: 1 } => f.write_str("1 business day"),
            LimitDuration::BusinessDays { days } => write!(f, "{days} business days"),
            LimitDuration::Anchored {
                days,
                hour,
                minute,
                business,
            } => {
                let kind = if business { "business day" } else { "day" };
                match days {
                    0 => write!(f, "same {kind}")?,
                    1 => write!(f, "next {kind}")?,
                    n => write!(f, "in {n} {kind}s")?,
                }
                write!(f, " {hour:02}:{minute:02}")
            }
        }
    }
}

impl serde::Serialize for LimitDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LimitDuration {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<LimitDuration, D::Error> {
        struct SpanVisitor;

        impl serde::de::Visitor<'_> for SpanVisitor {
            type Value = LimitDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like `2h`, `4 business hours` or `next day 12:00`")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<LimitDuration, E> {
                value.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(SpanVisitor)
    }
}

#[cfg(test)]
mod tests;
