//! Virtual times of scenario files: offsets from the scenario's start (`+0m`, `+5h`,
//! `+2d1h`, `+1w2d`) or absolute RFC 3339 instants. The virtual clock is just these
//! instants handed to the engine; nothing here reads the system clock.

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Why a time text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "expected an offset like `+0m`, `+5h`, `+2d1h` or an RFC 3339 time like `2026-07-01T09:00:00+08:00`, found `{0}`"
    )]
    Syntax(String),
    #[error("offset `{0}` is too large")]
    TooLarge(String),
}

/// Parse an RFC 3339 instant, truncated to whole seconds like every CLI time.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, TimeError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(0))
        .map_err(|_| TimeError::Syntax(text.to_string()))
}

/// Minutes of an offset `+2d1h30m` (units `w`, `d`, `h`, `m`, in any order, each
/// at most once is not required: `+1h1h` is two hours).
pub fn parse_offset(text: &str) -> Result<i64, TimeError> {
    let syntax = || TimeError::Syntax(text.to_string());
    let body = text.trim().strip_prefix('+').ok_or_else(syntax)?;
    if body.is_empty() {
        return Err(syntax());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 24 * 60,
            'd' => 24 * 60,
            'h' => 60,
            'm' => 1,
            _ => return Err(syntax()),
        };
        if digits.is_empty() {
            return Err(syntax());
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| TimeError::TooLarge(text.to_string()))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|m| total.checked_add(m))
            .filter(|m| *m <= 10 * 366 * 24 * 60)
            .ok_or_else(|| TimeError::TooLarge(text.to_string()))?;
    }
    if !digits.is_empty() {
        return Err(syntax());
    }
    Ok(total)
}

/// An offset from `start` or an absolute instant.
pub fn resolve(text: &str, start: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    if text.trim_start().starts_with('+') {
        Ok(start + Duration::minutes(parse_offset(text)?))
    } else {
        parse_instant(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_add_their_units() {
        assert_eq!(parse_offset("+0m"), Ok(0));
        assert_eq!(parse_offset("+5h"), Ok(300));
        assert_eq!(parse_offset("+2d1h"), Ok(2 * 1440 + 60));
        assert_eq!(parse_offset("+1w"), Ok(7 * 1440));
        assert_eq!(parse_offset("+1h30m"), Ok(90));
    }

    #[test]
    fn bad_offsets_are_errors_not_panics() {
        for bad in [
            "",
            "+",
            "5h",
            "+h",
            "+5",
            "+5x",
            "+-1h",
            "+99999999999999999999d",
        ] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn absolute_and_relative_times_resolve() {
        let start = parse_instant("2026-07-01T09:00:00+08:00").unwrap();
        assert_eq!(
            resolve("+1h", start).unwrap(),
            parse_instant("2026-07-01T10:00:00+08:00").unwrap()
        );
        assert_eq!(
            resolve("2026-07-02T09:00:00+08:00", start).unwrap(),
            start + Duration::days(1)
        );
    }
}
