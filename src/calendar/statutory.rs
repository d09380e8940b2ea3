//! Holiday data shipped with steward, which a policy's calendar includes by name
//! (`include = ["cn-statutory"]`). Each data set is a TOML file under `data/`,
//! compiled into the binary, transcribed from the official notices and checked
//! day by day against an independent reference in the tests below. The loader
//! copies the dates into the policy, so a policy applied once keeps its dates
//! even when a later steward ships newer data (the fingerprint changes instead).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// The data files, by name; the name is what `include` says.
const FILES: &[(&str, &str)] = &[("cn-statutory", include_str!("data/cn-statutory.toml"))];

/// One shipped data set: the notices of one authority, one per year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayData {
    pub name: String,
    pub title: String,
    /// The zone the dates are local to; informational (dates are local dates).
    pub timezone: String,
    #[serde(rename = "notice")]
    pub notices: Vec<Notice>,
}

/// One year's official schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub year: i32,
    pub title: String,
    #[serde(default)]
    pub amended_by: Option<String>,
    #[serde(rename = "holiday")]
    pub holidays: Vec<Holiday>,
}

/// One holiday of a notice: its days off and the weekend days worked instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    /// `YYYY-MM-DD` or an inclusive range `YYYY-MM-DD..YYYY-MM-DD`.
    pub days: String,
    #[serde(default)]
    pub workdays: Vec<String>,
}

fn all() -> &'static Result<Vec<HolidayData>, String> {
    static DATA: OnceLock<Result<Vec<HolidayData>, String>> = OnceLock::new();
    DATA.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| {
                let data: HolidayData =
                    toml::from_str(text).map_err(|e| format!("holiday data `{name}`: {e}"))?;
                if data.name != *name {
                    return Err(format!(
                        "holiday data `{name}` calls itself `{}`",
                        data.name
                    ));
                }
                Ok(data)
            })
            .collect()
    })
}

/// The names of the shipped data sets.
pub fn names() -> Vec<&'static str> {
    FILES.iter().map(|(name, _)| *name).collect()
}

/// The shipped data set called `name`; `Ok(None)` when there is none.
pub fn find(name: &str) -> Result<Option<&'static HolidayData>, String> {
    match all() {
        Ok(sets) => Ok(sets.iter().find(|d| d.name == name)),
        Err(e) => Err(e.clone()),
    }
}

impl HolidayData {
    /// The years with an official schedule in the data.
    pub fn years(&self) -> Vec<i32> {
        self.notices.iter().map(|n| n.year).collect()
    }

    /// Every holiday as written (`A` or `A..B`), in notice order.
    pub fn holiday_texts(&self) -> Vec<String> {
        self.notices
            .iter()
            .flat_map(|n| n.holidays.iter().map(|h| h.days.clone()))
            .collect()
    }

    /// Every make-up workday, in notice order.
    pub fn makeup_texts(&self) -> Vec<String> {
        self.notices
            .iter()
            .flat_map(|n| n.holidays.iter().flat_map(|h| h.workdays.clone()))
            .collect()
    }

    /// Every holiday date, expanded; `None` if a text is not a date or range.
    #[cfg(test)]
    pub fn holiday_dates(&self) -> Option<BTreeSet<NaiveDate>> {
        let mut out = BTreeSet::new();
        for text in self.holiday_texts() {
            out.extend(expand(&text)?);
        }
        Some(out)
    }

    /// Every make-up workday; `None` if a text is not a date.
    #[cfg(test)]
    pub fn makeup_dates(&self) -> Option<BTreeSet<NaiveDate>> {
        self.makeup_texts().iter().map(|t| date(t)).collect()
    }

    /// The name of the holiday `day` belongs to, or the holiday a make-up
    /// workday `day` was moved for.
    pub fn holiday_name(&self, day: NaiveDate) -> Option<&str> {
        self.notices
            .iter()
            .flat_map(|n| &n.holidays)
            .find(|h| {
                expand(&h.days).is_some_and(|d| d.contains(&day))
                    || h.workdays.iter().any(|w| date(w) == Some(day))
            })
            .map(|h| h.name.as_str())
    }
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The dates of `A` or the inclusive range `A..B` (at most a year long).
pub fn expand(text: &str) -> Option<Vec<NaiveDate>> {
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (date(a)?, date(b)?),
        None => (date(text)?, date(text)?),
    };
    if b < a || (b - a).num_days() >= super::MAX_HOLIDAY_RANGE_DAYS {
        return None;
    }
    Some(a.iter_days().take_while(|d| *d <= b).collect())
}

