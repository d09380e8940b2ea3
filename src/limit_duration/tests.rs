use super::*;
use proptest::prelude::*;

fn parse(s: &str) -> LimitDuration {
    s.parse().unwrap()
}

fn err(s: &str) -> String {
    s.parse::<LimitDuration>().unwrap_err().to_string()
}

#[test]
fn parses_wall_units_and_compounds() {
    let cases = [
        ("30m", 30),
        ("2h", 120),
        ("24h", 1440),
        ("3d", 4320),
        ("1w", 10080),
        ("1h30m", 90),
        ("1d12h", 2160),
        ("1h 30m", 90),
        ("30 minutes", 30),
        ("1 minute", 1),
        ("45 min", 45),
        ("45 mins", 45),
        ("24 hours", 1440),
        ("1 hour", 60),
        ("3 days", 4320),
        ("1 day", 1440),
        ("1 week", 10080),
        ("2 weeks", 20160),
        ("  2H  ", 120),
        ("1D12H", 2160),
        ("0h30m", 30),
        ("366d", 527_040),
        ("52w2d", 527_040),
    ];
    for (text, minutes) in cases {
        assert_eq!(parse(text), LimitDuration::Wall { minutes }, "{text}");
    }
}

#[test]
fn parses_business_and_anchored_forms() {
    let cases = [
        ("4 business hours", LimitDuration::Business { minutes: 240 }),
        ("1 business hour", LimitDuration::Business { minutes: 60 }),
        (
            "30 business minutes",
            LimitDuration::Business { minutes: 30 },
        ),
        ("30 Business Mins", LimitDuration::Business { minutes: 30 }),
        ("2 business days", LimitDuration::BusinessDays { days: 2 }),
        ("1 business day", LimitDuration::BusinessDays { days: 1 }),
        ("3 calendar days", LimitDuration::CalendarDays { days: 3 }),
        ("1 Calendar Day", LimitDuration::CalendarDays { days: 1 }),
        ("2 calendar weeks", LimitDuration::CalendarDays { days: 14 }),
        (
            "next day 12:00",
            LimitDuration::Anchored {
                days: 1,
                hour: 12,
                minute: 0,
                business: false,
            },
        ),
        (
            "same day 18:00",
            LimitDuration::Anchored {
                days: 0,
                hour: 18,
                minute: 0,
                business: false,
            },
        ),
        (
            "in 2 days 09:00",
            LimitDuration::Anchored {
                days: 2,
                hour: 9,
                minute: 0,
                business: false,
            },
        ),
        (
            "in 1 day 9:05",
            LimitDuration::Anchored {
                days: 1,
                hour: 9,
                minute: 5,
                business: false,
            },
        ),
        (
            "Next Business Day 12:00",
            LimitDuration::Anchored {
                days: 1,
                hour: 12,
                minute: 0,
                business: true,
            },
        ),
        (
            "same business day 17:30",
            LimitDuration::Anchored {
                days: 0,
                hour: 17,
                minute: 30,
                business: true,
            },
        ),
        (
            "in 3 business days 23:59",
            LimitDuration::Anchored {
                days: 3,
                hour: 23,
                minute: 59,
                business: true,
            },
        ),
    ];
    for (text, span) in cases {
        assert_eq!(parse(text), span, "{text}");
    }
}

