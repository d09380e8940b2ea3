//! Checks on a `[calendar.X]` table that need the whole list at once: overlapping
//! holiday ranges and days that are both a holiday and a make-up workday. Per-value
//! format errors come from [`crate::calendar::Calendar::new`].

use chrono::NaiveDate;

use crate::calendar::CalendarError;
use crate::diagnostic::{Diagnostic, Loc};

use super::reader::{Ctx, Reader};

/// The lists of a `[calendar.X]` table, each item with its location.
pub struct Lists {
    pub workdays: Vec<(String, Loc)>,
    pub hours: Vec<(String, Loc)>,
    pub holidays: Vec<(String, Loc)>,
    pub makeup_workdays: Vec<(String, Loc)>,
}

pub fn check(r: &Reader, lists: &Lists, ctx: &mut Ctx) {
    let reported = ctx.diags.len();
    let (holidays, makeup) = (&lists.holidays, &lists.makeup_workdays);
    let mut ranges: Vec<(NaiveDate, NaiveDate, String, Loc)> = Vec::new();
    for (text, loc) in holidays {
        let Some((a, b)) = parse_range(text) else {
            ctx.push(
                Diagnostic::error(*loc, format!("bad holiday `{text}`")).with_help(
                    "expected a date `2026-10-01` or an inclusive range `2026-10-01..2026-10-07`",
                ),
            );
            continue;
        };
        if b < a {
            ctx.error(
                *loc,
                format!("holiday range `{text}` ends before it starts"),
            );
            continue;
        }
        if let Some((_, _, other, _)) = ranges.iter().find(|(x, y, _, _)| a <= *y && *x <= b) {
            ctx.push(
                Diagnostic::error(*loc, format!("holiday `{text}` overlaps holiday `{other}`"))
                    .with_help("list each day once; merge the two ranges"),
            );
        }
        ranges.push((a, b, text.clone(), *loc));
    }
    for (text, loc) in makeup {
        let Some(day) = crate::calendar::parse_date(text) else {
            ctx.push(
                Diagnostic::error(*loc, format!("bad make-up workday `{text}`"))
                    .with_help("expected a date like `2026-09-27`"),
            );
            continue;
        };
        if let Some((_, _, h, _)) = ranges.iter().find(|(a, b, _, _)| *a <= day && day <= *b) {
            ctx.error(
                *loc,
                format!("`{text}` is both a make-up workday and inside holiday `{h}`"),
            );
        }
    }
    let tz = chrono_tz::UTC;
    let workdays: Vec<&str> = lists.workdays.iter().map(|v| v.0.as_str()).collect();
    let hours: Vec<&str> = lists.hours.iter().map(|v| v.0.as_str()).collect();
    // Holidays and make-up days were checked above with exact locations. The
    // constructor `policy apply` uses then checks everything once more (weekday
    // names, hour windows, and the lists when nothing was reported above), so a
    // policy that passes here builds there; the error points at the item it names.
    let clean = ctx.diags.len() == reported;
    let texts = |l: &[(String, Loc)]| -> Vec<String> { l.iter().map(|v| v.0.clone()).collect() };
    let (hol, mk) = if clean {
        (texts(holidays), texts(makeup))
    } else {
        (Vec::new(), Vec::new())
    };
    let hol: Vec<&str> = hol.iter().map(String::as_str).collect();
    let mk: Vec<&str> = mk.iter().map(String::as_str).collect();
    if let Err(err) = crate::calendar::Calendar::new(tz, &workdays, &hours, &hol, &mk) {
        let find = |list: &[(String, Loc)], text: &str| {
            list.iter().rev().find(|v| v.0 == text).map(|v| v.1)
        };
        let at = match &err {
            CalendarError::UnknownWorkday(t) | CalendarError::DuplicateWorkday(t) => {
                find(&lists.workdays, t)
            }
            CalendarError::BadHours(t)
            | CalendarError::EmptyHours(t)
            | CalendarError::OverlappingHours(_, t) => find(&lists.hours, t),
            CalendarError::BadHoliday(t)
            | CalendarError::ReversedHolidayRange(t)
            | CalendarError::HolidayRangeTooLong(t) => find(&lists.holidays, t),
            CalendarError::BadMakeupWorkday(t) => find(&lists.makeup_workdays, t),
            _ => None,
        };
        ctx.error(at.unwrap_or(r.loc), format!("{}: {err}", r.what));
    }
}

fn parse_range(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let day = crate::calendar::parse_date;
    match text.split_once("..") {
        Some((a, b)) => Some((day(a)?, day(b)?)),
        None => day(text).map(|d| (d, d)),
    }
}
