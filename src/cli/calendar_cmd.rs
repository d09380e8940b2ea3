//! `steward calendar show|list`: a policy's business calendars, or the shipped
//! holiday data, printed so an operator can check them against the published
//! schedule before a deadline depends on them.

use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::calendar::{Calendar, grid, statutory};
use crate::diagnostic::did_you_mean;
use crate::policy::model::{CalendarDef, IncludedHolidays};

use super::args::{CalendarCmd, Format, Global};
use super::{EXIT_INPUT, EXIT_OK, context, load, output};

pub fn run(cmd: CalendarCmd, g: &Global) -> i32 {
    match cmd {
        CalendarCmd::Show {
            name, year, policy, ..
        } => show(&name, year, policy.as_deref(), g),
        CalendarCmd::List { policy, .. } => list(policy.as_deref(), g),
    }
}

/// A calendar to print: where it comes from, the built calendar and its definition.
struct Shown {
    title: String,
    tz: String,
    cal: Calendar,
    def: CalendarDef,
}

fn find(name: &str, policy: Option<&Path>, g: &Global) -> Result<Shown, i32> {
    match policy {
        Some(path) => {
            let Some(loaded) = load::policy(path, g.format) else {
                return Err(EXIT_INPUT);
            };
            let p = loaded.policy;
            let Some(def) = p.calendars.get(name) else {
                let known: Vec<&str> = p.calendars.keys().map(String::as_str).collect();
                let hint = match did_you_mean(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if known.is_empty() => "it declares no calendar".to_string(),
                    None => format!("its calendars: {}", known.join(", ")),
                };
                return Err(context::fail(format!(
                    "policy `{}` has no calendar `{name}`; {hint}",
                    p.id
                )));
            };
            let tz: chrono_tz::Tz = p.timezone.parse().map_err(|_| EXIT_INPUT)?;
            let cal = build(tz, def).map_err(context::fail)?;
            Ok(Shown {
                title: format!(
                    "calendar `{name}` of policy `{}` ({})",
                    p.id,
                    path.display()
                ),
                tz: p.timezone.clone(),
                cal,
                def: def.clone(),
            })
        }
        None => {
            let data = match statutory::find(name) {
                Ok(Some(d)) => d,
                Ok(None) => {
                    let known = statutory::names();
                    let hint = match did_you_mean(name, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "shipped: {}; a policy's calendar needs --policy",
                            known.join(", ")
                        ),
                    };
                    return Err(context::fail(format!("no holiday data `{name}`; {hint}")));
                }
                Err(e) => return Err(context::fail(e)),
            };
            let tz: chrono_tz::Tz = data.timezone.parse().map_err(|_| EXIT_INPUT)?;
            let def = CalendarDef {
                workdays: ["mon", "tue", "wed", "thu", "fri"]
                    .map(String::from)
                    .to_vec(),
                hours: vec!["09:00-18:00".into()],
                holidays: Vec::new(),
                makeup_workdays: Vec::new(),
                include: vec![IncludedHolidays {
                    name: data.name.clone(),
                    source: data.title.clone(),
                    years: data.years(),
                    holidays: data.holiday_texts(),
                    makeup_workdays: data.makeup_texts(),
                }],
                business_days: Default::default(),
            };
            let cal = build(tz, &def).map_err(context::fail)?;
            Ok(Shown {
                title: format!("holiday data `{name}` on a Monday-to-Friday week"),
                tz: data.timezone.clone(),
                cal,
                def,
            })
        }
    }
}

fn build(tz: chrono_tz::Tz, def: &CalendarDef) -> Result<Calendar, String> {
    let (holidays, makeup) = def.effective();
    fn s(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    Calendar::new(
        tz,
        &s(&def.workdays),
        &s(&def.hours),
        &s(&holidays),
        &s(&makeup),
    )
    .map(|c| c.with_business_days(def.business_days))
    .map_err(|e| e.to_string())
}

/// The name of the holiday a date belongs to, from the shipped data it includes.
fn holiday_name(def: &CalendarDef, day: NaiveDate) -> String {
    def.include
        .iter()
        .filter_map(|i| statutory::find(&i.name).ok().flatten())
        .find_map(|d| d.holiday_name(day).map(str::to_string))
        .unwrap_or_default()
}

/// Runs of consecutive days with the same mark (`*` or `+`) in `year`.
fn runs(s: &Shown, year: i32) -> Vec<(char, NaiveDate, NaiveDate)> {
    let mut out: Vec<(char, NaiveDate, NaiveDate)> = Vec::new();
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return out;
    };
    for day in first.iter_days().take_while(|d| d.year() == year) {
        let mark = grid::mark(&s.cal, day);
        if mark != '*' && mark != '+' {
            continue;
        }
        match out.last_mut() {
            Some((m, _, end)) if *m == mark && end.succ_opt() == Some(day) => *end = day,
            _ => out.push((mark, day, day)),
        }
    }
    out
}

