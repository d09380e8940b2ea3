//! Register times as people write them: ISO 8601, `2026/7/6 9:00`,
//! `2026年7月6日 9时`, Excel serial dates, or a strftime pattern; read in the
//! mapping's time zone unless the text carries its own offset. A date without a
//! time of day is refused rather than guessed: a limit counted from midnight
//! would report breaches that never happened.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::source::Cell;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateStyle {
    /// `2026-07-06T09:00:00+08:00`, `2026-07-06 09:00`, `2026-07-06T09:00:30`
    Iso,
    /// `2026/7/6 9:00`, `2026/07/06 09:00:30`
    Slash,
    /// `2026年7月6日 9时`, `2026年7月6日 9时30分`, `2026年7月6日 9:30`, `9点`
    Cjk,
    /// Excel serial days since 1899-12-30 (`46209.375`), as a number cell or text
    Excel,
    /// A chrono strftime pattern, e.g. `%d.%m.%Y %H:%M`
    Pattern(String),
}

impl DateStyle {
    pub const DEFAULTS: [DateStyle; 4] = [
        DateStyle::Iso,
        DateStyle::Slash,
        DateStyle::Cjk,
        DateStyle::Excel,
    ];

    pub fn parse(text: &str) -> Result<DateStyle, String> {
        Ok(match text.trim() {
            "iso" => DateStyle::Iso,
            "slash" => DateStyle::Slash,
            "cjk" => DateStyle::Cjk,
            "excel" => DateStyle::Excel,
            p if p.contains('%') => {
                if StrftimeItems::new(p).any(|i| matches!(i, Item::Error)) {
                    return Err(format!("`{p}` is not a valid strftime pattern"));
                }
                DateStyle::Pattern(p.to_string())
            }
            other => {
                return Err(format!(
                    "unknown date format `{other}`: expected iso, slash, cjk, excel or a strftime pattern with `%`"
                ));
            }
        })
    }

    fn name(&self) -> String {
        match self {
            DateStyle::Iso => "ISO (2026-07-06 09:00)".into(),
            DateStyle::Slash => "2026/7/6 9:00".into(),
            DateStyle::Cjk => "2026年7月6日 9时".into(),
            DateStyle::Excel => "an Excel serial date".into(),
            DateStyle::Pattern(p) => format!("`{p}`"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DateReader {
    pub styles: Vec<DateStyle>,
    pub tz: Tz,
}

impl DateReader {
    /// The instant a cell names; the message says what was expected.
    pub fn read(&self, cell: &Cell) -> Result<DateTime<Utc>, String> {
        match cell {
            Cell::Empty => Err("empty".into()),
            Cell::Serial(days) | Cell::Number(days) => {
                if matches!(cell, Cell::Number(_)) && !self.styles.contains(&DateStyle::Excel) {
                    return Err(format!(
                        "the number {days} is not a time (add \"excel\" to date_formats to read serial dates)"
                    ));
                }
                self.local(excel_serial(*days)?)
            }
            Cell::Text(text) => self.text(text.trim()),
        }
    }

    fn text(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let mut date_only = false;
        for style in &self.styles {
            let got = match style {
                DateStyle::Iso => {
                    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
                        return Ok(t.with_timezone(&Utc));
                    }
                    iso(text)
                }
                DateStyle::Slash => numbered(text, Shape::Slash),
                DateStyle::Cjk => numbered(text, Shape::Cjk),
                DateStyle::Excel => match text.parse::<f64>() {
                    Ok(days) if text.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                        return self.local(excel_serial(days)?);
                    }
                    _ => Parsed::No,
                },
                DateStyle::Pattern(p) => match NaiveDateTime::parse_from_str(text, p) {
                    Ok(t) => Parsed::At(t),
                    Err(_) => Parsed::No,
                },
            };
            match got {
                Parsed::At(t) => return self.local(t),
                Parsed::Invalid(m) => return Err(m),
                Parsed::DateOnly => date_only = true,
                Parsed::No => {}
            }
        }
        if date_only {
            return Err(format!(
                "`{text}` is a date without a time of day; the register must record when"
            ));
        }
        let names: Vec<String> = self.styles.iter().map(DateStyle::name).collect();
        Err(format!(
            "`{text}` is not a time; expected {}",
            names.join(", ")
        ))
    }

    fn local(&self, t: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        self.tz
            .from_local_datetime(&t)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("{t} does not exist in {} (a clock change)", self.tz))
    }
}

enum Parsed {
    At(NaiveDateTime),
    /// The shape matched but the numbers are no date or time.
    Invalid(String),
    DateOnly,
    No,
}

/// Excel's day count: serial 1 is 1900-01-01 and Excel counts a 29 February 1900
/// that never was, so from 1900-03-01 (serial 61) day N is 1899-12-30 + N.
pub fn excel_serial(days: f64) -> Result<NaiveDateTime, String> {
    if !days.is_finite() || !(61.0..2_958_466.0).contains(&days) {
        return Err(format!(
            "{days} is outside Excel's serial dates from 1900-03-01 to 9999-12-31"
        ));
    }
    let seconds = (days * 86_400.0).round() as i64;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or("no epoch")?;
    Ok(epoch + Duration::seconds(seconds))
}

fn iso(text: &str) -> Parsed {
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return Parsed::At(t);
        }
    }
    if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        return Parsed::DateOnly;
    }
    Parsed::No
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Slash,
    Cjk,
}

