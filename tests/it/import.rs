#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `steward import` and `sim replay --map` end to end: the shipped sample
//! register (the follow-up form 客户投诉及建议跟进处理表 of 002), GBK CSV, XLSX
//! with merged header cells and Excel dates, every kind of bad row, --strict,
//! resuming a stopped import, and the database left clean for `audit verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use steward::import::{self, Register, db, mapping::Mapping};
use steward::service::Service;

const NOW: &str = "2026-08-01T00:00:00+08:00";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample() -> PathBuf {
    root().join("examples/register/follow-up-form.csv")
}

fn mapping() -> PathBuf {
    root().join("examples/register/mapping.toml")
}

fn steward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .current_dir(dir)
        .env_remove("STEWARD_DB")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fresh_db(dir: &Path) -> String {
    let db = dir.join("s.db").display().to_string();
    let policy = root().join("policies/vk-shanghai").display().to_string();
    let o = steward(
        dir,
        &[
            "--db",
            &db,
            "--now",
            "2026-06-30T00:00:00+08:00",
            "policy",
            "apply",
            &policy,
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    db
}

fn import_args<'a>(db: &'a str, file: &'a str, map: &'a str) -> Vec<&'a str> {
    vec!["--db", db, "--now", NOW, "import", file, "--map", map]
}

fn verify_clean(dir: &Path, db: &str) {
    let o = steward(dir, &["--db", db, "audit", "verify"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("hash chain: intact"), "{out}");
    assert!(
        out.contains("projections: every ticket and timer column rebuilds from the log"),
        "{out}"
    );
}

#[test]
fn the_sample_register_imports_through_the_engine_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let (file, map) = (
        sample().display().to_string(),
        mapping().display().to_string(),
    );
    let o = steward(dir.path(), &import_args(&db, &file, &map));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("(客户投诉及建议跟进处理表), UTF-8: 11 rows, 11 tickets, 51 actions, 0 bad rows, 0 empty rows"),
        "{out}"
    );
    assert!(out.contains("imported 11 tickets, 62 records"), "{out}");
    // The policy refuses closing a leak repair before its after-rain revisit (V4).
    assert!(
        out.contains(
            "row 6 KS-2026-0704 close: cannot close ticket `KS-2026-0704`: revisits pending: V4#2"
        ),
        "{out}"
    );
    verify_clean(dir.path(), &db);

    // The events went in in time order.
    let svc = Service::open_read_only(Path::new(&db)).unwrap();
    let mut last = None;
    svc.store()
        .read(|tx| {
            tx.for_each_event(|e| {
                if e.ticket.is_some() {
                    assert!(
                        last.is_none_or(|l| l <= e.at),
                        "event {} at {} is before {:?}",
                        e.seq,
                        e.at,
                        last
                    );
                    last = Some(e.at);
                }
                Ok(())
            })
        })
        .unwrap();
    let (t, _) = svc.ticket("KS-2026-0703").unwrap();
    assert_eq!(t.intake.estate, "riverside");
    assert_eq!(t.intake.channel, "front_desk");
    assert_eq!(t.intake.class, 2);
    assert_eq!(t.status.as_str(), "closed");
    // A failed revisit (不满意) reopened the ticket (V5).
    let (t, _) = svc.ticket("KS-2026-0702").unwrap();
    assert_eq!(t.reopened, 1);
    // D5: an invalid complaint closes as invalid with its explanation.
    let (t, _) = svc.ticket("KS-2026-0706").unwrap();
    assert_eq!(t.status.as_str(), "invalid");

    // A second run of the same file is refused and writes nothing.
    let o = steward(dir.path(), &import_args(&db, &file, &map));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("was already imported into this database"),
        "{err}"
    );
    verify_clean(dir.path(), &db);
}

/// The sample with its rows changed by `edit` (header lines kept).
fn edited(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(sample()).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, edit(&text)).unwrap();
    path
}

