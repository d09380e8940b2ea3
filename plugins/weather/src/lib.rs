//! Weather event source, a steward plug-in (ABI 1, hook `events`).
//!
//! Input: hourly observations as CSV, `estate,hour,rainfall_mm`, one row per estate
//! and hour (local time, `2026-11-20T14:00`); a header row, blank lines and `#`
//! comments are skipped. Output: one event per row whose rainfall is at least the
//! policy's threshold, e.g. `event=rain\testate=gardens\thour=2026-11-20T14:00`.
//! Leak repairs waiting for "the next rain" (V4) are due after such an event.
//!
//! ```toml
//! [plugin.config]
//! threshold_mm = 5      # at least this much rain in the hour (up to 3 decimals)
//! event = "rain"        # optional: the event's name
//! ```
#![cfg_attr(target_arch = "wasm32", no_std)]

use steward_guest::{parse_milli, Fail, Writer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings<'a> {
    /// Thousandths of a millimetre.
    pub threshold: u64,
    pub event: &'a str,
}

impl<'a> Settings<'a> {
    pub fn parse(config: &'a str) -> Result<Settings<'a>, Fail> {
        let mut threshold = None;
        let mut event = "rain";
        for (n, line) in config.lines().enumerate() {
            let at = |msg| Fail::at(n as u32 + 1, msg);
            if line.is_empty() {
                continue;
            }
            match line.split_once('=') {
                Some(("threshold_mm", v)) => {
                    threshold = Some(parse_milli(v).ok_or(at(
                        "`threshold_mm` must be a non-negative number with at most 3 decimals",
                    ))?)
                }
                Some(("event", v)) => {
                    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                        return Err(at("`event` must be lowercase letters and `_`"));
                    }
                    event = v;
                }
                _ => return Err(at("unknown config key: expected threshold_mm or event")),
            }
        }
        match threshold {
            Some(threshold) => Ok(Settings { threshold, event }),
            None => Err(Fail::new("config needs `threshold_mm`")),
        }
    }

    pub fn events(&self, csv: &str, out: &mut Writer<'_>) -> Result<(), Fail> {
        for (n, raw) in csv.lines().enumerate() {
            let at = |msg| Fail::at(n as u32 + 1, msg);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cols = line.split(',').map(str::trim);
            let (estate, hour, rain) = match (cols.next(), cols.next(), cols.next(), cols.next()) {
                (Some(e), Some(h), Some(r), None) => (e, h, r),
                _ => return Err(at("expected 3 columns: estate,hour,rainfall_mm")),
            };
            if estate == "estate" && hour == "hour" {
                continue;
            }
            if estate.is_empty() || estate.contains('\t') {
                return Err(at("empty estate"));
            }
            if !is_hour(hour) {
                return Err(at("hour must be like 2026-11-20T14:00"));
            }
            let mm = parse_milli(rain).ok_or(at("rainfall_mm must be a non-negative number"))?;
            if mm >= self.threshold {
                out.field(true, "event", self.event);
                out.field(false, "estate", estate);
                out.field(false, "hour", hour);
                out.push("\n");
            }
        }
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM`, by shape; the host checks it is a real time.
fn is_hour(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use steward_guest::{Fail, Global, Writer};

    use super::Settings;

    static SETTINGS: Global<Option<Settings<'static>>> = Global::new(None);

    fn config(text: &'static str) -> Result<(), Fail> {
        let s = Settings::parse(text)?;
        // SAFETY: exports run one at a time; no other reference is alive.
        unsafe { *SETTINGS.get() = Some(s) };
        Ok(())
    }

    fn events(input: &str, out: &mut Writer<'_>) -> Result<(), Fail> {
        // SAFETY: as in `config`.
        match unsafe { *SETTINGS.get() } {
            Some(s) => s.events(input, out),
            None => Err(Fail::new("not configured")),
        }
    }

    steward_guest::plugin! {
        config = config,
        steward_events = events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &str, csv: &str) -> Result<std::string::String, Fail> {
        let s = Settings::parse(config)?;
        let mut buf = [0u8; 1024];
        let mut w = Writer::new(&mut buf);
        s.events(csv, &mut w)?;
        Ok(w.as_str().to_string())
    }

    #[test]
    fn rows_at_or_above_threshold_become_events() {
        let csv = "estate,hour,rainfall_mm\n# comment\ngardens,2026-11-20T14:00,5\nriverside,2026-11-20T14:00,4.999\n\ngardens,2026-11-20T15:00,12.5\n";
        assert_eq!(
            run("threshold_mm=5\n", csv).unwrap(),
            "event=rain\testate=gardens\thour=2026-11-20T14:00\nevent=rain\testate=gardens\thour=2026-11-20T15:00\n"
        );
        assert_eq!(
            run("event=storm\nthreshold_mm=12\n", csv)
                .unwrap()
                .matches("event=storm")
                .count(),
            1
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = run(
            "threshold_mm=5\n",
            "estate,hour,rainfall_mm\ngardens,14h,3\n",
        )
        .err();
        assert_eq!(e.map(|e| e.line), Some(2));
        assert!(run("threshold_mm=5\n", "gardens,2026-11-20T14:00,-1\n").is_err());
        assert!(run("threshold_mm=5\n", "gardens,2026-11-20T14:00\n").is_err());
        assert!(run("threshold=5\n", "").is_err());
        assert!(run("", "").is_err());
    }
}
