#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The quarterly report over generated logs of 100k, 300k and (on request) 1M
//! tickets, to show that report time grows linearly with the log.
//!
//! The logs are written straight into a temporary SQLite store — the real
//! schema and hash chain, one `policy_applied` event and the stored
//! vk-shanghai policy, then about 9.5 events per ticket shaped like the
//! engine's (opened, classified, clock started, milestone, respond, clock met
//! or breached + escalated, resolved, revisit scheduled/done for repairs,
//! closed), all tickets inside 2026Q3 across 20 estates and 30 specialists.
//! Going through the engine would take hours at 1M tickets on two cores and
//! measure the engine, not the report. Generation is outside the timing; the
//! databases are kept in `target/bench-report/` and reused.
//!
//! ```sh
//! cargo bench --bench report                                          # 100k, 300k
//! STEWARD_REPORT_SIZES=100000,300000,1000000 cargo bench --bench report
//! ```
//!
//! Measured on the shared 2-core dev box (release, 10 samples each), see
//! `docs/reports.md` for the table.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use steward::engine::{Decision, Fact, OpenTicket};
use steward::policy::embedded;
use steward::report::{self, PeriodSpec, ReportKind, Request};
use steward::service::Service;
use steward::store::{NewEvent, Store};

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Writes a log of `n` tickets into a new database at `path`.
fn generate(path: &Path, n: u64) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let start = t("2026-07-01T00:00:00+08:00");
    let quarter_minutes = 92 * 24 * 60 - 3 * 24 * 60;
    let fp = {
        let mut svc = Service::open(path).unwrap();
        let policy = embedded::load("vk-shanghai").ok().unwrap().policy;
        svc.apply_policy(
            &policy,
            Some("embedded:vk-shanghai"),
            None,
            start - chrono::Duration::days(1),
        )
        .unwrap()
        .fingerprint
    };
    let mut store = Store::open(path).unwrap();
    let mut rng = Rng(42);
    let mut i = 0;
    while i < n {
        let batch = (n - i).min(20_000);
        store
            .write(|tx| -> Result<(), steward::store::StoreError> {
                for _ in 0..batch {
                    let id = format!("T{i:07}");
                    let opened =
                        start + chrono::Duration::minutes((i * quarter_minutes / n) as i64);
                    for d in ticket(&mut rng, &id, opened) {
                        let payload = serde_json::to_string(&d).unwrap();
                        tx.append_event(&NewEvent {
                            ticket: Some(&id),
                            at: d.at,
                            kind: d.fact.kind(),
                            payload: &payload,
                            fingerprint: &fp,
                            rule: d.rule.as_deref(),
                        })?;
                    }
                    i += 1;
                }
                Ok(())
            })
            .unwrap();
    }
}