#[test]
fn bad_rows_are_listed_with_row_column_and_why_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "bad.csv", |t| {
        t.replace("KS-2026-0702,2026年7月1日 10时", "KS-2026-0701,2026年7月1日 10时") // duplicate id
            .replace("2026-07-08 17:00", "2026-06-30 17:00") // resolved before opened
            .replace("KS-2026-0705,2026/7/2 19:30", "KS-2026-0705,2027/7/2 19:30") // future
            .replace("2026/7/6 9:05", "2026/13/6 9:05") // no such date
            + ",,,,,,,,,,,,,,,,,,,\n" // an empty row
    });
    let (file, map) = (bad.display().to_string(), mapping().display().to_string());
    let o = steward(
        dir.path(),
        &["--now", NOW, "import", &file, "--map", &map, "--check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(out.contains("12 rows, 7 tickets, "), "{out}");
    assert!(out.contains("4 bad rows, 1 empty rows"), "{out}");
    let f = file.as_str();
    for want in [
        format!(
            "bad row: {f}: row 4, column A (编号): duplicate ticket id `KS-2026-0701`: row 3 has it already"
        ),
        format!(
            "bad row: {f}: row 5, column N (处理完成时间): out of order: resolved at 2026-06-30 17:00 is before opened in column B (受理时间) at 2026-07-01 13:20"
        ),
        format!(
            "bad row: {f}: row 7, column B (受理时间): 2027-07-02 19:30 is in the future (now is 2026-08-01 00:00)"
        ),
        format!(
            "bad row: {f}: row 10, column K (首次答复时间): `2026/13/6 9:05` names no calendar date"
        ),
    ] {
        assert!(err.contains(&want), "missing {want}\n{err}");
    }

    // --strict refuses the whole file; without it the good rows go in.
    let db = fresh_db(dir.path());
    let mut strict = import_args(&db, &file, &map);
    strict.push("--strict");
    let o = steward(dir.path(), &strict);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("--strict: 4 bad row(s); nothing was written"),
        "{err}"
    );
    let svc = Service::open_read_only(Path::new(&db)).unwrap();
    assert!(svc.tickets(None, None, None).unwrap().is_empty());
    drop(svc);
    let o = steward(dir.path(), &import_args(&db, &file, &map));
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad rows make the exit code 2 after importing the rest"
    );
    assert!(out.contains("imported 7 tickets"), "{out}{err}");
    verify_clean(dir.path(), &db);
}

