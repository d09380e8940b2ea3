//! Calendar values as sets, so the diff compares what a calendar means rather than
//! how it is written: `2026-10-01..2026-10-07` against `2026-10-01..2026-10-08` is one
//! holiday added (`2026-10-08`), and office hours are compared minute by minute.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

/// The dates of a holiday or make-up list (`YYYY-MM-DD` or `A..B`, inclusive);
/// `None` when an entry cannot be read, and the caller compares the texts instead.
pub(super) fn expand(entries: &[String]) -> Option<BTreeSet<NaiveDate>> {
    let mut out = BTreeSet::new();
    for entry in entries {
        match entry.trim().split_once("..") {
            Some((a, b)) => {
                let a = date(a)?;
                let b = date(b)?;
                // A policy that loaded has ranges under a year; the bound only keeps a
                // hand-built model from making this loop long.
                if b < a || (b - a).num_days() > 366 {
                    return None;
                }
                out.extend(a.iter_days().take_while(|d| *d <= b));
            }
            None => {
                out.insert(date(entry)?);
            }
        }
    }
    Some(out)
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Consecutive dates grouped into inclusive runs.
pub(super) fn runs<'a>(
    dates: impl IntoIterator<Item = &'a NaiveDate>,
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &d in dates {
        match out.last_mut() {
            Some(last) if last.1.succ_opt() == Some(d) => last.1 = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// `2026-10-08` or `2026-10-01..2026-10-07`, as policy files write them.
pub(super) fn run_text((a, b): (NaiveDate, NaiveDate)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}..{b}")
    }
}

/// Is any date of the run on one of the weekdays (`mon`..`sun`)?
pub(super) fn touches_weekdays((a, b): (NaiveDate, NaiveDate), workdays: &[String]) -> bool {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    a.iter_days().take_while(|d| *d <= b).take(7).any(|d| {
        workdays
            .iter()
            .any(|w| w == NAMES[d.weekday().num_days_from_monday() as usize])
    })
}

/// The minutes of a day inside office hours (`09:00-12:00`, `13:30-18:00`);
/// `None` when an entry cannot be read.
pub(super) fn minutes(hours: &[String]) -> Option<Vec<bool>> {
    let mut day = vec![false; 24 * 60];
    for range in hours {
        let (a, b) = range.split_once('-')?;
        let (a, b) = (clock(a)?, clock(b)?);
        if b <= a {
            return None;
        }
        day[a..b].iter_mut().for_each(|m| *m = true);
    }
    Some(day)
}

fn clock(text: &str) -> Option<usize> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (usize, usize) = (h.parse().ok()?, m.parse().ok()?);
    (h * 60 + m <= 24 * 60 && m < 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn ranges_expand_and_regroup() {
        let d = expand(&s(&["2026-10-01..2026-10-03", "2026-10-05"])).unwrap();
        assert_eq!(d.len(), 4);
        let texts: Vec<_> = runs(&d).into_iter().map(run_text).collect();
        assert_eq!(texts, ["2026-10-01..2026-10-03", "2026-10-05"]);
        assert!(expand(&s(&["2026-13-01"])).is_none());
    }

    #[test]
    fn hours_become_minutes() {
        let m = minutes(&s(&["09:00-12:00", "13:30-24:00"])).unwrap();
        assert_eq!(m.iter().filter(|x| **x).count(), 180 + 630);
        assert!(minutes(&s(&["12:00-09:00"])).is_none());
    }

    #[test]
    fn weekend_runs_do_not_touch_workdays() {
        // 2026-10-10 is a Saturday, 2026-10-12 a Monday.
        let sat = date("2026-10-10").unwrap();
        let mon = date("2026-10-12").unwrap();
        let week = s(&["mon", "tue", "wed", "thu", "fri"]);
        assert!(!touches_weekdays((sat, sat), &week));
        assert!(touches_weekdays((sat, mon), &week));
    }
}