/// `Y/M/D H:MM[:SS]` or `Y年M月D日 H时[MM分[SS秒]]` (also `H:MM`, `H点`), with
/// one- or two-digit months, days and hours.
fn numbered(text: &str, shape: Shape) -> Parsed {
    let mut s = Scan { rest: text };
    let date_seps: [&[&str]; 3] = match shape {
        Shape::Slash => [&["/"], &["/"], &[""]],
        Shape::Cjk => [&["年"], &["月"], &["日", "号"]],
    };
    let mut ymd = [0u32; 3];
    for (i, seps) in date_seps.iter().enumerate() {
        let Some(n) = s.number(if i == 0 { 4 } else { 2 }) else {
            return Parsed::No;
        };
        ymd[i] = n;
        if !seps.iter().any(|sep| s.eat(sep)) {
            return Parsed::No;
        }
    }
    let Some(date) = NaiveDate::from_ymd_opt(ymd[0] as i32, ymd[1], ymd[2]) else {
        return Parsed::Invalid(format!("`{text}` names no calendar date"));
    };
    s.skip_spaces();
    if s.rest.is_empty() {
        return Parsed::DateOnly;
    }
    let Some(h) = s.number(2) else {
        return Parsed::No;
    };
    let (mut m, mut sec) = (0, 0);
    if s.eat(":") {
        let Some(n) = s.number(2) else {
            return Parsed::No;
        };
        m = n;
        if s.eat(":") {
            let Some(n) = s.number(2) else {
                return Parsed::No;
            };
            sec = n;
        }
    } else if shape == Shape::Cjk && (s.eat("时") || s.eat("点")) {
        if let Some(n) = s.number(2) {
            m = n;
            if !s.eat("分") {
                return Parsed::No;
            }
            if let Some(n) = s.number(2) {
                sec = n;
                if !s.eat("秒") {
                    return Parsed::No;
                }
            }
        } else {
            let _ = s.eat("整");
        }
    } else {
        return Parsed::No;
    }
    s.skip_spaces();
    if !s.rest.is_empty() {
        return Parsed::No;
    }
    match NaiveTime::from_hms_opt(h, m, sec) {
        Some(t) => Parsed::At(date.and_time(t)),
        None => Parsed::Invalid(format!("`{text}` names no time of day")),
    }
}

