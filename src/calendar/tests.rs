use super::*;
use chrono::{FixedOffset, Weekday};
use proptest::prelude::*;

fn office() -> Calendar {
    Calendar::new(
        chrono_tz::Asia::Shanghai,
        &["mon", "tue", "wed", "thu", "fri"],
        &["09:00-12:00", "13:30-18:00"],
        &["2026-10-01..2026-10-07"],
        &["2026-09-27", "2026-10-10"],
    )
    .unwrap()
}

/// An instant written as Shanghai wall time, e.g. `cst("2026-09-25 16:00")`.
fn cst(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .from_local_datetime(&naive)
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .unwrap()
        .and_utc()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn span(text: &str) -> LimitDuration {
    text.parse().unwrap()
}

fn new_err(workdays: &[&str], hours: &[&str], holidays: &[&str], makeup: &[&str]) -> String {
    Calendar::new(chrono_tz::UTC, workdays, hours, holidays, makeup)
        .unwrap_err()
        .to_string()
}

const WEEK: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
const DAY: [&str; 1] = ["09:00-18:00"];

#[test]
fn fixture_dates_fall_on_the_expected_weekdays() {
    assert_eq!(date("2026-09-25").weekday(), Weekday::Fri);
    assert_eq!(date("2026-09-27").weekday(), Weekday::Sun);
    assert_eq!(date("2026-09-30").weekday(), Weekday::Wed);
    assert_eq!(date("2026-10-08").weekday(), Weekday::Thu);
    assert_eq!(date("2026-10-10").weekday(), Weekday::Sat);
    assert_eq!(date("2026-07-03").weekday(), Weekday::Fri);
}

#[test]
fn working_days_follow_holidays_and_makeup_days() {
    let cal = office();
    assert!(cal.is_working_day(date("2026-09-25")));
    assert!(!cal.is_working_day(date("2026-09-26")));
    assert!(cal.is_working_day(date("2026-09-27")));
    for day in 1..=7 {
        let d = NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
        assert!(!cal.is_working_day(d), "{d}");
    }
    assert!(cal.is_working_day(date("2026-10-08")));
    assert!(cal.is_working_day(date("2026-10-10")));
    assert!(!cal.is_working_day(date("2026-10-11")));
    assert_eq!(cal.tz(), chrono_tz::Asia::Shanghai);
}

#[test]
fn is_open_respects_hours_lunch_and_holidays() {
    let cal = office();
    assert!(!cal.is_open(cst("2026-07-01 08:59")));
    assert!(cal.is_open(cst("2026-07-01 09:00")));
    assert!(cal.is_open(cst("2026-07-01 11:59")));
    assert!(!cal.is_open(cst("2026-07-01 12:00")));
    assert!(!cal.is_open(cst("2026-07-01 13:29")));
    assert!(cal.is_open(cst("2026-07-01 13:30")));
    assert!(!cal.is_open(cst("2026-07-01 18:00")));
    assert!(!cal.is_open(cst("2026-07-04 10:00")), "saturday");
    assert!(!cal.is_open(cst("2026-10-02 10:00")), "holiday");
    assert!(cal.is_open(cst("2026-09-27 10:00")), "make-up sunday");
    assert!(!cal.is_open(DateTime::<Utc>::MAX_UTC));
    assert!(!cal.is_open(DateTime::<Utc>::MIN_UTC));
}

#[test]
fn business_hours_reach_the_makeup_sunday() {
    // 2h on Friday 16:00-18:00, Saturday is off, 2h on the make-up Sunday 09:00-11:00.
    let cal = office();
    let end = cal
        .add_business_minutes(cst("2026-09-25 16:00"), 240)
        .unwrap();
    assert_eq!(end, cst("2026-09-27 11:00"));
    assert_eq!(
        cal.deadline(&span("4 business hours"), cst("2026-09-25 16:00"))
            .unwrap(),
        cst("2026-09-27 11:00")
    );
}

#[test]
fn business_hours_skip_the_holiday_week() {
    // 1h on Wednesday 17:00-18:00, 3h on Thursday 09:00-12:00.
    let cal = office();
    let end = cal
        .deadline(&span("4 business hours"), cst("2026-09-30 17:00"))
        .unwrap();
    assert_eq!(end, cst("2026-10-08 12:00"));
}

#[test]
fn counting_skips_lunch_evenings_and_weekends() {
    let cal = office();
    let add = |start, minutes| cal.add_business_minutes(cst(start), minutes).unwrap();
    assert_eq!(add("2026-07-01 11:00", 120), cst("2026-07-01 14:30"));
    assert_eq!(add("2026-07-01 12:30", 60), cst("2026-07-01 14:30"));
    assert_eq!(add("2026-07-01 12:30", 1), cst("2026-07-01 13:31"));
    assert_eq!(add("2026-07-01 20:00", 60), cst("2026-07-02 10:00"));
    assert_eq!(add("2026-07-01 06:00", 30), cst("2026-07-01 09:30"));
    assert_eq!(add("2026-07-03 17:00", 120), cst("2026-07-06 10:00"));
    // Exactly the rest of the morning ends at the closing instant.
    assert_eq!(add("2026-07-01 11:00", 60), cst("2026-07-01 12:00"));
    assert_eq!(add("2026-07-01 09:00", 450), cst("2026-07-01 18:00"));
    assert_eq!(add("2026-07-01 09:00", 451), cst("2026-07-02 09:01"));
    // Zero minutes leaves even a closed start untouched.
    assert_eq!(add("2026-07-01 20:00", 0), cst("2026-07-01 20:00"));
}

#[test]
fn seconds_in_the_start_are_kept() {
    let cal = office();
    let start = cst("2026-07-01 11:59") + Duration::seconds(30);
    let end = cal.add_business_minutes(start, 1).unwrap();
    assert_eq!(end, cst("2026-07-01 13:30") + Duration::seconds(30));
    assert_eq!(cal.business_minutes_between(start, end), 1);
}

#[test]
fn minutes_between_counts_only_working_time() {
    let cal = office();
    let between = |a, b| cal.business_minutes_between(cst(a), cst(b));
    assert_eq!(between("2026-07-01 09:00", "2026-07-01 18:00"), 450);
    assert_eq!(between("2026-07-01 11:00", "2026-07-01 14:30"), 120);
    assert_eq!(between("2026-07-01 12:10", "2026-07-01 13:20"), 0);
    assert_eq!(between("2026-07-03 17:00", "2026-07-06 10:00"), 120);
    assert_eq!(between("2026-09-30 17:00", "2026-10-08 12:00"), 240);
    assert_eq!(between("2026-07-01 14:00", "2026-07-01 10:00"), 0);
    assert_eq!(between("2026-07-01 10:00", "2026-07-01 10:00"), 0);
    // A full ordinary week is 5 days of 7.5 hours.
    assert_eq!(between("2026-07-06 00:00", "2026-07-13 00:00"), 5 * 450);
}

#[test]
fn long_spans_walk_day_by_day() {
    let cal = office();
    let start = cst("2026-01-05 09:00");
    // 10,000 minutes is 22 working days plus 100 minutes.
    let end = cal.add_business_minutes(start, 10_000).unwrap();
    assert_eq!(cal.business_minutes_between(start, end), 10_000);
    assert_eq!(end, cst("2026-02-04 10:40"));
}

#[test]
fn anchored_deadlines() {
    let cal = office();
    let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
    assert_eq!(
        at("next day 12:00", "2026-07-01 15:00"),
        cst("2026-07-02 12:00")
    );
    assert_eq!(
        at("next day 12:00", "2026-07-03 15:00"),
        cst("2026-07-04 12:00")
    );
    assert_eq!(
        at("next business day 12:00", "2026-07-03 15:00"),
        cst("2026-07-06 12:00")
    );
    assert_eq!(
        at("next business day 12:00", "2026-09-30 15:00"),
        cst("2026-10-08 12:00")
    );
    assert_eq!(
        at("same day 18:00", "2026-07-01 15:00"),
        cst("2026-07-01 18:00")
    );
    assert_eq!(
        at("same day 18:00", "2026-07-01 19:00"),
        cst("2026-07-02 18:00")
    );
    assert_eq!(
        at("same day 18:00", "2026-07-01 18:00"),
        cst("2026-07-02 18:00")
    );
    assert_eq!(
        at("same business day 18:00", "2026-07-03 19:00"),
        cst("2026-07-06 18:00")
    );
    assert_eq!(
        at("same business day 18:00", "2026-07-04 10:00"),
        cst("2026-07-06 18:00")
    );
    assert_eq!(
        at("in 2 days 09:00", "2026-07-01 15:00"),
        cst("2026-07-03 09:00")
    );
    assert_eq!(
        at("in 2 business days 09:00", "2026-07-02 15:00"),
        cst("2026-07-06 09:00")
    );
}

#[test]
fn anchored_day_is_the_local_date() {
    // 2026-07-01 17:00 UTC is already 07-02 01:00 in Shanghai.
    let cal = office();
    let end = cal
        .deadline(&span("next day 12:00"), utc("2026-07-01 17:00"))
        .unwrap();
    assert_eq!(end, cst("2026-07-03 12:00"));
}

#[test]
fn business_days_keep_the_time_of_day() {
    let cal = office();
    let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
    assert_eq!(
        at("2 business days", "2026-09-30 10:00"),
        cst("2026-10-09 10:00")
    );
    assert_eq!(
        at("1 business day", "2026-07-01 15:20"),
        cst("2026-07-02 15:20")
    );
    assert_eq!(
        at("1 business day", "2026-07-03 10:00"),
        cst("2026-07-06 10:00")
    );
    // Outside hours the count starts at the next opening.
    assert_eq!(
        at("1 business day", "2026-07-01 20:00"),
        cst("2026-07-03 09:00")
    );
    assert_eq!(
        at("1 business day", "2026-07-01 12:30"),
        cst("2026-07-02 13:30")
    );
    assert_eq!(
        at("1 business day", "2026-07-01 18:00"),
        cst("2026-07-03 09:00")
    );
}

/// Civil Code arts. 201/203: the day of intake is not counted and the period
/// ends at the close of business of its last working day.
#[test]
fn business_days_can_end_at_close_of_business() {
    let cal = office().with_business_days(BusinessDays::CloseOfBusiness);
    let at = |text, start| cal.deadline(&span(text), cst(start)).unwrap();
    // Wednesday 10:00 + 1: Thursday at closing, whatever the hour of intake.
    assert_eq!(
        at("1 business day", "2026-07-01 10:00"),
        cst("2026-07-02 18:00")
    );
    assert_eq!(
        at("1 business day", "2026-07-01 08:00"),
        cst("2026-07-02 18:00")
    );
    assert_eq!(
        at("1 business day", "2026-07-01 20:00"),
        cst("2026-07-02 18:00")
    );
    // Friday + 1: Monday. Saturday (not a working day, not counted) + 1: Monday.
    assert_eq!(
        at("1 business day", "2026-07-03 17:00"),
        cst("2026-07-06 18:00")
    );
    assert_eq!(
        at("1 business day", "2026-07-04 11:00"),
        cst("2026-07-06 18:00")
    );
    // Across the holiday week: 09-30 + 2 = 10-08, 10-09 (make-up 10-10 not yet).
    assert_eq!(
        at("2 business days", "2026-09-30 10:00"),
        cst("2026-10-09 18:00")
    );
    assert_eq!(
        at("3 business days", "2026-09-30 10:00"),
        cst("2026-10-10 18:00")
    );
    // The measure for pausing stays working minutes: Wednesday's last 2 h and
    // Thursday's 7.5 h.
    let limit = span("1 business day");
    assert_eq!(
        cal.span_minutes(&limit, cst("2026-07-01 16:00")).unwrap(),
        120 + 450
    );
    // The default reading keeps the clock time.
    assert_eq!(office().business_days(), BusinessDays::SameTime);
    assert_eq!(
        BusinessDays::parse("close_of_business"),
        Some(BusinessDays::CloseOfBusiness)
    );
    assert_eq!(BusinessDays::parse("closing"), None);
}

#[test]
fn wall_deadlines_ignore_the_calendar() {
    let cal = office();
    assert_eq!(
        cal.deadline(&span("2h"), cst("2026-07-04 23:00")).unwrap(),
        cst("2026-07-05 01:00")
    );
    assert_eq!(
        cal.deadline(&span("1w"), cst("2026-09-30 10:00")).unwrap(),
        cst("2026-10-07 10:00")
    );
}

#[test]
fn elapsed_advance_and_span_minutes_use_the_span_measure() {
    let cal = office();
    let wall = span("2h");
    let business = span("4 business hours");
    let days = span("2 business days");
    let anchored = span("next day 12:00");
    let (a, b) = (cst("2026-07-01 11:00"), cst("2026-07-01 14:00"));
    assert_eq!(cal.elapsed(&wall, a, b), 180);
    assert_eq!(cal.elapsed(&anchored, a, b), 180);
    assert_eq!(cal.elapsed(&business, a, b), 90);
    assert_eq!(cal.elapsed(&days, a, b), 90);
    assert_eq!(cal.elapsed(&wall, b, a), 0);

    assert_eq!(cal.advance(&wall, a, 90).unwrap(), cst("2026-07-01 12:30"));
    assert_eq!(
        cal.advance(&anchored, a, 90).unwrap(),
        cst("2026-07-01 12:30")
    );
    assert_eq!(
        cal.advance(&business, a, 90).unwrap(),
        cst("2026-07-01 14:00")
    );
    assert_eq!(cal.advance(&days, a, 90).unwrap(), cst("2026-07-01 14:00"));

    assert_eq!(cal.span_minutes(&wall, a).unwrap(), 120);
    assert_eq!(cal.span_minutes(&business, a).unwrap(), 240);
    assert_eq!(cal.span_minutes(&days, a).unwrap(), 900);
    assert_eq!(cal.span_minutes(&anchored, a).unwrap(), 25 * 60);
    // Started outside hours, only the working time up to the deadline counts.
    assert_eq!(
        cal.span_minutes(&days, cst("2026-07-01 20:00")).unwrap(),
        900
    );
}

#[test]
fn pausing_and_resuming_reaches_the_same_deadline() {
    let cal = office();
    let limit = span("4 business hours");
    let start = cst("2026-07-01 16:00");
    let paused_at = cst("2026-07-02 10:00");
    let resumed_at = cst("2026-07-06 14:00");
    let used = cal.elapsed(&limit, start, paused_at);
    assert_eq!(used, 180);
    let left = cal.span_minutes(&limit, start).unwrap() - used;
    assert_eq!(
        cal.advance(&limit, resumed_at, left).unwrap(),
        cst("2026-07-06 15:00")
    );
}

#[test]
fn dst_gap_and_fold_resolve_deterministically() {
    let cal = Calendar::always(chrono_tz::America::New_York);
    // 2026-03-08 02:30 does not exist in New York; 03:00 EDT is the first valid minute.
    let end = cal
        .deadline(&span("next day 02:30"), utc("2026-03-07 17:00"))
        .unwrap();
    assert_eq!(end, utc("2026-03-08 07:00"));
    // 2026-11-01 01:30 happens twice; the earlier one is 01:30 EDT.
    let end = cal
        .deadline(&span("next day 01:30"), utc("2026-10-31 17:00"))
        .unwrap();
    assert_eq!(end, utc("2026-11-01 05:30"));
    // A 24x7 calendar counts the real length of the short and long days.
    let start = utc("2026-03-07 17:00");
    assert_eq!(
        cal.add_business_minutes(start, 24 * 60).unwrap(),
        utc("2026-03-08 17:00")
    );
    assert_eq!(
        cal.business_minutes_between(utc("2026-11-01 04:00"), utc("2026-11-02 05:00")),
        25 * 60
    );
}

#[test]
fn dst_gap_inside_working_hours_is_not_working_time() {
    let cal = Calendar::new(
        chrono_tz::America::New_York,
        &["sun"],
        &["01:00-04:00"],
        &[],
        &[],
    )
    .unwrap();
    // On 2026-03-08 02:00-03:00 never happens, so only two hours are worked.
    let (a, b) = (utc("2026-03-08 00:00"), utc("2026-03-09 00:00"));
    assert_eq!(cal.business_minutes_between(a, b), 120);
    assert_eq!(
        cal.add_business_minutes(a, 120).unwrap(),
        utc("2026-03-08 08:00")
    );
}

#[test]
fn sparse_calendars_give_up_instead_of_looping() {
    let cal = Calendar::new(chrono_tz::UTC, &[], &DAY, &[], &["2026-01-05"]).unwrap();
    let start = utc("2026-01-01 00:00");
    assert_eq!(
        cal.add_business_minutes(start, 540).unwrap(),
        utc("2026-01-05 18:00")
    );
    let error = cal.add_business_minutes(start, 541).unwrap_err();
    assert_eq!(error, CalendarError::NoWorkingTime(start));
    assert_eq!(
        error.to_string(),
        "no working time to fit the limit within 3660 days after `2026-01-01 00:00:00 UTC`"
    );
    assert!(cal.deadline(&span("2 business days"), start).is_err());
    assert!(
        cal.deadline(&span("next business day 12:00"), utc("2026-01-06 00:00"))
            .is_err()
    );
    assert!(
        cal.deadline(&span("1 business day"), utc("2026-01-06 00:00"))
            .is_err()
    );
}

#[test]
fn runtime_errors() {
    let cal = office();
    let start = cst("2026-07-01 10:00");
    assert_eq!(
        cal.add_business_minutes(start, -5).unwrap_err().to_string(),
        "expected a non-negative number of minutes, found `-5`"
    );
    assert_eq!(
        cal.advance(&span("2h"), start, -1).unwrap_err(),
        CalendarError::NegativeMinutes(-1)
    );
    assert_eq!(
        cal.deadline(&LimitDuration::Wall { minutes: -1 }, start)
            .unwrap_err(),
        CalendarError::NegativeMinutes(-1)
    );
    let bad = LimitDuration::Anchored {
        days: 1,
        hour: 24,
        minute: 0,
        business: false,
    };
    assert_eq!(
        cal.deadline(&bad, start).unwrap_err().to_string(),
        "span `next day 24:00` cannot be turned into a deadline"
    );
    let far = DateTime::<Utc>::MAX_UTC;
    assert_eq!(
        cal.add_business_minutes(far, 1).unwrap_err(),
        CalendarError::OutOfRange(far)
    );
    assert!(
        cal.deadline(&span("2h"), far)
            .unwrap_err()
            .to_string()
            .contains("is outside the supported years 1900 to 9998")
    );
    assert!(
        cal.deadline(&span("next day 12:00"), DateTime::<Utc>::MIN_UTC)
            .is_err()
    );
    assert!(cal.advance(&span("2h"), start, i64::MAX).is_err());
    assert!(cal.add_business_minutes(start, i64::MAX).is_err());
    // Instants before 1900 are clamped to 1900-01-01 (a Monday), not a panic.
    let utc_office = Calendar::new(chrono_tz::UTC, &WEEK, &DAY, &[], &[]).unwrap();
    assert_eq!(
        utc_office.business_minutes_between(DateTime::<Utc>::MIN_UTC, utc("1900-01-02 00:00")),
        540
    );
    assert_eq!(
        utc_office.business_minutes_between(DateTime::<Utc>::MIN_UTC, utc("1899-12-31 00:00")),
        0
    );
    assert_eq!(
        utc_office.business_minutes_between(DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC),
        0
    );
}

#[test]
fn new_accepts_unsorted_touching_and_all_day_hours() {
    let cal = Calendar::new(
        chrono_tz::UTC,
        &["mon"],
        &["13:00-18:00", "09:00-13:00"],
        &[],
        &[],
    )
    .unwrap();
    // Touching ranges merge, so 13:00 is not a closing instant.
    assert!(cal.is_open(utc("2026-07-06 13:00")));
    assert_eq!(
        cal.add_business_minutes(utc("2026-07-06 09:00"), 540)
            .unwrap(),
        utc("2026-07-06 18:00")
    );
    let all_day = Calendar::new(chrono_tz::UTC, &WEEK, &["00:00-24:00"], &[], &[]).unwrap();
    assert!(all_day.is_open(utc("2026-07-06 23:59")));
    assert!(all_day.is_open(utc("2026-07-07 00:00")));
    assert!(!all_day.is_open(utc("2026-07-11 12:00")));
    let single_holiday = Calendar::new(chrono_tz::UTC, &WEEK, &DAY, &["2026-07-06"], &[]).unwrap();
    assert!(!single_holiday.is_working_day(date("2026-07-06")));
    assert!(single_holiday.is_working_day(date("2026-07-07")));
}

#[test]
fn new_rejects_bad_calendars_with_messages() {
    let cases: [(String, &str); 17] = [
        (
            new_err(&["monday"], &DAY, &[], &[]),
            "expected a weekday `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`, found `monday`",
        ),
        (
            new_err(&["Mon"], &DAY, &[], &[]),
            "expected a weekday `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`, found `Mon`",
        ),
        (
            new_err(&["mon", "mon"], &DAY, &[], &[]),
            "weekday `mon` is listed more than once",
        ),
        (
            new_err(&WEEK, &["9-18"], &[], &[]),
            "expected working hours like `09:00-12:00`, found `9-18`",
        ),
        (
            new_err(&WEEK, &["09:00"], &[], &[]),
            "expected working hours like `09:00-12:00`, found `09:00`",
        ),
        (
            new_err(&WEEK, &["09:00-25:00"], &[], &[]),
            "expected working hours like `09:00-12:00`, found `09:00-25:00`",
        ),
        (
            new_err(&WEEK, &["24:00-24:00"], &[], &[]),
            "expected working hours like `09:00-12:00`, found `24:00-24:00`",
        ),
        (
            new_err(&WEEK, &["18:00-09:00"], &[], &[]),
            "working hours `18:00-09:00` must end after they start",
        ),
        (
            new_err(&WEEK, &["09:00-09:00"], &[], &[]),
            "working hours `09:00-09:00` must end after they start",
        ),
        (
            new_err(&WEEK, &["09:00-12:00", "11:00-14:00"], &[], &[]),
            "working hours `09:00-12:00` and `11:00-14:00` overlap",
        ),
        (
            new_err(&WEEK, &[], &[], &[]),
            "expected at least one range of working hours like `09:00-18:00`",
        ),
        (
            new_err(&WEEK, &DAY, &["2026-13-01"], &[]),
            "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `2026-13-01`",
        ),
        (
            new_err(&WEEK, &DAY, &["2026-10-07..2026-10-01"], &[]),
            "holiday range `2026-10-07..2026-10-01` ends before it starts",
        ),
        (
            new_err(&WEEK, &DAY, &["2026-01-01..2027-01-02"], &[]),
            "holiday range `2026-01-01..2027-01-02` is longer than 366 days",
        ),
        (
            new_err(&WEEK, &DAY, &[], &["2026-09-27..2026-09-28"]),
            "expected a make-up workday like `2026-09-27`, found `2026-09-27..2026-09-28`",
        ),
        (
            new_err(&WEEK, &DAY, &["2026-10-01..2026-10-07"], &["2026-10-03"]),
            "`2026-10-03` is both a holiday and a make-up workday",
        ),
        (
            new_err(&[], &DAY, &["2026-10-01"], &[]),
            "expected at least one workday or make-up workday, the calendar has no working time",
        ),
    ];
    for (actual, expected) in cases {
        assert_eq!(actual, expected);
    }
    assert_eq!(
        new_err(&WEEK, &DAY, &["26-10-01"], &[]),
        "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `26-10-01`"
    );
    assert_eq!(
        new_err(&WEEK, &DAY, &["2026-10-01..x"], &[]),
        "expected a holiday like `2026-10-01` or `2026-10-01..2026-10-07`, found `2026-10-01..x`"
    );
}

fn start_in_2026() -> impl Strategy<Value = DateTime<Utc>> {
    let year = utc("2026-01-01 00:00").timestamp();
    (0..365 * 86_400i64).prop_map(move |s| DateTime::from_timestamp(year + s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn between_inverts_add(start in start_in_2026(), minutes in 0..20_000i64) {
        let cal = office();
        let end = cal.add_business_minutes(start, minutes).unwrap();
        prop_assert_eq!(cal.business_minutes_between(start, end), minutes);
    }

    #[test]
    fn add_is_monotonic(start in start_in_2026(), a in 0..20_000i64, b in 0..20_000i64) {
        let cal = office();
        let (lo, hi) = (a.min(b), a.max(b));
        let lo_end = cal.add_business_minutes(start, lo).unwrap();
        let hi_end = cal.add_business_minutes(start, hi).unwrap();
        prop_assert!(lo_end <= hi_end);
        if lo < hi {
            prop_assert!(lo_end < hi_end);
        }
    }

    #[test]
    fn add_ends_in_working_time_or_at_closing(start in start_in_2026(), minutes in 1..20_000i64) {
        let cal = office();
        let end = cal.add_business_minutes(start, minutes).unwrap();
        let closing = !cal.is_open(end) && cal.is_open(end - Duration::seconds(1));
        prop_assert!(cal.is_open(end) || closing, "{} is neither open nor a closing instant", end);
        prop_assert!(end > start);
    }

    #[test]
    fn always_calendar_adds_wall_minutes(start in start_in_2026(), minutes in 0..200_000i64) {
        // New York so the run crosses DST changes, which must not matter.
        let cal = Calendar::always(chrono_tz::America::New_York);
        let end = cal.add_business_minutes(start, minutes).unwrap();
        prop_assert_eq!(end, start + Duration::minutes(minutes));
        prop_assert_eq!(cal.business_minutes_between(start, end), minutes);
    }

    #[test]
    fn span_minutes_then_advance_reaches_the_deadline(
        start in start_in_2026(),
        minutes in 1..5_000i64,
    ) {
        let cal = office();
        let limit = LimitDuration::Business { minutes };
        let total = cal.span_minutes(&limit, start).unwrap();
        prop_assert_eq!(total, minutes);
        prop_assert_eq!(
            cal.advance(&limit, start, total).unwrap(),
            cal.deadline(&limit, start).unwrap()
        );
    }
}

#[test]
fn calendar_days_keep_the_local_time_across_dst() {
    let berlin = Calendar::always(chrono_tz::Europe::Berlin);
    // Spring forward: 2026-03-29 02:00 CET becomes 03:00 CEST, so that day has 23 hours.
    let start = utc("2026-03-27 09:00"); // 10:00 CET
    assert_eq!(
        berlin.deadline(&span("3 calendar days"), start).unwrap(),
        utc("2026-03-30 08:00") // 10:00 CEST
    );
    assert_eq!(
        berlin.deadline(&span("3d"), start).unwrap(),
        utc("2026-03-30 09:00") // 11:00 CEST: 72 elapsed hours
    );
    // Fall back: 2026-10-25 has 25 hours.
    let start = utc("2026-10-24 08:00"); // 10:00 CEST
    assert_eq!(
        berlin.deadline(&span("1 calendar week"), start).unwrap(),
        utc("2026-10-31 09:00") // 10:00 CET
    );
    assert_eq!(
        berlin.deadline(&span("1w"), start).unwrap(),
        utc("2026-10-31 08:00") // 09:00 CET
    );
    // A start whose local time does not exist on the deadline's date ends at
    // the first valid minute after the gap.
    let start = utc("2026-03-28 01:30"); // 02:30 CET
    assert_eq!(
        berlin.deadline(&span("1 calendar day"), start).unwrap(),
        utc("2026-03-29 01:00") // 03:00 CEST
    );
    // Paused clocks use elapsed minutes, like anchored limits.
    let (a, b) = (utc("2026-03-28 12:00"), utc("2026-03-29 12:00"));
    assert_eq!(berlin.elapsed(&span("2 calendar days"), a, b), 24 * 60);
    assert_eq!(
        berlin.span_minutes(&span("1 calendar day"), a).unwrap(),
        23 * 60
    );
}

proptest! {
    /// Where no DST change falls, calendar days and wall days agree.
    #[test]
    fn calendar_days_equal_wall_days_in_shanghai(start in start_in_2026(), days in 1u32..=60) {
        let cal = office();
        let calendar = LimitDuration::CalendarDays { days };
        let wall = LimitDuration::Wall { minutes: i64::from(days) * 24 * 60 };
        prop_assert_eq!(cal.deadline(&calendar, start).unwrap(), cal.deadline(&wall, start).unwrap());
    }
}
