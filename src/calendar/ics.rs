//! Holiday feeds in iCalendar form (RFC 5545, `.ics`), the way help desks such as
//! Zammad take public holidays: every all-day event is a day off. Chinese feeds
//! also carry the make-up workdays as events; an event whose summary says
//! `补班` or `上班` (worked) is read as a make-up workday instead. Parsing is
//! the `icalendar` crate's; this module only decides what an event means.

use chrono::{Days, NaiveDate};
use icalendar::{Component, DatePerhapsTime};

/// What a feed says, as dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// `X-WR-CALNAME` when the feed has one.
    pub name: Option<String>,
    pub holidays: Vec<NaiveDate>,
    pub makeup_workdays: Vec<NaiveDate>,
    /// Events that were not taken, each with why (timed, recurring, cancelled).
    pub skipped: Vec<String>,
}

/// Summaries that mark a worked weekend day rather than a day off.
const WORKED: [&str; 2] = ["补班", "上班"];

/// Reads a feed; an unreadable file or an event without a usable date is an error.
pub fn parse(text: &str) -> Result<Feed, String> {
    let cal: icalendar::Calendar = text
        .parse()
        .map_err(|e: String| format!("not an iCalendar file: {}", first_line(&e)))?;
    let mut feed = Feed {
        name: cal.get_name().map(str::to_string),
        holidays: Vec::new(),
        makeup_workdays: Vec::new(),
        skipped: Vec::new(),
    };
    for event in cal.components.iter().filter_map(|c| c.as_event()) {
        let summary = event.get_summary().unwrap_or("").to_string();
        let label = if summary.is_empty() {
            event
                .get_uid()
                .unwrap_or("an event without a summary")
                .to_string()
        } else {
            summary.clone()
        };
        if event.property_value("RRULE").is_some() {
            feed.skipped
                .push(format!("`{label}` repeats (RRULE), which is not expanded"));
            continue;
        }
        if event
            .property_value("STATUS")
            .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"))
        {
            feed.skipped.push(format!("`{label}` is cancelled"));
            continue;
        }
        let start = match event.get_start() {
            Some(DatePerhapsTime::Date(d)) => d,
            Some(DatePerhapsTime::DateTime(_)) => {
                feed.skipped
                    .push(format!("`{label}` has a time of day, not whole days"));
                continue;
            }
            None => return Err(format!("event `{label}` has no DTSTART")),
        };
        // DTEND of an all-day event is exclusive; without one the event is one day.
        let end = match event.get_end() {
            Some(DatePerhapsTime::Date(d)) => d,
            Some(DatePerhapsTime::DateTime(_)) => {
                return Err(format!(
                    "event `{label}` starts on a date but ends at a time"
                ));
            }
            None => start.checked_add_days(Days::new(1)).unwrap_or(start),
        };
        if end <= start {
            return Err(format!("event `{label}` ends before it starts"));
        }
        if (end - start).num_days() > super::MAX_HOLIDAY_RANGE_DAYS {
            return Err(format!("event `{label}` is longer than 366 days"));
        }
        let days = start.iter_days().take_while(|d| *d < end);
        if WORKED.iter().any(|w| summary.contains(w)) {
            feed.makeup_workdays.extend(days);
        } else {
            feed.holidays.extend(days);
        }
    }
    feed.holidays.sort();
    feed.holidays.dedup();
    feed.makeup_workdays.sort();
    feed.makeup_workdays.dedup();
    if let Some(d) = feed
        .holidays
        .iter()
        .find(|d| feed.makeup_workdays.binary_search(d).is_ok())
    {
        return Err(format!(
            "{d} is both a day off and a make-up workday in the feed"
        ));
    }
    Ok(feed)
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const FEED: &str = include_str!("../../tests/fixtures/ics/cn-national-day-2026.ics");

    #[test]
    fn all_day_events_are_days_off_and_worked_ones_make_up_days() {
        let feed = parse(FEED).unwrap();
        assert_eq!(feed.name.as_deref(), Some("中国节假日 2026 国庆"));
        assert_eq!(
            feed.holidays,
            (1..=7)
                .map(|d| date(&format!("2026-10-0{d}")))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            feed.makeup_workdays,
            [date("2026-09-20"), date("2026-10-10")]
        );
        assert_eq!(
            feed.skipped,
            [
                "`物业开放日` has a time of day, not whole days",
                "`元旦` repeats (RRULE), which is not expanded",
                "`停水检修(已取消)` is cancelled",
            ]
        );
    }

    #[test]
    fn an_event_without_dtend_is_one_day() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:中秋节\r\nDTSTART;VALUE=DATE:20260925\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let feed = parse(text).unwrap();
        assert_eq!(feed.holidays, [date("2026-09-25")]);
        assert_eq!(feed.name, None);
    }

    #[test]
    fn bad_feeds_are_errors() {
        let event = |body: &str| {
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:x\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
            )
        };
        assert_eq!(parse(&event("")).unwrap_err(), "event `x` has no DTSTART");
        assert_eq!(
            parse(&event(
                "DTSTART;VALUE=DATE:20261002\r\nDTEND;VALUE=DATE:20261001\r\n"
            ))
            .unwrap_err(),
            "event `x` ends before it starts"
        );
        assert_eq!(
            parse(&event(
                "DTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20280101\r\n"
            ))
            .unwrap_err(),
            "event `x` is longer than 366 days"
        );
        assert!(
            parse("this is not a calendar")
                .unwrap_err()
                .starts_with("not an iCalendar file")
        );
        let both = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:国庆节\r\nDTSTART;VALUE=DATE:20261001\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\nSUMMARY:补班\r\nDTSTART;VALUE=DATE:20261001\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            parse(both).unwrap_err(),
            "2026-10-01 is both a day off and a make-up workday in the feed"
        );
    }
}
