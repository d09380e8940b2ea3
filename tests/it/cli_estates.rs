#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! End-to-end tests of the estate registry and the owner-visit log through the
//! `steward` binary: `estate add|set|list`, an unknown estate refused with a
//! did-you-mean by every command that takes one, K4 households read from the
//! registry, K5 visits in the reports, and `audit verify` covering both.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::cli_support::{json_at as json, ok_at as ok, run_at as steward};

fn refused(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = steward(db, now, args);
    assert_eq!(code, 2, "steward {args:?} should be refused: {out}");
    err.trim().to_owned()
}

fn events(db: &Path) -> i64 {
    let v = json(db, "2030-01-01T00:00:00Z", &["audit", "verify"]);
    assert_eq!(v["ok"], true, "{v}");
    v["events"].as_i64().expect("events count")
}

fn policy(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
        .display()
        .to_string()
}

const T0: &str = "2026-07-06T09:00:00+08:00";

fn declared() -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    ok(&db, T0, &["policy", "apply", &policy("vk-shanghai")]);
    let out = ok(
        &db,
        T0,
        &[
            "estate",
            "add",
            "riverside",
            "--name",
            "滨江花园",
            "--households",
            "1200",
            "--phase",
            "delivery=2024-06-30",
            "--phase",
            "occupancy=2024-09-01",
            "--by",
            "客服中心",
        ],
    );
    assert_eq!(
        out,
        "estate     name      households  phases\n\
         riverside  滨江花园  1200        delivery 2024-06-30, occupancy 2024-09-01\n"
    );
    ok(
        &db,
        T0,
        &[
            "estate",
            "add",
            "gardens",
            "--name",
            "花园",
            "--households",
            "800",
        ],
    );
    (tmp, db)
}

#[test]
fn estates_are_declared_listed_and_changed_in_the_log() {
    let (_t, db) = declared();
    let v = json(&db, T0, &["estate", "list"]);
    let list = v["estates"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{v}");
    assert_eq!(list[1]["estate"], "riverside");
    assert_eq!(list[1]["households"], 1200);
    assert_eq!(list[1]["phases"]["occupancy"], "2024-09-01");
    assert_eq!(list[1]["by"], "客服中心");
    let before = events(&db);
    ok(
        &db,
        "2026-07-07T09:00:00+08:00",
        &["estate", "set", "riverside", "--households", "1260"],
    );
    assert_eq!(events(&db), before + 1, "a change is an event of the log");
    let v = json(&db, T0, &["estate", "list"]);
    assert_eq!(v["estates"][1]["households"], 1260);
    assert_eq!(v["estates"][1]["phases"]["delivery"], "2024-06-30", "kept");
    // Bad input: refused, nothing written.
    for (args, want) in [
        (
            vec![
                "estate",
                "add",
                "riverside",
                "--name",
                "x",
                "--households",
                "5",
            ],
            "error: estate `riverside` is already declared; change it with `steward estate set riverside`",
        ),
        (
            vec!["estate", "set", "riversde", "--households", "5"],
            "error: unknown estate `riversde`: did you mean `riverside`? (declare it with `steward estate add`)",
        ),
        (
            vec![
                "estate",
                "add",
                "east",
                "--name",
                "东区",
                "--households",
                "0",
            ],
            "error: estate `east` needs its number of households (at least 1): the valid-complaint rate (K4) is per household",
        ),
        (
            vec![
                "estate",
                "add",
                "east",
                "--name",
                "东区",
                "--households",
                "9",
                "--phase",
                "occupancy=2024-13-01",
            ],
            "error: bad --phase `occupancy=2024-13-01`: the date is not YYYY-MM-DD (expected NAME=YYYY-MM-DD, e.g. occupancy=2024-09-01)",
        ),
        (
            vec!["estate", "set", "riverside"],
            "error: nothing to change: give --name, --households or --phase",
        ),
    ] {
        assert_eq!(refused(&db, T0, &args), want, "{args:?}");
    }
    assert_eq!(events(&db), before + 1);
}

#[test]
fn every_command_taking_an_estate_refuses_an_unknown_one_with_a_did_you_mean() {
    let (_t, db) = declared();
    let before = events(&db);
    let want = "error: unknown estate `riversdie`: did you mean `riverside`? (declare it with `steward estate add`)";
    let gardens = policy("vk-shanghai-gardens");
    let cases: Vec<Vec<&str>> = vec![
        vec!["policy", "apply", &gardens, "--estate", "riversdie"],
        vec![
            "ticket",
            "open",
            "--estate",
            "riversdie",
            "--kind",
            "repair",
            "--text",
            "灯不亮",
        ],
        vec!["ticket", "list", "--estate", "riversdie"],
        vec!["event", "rain", "--estate", "riversdie"],
        vec!["visit", "--estate", "riversdie", "--by", "王敏"],
    ];
    for args in cases {
        assert_eq!(refused(&db, T0, &args), want, "{args:?}");
    }
    let err = refused(
        &db,
        T0,
        &["report", "daily", "2026-07-06", "--estate", "riversdie"],
    );
    assert_eq!(
        err,
        "error: unknown estate `riversdie`: did you mean `riverside`? declared: gardens, riverside"
    );
    assert_eq!(events(&db), before, "nothing was written");
    // The declared estate works.
    ok(
        &db,
        T0,
        &["policy", "apply", &gardens, "--estate", "gardens"],
    );
}

#[test]
fn a_database_without_declared_estates_accepts_any_as_before() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    ok(&db, T0, &["policy", "apply", &policy("vk-shanghai")]);
    let out = ok(&db, T0, &["estate", "list"]);
    assert_eq!(
        out,
        "no estate is declared: any estate id is accepted until one is (`steward estate add`)\n"
    );
    ok(
        &db,
        T0,
        &[
            "ticket",
            "open",
            "--estate",
            "anywhere",
            "--kind",
            "inquiry",
            "--text",
            "物业费",
        ],
    );
}