#[test]
fn gbk_csv_is_detected_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = std::fs::read_to_string(sample()).unwrap();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&utf8);
    assert!(!unmappable);
    let path = dir.path().join("gbk.csv");
    std::fs::write(&path, &gbk).unwrap();
    let (file, map) = (path.display().to_string(), mapping().display().to_string());
    let o = steward(
        dir.path(),
        &["--now", NOW, "import", &file, "--map", &map, "--check"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("GBK (detected): 11 rows, 11 tickets, 51 actions, 0 bad rows"),
        "{out}"
    );
    let o = steward(
        dir.path(),
        &[
            "--now",
            NOW,
            "import",
            &file,
            "--map",
            &map,
            "--check",
            "--encoding",
            "gbk",
        ],
    );
    assert!(text(&o).0.contains("GBK (--encoding)"), "{:?}", text(&o));
    // Read as UTF-8 against its will: the header is not found, and the message says why.
    let o = steward(
        dir.path(),
        &[
            "--now",
            NOW,
            "import",
            &file,
            "--map",
            &map,
            "--check",
            "--encoding",
            "utf-8",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("not UTF-8 text (a GBK file? try --encoding gbk)"),
        "{err}"
    );
}

const XLSX_MAP: &str = r#"
[register]
form = "客户投诉及建议跟进处理表"
[columns]
ticket = "编号"
opened = "受理时间"
estate = "管理处"
kind = "类别"
text = "投诉内容"
responded = "处理情况/首次答复时间"
resolved = "处理情况/处理完成时间"
revisited = "回访时间"
revisit_result = "回访结果"
closed = "结案时间"
[values.estate]
"翠湖花园" = "gardens"
[values.kind]
"投诉" = "complaint"
[values.revisit_result]
"满意" = "ok"
"#;

/// A register with a title row, a two-row header whose `处理情况` is merged over
/// two columns and whose other headers are merged over both rows, a merged
/// estate cell over two rows, date cells, a plain serial number and an empty row.
fn workbook(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("跟进处理表").unwrap();
    let plain = Format::new();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    ws.merge_range(0, 0, 0, 9, "客户投诉及建议跟进处理表", &plain)
        .unwrap();
    for (c, h) in ["编号", "受理时间", "管理处", "类别", "投诉内容"]
        .iter()
        .enumerate()
    {
        ws.merge_range(1, c as u16, 2, c as u16, h, &plain).unwrap();
    }
    ws.merge_range(1, 5, 1, 6, "处理情况", &plain).unwrap();
    ws.write_string(2, 5, "首次答复时间").unwrap();
    ws.write_string(2, 6, "处理完成时间").unwrap();
    for (c, h) in [(7u16, "回访时间"), (8, "回访结果"), (9, "结案时间")] {
        ws.merge_range(1, c, 2, c, h, &plain).unwrap();
    }
    let at = |d: u8, h: u8, m: u8| {
        ExcelDateTime::from_ymd(2026, 7, d)
            .unwrap()
            .and_hms(u16::from(h), m, 0)
            .unwrap()
    };
    // Row 4 and 5 share a merged estate cell.
    ws.merge_range(3, 2, 4, 2, "翠湖花园", &plain).unwrap();
    for (r, id, day) in [(3u32, "X-1", 6u8), (4, "X-2", 7)] {
        ws.write_string(r, 0, id).unwrap();
        ws.write_datetime_with_format(r, 1, at(day, 9, 0), &date)
            .unwrap();
        ws.write_string(r, 3, "投诉").unwrap();
        ws.write_string(r, 4, "楼道灯不亮").unwrap();
        ws.write_datetime_with_format(r, 5, at(day, 9, 30), &date)
            .unwrap();
        ws.write_datetime_with_format(r, 6, at(day, 15, 0), &date)
            .unwrap();
        ws.write_datetime_with_format(r, 7, at(day + 1, 10, 0), &date)
            .unwrap();
        ws.write_string(r, 8, "满意").unwrap();
        ws.write_datetime_with_format(r, 9, at(day + 1, 10, 10), &date)
            .unwrap();
    }
    // Row 6 is empty; row 7 writes its intake as an unformatted serial (46211.375
    // is 2026-07-08 09:00) and its callback as text.
    ws.write_string(6, 0, "X-3").unwrap();
    ws.write_number(6, 1, 46211.375).unwrap();
    ws.write_string(6, 2, "翠湖花园").unwrap();
    ws.write_string(6, 3, "投诉").unwrap();
    ws.write_string(6, 4, "电梯异响").unwrap();
    ws.write_string(6, 5, "2026年7月8日 9时20分").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn xlsx_with_merged_headers_and_excel_dates() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("register.xlsx");
    workbook(&book);
    let map = dir.path().join("map.toml");
    std::fs::write(&map, XLSX_MAP).unwrap();
    let m = Mapping::load(&map).unwrap();
    let opts = import::Options {
        now: chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into(),
        encoding: None,
    };
    let reg = Register::open(&book, m, &opts).unwrap();
    assert!(reg.bad.is_empty(), "{:?}", reg.bad);
    assert_eq!((reg.rows, reg.tickets, reg.empty_rows), (4, 3, 1));
    assert_eq!(reg.note(), "sheet 跟进处理表");
    let tickets: Vec<_> = reg.tickets().unwrap().collect();
    assert_eq!(
        tickets[1].intake.estate, "gardens",
        "the merged estate cell covers row 5"
    );
    assert_eq!(tickets[0].opened.to_rfc3339(), "2026-07-06T01:00:00+00:00");
    assert_eq!(tickets[2].opened.to_rfc3339(), "2026-07-08T01:00:00+00:00");
    assert_eq!(
        tickets[2].actions[0].0.to_rfc3339(),
        "2026-07-08T01:20:00+00:00"
    );
    assert_eq!(tickets[0].actions.len(), 4);

    // Through the CLI into a database, verified.
    let db = fresh_db(dir.path());
    let (file, mapf) = (book.display().to_string(), map.display().to_string());
    let o = steward(dir.path(), &import_args(&db, &file, &mapf));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("imported 3 tickets"), "{out}");
    verify_clean(dir.path(), &db);

    // Naming the merged group alone is ambiguous, and the message says so.
    let group = dir.path().join("group.toml");
    std::fs::write(
        &group,
        XLSX_MAP.replace("\"处理情况/首次答复时间\"", "\"处理情况\""),
    )
    .unwrap();
    let err = Register::open(&book, Mapping::load(&group).unwrap(), &opts)
        .err()
        .unwrap();
    assert!(
        err.contains("header `处理情况` for `responded` is a merged cell over columns F:G"),
        "{err}"
    );
}

