//! A year of a [`Calendar`] as month grids, three months across, for an operator
//! to eyeball holidays and make-up workdays (`steward calendar show`). Each day
//! is its number followed by a mark: `*` holiday, `+` make-up workday, `.` a
//! workday that is not worked (a weekday off by the calendar's week, or a
//! weekend); nothing for an ordinary working day.

use chrono::{Datelike, NaiveDate};

use super::Calendar;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The mark of one day.
pub fn mark(cal: &Calendar, day: NaiveDate) -> char {
    if cal.is_makeup_workday(day) {
        '+'
    } else if cal.is_holiday(day) {
        '*'
    } else if !cal.is_working_day(day) {
        '.'
    } else {
        ' '
    }
}

/// The twelve months of `year`, three across; `None` for a year chrono cannot hold.
pub fn year(cal: &Calendar, year: i32) -> Option<String> {
    let months: Vec<Vec<String>> = (1..=12)
        .map(|m| month(cal, year, m))
        .collect::<Option<_>>()?;
    let mut out = String::new();
    for row in months.chunks(3) {
        let height = row.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..height {
            let line: Vec<String> = row
                .iter()
                .map(|m| format!("{:<28}", m.get(i).map(String::as_str).unwrap_or("")))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("* holiday   + make-up workday   . not a working day\n");
    Some(out)
}

/// One month: a title, the weekday header and up to six weeks of 4-wide cells.
fn month(cal: &Calendar, year: i32, m: u32) -> Option<Vec<String>> {
    let first = NaiveDate::from_ymd_opt(year, m, 1)?;
    let title = format!("{} {year}", MONTHS[m as usize - 1]);
    let mut lines = vec![
        format!("{title:^28}").trim_end().to_string(),
        " Mo  Tu  We  Th  Fr  Sa  Su".to_string(),
    ];
    let mut line = "    ".repeat(first.weekday().num_days_from_monday() as usize);
    for day in first.iter_days().take_while(|d| d.month() == m) {
        line.push_str(&format!(" {:>2}{}", day.day(), mark(cal, day)));
        if day.weekday() == chrono::Weekday::Sun {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
        }
    }
    if !line.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office_2026() -> Calendar {
        Calendar::new(
            chrono_tz::Asia::Shanghai,
            &["mon", "tue", "wed", "thu", "fri"],
            &["09:00-18:00"],
            &["2026-09-25..2026-09-27", "2026-10-01..2026-10-07"],
            &["2026-09-20", "2026-10-10"],
        )
        .unwrap()
    }

    #[test]
    fn september_and_october_2026_show_holidays_and_makeup_days() {
        let text = year(&office_2026(), 2026).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The third row of months is July, August, September.
        let sept: Vec<String> = lines
            .iter()
            .skip_while(|l| !l.contains("September 2026"))
            .take(7)
            .map(|l| l.chars().skip(60).collect::<String>())
            .collect();
        assert_eq!(
            sept,
            [
                "       September 2026",
                " Mo  Tu  We  Th  Fr  Sa  Su",
                "      1   2   3   4   5.  6.",
                "  7   8   9  10  11  12. 13.",
                " 14  15  16  17  18  19. 20+",
                " 21  22  23  24  25* 26* 27*",
                " 28  29  30",
            ]
        );
        let oct = lines
            .iter()
            .position(|l| l.starts_with("        October 2026"))
            .unwrap();
        assert!(lines[oct + 2].starts_with("              1*  2*  3*  4*   "));
        assert!(lines[oct + 3].starts_with("  5*  6*  7*  8   9  10+ 11.  "));
        assert!(text.ends_with("* holiday   + make-up workday   . not a working day\n"));
    }

    #[test]
    fn every_month_is_drawn() {
        let text = year(&Calendar::always(chrono_tz::UTC), 2028).unwrap();
        for m in MONTHS {
            assert!(text.contains(&format!("{m} 2028")), "{m}");
        }
        // 2028 is a leap year; February ends on Tuesday the 29th.
        let feb = month(&Calendar::always(chrono_tz::UTC), 2028, 2).unwrap();
        assert_eq!(feb.last().unwrap(), " 28  29");
        assert!(year(&Calendar::always(chrono_tz::UTC), 300_000).is_none());
    }
}
