//! A calendar's holiday data: what `[calendar.X]` lists itself and what it
//! includes (`include = ["cn-statutory"]`, shipped with steward, see
//! [`crate::calendar::statutory`]). Resolves includes while the policy is built,
//! merges them into the dates a [`crate::calendar::Calendar`] is built from, and
//! warns when a calendar has no data for a year its deadlines will fall in.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};

use crate::calendar::statutory;
use crate::diagnostic::{Diagnostic, Loc, did_you_mean};

use super::model::{CalendarDef, IncludedHolidays, Policy};
use super::reader::{Ctx, SpanIndex};

/// How far ahead `policy check` looks for years without holiday data: the
/// deadlines of tickets opened in the next 60 days. Next year's schedule is
/// normally published in November, so the warning appears when it can be acted on.
pub const LOOKAHEAD_DAYS: u64 = 60;

/// The shipped data sets named by `include`, in order; unknown or repeated names
/// are errors at their location.
pub fn resolve(names: &[(String, Loc)], ctx: &mut Ctx) -> Vec<IncludedHolidays> {
    let mut out: Vec<IncludedHolidays> = Vec::new();
    for (name, loc) in names {
        if out.iter().any(|i| i.name == *name) {
            ctx.error(*loc, format!("holiday data `{name}` is included twice"));
            continue;
        }
        match statutory::find(name) {
            Ok(Some(data)) => out.push(IncludedHolidays {
                name: name.clone(),
                source: data.title.clone(),
                years: data.years(),
                holidays: data.holiday_texts(),
                makeup_workdays: data.makeup_texts(),
            }),
            Ok(None) => {
                let known = statutory::names();
                let d = Diagnostic::error(*loc, format!("unknown holiday data `{name}`"));
                ctx.push(match did_you_mean(name, known.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("shipped holiday data: {}", known.join(", "))),
                });
            }
            Err(e) => ctx.error(*loc, e),
        }
    }
    out
}

/// An iCalendar feed the calendar names in `ics`: its days become included data
/// named by the path as written; events it cannot use are warnings.
pub fn attach_ics(cal: &mut CalendarDef, path: &str, text: &str, loc: Loc, ctx: &mut Ctx) {
    let feed = match crate::calendar::ics::parse(text) {
        Ok(f) => f,
        Err(e) => {
            ctx.error(loc, format!("holiday feed `{path}`: {e}"));
            return;
        }
    };
    for why in &feed.skipped {
        ctx.push(
            Diagnostic::warning(loc, format!("holiday feed `{path}`: skipped {why}")).with_help(
                "only whole-day, non-repeating events are read; list other days in `holidays`",
            ),
        );
    }
    let texts = |v: &[NaiveDate]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    let years: BTreeSet<i32> = feed.holidays.iter().map(|d| d.year()).collect();
    cal.include.push(IncludedHolidays {
        name: path.to_string(),
        source: feed
            .name
            .unwrap_or_else(|| format!("iCalendar feed {path}")),
        years: years.into_iter().collect(),
        holidays: texts(&feed.holidays),
        makeup_workdays: texts(&feed.makeup_workdays),
    });
}

impl CalendarDef {
    /// The holidays and make-up workdays in force: the included data with the
    /// calendar's own lists laid over it (an own make-up workday cancels an
    /// included holiday on that date and vice versa).
    pub fn effective(&self) -> (Vec<String>, Vec<String>) {
        if self.include.is_empty() {
            return (self.holidays.clone(), self.makeup_workdays.clone());
        }
        let own_holidays = dates(&self.holidays);
        let own_makeup = dates(&self.makeup_workdays);
        let mut holidays = self.holidays.clone();
        let mut makeup = self.makeup_workdays.clone();
        for inc in &self.include {
            let h = dates(&inc.holidays);
            holidays.extend(h.difference(&own_makeup).map(|d| d.to_string()));
            let m = dates(&inc.makeup_workdays);
            makeup.extend(m.difference(&own_holidays).map(|d| d.to_string()));
        }
        holidays.sort();
        holidays.dedup();
        makeup.sort();
        makeup.dedup();
        (holidays, makeup)
    }

    /// The years the calendar has holiday data for: each included data set's
    /// years and every year its own holidays touch.
    pub fn declared_years(&self) -> BTreeSet<i32> {
        let mut years = statutory::years_of(&self.holidays);
        for inc in &self.include {
            years.extend(&inc.years);
        }
        years
    }
}

fn dates(texts: &[String]) -> BTreeSet<NaiveDate> {
    texts
        .iter()
        .filter_map(|t| statutory::expand(t))
        .flatten()
        .collect()
}

