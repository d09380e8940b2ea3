//! How times are kept in the database: RFC 3339 UTC to the second, with a
//! four-digit year, so that comparing the text compares the times and SQL
//! range queries on it (due timers) are correct.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

use super::StoreError;

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// The stored text of `at`; sub-second precision is dropped.
pub(super) fn format(at: DateTime<Utc>) -> Result<String, StoreError> {
    if !(0..=9999).contains(&at.year()) {
        return Err(StoreError::TimeOutOfRange { at });
    }
    // Digits pushed by hand: a format string costs more than the SQL insert
    // around it, and `audit verify` formats a time per event.
    let mut out = String::with_capacity(20);
    let mut push = |n: u32, width: usize, sep: Option<char>| {
        let mut digits = [b'0'; 4];
        let mut n = n;
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        digits[..width]
            .iter()
            .for_each(|&d| out.push(char::from(d)));
        if let Some(c) = sep {
            out.push(c);
        }
    };
    push(at.year() as u32, 4, Some('-'));
    push(at.month(), 2, Some('-'));
    push(at.day(), 2, Some('T'));
    push(at.hour(), 2, Some(':'));
    push(at.minute(), 2, Some(':'));
    push(at.second(), 2, Some('Z'));
    Ok(out)
}

/// `at` as it will read back from the database.
pub(super) fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(0).unwrap_or(at)
}

pub(super) fn parse(text: &str, path: &str, column: &str) -> Result<DateTime<Utc>, StoreError> {
    // Every stored time has exactly this shape; reading the digits directly is
    // several times faster than a format string, which matters when a report
    // streams millions of events. Anything else takes the general path.
    if let Some(t) = parse_fixed(text.as_bytes()) {
        return Ok(t);
    }
    NaiveDateTime::parse_from_str(text, FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| StoreError::Corrupt {
            path: path.to_owned(),
            detail: format!("{column} holds `{text}`, which is not a time"),
        })
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, or `None`.
fn parse_fixed(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(
        date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?
            .and_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_general_parsing_agree() {
        for text in [
            "2026-07-06T01:02:03Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let general = NaiveDateTime::parse_from_str(text, FORMAT)
                .unwrap()
                .and_utc();
            assert_eq!(parse_fixed(text.as_bytes()), Some(general), "{text}");
            assert_eq!(format(general).unwrap(), text);
        }
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-07-06T24:00:00Z",
            "2026-07-06 01:02:03Z",
            "2026-07-0xT01:02:03Z",
        ] {
            assert_eq!(parse_fixed(bad.as_bytes()), None, "{bad}");
            assert!(parse(bad, "db", "events.at").is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hand_written_format_matches_the_format_string() {
        for (y, mo, d, h, mi, se) in [
            (2026, 7, 1, 9, 5, 3),
            (1, 1, 1, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59),
        ] {
            let at = Utc.with_ymd_and_hms(y, mo, d, h, mi, se).unwrap();
            assert_eq!(format(at).unwrap(), at.format(FORMAT).to_string());
            assert_eq!(parse(&format(at).unwrap(), "p", "c").unwrap(), at);
        }
    }
}
