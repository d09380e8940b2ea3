#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Reports on a small known log (built through the service with the embedded
//! vk-shanghai policy, at fixed times) with exact figures: counts, close rates
//! per specialist (K3), the valid-complaint rate against households (K4), the
//! revisit rate (V1), breaches and escalations; reproducibility when the log
//! grows after the period; bad input (empty period, unknown estate, reversed
//! range) as clear errors with exit code 2; CSV that parses; HTML with three
//! SVG charts holding data.

use std::path::Path;

use chrono::{DateTime, Utc};
use steward::engine::{Command, OpenTicket};
use steward::policy::{embedded, model::Action};
use steward::report::{self, Households, PeriodReport, PeriodSpec, ReportKind, Request};
use steward::service::Service;
use tempfile::TempDir;

use crate::cli_support;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn at(day: u32, hm: &str) -> DateTime<Utc> {
    t(&format!("2026-07-{day:02}T{hm}:00+08:00"))
}

fn open(svc: &mut Service, id: &str, estate: &str, kind: &str, text: &str, when: DateTime<Utc>) {
    let intake = OpenTicket {
        id: id.into(),
        estate: estate.into(),
        kind: kind.into(),
        text: text.into(),
        class: if kind == "complaint" { 1 } else { 0 },
        ..OpenTicket::default()
    };
    svc.open_ticket(intake, when).unwrap();
}

fn act(svc: &mut Service, id: &str, action: Action, by: &str, note: &str, when: DateTime<Utc>) {
    let cmd = Command::Act {
        action,
        by: by.into(),
        note: note.into(),
    };
    svc.execute(id, &cmd, when).unwrap();
}

fn run(svc: &mut Service, id: &str, cmd: Command, when: DateTime<Utc>) {
    svc.execute(id, &cmd, when).unwrap();
}

fn revisit(ok: bool) -> Command {
    Command::Revisit {
        ok,
        channel: "phone".into(),
        note: String::new(),
    }
}

fn resolve() -> Command {
    Command::Resolve {
        note: "done".into(),
    }
}

/// The week of Monday 2026-07-06 at two estates:
/// - C1 riverside complaint, 张三 responds and plans, resolved, called back, closed;
/// - C2 riverside complaint, 李四 responds, closed invalid (D5);
/// - C3 gardens complaint nobody answers: L1 breaches, escalates to the service center;
/// - R1 riverside repair resolved Tuesday, revisited Wednesday;
/// - R2 riverside safety repair resolved Saturday: revisit due Monday, after the week;
/// - R3 gardens safety repair resolved Wednesday, never revisited (overdue Friday);
/// - I1 riverside inquiry answered.
fn build(svc: &mut Service) {
    let policy = embedded::load("vk-shanghai").ok().unwrap().policy;
    svc.apply_policy(&policy, Some("embedded:vk-shanghai"), None, at(1, "09:00"))
        .unwrap();

    open(
        svc,
        "C1",
        "riverside",
        "complaint",
        "电梯运行噪音大",
        at(6, "09:00"),
    );
    act(svc, "C1", Action::Respond, "张三", "", at(6, "09:30"));
    act(
        svc,
        "C1",
        Action::Plan,
        "张三",
        "周三前更换减震垫",
        at(6, "10:00"),
    );
    open(
        svc,
        "C2",
        "riverside",
        "complaint",
        "投诉楼下商铺油烟",
        at(6, "11:00"),
    );
    act(svc, "C2", Action::Respond, "李四", "", at(6, "11:20"));
    run(
        svc,
        "C2",
        Command::Close {
            invalid: Some("油烟检测合格".into()),
        },
        at(6, "15:00"),
    );
    open(
        svc,
        "R1",
        "riverside",
        "repair",
        "客厅灯具不亮",
        at(6, "14:00"),
    );
    act(svc, "R1", Action::Respond, "王工", "", at(6, "14:10"));

    open(
        svc,
        "C3",
        "gardens",
        "complaint",
        "垃圾清运不及时",
        at(7, "09:00"),
    );
    run(svc, "R1", resolve(), at(7, "10:00"));
    act(svc, "C1", Action::Update, "张三", "", at(7, "09:40"));
    run(svc, "C1", resolve(), at(7, "16:00"));
    run(svc, "C1", revisit(true), at(7, "17:00"));
    run(svc, "C1", Command::Close { invalid: None }, at(7, "17:10"));

    open(
        svc,
        "R3",
        "gardens",
        "repair",
        "单元门禁损坏",
        at(8, "08:00"),
    );
    run(svc, "R3", resolve(), at(8, "10:00"));
    run(svc, "R1", revisit(true), at(8, "10:30"));
    open(
        svc,
        "I1",
        "riverside",
        "inquiry",
        "物业费缴纳方式",
        at(9, "09:00"),
    );
    act(svc, "I1", Action::Respond, "赵六", "", at(9, "09:30"));
    open(
        svc,
        "R2",
        "riverside",
        "repair",
        "消防栓漏水",
        at(10, "09:00"),
    );
    run(svc, "R2", resolve(), at(11, "10:00"));
    svc.tick(at(12, "23:00")).unwrap();
}

