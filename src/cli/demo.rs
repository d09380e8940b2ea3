//! `steward demo`: the main job on the embedded default. A fresh database, the
//! shipped vk-shanghai policy company-wide and its gardens overlay for one estate,
//! and a simulated week of tickets across two estates: an elevator entrapment
//! (emergency, revisits at 24 h and +2 days), a leak fixed before rain (revisit
//! after the rain), a major complaint nobody answers (escalates up the ladder), an
//! invalid complaint, and a repair whose revisit finds a problem (reopen, V5).

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};

use crate::engine::{Command, Decision, OpenTicket};
use crate::policy::{self, embedded, model::Action};
use crate::service::{AppError, Service};

use super::args::{Format, Global};
use super::{EXIT_INPUT, EXIT_OK, output, timeline};

enum Step {
    Open(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
    Do(&'static str, Command),
    Rain(&'static str),
}

fn act(action: Action, by: &str) -> Command {
    Command::Act {
        action,
        by: by.into(),
        note: String::new(),
    }
}

fn revisit(ok: bool, note: &str) -> Command {
    Command::Revisit {
        ok,
        channel: "phone".into(),
        note: note.into(),
    }
}

/// (minutes after Monday 2026-07-06 09:00 Shanghai, step)
fn script() -> Vec<(i64, Step)> {
    use Step::*;
    vec![
        (
            0,
            Open(
                "T1",
                "riverside",
                "repair",
                "hotline",
                "3号楼2单元电梯困人，业主被困轿厢",
            ),
        ),
        (8, Do("T1", act(Action::Respond, "王工"))),
        (
            15,
            Do(
                "T1",
                Command::Assign {
                    department: "engineering".into(),
                    tier: "L2".into(),
                    lead: None,
                },
            ),
        ),
        (
            60,
            Open(
                "T2",
                "gardens",
                "repair",
                "app",
                "卫生间天花板渗水，楼上疑似防水层破损",
            ),
        ),
        (70, Do("T1", act(Action::Report, "李专员"))),
        (90, Do("T2", act(Action::Respond, "客服"))),
        (
            120,
            Open(
                "T3",
                "riverside",
                "complaint",
                "hotline",
                "多户业主投诉夜间施工噪音扰民",
            ),
        ),
        (
            150,
            Do(
                "T1",
                Command::Resolve {
                    note: "更换曳引机制动器，恢复运行".into(),
                },
            ),
        ),
        (
            200,
            Open(
                "T4",
                "gardens",
                "complaint",
                "front_desk",
                "投诉楼下商铺油烟",
            ),
        ),
        (230, Do("T4", act(Action::Respond, "客服"))),
        (
            260,
            Do(
                "T4",
                Command::Close {
                    invalid: Some("油烟检测合格，已向业主出示检测报告并解释".into()),
                },
            ),
        ),
        (
            300,
            Open("T5", "riverside", "repair", "wechat", "客厅灯具不亮"),
        ),
        (320, Do("T5", act(Action::Respond, "客服"))),
        (
            330,
            Do(
                "T5",
                Command::Pause {
                    reason: "waiting_owner".into(),
                },
            ),
        ),
        (
            360,
            Do(
                "T2",
                Command::Resolve {
                    note: "楼上卫生间重做防水".into(),
                },
            ),
        ),
        (1440, Do("T5", Command::Resume)),
        (
            1500,
            Do(
                "T5",
                Command::Resolve {
                    note: "更换镇流器".into(),
                },
            ),
        ),
        (1460, Do("T1", revisit(true, "运行正常"))),
        (2880 + 420, Rain("gardens")),
        (2880 + 1440, Do("T5", revisit(false, "灯具仍闪烁"))),
        (2880 + 1500, Do("T5", act(Action::Notice, "李专员"))),
        (4320, Do("T2", revisit(true, "天花板干燥"))),
        (4330, Do("T2", revisit(true, "雨后复查无渗水"))),
        (4340, Do("T2", Command::Close { invalid: None })),
        (4290, Do("T1", revisit(true, "二次回访正常"))),
        (4300, Do("T1", Command::Close { invalid: None })),
        (
            5760,
            Do(
                "T5",
                Command::Resolve {
                    note: "更换整套灯具".into(),
                },
            ),
        ),
        (7200, Do("T3", act(Action::Respond, "客户服务中心"))),
    ]
}

pub fn run(g: &Global) -> i32 {
    match simulate(g) {
        Ok(code) => code,
        Err(e) => super::context::fail(e),
    }
}

/// `--db PATH` when given (it must not exist yet: the demo never overwrites a
/// database), else a new file in the temporary directory named after this process,
/// so two demos at once write two databases.
fn demo_path(g: &Global) -> Result<PathBuf, String> {
    if g.db_given {
        if g.db.exists() {
            return Err(format!(
                "`{}` already exists; the demo writes a fresh database: give a new --db path",
                g.db.display()
            ));
        }
        return Ok(g.db.clone());
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path =
        std::env::temp_dir().join(format!("steward-demo-{}-{stamp:x}.db", std::process::id()));
    if path.exists() {
        return Err(format!("`{}` already exists", path.display()));
    }
    Ok(path)
}

fn simulate(g: &Global) -> Result<i32, String> {
    let path = demo_path(g)?;
    let mut svc = Service::open(&path).map_err(|e| e.to_string())?;
    let start: DateTime<Utc> = super::context::parse_time("2026-07-06T09:00:00+08:00")?;
    let company = embedded::load("vk-shanghai")
        .map_err(|_| "the embedded policy vk-shanghai does not load".to_string())?;
    let gardens = embedded::load("vk-shanghai-gardens")
        .map_err(|_| "the embedded policy vk-shanghai-gardens does not load".to_string())?;
    let err = |e: AppError| e.to_string();
    svc.apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, start)
        .map_err(err)?;
    svc.apply_policy(
        &gardens.policy,
        Some("embedded:vk-shanghai-gardens"),
        Some("gardens"),
        start,
    )
    .map_err(err)?;
    let tz = svc.active_policy().map_err(err)?.tz;

    let mut steps = script();
    steps.sort_by_key(|(m, _)| *m);
    let mut log: Vec<(String, Decision)> = Vec::new();
    let mut push =
        |id: &str, ds: Vec<Decision>| log.extend(ds.into_iter().map(|d| (id.to_string(), d)));
    for (minutes, step) in steps {
        let at = start + Duration::minutes(minutes);
        for (id, ds) in svc.tick(at).map_err(err)? {
            push(&id, ds);
        }
        match step {
            Step::Open(id, estate, kind, channel, text) => {
                let intake = OpenTicket {
                    id: id.into(),
                    estate: estate.into(),
                    kind: kind.into(),
                    channel: channel.into(),
                    text: text.into(),
                    ..OpenTicket::default()
                };
                let (_, ds) = svc.open_ticket(intake, at).map_err(err)?;
                push(id, ds);
            }
            Step::Do(id, cmd) => {
                let (_, ds) = svc.execute(id, &cmd, at).map_err(err)?;
                push(id, ds);
            }
            Step::Rain(estate) => {
                for (id, ds) in svc.event(estate, "rain", at).map_err(err)? {
                    push(&id, ds);
                }
            }
        }
    }
    let end = start + Duration::days(7);
    for (id, ds) in svc.tick(end).map_err(err)? {
        push(&id, ds);
    }
    let verification = svc.verify().map_err(err)?;
    let tickets = svc.tickets(None, None, None).map_err(err)?;
    if g.format == Format::Json {
        let timeline: Vec<_> = log
            .iter()
            .map(|(id, d)| super::ticket_json::event(id, d, tz))
            .collect();
        let tickets: Vec<_> = tickets
            .iter()
            .map(|t| super::ticket_json::row(t, super::ticket_json::next_deadline(t), tz))
            .collect();
        output::json(
            &serde_json::json!({"database": path.display().to_string(), "timeline": timeline, "tickets": tickets, "audit": verification}),
        );
        return Ok(EXIT_OK);
    }
    println!(
        "steward demo — a week at two estates under policy vk-shanghai (gardens: overlay vk-shanghai-gardens)"
    );
    println!(
        "company policy sha256:{}",
        policy::fingerprint(&company.policy)
    );
    println!(
        "gardens policy sha256:{}\n",
        policy::fingerprint(&gardens.policy)
    );
    let rows: Vec<Vec<String>> = log
        .iter()
        .filter(|(_, d)| !matches!(d.fact, crate::engine::Fact::MilestoneReached { .. }))
        .map(|(id, d)| {
            vec![
                timeline::local(d.at, tz),
                id.clone(),
                timeline::summary(&d.fact, tz),
                d.rule.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::print(&output::table(
        &["time", "ticket", "what happened", "rule"],
        &rows,
    ));
    println!("\nat the end of the week:");
    for t in &tickets {
        print!("{}", timeline::state(t, tz));
    }
    println!(
        "\naudit: {} events, hash chain {}, {} tickets rebuilt from the log{}",
        verification.events,
        if verification.chain_ok {
            "intact"
        } else {
            "BROKEN"
        },
        verification.tickets,
        if verification.mismatched.is_empty() {
            String::new()
        } else {
            format!(", MISMATCH: {}", verification.mismatched.join(", "))
        }
    );
    println!(
        "database: {} (inspect with `steward --db {} ticket show T3`)",
        path.display(),
        path.display()
    );
    Ok(
        if verification.chain_ok && verification.mismatched.is_empty() {
            EXIT_OK
        } else {
            EXIT_INPUT
        },
    )
}
