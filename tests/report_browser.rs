//! The HTML report rendered by a real browser: headless Chromium loads the file,
//! and the DOM it builds must hold the three SVG charts with their bars and
//! points; a screenshot must come out. Skipped, with a note, when
//! `/usr/bin/chromium` is not installed (`.ci/run` installs it where apt works).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use steward::engine::{Command as Cmd, OpenTicket};
use steward::policy::{embedded, model::Action};
use steward::report::{self, PeriodSpec, ReportKind, Request};
use steward::service::Service;

const CHROMIUM: &str = "/usr/bin/chromium";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn report_html() -> String {
    let mut svc = Service::in_memory().unwrap();
    let policy = embedded::load("vk-shanghai").ok().unwrap().policy;
    svc.apply_policy(&policy, None, None, at("2026-07-01T09:00:00+08:00"))
        .unwrap();
    let tickets = [
        ("R1", "repair", "客厅灯具不亮", "2026-07-06T09:00:00+08:00"),
        (
            "C1",
            "complaint",
            "电梯运行噪音大",
            "2026-07-06T10:00:00+08:00",
        ),
        (
            "R2",
            "repair",
            "厨房水龙头坏了",
            "2026-07-07T09:00:00+08:00",
        ),
        (
            "I1",
            "inquiry",
            "物业费缴纳方式",
            "2026-07-08T09:00:00+08:00",
        ),
    ];
    for (id, kind, text, when) in tickets {
        let intake = OpenTicket {
            id: id.into(),
            estate: "riverside".into(),
            kind: kind.into(),
            text: text.into(),
            ..OpenTicket::default()
        };
        svc.open_ticket(intake, at(when)).unwrap();
        let respond = Cmd::Act {
            action: Action::Respond,
            by: "张三".into(),
            note: String::new(),
        };
        svc.execute(id, &respond, at(when) + chrono::Duration::minutes(20))
            .unwrap();
    }
    let resolve = Cmd::Resolve { note: "ok".into() };
    svc.execute("R1", &resolve, at("2026-07-07T10:00:00+08:00"))
        .unwrap();
    let revisit = Cmd::Revisit {
        ok: true,
        channel: "phone".into(),
        note: String::new(),
    };
    svc.execute("R1", &revisit, at("2026-07-08T10:00:00+08:00"))
        .unwrap();
    svc.tick(at("2026-07-12T23:00:00+08:00")).unwrap();
    let req = Request {
        kind: ReportKind::Weekly,
        period: PeriodSpec::WeekOf(report::parse_date("2026-07-06").unwrap()),
        estate: None,
        households: [("riverside".to_owned(), 1000)].into(),
        now: at("2026-07-13T09:00:00+08:00"),
    };
    report::render::html(&report::generate(svc.store(), &req).unwrap())
}

/// Runs chromium headless with `extra` flags on `file`; `None` on a timeout.
fn chromium(file: &Path, extra: &[&str]) -> Option<(bool, String)> {
    let profile = tempfile::TempDir::new().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status.success(), reader.join().unwrap_or_default()));
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn chromium_renders_the_three_charts() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("weekly.html");
    std::fs::write(&file, report_html()).unwrap();

    let (ok, dom) = chromium(&file, &["--dump-dom"]).expect("chromium --dump-dom timed out");
    assert!(ok, "chromium failed");
    assert!(dom.contains("weekly statistics"), "{dom}");
    for id in ["chart-tickets", "chart-on-time", "chart-revisits"] {
        let start = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} not in the DOM"));
        let svg_start = dom[..start].rfind("<svg").expect("inside an <svg>");
        let chart = &dom[svg_start..start + dom[start..].find("</svg>").expect("closed")];
        let marks = chart.matches("<rect").count() + chart.matches("<circle").count();
        assert!(marks >= 2, "{id} has no bars or points: {chart}");
    }
    assert_eq!(dom.matches("<svg").count(), 3);

    let png = dir.path().join("weekly.png");
    let shot = format!("--screenshot={}", png.display());
    let (ok, _) =
        chromium(&file, &[&shot, "--window-size=1000,2400"]).expect("screenshot timed out");
    assert!(ok, "chromium --screenshot failed");
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}