/// The years a set of holiday texts touches (for coverage checks).
pub fn years_of(texts: &[String]) -> BTreeSet<i32> {
    texts
        .iter()
        .filter_map(|t| expand(t))
        .flatten()
        .map(|d| d.year())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;
    use std::collections::BTreeMap;

    /// The independent reference: what the `chinese-calendar` package (PyPI)
    /// records for 2020-2026, written by tests/fixtures/chinese-calendar/generate.py.
    #[derive(Deserialize)]
    struct Reference {
        source: String,
        first: NaiveDate,
        last: NaiveDate,
        holidays: BTreeMap<NaiveDate, String>,
        makeup_workdays: BTreeMap<NaiveDate, String>,
    }

    fn reference() -> Reference {
        let text =
            include_str!("../../tests/fixtures/chinese-calendar/chinese-calendar-1.11.0.json");
        serde_json::from_str(text).unwrap()
    }

    fn cn() -> &'static HolidayData {
        find("cn-statutory").unwrap().unwrap()
    }

    fn weekend(d: NaiveDate) -> bool {
        matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    #[test]
    fn every_shipped_file_parses() {
        for name in names() {
            let data = find(name).unwrap().unwrap();
            assert!(data.holiday_dates().is_some(), "{name}: bad holiday text");
            assert!(data.makeup_dates().is_some(), "{name}: bad make-up text");
        }
        assert!(find("cn-statuary").unwrap().is_none());
    }

    #[test]
    fn cn_statutory_covers_2020_to_2026_one_notice_a_year() {
        assert_eq!(cn().years(), (2020..=2026).collect::<Vec<_>>());
        for n in &cn().notices {
            assert_eq!(
                n.title,
                format!("国务院办公厅关于{}年部分节假日安排的通知", n.year)
            );
        }
    }

    /// The check that matters for deadlines: for every day of 2020-2026, the
    /// shipped data and the reference agree on whether it is a working day
    /// (Monday to Friday unless a holiday, Saturday and Sunday unless a make-up
    /// workday).
    #[test]
    fn cn_statutory_agrees_with_chinese_calendar_on_every_working_day() {
        let r = reference();
        assert!(r.source.starts_with("chinese-calendar 1.11.0"));
        let holidays = cn().holiday_dates().unwrap();
        let makeup = cn().makeup_dates().unwrap();
        let working =
            |d: NaiveDate, h: &dyn Fn(&NaiveDate) -> bool, m: &dyn Fn(&NaiveDate) -> bool| {
                m(&d) || (!h(&d) && !weekend(d))
            };
        let mut days = 0;
        for d in r.first.iter_days().take_while(|d| *d <= r.last) {
            let ours = working(d, &|x| holidays.contains(x), &|x| makeup.contains(x));
            let theirs = working(d, &|x| r.holidays.contains_key(x), &|x| {
                r.makeup_workdays.contains_key(x)
            });
            assert_eq!(
                ours, theirs,
                "{d}: shipped data and chinese-calendar disagree"
            );
            days += 1;
        }
        assert_eq!(days, 2557);
    }

    /// Holidays and make-up days as sets: the make-up workdays are exactly the
    /// reference's, and the holidays too, except weekend days the reference adds
    /// to a block the notice gives as one day "with the weekend" (与周末连休).
    #[test]
    fn cn_statutory_holiday_and_makeup_sets_match_the_reference() {
        let r = reference();
        let in_range = |d: &NaiveDate| r.first <= *d && *d <= r.last;
        let ours: BTreeSet<_> = cn()
            .holiday_dates()
            .unwrap()
            .into_iter()
            .filter(in_range)
            .collect();
        let theirs: BTreeSet<_> = r.holidays.keys().copied().collect();
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        let only_theirs: Vec<_> = theirs.difference(&ours).copied().collect();
        assert!(
            only_ours.is_empty(),
            "holidays only in the shipped data: {only_ours:?}"
        );
        assert!(only_theirs.iter().all(|d| weekend(*d)));
        assert_eq!(
            only_theirs,
            [
                NaiveDate::from_ymd_opt(2023, 12, 30).unwrap(),
                NaiveDate::from_ymd_opt(2023, 12, 31).unwrap()
            ]
        );
        let makeup = cn().makeup_dates().unwrap();
        let theirs: BTreeSet<_> = r.makeup_workdays.keys().copied().collect();
        assert_eq!(makeup, theirs);
        // Every make-up workday is a weekend day, or it would change nothing.
        assert!(makeup.iter().all(|d| weekend(*d)));
    }

    /// The days the issue found wrong in the old hand-written 2026 calendar.
    #[test]
    fn cn_statutory_2026_pins_the_official_schedule() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let holidays = cn().holiday_dates().unwrap();
        let makeup = cn().makeup_dates().unwrap();
        assert!(holidays.contains(&d(9, 27)) && !makeup.contains(&d(9, 27)));
        for (m, day) in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)] {
            assert!(makeup.contains(&d(m, day)), "2026-{m:02}-{day:02}");
        }
        assert_eq!(makeup.iter().filter(|x| x.year() == 2026).count(), 6);
        assert_eq!(holidays.iter().filter(|x| x.year() == 2026).count(), 33);
        assert_eq!(cn().holiday_name(d(9, 20)), Some("国庆节"));
        assert_eq!(cn().holiday_name(d(2, 17)), Some("春节"));
        assert_eq!(cn().holiday_name(d(3, 2)), None);
    }

    #[test]
    fn expand_reads_days_and_ranges() {
        assert_eq!(expand("2026-01-01..2026-01-03").unwrap().len(), 3);
        assert_eq!(expand("2026-01-01").unwrap().len(), 1);
        assert!(expand("2026-01-03..2026-01-01").is_none());
        assert!(expand("2026-13-01").is_none());
        assert_eq!(
            years_of(&["2022-12-31..2023-01-02".into()]),
            BTreeSet::from([2022, 2023])
        );
    }
}