fn request(kind: ReportKind, period: PeriodSpec, households: &[(&str, u64)]) -> Request {
    let mut h = Households::new();
    for (e, n) in households {
        h.insert((*e).to_owned(), *n);
    }
    Request {
        kind,
        period,
        estate: None,
        households: h,
        now: at(20, "09:00"),
    }
}

fn week() -> PeriodSpec {
    PeriodSpec::WeekOf(report::parse_date("2026-07-08").unwrap())
}

fn weekly(svc: &Service) -> PeriodReport {
    report::generate(
        svc.store(),
        &request(ReportKind::Weekly, week(), &[("riverside", 1000)]),
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn weekly_figures_on_a_known_log() {
    let mut svc = Service::in_memory().unwrap();
    build(&mut svc);
    let r = weekly(&svc);

    assert_eq!(r.period.first_day.to_string(), "2026-07-06");
    assert_eq!(r.period.last_day.to_string(), "2026-07-12");
    assert_eq!(r.due.as_deref(), Some("2026-07-13 (K2: every Monday)"));
    assert_eq!(r.tickets.opened, 7);
    assert_eq!(
        (
            r.tickets.by_kind.complaint,
            r.tickets.by_kind.repair,
            r.tickets.by_kind.inquiry
        ),
        (3, 3, 1)
    );

    // D5: C2 is invalid; C1 and C2 are closed.
    assert_eq!(
        (
            r.complaints.opened,
            r.complaints.valid,
            r.complaints.invalid
        ),
        (3, 2, 1)
    );
    assert_eq!(r.complaints.closed, 2);
    assert!(close(r.complaints.close_rate.unwrap(), 2.0 / 3.0));

    // K3 per specialist: the `by` of the first respond/plan.
    let spec: Vec<(&str, u64, u64)> = r
        .specialists
        .iter()
        .map(|s| (s.name.as_str(), s.complaints, s.complaints_closed))
        .collect();
    assert_eq!(
        spec,
        vec![("unassigned", 1, 0), ("张三", 1, 1), ("李四", 1, 1)]
    );
    let cs = r
        .departments
        .iter()
        // P1 (000 §5.2.2.3): complaints the specialist handles directly go to the
        // property-management department.
        .find(|d| d.name == "property_management")
        .unwrap();
    assert_eq!((cs.complaints, cs.complaints_closed), (3, 2));
    let eng = r
        .departments
        .iter()
        .find(|d| d.name == "engineering")
        .unwrap();
    assert_eq!((eng.tickets, eng.tickets_closed, eng.complaints), (3, 0, 0));
    assert_eq!(
        eng.complaint_close_rate, None,
        "no complaints: no rate, not 0 %"
    );

    // K4: riverside has 1 valid complaint (C1) in 7 days for 1,000 households.
    let riverside = r
        .valid_rate
        .estates
        .iter()
        .find(|e| e.estate == "riverside")
        .unwrap();
    assert_eq!(riverside.valid, 1);
    assert!(close(
        riverside.per_mille_per_year.unwrap(),
        1.0 / 1000.0 / (7.0 / 365.0) * 1000.0
    ));
    assert_eq!(riverside.meets_target, Some(false));
    let gardens = r
        .valid_rate
        .estates
        .iter()
        .find(|e| e.estate == "gardens")
        .unwrap();
    assert_eq!(
        (
            gardens.valid,
            gardens.households,
            gardens.per_mille_per_year
        ),
        (1, None, None)
    );
    assert!(
        r.valid_rate.overall.is_none(),
        "gardens' households are unknown"
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("households unknown for gardens")),
        "{:?}",
        r.notes
    );

    // V1: R1 revisited, R2 not yet due (Monday 07-13), R3 missed and overdue.
    assert_eq!(
        (
            r.revisits.resolved_repairs,
            r.revisits.revisited,
            r.revisits.not_yet_due
        ),
        (3, 1, 1)
    );
    assert!(close(r.revisits.rate.unwrap(), 0.5));
    assert_eq!(r.revisits.overdue, 1);

    // C3 never answered: L1 breached once and escalated specialist → service center.
    let l1 = r.limits.iter().find(|l| l.limit == "L1").unwrap();
    assert_eq!(
        (l1.on_time, l1.breached),
        (2, 1),
        "C1 and C2 answered in time, C3 not"
    );
    let sc = r
        .escalations
        .iter()
        .find(|s| s.step == "service_center")
        .unwrap();
    assert_eq!(sc.count, 1);
    let l3 = r.limits.iter().find(|l| l.limit == "L3").unwrap();
    assert_eq!(
        (l3.on_time, l3.breached),
        (1, 1),
        "C1 planned in time; C3 did not"
    );

    // The policy in force is named by fingerprint.
    let fp = steward::policy::fingerprint(&embedded::load("vk-shanghai").ok().unwrap().policy);
    assert_eq!(r.policies.len(), 1);
    assert_eq!(r.policies[0].fingerprint, fp);
    assert_eq!(r.policies[0].id.as_deref(), Some("vk-shanghai"));
    assert_eq!(r.policies[0].scopes, vec!["company".to_owned()]);

    // Series: 3 tickets opened Monday, the revisit bucket of Tuesday holds R1.
    assert_eq!(r.series.len(), 7);
    assert_eq!(r.series[0].opened.total(), 3);
    assert_eq!((r.series[1].resolved, r.series[1].revisited), (1, 1));
    assert_eq!(r.top_estates[0].name, "riverside");
    assert_eq!(r.top_estates[0].count, 5);
}

#[test]
fn daily_report_lists_new_complaints_with_plans_and_deadlines() {
    let mut svc = Service::in_memory().unwrap();
    build(&mut svc);
    let day = PeriodSpec::Day(report::parse_date("2026-07-06").unwrap());
    let r = report::generate(svc.store(), &request(ReportKind::Daily, day, &[])).unwrap();
    assert_eq!(
        r.due.as_deref(),
        Some("2026-07-07 12:00 (K1, L3: before noon the next day)")
    );
    let lines: Vec<&str> = r.new_complaints.iter().map(|l| l.ticket.as_str()).collect();
    assert_eq!(
        lines,
        vec!["C1", "C2"],
        "ordered by specialist: 张三 before 李四"
    );
    let c1 = &r.new_complaints[0];
    assert_eq!(c1.specialist, "张三");
    assert_eq!(c1.first_response.as_deref(), Some("2026-07-06 09:30"));
    assert_eq!(c1.plan.as_deref(), Some("2026-07-06 10:00"));
    assert_eq!(c1.plan_note.as_deref(), Some("周三前更换减震垫"));
    assert_eq!(
        c1.plan_due.as_deref(),
        Some("2026-07-07 09:00"),
        "L3: 24 h from intake"
    );
    assert!(
        c1.committed
            .as_deref()
            .is_some_and(|c| c.starts_with("2026-07-07")),
        "{:?}",
        c1.committed
    );
    assert_eq!(c1.status, "open", "as of the end of the day");
    assert_eq!(r.new_complaints[1].status, "closed invalid");
}

#[test]
fn events_after_the_period_do_not_change_it() {
    let mut svc = Service::in_memory().unwrap();
    build(&mut svc);
    let before = report::render::json(&weekly(&svc));
    // A week later: more breaches, revisits, a new ticket.
    svc.tick(at(20, "09:00")).unwrap();
    run(&mut svc, "R2", revisit(true), at(20, "10:00"));
    open(
        &mut svc,
        "C9",
        "riverside",
        "complaint",
        "新的投诉",
        at(20, "11:00"),
    );
    let after = report::render::json(&weekly(&svc));
    assert_eq!(before, after);
}

#[test]
fn estate_filter_keeps_one_estate() {
    let mut svc = Service::in_memory().unwrap();
    build(&mut svc);
    let mut req = request(ReportKind::Weekly, week(), &[("gardens", 500)]);
    req.estate = Some("gardens".into());
    let r = report::generate(svc.store(), &req).unwrap();
    assert_eq!(r.tickets.opened, 2);
    assert_eq!((r.complaints.opened, r.complaints.valid), (1, 1));
    assert_eq!(r.valid_rate.estates.len(), 1);
    assert_eq!(r.valid_rate.estates[0].households, Some(500));
    assert_eq!(r.revisits.resolved_repairs, 1);
}

#[test]
fn aggregator_folds_plain_decisions() {
    // The fold is pure: the same figures from the decisions alone.
    let mut svc = Service::in_memory().unwrap();
    build(&mut svc);
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let period = report::Period::resolve(
        ReportKind::Weekly,
        &week(),
        tz,
        at(20, "09:00").date_naive(),
    )
    .unwrap();
    let mut agg = report::Aggregator::new(period, None, false);
    for id in ["C1", "C2", "R1", "C3", "R3", "I1", "R2"] {
        for d in svc.ticket(id).unwrap().1 {
            agg.push(id, "fp", &d);
        }
    }
    let r = report::finish(
        agg,
        ReportKind::Weekly,
        &Households::new(),
        &Default::default(),
    );
    assert_eq!(r.tickets.opened, 7);
    assert_eq!((r.complaints.valid, r.complaints.invalid), (2, 1));
    assert_eq!((r.revisits.resolved_repairs, r.revisits.revisited), (3, 1));
}

// ---- the CLI -------------------------------------------------------------

fn db() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("r.db");
    let mut svc = Service::open(&path).unwrap();
    build(&mut svc);
    (dir, path)
}