struct Scan<'a> {
    rest: &'a str,
}

impl Scan<'_> {
    fn number(&mut self, max_digits: usize) -> Option<u32> {
        let n = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > max_digits {
            return None;
        }
        let (digits, rest) = self.rest.split_at(n);
        self.rest = rest;
        digits.parse().ok()
    }

    fn eat(&mut self, s: &str) -> bool {
        match self.rest.strip_prefix(s) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> DateReader {
        DateReader {
            styles: DateStyle::DEFAULTS.to_vec(),
            tz: chrono_tz::Asia::Shanghai,
        }
    }

    fn at(text: &str) -> Result<String, String> {
        reader()
            .read(&Cell::Text(text.into()))
            .map(|t| t.to_rfc3339())
    }

    const NINE: &str = "2026-07-06T01:00:00+00:00";

    #[test]
    fn every_style_names_the_same_instant() {
        for text in [
            "2026-07-06T09:00:00+08:00",
            "2026-07-06 09:00",
            "2026-07-06T09:00:00",
            "2026/7/6 9:00",
            "2026/07/06 09:00:00",
            "2026年7月6日 9时",
            "2026年7月6日9时00分",
            "2026年7月6日 9:00",
            "2026年07月06号 9点",
            "46209.375",
        ] {
            assert_eq!(at(text).as_deref(), Ok(NINE), "{text}");
        }
        assert_eq!(
            reader()
                .read(&Cell::Serial(46209.375))
                .unwrap()
                .to_rfc3339(),
            NINE
        );
        assert_eq!(
            at("2026年7月6日 9时30分15秒").unwrap(),
            "2026-07-06T01:30:15+00:00"
        );
    }

    #[test]
    fn excel_serials_follow_excel_from_march_1900() {
        // Serial 61 is 1900-03-01 in Excel; 45658 is 2025-01-01.
        assert_eq!(
            excel_serial(61.0).unwrap().to_string(),
            "1900-03-01 00:00:00"
        );
        assert_eq!(
            excel_serial(45658.0).unwrap().to_string(),
            "2025-01-01 00:00:00"
        );
        assert!(excel_serial(60.0).is_err());
        assert!(excel_serial(f64::NAN).is_err());
    }

    #[test]
    fn bad_times_say_why() {
        assert!(
            at("2026/2/30 9:00")
                .unwrap_err()
                .contains("no calendar date")
        );
        assert!(at("2026/7/6 25:00").unwrap_err().contains("no time of day"));
        assert!(
            at("2026/7/6")
                .unwrap_err()
                .contains("without a time of day")
        );
        assert!(
            at("2026年7月6日")
                .unwrap_err()
                .contains("without a time of day")
        );
        let e = at("next tuesday").unwrap_err();
        assert!(
            e.contains("2026/7/6 9:00") && e.contains("2026年7月6日 9时"),
            "{e}"
        );
        let only_cjk = DateReader {
            styles: vec![DateStyle::Cjk],
            tz: chrono_tz::Asia::Shanghai,
        };
        assert!(only_cjk.read(&Cell::Number(46209.0)).is_err());
        assert!(only_cjk.read(&Cell::Serial(46209.0)).is_ok());
    }

    #[test]
    fn patterns_and_zones() {
        let r = DateReader {
            styles: vec![DateStyle::parse("%d.%m.%Y %H:%M").unwrap()],
            tz: chrono_tz::Europe::Berlin,
        };
        assert_eq!(
            r.read(&Cell::Text("06.07.2026 09:00".into()))
                .unwrap()
                .to_rfc3339(),
            "2026-07-06T07:00:00+00:00"
        );
        // 02:30 on the last Sunday of March does not exist in Berlin.
        assert!(
            r.read(&Cell::Text("29.03.2026 02:30".into()))
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(DateStyle::parse("%Q").is_err());
        assert!(DateStyle::parse("roman").is_err());
    }
}
