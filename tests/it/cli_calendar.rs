#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end: `steward calendar show|list` and the holiday-data warning of
//! `steward policy check`, on the shipped policies and data.

use std::process::{Command, Output};

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The fixtures extend the shipped base, outside their own tree.
        .env("STEWARD_POLICY_ROOT", env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the steward binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn show_lists_the_official_2026_schedule_of_the_shipped_policy() {
    let out = steward(&[
        "calendar",
        "show",
        "cn-office",
        "2026",
        "--policy",
        "policies/vk-shanghai",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let tail: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("2026-01-01"))
        .collect();
    assert_eq!(
        tail,
        [
            "2026-01-01..2026-01-03  holiday          元旦",
            "2026-01-04              make-up workday  元旦",
            "2026-02-14              make-up workday  春节",
            "2026-02-15..2026-02-23  holiday          春节",
            "2026-02-28              make-up workday  春节",
            "2026-04-04..2026-04-06  holiday          清明节",
            "2026-05-01..2026-05-05  holiday          劳动节",
            "2026-05-09              make-up workday  劳动节",
            "2026-06-19..2026-06-21  holiday          端午节",
            "2026-09-20              make-up workday  国庆节",
            "2026-09-25..2026-09-27  holiday          中秋节",
            "2026-10-01..2026-10-07  holiday          国庆节",
            "2026-10-10              make-up workday  国庆节",
            // chinese-calendar 1.11.0 counts 248 working days in 2026 too.
            "248 working days in 2026",
        ]
    );
    assert!(stdout.starts_with(
        "calendar `cn-office` of policy `vk-shanghai` (policies/vk-shanghai), 2026 (Asia/Shanghai)\n\
         workdays mon tue wed thu fri; hours 09:00-12:00, 13:30-18:00\n"
    ));
    // September: the make-up Sunday 20th and the Mid-Autumn holiday 25th-27th.
    assert!(stdout.contains(" 14  15  16  17  18  19. 20+\n"));
    assert!(stdout.contains(" 21  22  23  24  25* 26* 27*\n"));
    assert!(text(&out.stderr).is_empty());
}

#[test]
fn show_of_an_overlay_uses_its_own_week() {
    // The gardens estate works Saturdays: no `.` on Saturdays that are not holidays.
    let out = steward(&[
        "calendar",
        "show",
        "cn-office",
        "2026",
        "--policy",
        "policies/vk-shanghai-gardens",
    ]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("workdays mon tue wed thu fri sat;"));
    assert!(
        stdout.contains(" 14  15  16  17  18  19  20+\n"),
        "{stdout}"
    );
    // 248 + the 52 Saturdays of 2026, less 7 that are holidays and 4 that are
    // make-up workdays already.
    assert!(stdout.contains("289 working days in 2026"), "{stdout}");
}

#[test]
fn show_of_shipped_data_and_of_a_year_without_data() {
    let out = steward(&["calendar", "show", "cn-statutory", "2020"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    // The Spring Festival of 2020 as extended by the State Council (to Feb 2).
    assert!(stdout.contains("2020-01-24..2020-02-02  holiday          春节\n"));
    assert!(!stdout.contains("2020-02-01              make-up workday"));

    let out = steward(&[
        "calendar",
        "show",
        "cn-office",
        "2027",
        "--policy",
        "policies/base",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "warning: `cn-office` declares nothing for 2027: business-time limits treat 2027 holidays as working days\n"
    );
    assert!(text(&out.stdout).ends_with("261 working days in 2027\n"));
}

#[test]
fn show_json_gives_the_runs() {
    let out = steward(&[
        "calendar",
        "show",
        "cn-statutory",
        "2026",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["working_days"], 248);
    assert_eq!(v["declared"], true);
    assert_eq!(v["days"][0]["kind"], "holiday");
    assert_eq!(v["days"][0]["from"], "2026-01-01");
    assert_eq!(v["days"][0]["to"], "2026-01-03");
    assert_eq!(v["days"][1]["kind"], "makeup_workday");
    assert_eq!(v["days"].as_array().unwrap().len(), 13);
}

#[test]
fn unknown_names_get_a_did_you_mean() {
    let out = steward(&[
        "calendar",
        "show",
        "cn-ofice",
        "2026",
        "--policy",
        "policies/base",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: policy `base` has no calendar `cn-ofice`; did you mean `cn-office`?\n"
    );
    let out = steward(&["calendar", "show", "cn-statutary", "2026"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: no holiday data `cn-statutary`; did you mean `cn-statutory`?\n"
    );
}

#[test]
fn list_shows_data_sets_and_policy_calendars() {
    let out = steward(&["calendar", "list"]);
    assert_eq!(
        text(&out.stdout),
        "NAME          YEARS      TIMEZONE       TITLE\n\
         cn-statutory  2020-2026  Asia/Shanghai  中国法定节假日及调休（国务院办公厅部分节假日安排通知）\n"
    );
    let out = steward(&["calendar", "list", "--policy", "policies/vk-shanghai"]);
    assert_eq!(
        text(&out.stdout),
        "CALENDAR   YEARS      INCLUDE       WORKDAYS             HOURS\n\
         cn-office  2020-2026  cn-statutory  mon tue wed thu fri  09:00-12:00, 13:30-18:00\n"
    );
}

#[test]
fn policy_check_warns_about_years_without_holiday_data() {
    let dec = [
        "policy",
        "check",
        "policies/vk-shanghai",
        "--now",
        "2026-12-01T10:00:00+08:00",
    ];
    let out = steward(&dec);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "warning: calendar `cn-office` declares nothing for 2027: business-time limits treat 2027 holidays as working days (deadlines from 2027-01-01 on)\n\
         \x20 --> policies/base/policy.toml:17:1\n\
         \x20  |\n\
         17 | [calendar.cn-office]\n\
         \x20  | ^^^^^^^^^^^^^^^^^^^^\n\
         \x20 = help: `cn-statutory` covers 2020-2026; list the 2027 schedule in `holidays` and `makeup_workdays` once it is published\n\n"
    );
    // In June the next 60 days stay in 2026, which the data covers.
    let out = steward(&[
        "policy",
        "check",
        "policies/vk-shanghai",
        "--now",
        "2026-06-01T10:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
    // `--format json` carries the warning with the ok.
    let mut json = dec.to_vec();
    json.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&steward(&json).stdout).unwrap();
    assert_eq!(v[0]["ok"], true);
    assert_eq!(v[0]["warnings"][0]["severity"], "warning");
}

#[test]
fn an_ics_feed_gives_the_calendar_its_days() {
    let out = steward(&[
        "calendar",
        "show",
        "cn-office",
        "2026",
        "--policy",
        "tests/fixtures/ics-policy",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("holiday data: ../ics/cn-national-day-2026.ics (中国节假日 2026 国庆)\n")
    );
    let tail: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("2026-09-20"))
        .collect();
    assert_eq!(
        tail,
        [
            "2026-09-20              make-up workday  ",
            "2026-10-01..2026-10-07  holiday          ",
            "2026-10-10              make-up workday  ",
            // 261 weekdays, less 7 days off of which 5 are weekdays, plus 2 worked weekend days.
            "258 working days in 2026",
        ]
    );
    // The events the feed has but steward does not read are warnings, not silence.
    let out = steward(&[
        "policy",
        "check",
        "tests/fixtures/ics-policy",
        "--now",
        "2026-06-01T10:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("warning: holiday feed").count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("skipped `元旦` repeats (RRULE), which is not expanded"));
}

/// "1 business day" from Wednesday 10:00 under each reading of the calendar's
/// `business_days`, as the engine computes it (`policy explain`).
#[test]
fn business_days_end_where_the_calendar_says() {
    let ticket = r#"{"kind":"suggestion","text":"x","estate":"riverside","opened_at":"2026-07-01T10:00:00+08:00"}"#;
    let deadline = |policy: &str| {
        let out = steward(&["policy", "explain", policy, "--ticket", ticket]);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with("S1 "))
            .unwrap()
            .to_string()
    };
    // The base policy says close_of_business (Civil Code arts. 201, 203).
    assert!(deadline("tests/fixtures/business-days-policy").contains("2026-07-02 18:00 Thu"));
    assert!(deadline("tests/fixtures/business-days-same-time").contains("2026-07-02 10:00 Thu"));
    // The diff names the change; neither reading is always the later one.
    let out = steward(&[
        "policy",
        "diff",
        "tests/fixtures/business-days-policy",
        "tests/fixtures/business-days-same-time",
    ]);
    assert!(
        text(&out.stdout).contains("business_days"),
        "{}",
        text(&out.stdout)
    );
}