fn show(name: &str, year: i32, policy: Option<&Path>, g: &Global) -> i32 {
    let s = match find(name, policy, g) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(text) = grid::year(&s.cal, year) else {
        return context::fail(format!("year `{year}` is out of range"));
    };
    let declared = s.def.declared_years().contains(&year);
    let runs = runs(&s, year);
    let working = NaiveDate::from_ymd_opt(year, 1, 1)
        .map(|f| {
            f.iter_days()
                .take_while(|d| d.year() == year)
                .filter(|d| s.cal.is_working_day(*d))
                .count()
        })
        .unwrap_or(0);
    if g.format == Format::Json {
        let days: Vec<_> = runs
            .iter()
            .map(|(m, a, b)| {
                serde_json::json!({
                    "kind": if *m == '*' { "holiday" } else { "makeup_workday" },
                    "from": a.to_string(),
                    "to": b.to_string(),
                    "name": holiday_name(&s.def, *a),
                })
            })
            .collect();
        output::json(&serde_json::json!({
            "calendar": name,
            "year": year,
            "timezone": s.tz,
            "declared": declared,
            "working_days": working,
            "days": days,
        }));
        return EXIT_OK;
    }
    println!("{}, {year} ({})", s.title, s.tz);
    let week: Vec<&str> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .into_iter()
        .zip(s.cal.workdays())
        .filter_map(|(d, on)| on.then_some(d))
        .collect();
    println!(
        "workdays {}; hours {}",
        week.join(" "),
        s.cal.hours_text().join(", ")
    );
    for inc in &s.def.include {
        println!("holiday data: {} ({})", inc.name, inc.source);
        if let Some(n) = notice(&inc.name, year) {
            println!("  {year}: {}", n.title);
            if let Some(a) = &n.amended_by {
                println!("  {year}: amended by {a}");
            }
        }
    }
    println!();
    print!("{text}");
    println!();
    if !declared {
        eprintln!(
            "warning: `{name}` declares nothing for {year}: business-time limits treat {year} holidays as working days"
        );
    }
    for (mark, a, b) in &runs {
        let days = if a == b {
            a.to_string()
        } else {
            format!("{a}..{b}")
        };
        let what = if *mark == '*' {
            "holiday"
        } else {
            "make-up workday"
        };
        println!("{days:<24}{what:<17}{}", holiday_name(&s.def, *a));
    }
    println!("{working} working days in {year}");
    EXIT_OK
}

/// The official notice an included data set took `year` from, to name it.
fn notice(data: &str, year: i32) -> Option<&'static crate::calendar::statutory::Notice> {
    let data = crate::calendar::statutory::find(data).ok()??;
    data.notices.iter().find(|n| n.year == year)
}

fn list(policy: Option<&Path>, g: &Global) -> i32 {
    let mut rows = Vec::new();
    match policy {
        Some(path) => {
            let Some(loaded) = load::policy(path, g.format) else {
                return EXIT_INPUT;
            };
            for (id, def) in &loaded.policy.calendars {
                let years: Vec<i32> = def.declared_years().into_iter().collect();
                let include: Vec<&str> = def.include.iter().map(|i| i.name.as_str()).collect();
                rows.push(vec![
                    id.clone(),
                    years_text(&years),
                    include.join(", "),
                    def.workdays.join(" "),
                    def.hours.join(", "),
                ]);
            }
            if g.format == Format::Json {
                return json_rows(
                    &["calendar", "years", "include", "workdays", "hours"],
                    &rows,
                );
            }
            print!(
                "{}",
                output::table(
                    &["CALENDAR", "YEARS", "INCLUDE", "WORKDAYS", "HOURS"],
                    &rows
                )
            );
        }
        None => {
            for name in statutory::names() {
                match statutory::find(name) {
                    Ok(Some(d)) => rows.push(vec![
                        d.name.clone(),
                        years_text(&d.years()),
                        d.timezone.clone(),
                        d.title.clone(),
                    ]),
                    Ok(None) => {}
                    Err(e) => return context::fail(e),
                }
            }
            if g.format == Format::Json {
                return json_rows(&["name", "years", "timezone", "title"], &rows);
            }
            print!(
                "{}",
                output::table(&["NAME", "YEARS", "TIMEZONE", "TITLE"], &rows)
            );
        }
    }
    EXIT_OK
}

fn json_rows(keys: &[&str], rows: &[Vec<String>]) -> i32 {
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::Value::Object(
                keys.iter()
                    .zip(r)
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect();
    output::json(&serde_json::Value::Array(items));
    EXIT_OK
}

/// `2020-2026`, or the years one by one when there are gaps.
fn years_text(years: &[i32]) -> String {
    let contiguous = years.windows(2).all(|w| w[1] == w[0] + 1);
    match (years.first(), years.last()) {
        (Some(a), Some(b)) if contiguous && a != b => format!("{a}-{b}"),
        _ => years
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    }
}