/// The decisions of one generated ticket.
fn ticket(rng: &mut Rng, id: &str, opened: DateTime<Utc>) -> Vec<Decision> {
    let kinds = [
        "repair",
        "repair",
        "repair",
        "repair",
        "repair",
        "complaint",
        "complaint",
        "complaint",
        "inquiry",
        "suggestion",
    ];
    let kind = kinds[rng.below(10) as usize];
    let estate = format!("estate-{:02}", rng.below(20));
    let by = format!("专员{:02}", rng.below(30));
    let (category, route, limit) = match kind {
        "repair" => (
            ["repair.general", "repair.leak", "repair.safety"][rng.below(3) as usize],
            "engineering",
            "L2.repair",
        ),
        "complaint" => ("complaint.direct", "customer_service", "L1"),
        "inquiry" => ("inquiry.general", "customer_service", "L2.inquiry"),
        _ => ("suggestion.general", "customer_service", "L1"),
    };
    let m = |minutes: u64| opened + chrono::Duration::minutes(minutes as i64);
    let d = |at: DateTime<Utc>, fact: Fact, rule: Option<&str>| Decision {
        at,
        fact,
        rule: rule.map(str::to_owned),
    };
    let mut out = vec![
        d(
            opened,
            Fact::Opened {
                intake: OpenTicket {
                    id: id.to_owned(),
                    estate,
                    channel: "hotline".into(),
                    kind: kind.into(),
                    text: "生成的工单：客厅灯具不亮".into(),
                    ..OpenTicket::default()
                }
                .into(),
                fingerprint: "generated".into(),
            },
            None,
        ),
        d(
            opened,
            Fact::Classified {
                category: category.into(),
                class: None,
                emergency: false,
                major: false,
                route: Some(route.into()),
                matched: None,
                hook: None,
            },
            Some(category),
        ),
        d(
            opened,
            Fact::ClockStarted {
                limit: limit.into(),
                milestone: "first_response".into(),
                within: "24h".parse().unwrap(),
                start: opened,
                deadline: m(24 * 60),
                warn_at: None,
                total_minutes: 24 * 60,
            },
            Some(limit),
        ),
    ];
    let late = rng.below(10) == 0;
    if late {
        out.push(d(
            m(24 * 60),
            Fact::Breached {
                limit: limit.into(),
                deadline: m(24 * 60),
            },
            Some(limit),
        ));
        out.push(d(
            m(24 * 60),
            Fact::Escalated {
                from: "specialist".into(),
                to: "service_center".into(),
                notify: vec!["service_center".into()],
            },
            Some(limit),
        ));
    }
    let respond = if late { 26 * 60 } else { 30 + rng.below(600) };
    out.push(d(
        m(respond),
        Fact::ActionRecorded {
            action: "respond".into(),
            by,
            note: String::new(),
        },
        None,
    ));
    out.push(d(
        m(respond),
        Fact::MilestoneReached {
            milestone: "first_response".into(),
        },
        None,
    ));
    out.push(d(
        m(respond),
        Fact::ClockMet {
            limit: limit.into(),
            on_time: !late,
        },
        Some(limit),
    ));
    let resolved = respond + 60 + rng.below(3 * 24 * 60);
    out.push(d(
        m(resolved),
        Fact::Resolved {
            note: "done".into(),
        },
        None,
    ));
    if kind == "repair" {
        let due = m(resolved + 2 * 24 * 60);
        out.push(d(
            m(resolved),
            Fact::RevisitScheduled {
                slot: 0,
                key: "V2#1".into(),
                due: Some(due),
                event: None,
            },
            Some("V2"),
        ));
        if rng.below(20) != 0 {
            let at = m(resolved + 60 + rng.below(24 * 60));
            out.push(d(
                at,
                Fact::RevisitDone {
                    slot: Some(0),
                    key: "V2#1".into(),
                    ok: true,
                    channel: "phone".into(),
                    note: String::new(),
                },
                Some("V2"),
            ));
        }
    }
    if rng.below(10) != 0 {
        let invalid = (kind == "complaint" && rng.below(20) == 0).then(|| "无责".to_owned());
        out.push(d(
            m(resolved + 3 * 24 * 60),
            Fact::Closed { invalid },
            Some("V6"),
        ));
    }
    out
}

fn database(n: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-report");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{n}.db"));
    let marker = dir.join(format!("{n}.done"));
    if !marker.exists() {
        let t0 = Instant::now();
        generate(&path, n);
        std::fs::write(&marker, "").unwrap();
        eprintln!("generated {n} tickets in {:.1?}", t0.elapsed());
    }
    path
}

fn request() -> Request {
    Request {
        kind: ReportKind::Quarterly,
        period: PeriodSpec::Quarter(2026, 3),
        estate: None,
        households: (0..20).map(|e| (format!("estate-{e:02}"), 2000)).collect(),
        now: t("2026-10-08T09:00:00+08:00"),
    }
}

fn bench(c: &mut Criterion) {
    let sizes: Vec<u64> = std::env::var("STEWARD_REPORT_SIZES")
        .unwrap_or_else(|_| "100000,300000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut group = c.benchmark_group("quarterly_report");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100));
    for n in sizes {
        let path = database(n);
        let store = Store::open_read_only(&path).unwrap();
        let r = report::generate(&store, &request()).unwrap();
        assert_eq!(r.tickets.opened, n, "every generated ticket is in 2026Q3");
        group.measurement_time(Duration::from_secs_f64(n as f64 / 100_000.0 * 15.0));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(report::generate(&store, &request()).unwrap()));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