#[test]
fn a_stopped_import_resumes_and_ends_like_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let once = fresh_db(dir.path());
    let (file, map) = (
        sample().display().to_string(),
        mapping().display().to_string(),
    );
    assert!(
        steward(dir.path(), &import_args(&once, &file, &map))
            .status
            .success()
    );

    let twice_dir = tempfile::tempdir().unwrap();
    let twice = fresh_db(twice_dir.path());
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into();
    let reg = Register::open(
        &sample(),
        Mapping::load(&mapping()).unwrap(),
        &import::Options {
            now,
            encoding: None,
        },
    )
    .unwrap();
    {
        let mut svc = Service::open(Path::new(&twice)).unwrap();
        let from = db::admit(&svc, &reg).unwrap();
        assert_eq!(from, 0);
        let opts = db::Options {
            now,
            batch: 7,
            max_batches: Some(2),
        };
        let out = db::import(&mut svc, &reg, from, &opts).unwrap();
        assert_eq!(out.batches, 2);
        let p = db::progress(&svc).unwrap();
        assert_eq!((p[0].records, p[0].complete), (14, false));
        // Another register cannot start while this one is unfinished.
        let other = edited(twice_dir.path(), "other.csv", |t| t.replace("KS-", "KT-"));
        let reg2 = Register::open(
            &other,
            Mapping::load(&mapping()).unwrap(),
            &import::Options {
                now,
                encoding: None,
            },
        )
        .unwrap();
        assert!(
            db::admit(&svc, &reg2)
                .unwrap_err()
                .contains("stopped after 14 of 62 records")
        );
    }
    verify_clean(twice_dir.path(), &twice);
    let o = steward(twice_dir.path(), &import_args(&twice, &file, &map));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("resumed after 14 of 62 records written by an earlier run"),
        "{out}"
    );
    verify_clean(twice_dir.path(), &twice);
    let a = Service::open_read_only(Path::new(&once)).unwrap();
    let b = Service::open_read_only(Path::new(&twice)).unwrap();
    let ta = a.tickets(None, None, None).unwrap();
    let tb = b.tickets(None, None, None).unwrap();
    assert_eq!(ta.len(), 11);
    assert_eq!(ta, tb, "resuming gives the tickets one run gives");
}