#[test]
fn rejects_bad_input_with_messages() {
    let expected = "expected a duration like `30m`, `2h`, `3d`, `1w`, `3 calendar days`, `4 business hours` or `next day 12:00`";
    let cases = [
        ("", format!("{expected}, found an empty value")),
        ("   ", format!("{expected}, found an empty value")),
        ("3x", format!("{expected}, found `3x`")),
        ("h", format!("{expected}, found `h`")),
        ("2", format!("{expected}, found `2`")),
        ("1.5h", format!("{expected}, found `1.5h`")),
        ("30m1h", format!("{expected}, found `30m1h`")),
        ("1h1h", format!("{expected}, found `1h1h`")),
        (
            "4 business weeks",
            format!("{expected}, found `4 business weeks`"),
        ),
        (
            "business hours",
            format!("{expected}, found `business hours`"),
        ),
        (
            "next week 12:00",
            format!("{expected}, found `next week 12:00`"),
        ),
        ("next day", format!("{expected}, found `next day`")),
        (
            "3 calendar hours",
            format!("{expected}, found `3 calendar hours`"),
        ),
        (
            "367 calendar days",
            "expected a duration of at most 366 days, found `367 calendar days`".to_string(),
        ),
        (
            "53 calendar weeks",
            "expected a duration of at most 366 days, found `53 calendar weeks`".to_string(),
        ),
        (
            "next day 1200",
            format!("{expected}, found `next day 1200`"),
        ),
        (
            "next day 12:0",
            format!("{expected}, found `next day 12:0`"),
        ),
        (
            "in two days 09:00",
            format!("{expected}, found `in two days 09:00`"),
        ),
        (
            "0m",
            "expected a duration longer than zero, found `0m`".to_string(),
        ),
        (
            "0h0m",
            "expected a duration longer than zero, found `0h0m`".to_string(),
        ),
        (
            "-2h",
            "expected a duration longer than zero, found `-2h`".to_string(),
        ),
        (
            "0 business hours",
            "expected a duration longer than zero, found `0 business hours`".to_string(),
        ),
        (
            "0 business days",
            "expected a duration longer than zero, found `0 business days`".to_string(),
        ),
        (
            "in 0 days 09:00",
            "expected a duration longer than zero, found `in 0 days 09:00`".to_string(),
        ),
        (
            "367d",
            "expected a duration of at most 366 days, found `367d`".to_string(),
        ),
        (
            "366d1m",
            "expected a duration of at most 366 days, found `366d1m`".to_string(),
        ),
        (
            "53w",
            "expected a duration of at most 366 days, found `53w`".to_string(),
        ),
        (
            "99999999999999999999m",
            "expected a duration of at most 366 days, found `99999999999999999999m`".to_string(),
        ),
        (
            "9223372036854775807w",
            "expected a duration of at most 366 days, found `9223372036854775807w`".to_string(),
        ),
        (
            "8785 business hours",
            "expected a duration of at most 366 days, found `8785 business hours`".to_string(),
        ),
        (
            "367 business days",
            "expected a duration of at most 366 days, found `367 business days`".to_string(),
        ),
        (
            "in 367 days 09:00",
            "expected a duration of at most 366 days, found `in 367 days 09:00`".to_string(),
        ),
        (
            "next day 24:00",
            "expected a time of day from `00:00` to `23:59`, found `24:00`".to_string(),
        ),
        (
            "same day 12:60",
            "expected a time of day from `00:00` to `23:59`, found `12:60`".to_string(),
        ),
    ];
    for (text, message) in cases {
        assert_eq!(err(text), message, "input {text:?}");
    }
}

#[test]
fn display_is_canonical_and_round_trips() {
    let cases = [
        (LimitDuration::Wall { minutes: 30 }, "30m"),
        (LimitDuration::Wall { minutes: 90 }, "1h30m"),
        (LimitDuration::Wall { minutes: 120 }, "2h"),
        (LimitDuration::Wall { minutes: 1440 }, "1d"),
        (LimitDuration::Wall { minutes: 2160 }, "1d12h"),
        (LimitDuration::Wall { minutes: 4320 }, "3d"),
        (LimitDuration::Wall { minutes: 10080 }, "1w"),
        (LimitDuration::Wall { minutes: 11581 }, "1w1d1h1m"),
        (LimitDuration::Wall { minutes: 527_040 }, "52w2d"),
        (LimitDuration::Business { minutes: 240 }, "4 business hours"),
        (LimitDuration::Business { minutes: 60 }, "1 business hour"),
        (
            LimitDuration::Business { minutes: 90 },
            "90 business minutes",
        ),
        (LimitDuration::Business { minutes: 1 }, "1 business minute"),
        (LimitDuration::BusinessDays { days: 2 }, "2 business days"),
        (LimitDuration::BusinessDays { days: 1 }, "1 business day"),
        (LimitDuration::CalendarDays { days: 1 }, "1 calendar day"),
        (LimitDuration::CalendarDays { days: 3 }, "3 calendar days"),
        (LimitDuration::CalendarDays { days: 7 }, "1 calendar week"),
        (LimitDuration::CalendarDays { days: 14 }, "2 calendar weeks"),
        (LimitDuration::CalendarDays { days: 15 }, "15 calendar days"),
        (
            LimitDuration::Anchored {
                days: 1,
                hour: 12,
                minute: 0,
                business: false,
            },
            "next day 12:00",
        ),
        (
            LimitDuration::Anchored {
                days: 0,
                hour: 18,
                minute: 0,
                business: false,
            },
            "same day 18:00",
        ),
        (
            LimitDuration::Anchored {
                days: 2,
                hour: 9,
                minute: 0,
                business: false,
            },
            "in 2 days 09:00",
        ),
        (
            LimitDuration::Anchored {
                days: 1,
                hour: 12,
                minute: 0,
                business: true,
            },
            "next business day 12:00",
        ),
        (
            LimitDuration::Anchored {
                days: 0,
                hour: 8,
                minute: 5,
                business: true,
            },
            "same business day 08:05",
        ),
        (
            LimitDuration::Anchored {
                days: 3,
                hour: 17,
                minute: 30,
                business: true,
            },
            "in 3 business days 17:30",
        ),
    ];
    for (span, text) in cases {
        assert_eq!(span.to_string(), text);
        assert_eq!(parse(text), span, "{text}");
    }
}