#[test]
fn reports_read_households_from_the_registry_and_count_visits_k5() {
    let (_t, db) = declared();
    // Two valid complaints at riverside in the quarter; 1200 households.
    for (i, day) in ["2026-07-06", "2026-08-03"].iter().enumerate() {
        let at = format!("{day}T09:00:00+08:00");
        let id = format!("C{i}");
        ok(
            &db,
            &at,
            &[
                "ticket",
                "open",
                "--id",
                &id,
                "--estate",
                "riverside",
                "--kind",
                "complaint",
                "--text",
                "保安态度差",
            ],
        );
    }
    for (day, estate) in [
        ("2026-07-02", "riverside"),
        ("2026-07-15", "riverside"),
        ("2026-07-28", "riverside"),
        ("2026-08-10", "riverside"),
        ("2026-07-20", "gardens"),
    ] {
        let at = format!("{day}T10:00:00+08:00");
        let out = ok(
            &db,
            &at,
            &[
                "visit",
                "--estate",
                estate,
                "--by",
                "王敏",
                "--note",
                "征求意见",
            ],
        );
        assert!(
            out.ends_with(&format!("by 王敏 recorded (event {}, K5)\n", events(&db))),
            "{out}"
        );
    }
    let now = "2026-10-01T09:00:00+08:00";
    let r = json(&db, now, &["report", "quarterly", "2026Q3"]);
    let k4 = &r["valid_rate"]["estates"];
    let riverside = k4
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estate"] == "riverside")
        .unwrap_or_else(|| panic!("{k4}"));
    assert_eq!(riverside["households"], 1200, "{k4}");
    // 2 valid complaints in 92 days, per 1,000 households per year.
    let want = 2.0 / 1200.0 / (92.0 / 365.0) * 1000.0;
    let got = riverside["per_mille_per_year"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    // --households still wins over the registry.
    let r2 = json(
        &db,
        now,
        &[
            "report",
            "quarterly",
            "2026Q3",
            "--households",
            "riverside=2400",
        ],
    );
    assert!(r2["valid_rate"]["estates"].to_string().contains("2400"));

    let months = r["visits"]["months"].as_array().unwrap();
    let row = |e: &str, m: &str| {
        months
            .iter()
            .find(|x| x["estate"] == e && x["month"] == m)
            .map(|x| (x["visits"].as_u64().unwrap(), x["meets_target"].clone()))
            .unwrap_or_else(|| panic!("{e} {m} in {months:?}"))
    };
    assert_eq!(row("riverside", "2026-07"), (3, serde_json::json!(true)));
    assert_eq!(row("riverside", "2026-08"), (1, serde_json::json!(false)));
    assert_eq!(row("gardens", "2026-07"), (1, serde_json::json!(false)));
    assert_eq!(r["visits"]["target_per_month"], 3);

    let text = ok(&db, now, &["report", "quarterly", "2026Q3", "--lang", "en"]);
    assert!(text.contains("Owner visits (K5, 3 a month)"), "{text}");
    assert!(
        text.contains("  riverside  2026-07  3       2026-07-31       yes"),
        "{text}"
    );
    let html = ok(
        &db,
        now,
        &["report", "quarterly", "2026Q3", "--format", "html"],
    );
    assert!(html.contains("<h2>业户走访（K5，每月3次）</h2>"), "{html}");
    // A daily report counts the month so far, still running.
    let d = json(
        &db,
        "2026-07-16T09:00:00+08:00",
        &["report", "daily", "2026-07-15", "--estate", "riverside"],
    );
    assert_eq!(d["visits"]["months"][0]["visits"], 2, "{d}");
    assert_eq!(
        d["visits"]["months"][0]["meets_target"],
        serde_json::Value::Null,
        "{d}"
    );
}

#[test]
fn visits_need_a_visitor() {
    let (_t, db) = declared();
    let err = refused(&db, T0, &["visit", "--estate", "riverside", "--by", " "]);
    assert_eq!(
        err,
        "error: a visit needs who made it (--by): the K5 log names the visitor"
    );
}

#[test]
fn an_import_refuses_the_rows_of_an_undeclared_estate_and_keeps_the_others() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("t.db");
    ok(
        &db,
        "2026-07-01T08:00:00+08:00",
        &["policy", "apply", &policy("vk-shanghai")],
    );
    ok(
        &db,
        "2026-07-01T08:00:00+08:00",
        &[
            "estate",
            "add",
            "riverside",
            "--name",
            "翠湖花园",
            "--households",
            "900",
        ],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/register");
    let (code, out, err) = steward(
        &db,
        "2026-12-01T08:00:00+08:00",
        &[
            "import",
            &root.join("follow-up-form.csv").display().to_string(),
            "--map",
            &root.join("mapping.toml").display().to_string(),
        ],
    );
    // Refused rows are kept in the register and listed, as the policy's refusals are.
    assert_eq!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("command(s) refused by the policy"), "{all}");
    assert!(
        all.contains("open: unknown estate `gardens`: declared: riverside (declare it with `steward estate add`)"),
        "{all}"
    );
    let v = json(
        &db,
        "2026-12-01T08:00:00+08:00",
        &["ticket", "list", "--estate", "riverside"],
    );
    assert!(!v["tickets"].as_array().unwrap().is_empty(), "{v}");
}