#[test]
fn a_register_replays_directly_per_estate_with_overlays() {
    let dir = tempfile::tempdir().unwrap();
    let (file, map) = (
        sample().display().to_string(),
        mapping().display().to_string(),
    );
    let vk = root().join("policies/vk-shanghai").display().to_string();
    let gardens = root()
        .join("policies/vk-shanghai-gardens")
        .display()
        .to_string();
    let overlay = format!("B:gardens={gardens}");
    let base = [
        "--now",
        NOW,
        "--format",
        "json",
        "sim",
        "replay",
        "--history",
        &file,
        "--map",
        &map,
        "--policy",
        &vk,
        "--policy",
        &vk,
        "--estate-policy",
        &overlay,
    ];
    let o = steward(dir.path(), &base);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"][0]["opened"], 11);
    assert_eq!(
        v["policies"][1]["estates"]["gardens"]["id"],
        "vk-shanghai-gardens"
    );
    assert!(v["policies"][0].get("estates").is_none());
    let estates = v["estates"].as_object().unwrap();
    assert_eq!(estates["gardens"]["sides"][0]["tickets"], 7);
    // The 2 h vs 4 h report (L4): the burst pipe reported after 3 h differs.
    assert!(v["differing_total"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(estates["riverside"]["sides"][1]["tickets"], 4);
    // Only gardens has an overlay, so only gardens tickets can differ.
    assert_eq!(estates["riverside"]["differing"], 0);
    for d in v["differing"].as_array().unwrap() {
        assert_eq!(d["estate"], "gardens", "{d}");
    }

    let mut only = base.to_vec();
    only.extend(["--estate", "riverside"]);
    let o = steward(dir.path(), &only);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(v["estate"], "riverside");
    assert_eq!(v["stats"][0]["opened"], 4);
    assert_eq!(v["differing_total"], 0);
    assert_eq!(
        v["orphan_lines"], 0,
        "other estates' lines are left out, not orphans"
    );
    assert!(v["filtered_lines"].as_u64().unwrap() > 0);
    assert_eq!(v["estates"].as_object().unwrap().len(), 1);

    // The table names the estate of each differing ticket and breaks figures down per estate.
    let table: Vec<&str> = base
        .iter()
        .copied()
        .filter(|a| *a != "--format" && *a != "json")
        .collect();
    let o = steward(dir.path(), &table);
    let (out, _) = text(&o);
    assert!(
        out.contains("  estate gardens: vk-shanghai-gardens"),
        "{out}"
    );
    assert!(out.contains("per estate"), "{out}");
    assert!(
        out.contains("ticket  ") && out.contains("estate  "),
        "{out}"
    );

    // The register written out as a history replays to the same figures.
    let hist = dir.path().join("h.csv").display().to_string();
    let o = steward(
        dir.path(),
        &["--now", NOW, "import", &file, "--map", &map, "--out", &hist],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = steward(
        dir.path(),
        &[
            "--format",
            "json",
            "sim",
            "replay",
            "--history",
            &hist,
            "--policy",
            &vk,
            "--policy",
            &vk,
            "--estate-policy",
            &overlay,
        ],
    );
    let mut w: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    let mut v = v_full(&dir, &base);
    // Refusals name history lines in one and register rows in the other.
    for x in [&mut w, &mut v] {
        for s in x["stats"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("refusal_sample");
        }
    }
    assert_eq!(w["stats"], v["stats"]);
    assert_eq!(w["estates"], v["estates"]);
    assert_eq!(w["differing_total"], v["differing_total"]);
}

fn v_full(dir: &tempfile::TempDir, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&text(&steward(dir.path(), args)).0).unwrap()
}

#[test]
fn estate_policy_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (file, map) = (
        sample().display().to_string(),
        mapping().display().to_string(),
    );
    let vk = root().join("policies/vk-shanghai").display().to_string();
    for (flag, want) in [
        ("gardens", "expected ESTATE=PATH"),
        (
            "B:gardens=x",
            "names side B, but only one --policy was given",
        ),
    ] {
        let o = steward(
            dir.path(),
            &[
                "--now",
                NOW,
                "sim",
                "replay",
                "--history",
                &file,
                "--map",
                &map,
                "--policy",
                &vk,
                "--estate-policy",
                flag,
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o).1.contains(want), "{:?}", text(&o));
    }
}

#[test]
fn a_register_out_of_intake_order_gives_the_same_time_ordered_records() {
    let dir = tempfile::tempdir().unwrap();
    let reversed = edited(dir.path(), "reversed.csv", |t| {
        let lines: Vec<&str> = t.lines().collect();
        let (head, rows) = lines.split_at(2);
        let mut out: Vec<&str> = head.to_vec();
        out.extend(rows.iter().rev());
        out.join("\n") + "\n"
    });
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into();
    let read = |path: &Path| {
        let reg = Register::open(
            path,
            Mapping::load(&mapping()).unwrap(),
            &import::Options {
                now,
                encoding: None,
            },
        )
        .unwrap();
        let sorted = reg.sorted;
        let recs: Vec<_> = reg
            .records()
            .unwrap()
            .map(|r| (r.at, r.ticket, format!("{:?}", r.op)))
            .collect();
        (sorted, recs)
    };
    let (a_sorted, a) = read(&sample());
    let (b_sorted, b) = read(&reversed);
    assert!(a_sorted && !b_sorted);
    assert_eq!(a.len(), 62);
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
}