fn steward(db: &Path, args: &[&str]) -> (i32, String, String) {
    cli_support::run_at(db, "2026-07-20T09:00:00+08:00", args)
}

#[test]
fn cli_bad_input_is_a_clear_error_with_exit_2() {
    let (_dir, db) = db();
    let cases: &[(&[&str], &str)] = &[
        (
            &["report", "weekly", "--estate", "nowhere"],
            "unknown estate `nowhere`: the log has tickets from `gardens`, `riverside`",
        ),
        (
            &[
                "report",
                "weekly",
                "--from",
                "2026-07-12",
                "--to",
                "2026-07-06",
            ],
            "the range is reversed",
        ),
        (&["report", "quarterly", "2026Q7"], "bad quarter `2026Q7`"),
        (&["report", "daily", "07/06/2026"], "bad date `07/06/2026`"),
        (
            &["report", "weekly", "--households", "riverside"],
            "expected ESTATE=N",
        ),
        // Each command's --format offers only what it prints; clap refuses the rest.
        (
            &["--format", "toml", "report", "weekly"],
            "invalid value 'toml' for '--format <FORMAT>'",
        ),
        (
            &["--format", "csv", "ticket", "list"],
            "[possible values: table, json]",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = steward(&db, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) = steward(Path::new("/nonexistent/x.db"), &["report", "weekly"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn cli_table_json_and_csv() {
    let (_dir, db) = db();
    let (code, out, err) = steward(
        &db,
        &[
            "report",
            "weekly",
            "2026-07-06",
            "--households",
            "riverside=1000",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2026-W28"), "{out}");
    assert!(out.contains("张三"), "{out}");
    assert!(out.contains("52.143 ‰"), "{out}");

    let (code, out, err) = steward(&db, &["--format", "json", "report", "weekly", "2026-07-06"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["complaints"]["opened"], 3);

    let (code, out, err) = steward(&db, &["--format", "csv", "report", "daily", "2026-07-06"]);
    assert_eq!(code, 0, "{err}");
    let rows = parse_csv(&out);
    assert_eq!(rows[0], ["section", "name", "metric", "value"]);
    assert!(rows.iter().all(|r| r.len() == 4), "every row has 4 cells");
    let find = |s: &str, n: &str, m: &str| {
        rows.iter()
            .find(|r| r[0] == s && r[1] == n && r[2] == m)
            .map(|r| r[3].clone())
            .unwrap_or_else(|| panic!("no row {s},{n},{m}"))
    };
    assert_eq!(find("complaints", "all", "opened"), "2");
    assert_eq!(find("new_complaint", "C1", "plan_note"), "周三前更换减震垫");
    assert_eq!(find("specialist", "张三", "complaints"), "1");
}

/// A strict RFC 4180 reader: quoted cells, doubled quotes, CRLF rows.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CR without LF"),
            (false, '\n') => panic!("bare LF"),
            (false, '"') => panic!("quote inside an unquoted cell"),
            (false, c) => cell.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut cell));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "unterminated CSV"
    );
    rows
}

#[test]
fn cli_html_is_one_file_with_three_charts() {
    let (dir, db) = db();
    let file = dir.path().join("q.html");
    let (code, _, err) = steward(
        &db,
        &[
            "--format",
            "html",
            "report",
            "quarterly",
            "2026Q3",
            "--lang",
            "en",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 3, "three charts");
    for id in ["chart-tickets", "chart-on-time", "chart-revisits"] {
        let start = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"));
        let chart = &html[start..start + html[start..].find("</svg>").unwrap()];
        assert!(
            chart.contains("<rect") || chart.contains("<circle"),
            "{id} has no data"
        );
    }
    assert!(
        html.contains("<title>2026-07-01 (+6 days): 3 complaint</title>"),
        "quarterly buckets are 7 days from the 1st"
    );
    assert!(!html.contains("<script"), "no scripts");
    assert!(
        !html.contains("http://") || html.matches("http://").count() == 3,
        "only the SVG namespace"
    );
}

#[test]
fn html_escapes_user_text() {
    let mut svc = Service::in_memory().unwrap();
    let policy = embedded::load("vk-shanghai").ok().unwrap().policy;
    svc.apply_policy(&policy, None, None, at(1, "09:00"))
        .unwrap();
    open(
        &mut svc,
        "<b>x</b>",
        "<script>alert(1)</script>",
        "complaint",
        "\"><img src=x>",
        at(6, "09:00"),
    );
    act(
        &mut svc,
        "<b>x</b>",
        Action::Respond,
        "<i>who</i>",
        "",
        at(6, "09:10"),
    );
    let day = PeriodSpec::Day(report::parse_date("2026-07-06").unwrap());
    let r = report::generate(svc.store(), &request(ReportKind::Daily, day, &[])).unwrap();
    let html = report::render::html(&r);
    for raw in ["<script>", "<img", "<b>x", "<i>who"] {
        assert!(!html.contains(raw), "{raw} is not escaped");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