#[test]
fn serializes_as_canonical_string() {
    let json = serde_json::to_string(&LimitDuration::Wall { minutes: 120 }).unwrap();
    assert_eq!(json, "\"2h\"");
    let json = serde_json::to_string(&LimitDuration::Business { minutes: 240 }).unwrap();
    assert_eq!(json, "\"4 business hours\"");
    let span: LimitDuration = serde_json::from_str("\"next business day 12:00\"").unwrap();
    assert_eq!(
        span,
        LimitDuration::Anchored {
            days: 1,
            hour: 12,
            minute: 0,
            business: true
        }
    );
    let error = serde_json::from_str::<LimitDuration>("\"3x\"")
        .unwrap_err()
        .to_string();
    assert!(error.contains("found `3x`"), "{error}");
    assert!(serde_json::from_str::<LimitDuration>("120").is_err());
}

#[test]
fn compare_orders_only_like_kinds() {
    let wall = |minutes| LimitDuration::Wall { minutes };
    let anchored = |days, hour, minute, business| LimitDuration::Anchored {
        days,
        hour,
        minute,
        business,
    };
    assert_eq!(wall(30).compare(&wall(60)), Some(Ordering::Less));
    assert_eq!(wall(60).compare(&wall(60)), Some(Ordering::Equal));
    // Across a DST change either can end later, so the two day readings are not ordered.
    let calendar = |days| LimitDuration::CalendarDays { days };
    assert_eq!(wall(3 * 1440).compare(&calendar(3)), None);
    assert_eq!(calendar(2).compare(&calendar(3)), Some(Ordering::Less));
    assert_eq!(
        LimitDuration::Business { minutes: 300 }.compare(&LimitDuration::Business { minutes: 240 }),
        Some(Ordering::Greater)
    );
    assert_eq!(
        LimitDuration::BusinessDays { days: 1 }.compare(&LimitDuration::BusinessDays { days: 2 }),
        Some(Ordering::Less)
    );
    assert_eq!(
        anchored(1, 9, 0, false).compare(&anchored(0, 18, 0, false)),
        Some(Ordering::Greater)
    );
    assert_eq!(
        anchored(1, 9, 0, true).compare(&anchored(1, 9, 30, true)),
        Some(Ordering::Less)
    );
    assert_eq!(
        anchored(1, 9, 0, true).compare(&anchored(1, 9, 0, false)),
        None
    );
    assert_eq!(
        wall(60).compare(&LimitDuration::Business { minutes: 60 }),
        None
    );
    assert_eq!(
        LimitDuration::Business { minutes: 60 }.compare(&LimitDuration::BusinessDays { days: 1 }),
        None
    );
    assert_eq!(wall(1440).compare(&anchored(1, 0, 0, false)), None);
}

#[test]
fn needs_calendar_only_for_working_time() {
    assert!(!LimitDuration::Wall { minutes: 60 }.needs_calendar());
    assert!(LimitDuration::Business { minutes: 60 }.needs_calendar());
    assert!(LimitDuration::BusinessDays { days: 1 }.needs_calendar());
    assert!(
        LimitDuration::Anchored {
            days: 1,
            hour: 12,
            minute: 0,
            business: true
        }
        .needs_calendar()
    );
    assert!(
        !LimitDuration::Anchored {
            days: 1,
            hour: 12,
            minute: 0,
            business: false
        }
        .needs_calendar()
    );
}

fn any_valid_span() -> impl Strategy<Value = LimitDuration> {
    prop_oneof![
        (1..=MAX_MINUTES).prop_map(|minutes| LimitDuration::Wall { minutes }),
        (1..=MAX_MINUTES).prop_map(|minutes| LimitDuration::Business { minutes }),
        (1..=MAX_DAYS).prop_map(|days| LimitDuration::BusinessDays { days }),
        (1..=MAX_DAYS).prop_map(|days| LimitDuration::CalendarDays { days }),
        (0..=MAX_DAYS, 0..24u32, 0..60u32, any::<bool>()).prop_map(
            |(days, hour, minute, business)| LimitDuration::Anchored {
                days,
                hour,
                minute,
                business
            }
        ),
    ]
}

proptest! {
    #[test]
    fn display_then_parse_is_identity(span in any_valid_span()) {
        let text = span.to_string();
        prop_assert_eq!(text.parse::<LimitDuration>(), Ok(span));
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = text.parse::<LimitDuration>();
    }

    #[test]
    fn parse_never_panics_on_near_misses(
        text in "[ -]?[0-9]{0,21} ?(m|h|d|w|min|business|day|days|hours|:|[0-9]){0,4} ?[0-9:]{0,6}"
    ) {
        if let Ok(span) = text.parse::<LimitDuration>() {
            // Anything accepted must print in a form that parses back.
            prop_assert_eq!(span.to_string().parse::<LimitDuration>(), Ok(span));
        }
    }
}