/// One warning per calendar that business-time limits count in and per year
/// from `today` to [`LOOKAHEAD_DAYS`] later that it has no holiday data for.
pub fn coverage_warnings(p: &Policy, spans: &SpanIndex, today: NaiveDate) -> Vec<Diagnostic> {
    let used: BTreeSet<&String> = p
        .limits
        .values()
        .filter(|l| l.needs_calendar())
        .filter_map(|l| l.calendar.as_ref().or(p.calendar.as_ref()))
        .collect();
    let until = today
        .checked_add_days(Days::new(LOOKAHEAD_DAYS))
        .unwrap_or(today);
    let mut out = Vec::new();
    for id in used {
        let Some(def) = p.calendars.get(id) else {
            continue;
        };
        let declared = def.declared_years();
        for year in today.year()..=until.year() {
            if declared.contains(&year) {
                continue;
            }
            let first = NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap_or(today)
                .max(today);
            let help = match def.include.iter().find(|i| !i.years.is_empty()) {
                Some(inc) => format!(
                    "`{}` covers {}; list the {year} schedule in `holidays` and `makeup_workdays` once it is published",
                    inc.name,
                    year_span(&inc.years)
                ),
                None => "include shipped data (`include = [\"cn-statutory\"]`) or list the year's `holidays` and `makeup_workdays`".to_string(),
            };
            out.push(
                Diagnostic::warning(
                    spans.get(&format!("calendar.{id}")),
                    format!(
                        "calendar `{id}` declares nothing for {year}: business-time limits treat {year} holidays as working days (deadlines from {first} on)"
                    ),
                )
                .with_help(help),
            );
        }
    }
    out
}

fn year_span(years: &[i32]) -> String {
    match (years.iter().min(), years.iter().max()) {
        (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Loc {
        Loc::new(crate::diagnostic::FileId(0), 0..0)
    }

    fn def(holidays: &[&str], makeup: &[&str], include: bool) -> CalendarDef {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        let mut ctx = Ctx {
            hints: Vec::new(),
            diags: Vec::new(),
            spans: SpanIndex::default(),
        };
        let include = if include {
            resolve(&[("cn-statutory".into(), here())], &mut ctx)
        } else {
            Vec::new()
        };
        assert!(ctx.diags.is_empty());
        CalendarDef {
            workdays: s(&["mon", "tue", "wed", "thu", "fri"]),
            hours: s(&["09:00-18:00"]),
            holidays: s(holidays),
            makeup_workdays: s(makeup),
            include,
            business_days: Default::default(),
        }
    }

    #[test]
    fn own_lists_win_over_included_data() {
        // The estate works 2026-10-07 (an included holiday) and closes 2026-10-10
        // (an included make-up workday).
        let (h, m) = def(&["2026-10-10"], &["2026-10-07"], true).effective();
        assert!(h.contains(&"2026-10-10".to_string()));
        assert!(!h.contains(&"2026-10-07".to_string()));
        assert!(m.contains(&"2026-10-07".to_string()));
        assert!(!m.contains(&"2026-10-10".to_string()));
        assert!(h.contains(&"2026-02-17".to_string()));
        // Without includes the lists are used as written.
        let (h, _) = def(&["2026-10-01..2026-10-07"], &[], false).effective();
        assert_eq!(h, ["2026-10-01..2026-10-07"]);
    }

    #[test]
    fn declared_years_come_from_includes_and_own_holidays() {
        let d = def(&["2027-02-05..2027-02-11"], &[], true);
        assert_eq!(d.declared_years(), (2020..=2027).collect::<BTreeSet<_>>());
        assert!(def(&[], &[], false).declared_years().is_empty());
    }

    #[test]
    fn unknown_and_repeated_includes_are_errors() {
        let mut ctx = Ctx {
            hints: Vec::new(),
            diags: Vec::new(),
            spans: SpanIndex::default(),
        };
        let names = [
            ("cn-statuary".to_string(), here()),
            ("cn-statutory".to_string(), here()),
            ("cn-statutory".to_string(), here()),
            ("us-federal".to_string(), here()),
        ];
        assert_eq!(resolve(&names, &mut ctx).len(), 1);
        let text: Vec<_> = ctx
            .diags
            .iter()
            .map(|d| format!("{} / {}", d.message, d.help.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            text,
            [
                "unknown holiday data `cn-statuary` / did you mean `cn-statutory`?",
                "holiday data `cn-statutory` is included twice / ",
                "unknown holiday data `us-federal` / shipped holiday data: cn-statutory",
            ]
        );
    }
}
