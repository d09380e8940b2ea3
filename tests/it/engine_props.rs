#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Properties of the pure engine under the vk-shanghai policy, over random command
//! sequences at increasing random times (refused commands are skipped):
//!
//! (a) replaying the emitted decisions rebuilds exactly the ticket `decide` returned;
//! (b) `tick` is idempotent: a second tick at the same `now` decides nothing;
//! (c) extra ticks between commands change nothing (catch-up fires due timers first);
//! (d) no decision is dated after the command's `now`;
//! (e) every Breached, Escalated and ClockStarted decision names its rule (E3);
//! and a closed ticket is never left paused.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use steward::engine::{
    Command, Decision, Fact, OpenTicket, Ticket, decide, earliest_timer, pending_timers,
};
use steward::policy::CompiledPolicy;
use steward::policy::model::Action;

fn policy() -> &'static CompiledPolicy {
    static P: OnceLock<CompiledPolicy> = OnceLock::new();
    P.get_or_init(|| {
        let loaded = steward::policy::embedded::load("vk-shanghai")
            .unwrap_or_else(|_| panic!("vk-shanghai loads"));
        CompiledPolicy::new(loaded.policy).expect("vk-shanghai compiles")
    })
}

/// Intakes that reach the different rules: L2/L4/V3, V4, L4/L6, L1/L3, L5, D7, inquiries.
fn intake(n: usize) -> OpenTicket {
    let base = |kind: &str, text: &str| OpenTicket {
        id: "P1".into(),
        estate: "E1".into(),
        channel: "hotline".into(),
        kind: kind.into(),
        text: text.into(),
        ..OpenTicket::default()
    };
    match n {
        0 => base("repair", "电梯困人"),
        1 => base("repair", "卫生间漏水"),
        2 => OpenTicket {
            major: true,
            ..base("complaint", "多户集体投诉噪音")
        },
        3 => base("complaint", "保洁不到位"),
        4 => OpenTicket {
            channel: "forum".into(),
            class: 2,
            ..base("complaint", "论坛投诉停车")
        },
        5 => OpenTicket {
            tags: vec!["validity_unclear".into()],
            class: 2,
            ..base("complaint", "不清楚是否有效")
        },
        6 => base("repair", "门禁坏了"),
        _ => base("inquiry", "物业费怎么交"),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Act(Action),
    Assign,
    Pause(&'static str),
    Resume,
    Resolve,
    Revisit(bool),
    Close,
    CloseInvalid,
    Reopen,
    Tick,
    Rain,
    Compensation,
    Major,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        15 => prop_oneof![
            Just(Action::Respond),
            Just(Action::Plan),
            Just(Action::Report),
            Just(Action::ExpertReply),
            Just(Action::Update),
            Just(Action::Notice),
        ]
        .prop_map(Op::Act),
        5 => Just(Op::Assign),
        8 => prop_oneof![Just("waiting_owner"), Just("parts_on_order")].prop_map(Op::Pause),
        5 => Just(Op::Resume),
        10 => Just(Op::Resolve),
        // Revisits mostly go well; a problem reopens the ticket (V5).
        15 => prop_oneof![3 => Just(true), 1 => Just(false)].prop_map(Op::Revisit),
        5 => Just(Op::Close),
        1 => Just(Op::CloseInvalid),
        5 => Just(Op::Reopen),
        10 => Just(Op::Tick),
        5 => Just(Op::Rain),
        5 => Just(Op::Compensation),
        5 => Just(Op::Major),
    ]
}

fn command(op: &Op) -> Command {
    match op {
        Op::Act(a) => Command::Act {
            action: *a,
            by: "p".into(),
            note: String::new(),
        },
        Op::Assign => Command::Assign {
            department: "engineering".into(),
            tier: "L2".into(),
            lead: None,
        },
        Op::Pause(r) => Command::Pause {
            reason: (*r).into(),
        },
        Op::Resume => Command::Resume,
        Op::Resolve => Command::Resolve {
            note: String::new(),
        },
        Op::Revisit(ok) => Command::Revisit {
            ok: *ok,
            channel: "phone".into(),
            note: String::new(),
        },
        Op::Close => Command::Close { invalid: None },
        Op::CloseInvalid => Command::Close {
            invalid: Some("无故障".into()),
        },
        Op::Reopen => Command::Reopen {
            reason: "owner called again".into(),
        },
        Op::Tick => Command::Tick,
        Op::Rain => Command::Event {
            kind: "rain".into(),
        },
        Op::Compensation => Command::Compensation {
            amount: "100".into(),
            note: String::new(),
        },
        Op::Major => Command::Classify {
            category: None,
            class: None,
            major: Some(true),
        },
    }
}

#[derive(Debug, Clone)]
struct Script {
    intake: usize,
    start: DateTime<Utc>,
    /// (minutes after the previous step, op, where in the gap an extra tick goes: 0..1000)
    steps: Vec<(i64, Op, u16)>,
}

fn script() -> impl Strategy<Value = Script> {
    // Starts from mid-September to late October 2026: across the 10-01..07 holiday
    // and the 10-10 make-up Saturday, at any minute of the day.
    let start = (0i64..45 * 24 * 60)
        .prop_map(|m| Utc.with_ymd_and_hms(2026, 9, 15, 0, 0, 0).unwrap() + Duration::minutes(m));
    let gap = prop_oneof![3 => 0i64..90, 3 => 0i64..(26 * 60), 1 => 0i64..(5 * 24 * 60)];
    (
        0usize..8,
        start,
        prop::collection::vec((gap, op(), 0u16..1000), 1..40),
    )
        .prop_map(|(intake, start, steps)| Script {
            intake,
            start,
            steps,
        })
}

/// The outcome of a script: the final ticket, every decision, and which steps were accepted.
struct Run {
    ticket: Ticket,
    log: Vec<Decision>,
    /// Per scripted step: accepted or refused.
    accepted: Vec<bool>,
}

fn check_decisions(
    ds: &[Decision],
    now: DateTime<Utc>,
    cmd: &Command,
) -> Result<(), TestCaseError> {
    for d in ds {
        // (d) no fact is dated after the moment it was decided.
        prop_assert!(
            d.at <= now,
            "{cmd:?} at {now} emitted a fact dated {}: {:?}",
            d.at,
            d.fact
        );
        // (e) facts that move a ticket carry the rule that fired.
        if matches!(
            d.fact,
            Fact::Breached { .. } | Fact::Escalated { .. } | Fact::ClockStarted { .. }
        ) {
            prop_assert!(
                d.rule.as_deref().is_some_and(|r| !r.is_empty()),
                "no rule id on {:?}",
                d
            );
        }
    }
    Ok(())
}

/// Run `s`; with `extra_ticks`, a Tick goes into every gap between commands,
/// strictly before the next command's time.
fn run(s: &Script, extra_ticks: bool) -> Result<Run, TestCaseError> {
    let p = policy();
    let (mut ticket, mut log) =
        decide(None, &Command::Open(intake(s.intake)), s.start, p).expect("open");
    check_decisions(&log, s.start, &Command::Open(intake(s.intake)))?;
    prop_assert_eq!(Ticket::replay(&log), Some(ticket.clone()));
    let mut now = s.start;
    let mut accepted = Vec::new();
    for (gap, op, where_) in &s.steps {
        let next = now + Duration::minutes(*gap);
        if extra_ticks && *gap > 0 {
            let at = now + Duration::minutes(gap * i64::from(*where_) / 1000);
            prop_assert!(at < next);
            let (t, ds) = decide(Some(&ticket), &Command::Tick, at, p)
                .map_err(|e| TestCaseError::fail(format!("tick refused: {e}")))?;
            check_decisions(&ds, at, &Command::Tick)?;
            ticket = t;
            log.extend(ds);
        }
        now = next;
        let cmd = command(op);
        match decide(Some(&ticket), &cmd, now, p) {
            Ok((t, ds)) => {
                check_decisions(&ds, now, &cmd)?;
                log.extend(ds);
                // (a) the log alone rebuilds the ticket, after every command.
                prop_assert_eq!(
                    Ticket::replay(&log),
                    Some(t.clone()),
                    "replay differs after {:?} at {}",
                    cmd,
                    now
                );
                // The engine's quick look for due timers sees the earliest one.
                prop_assert_eq!(
                    earliest_timer(&t),
                    pending_timers(&t).0.iter().map(|d| d.at).min()
                );
                // A ticket that is closed is not left paused (E2, D5).
                prop_assert!(
                    t.is_open() || t.pause.is_none(),
                    "{:?} ticket still paused: {:?}",
                    t.status,
                    t.pause
                );
                ticket = t;
                accepted.push(true);
            }
            Err(_) => accepted.push(false),
        }
        // (b) tick twice at the same now: the second decides nothing.
        let (t1, ds1) = decide(Some(&ticket), &Command::Tick, now, p)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_decisions(&ds1, now, &Command::Tick)?;
        let (t2, ds2) = decide(Some(&t1), &Command::Tick, now, p)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(ds2.is_empty(), "second tick at {} decided {:?}", now, ds2);
        prop_assert_eq!(&t2, &t1);
    }
    // A refused command fires nothing, so close both runs with a tick at the last
    // time: what is due by then has happened, however often ticks ran before.
    let (ticket, ds) = decide(Some(&ticket), &Command::Tick, now, p)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    log.extend(ds);
    Ok(Run {
        ticket,
        log,
        accepted,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a), (b), (d), (e) along the way; (c) by comparing runs with and without extra ticks.
    #[test]
    fn engine_properties_hold_for_random_command_sequences(s in script()) {
        let plain = run(&s, false)?;
        let ticked = run(&s, true)?;
        // (c) the same commands are accepted or refused either way ...
        prop_assert_eq!(&plain.accepted, &ticked.accepted);
        // ... the same facts happen, at the same times, in the same order ...
        prop_assert_eq!(&plain.log, &ticked.log);
        // ... and the tickets end up identical: status, ladder, breaches, clocks, revisits.
        let (a, b) = (&plain.ticket, &ticked.ticket);
        prop_assert_eq!(a.status, b.status);
        prop_assert_eq!(&a.ladder_id, &b.ladder_id);
        prop_assert_eq!(a.breaches, b.breaches);
        prop_assert_eq!(&a.clocks, &b.clocks);
        prop_assert_eq!(&a.revisits, &b.revisits);
        prop_assert_eq!(a, b);
    }
}

/// A fixed sequence that pins (c) for the L1 breach → escalation (E3): a tick
/// between intake and the late response changes nothing.
#[test]
fn catch_up_equals_ticking_for_an_l1_breach() {
    let p = policy();
    let t0 = Utc.with_ymd_and_hms(2026, 7, 1, 1, 0, 0).unwrap();
    let (t, _) = decide(None, &Command::Open(intake(3)), t0, p).unwrap();
    let respond = Command::Act {
        action: Action::Respond,
        by: String::new(),
        note: String::new(),
    };
    let late = t0 + Duration::hours(30);
    let (direct, d1) = decide(Some(&t), &respond, late, p).unwrap();
    let (ticked, d2a) = decide(Some(&t), &Command::Tick, t0 + Duration::hours(25), p).unwrap();
    let (ticked, d2b) = decide(Some(&ticked), &respond, late, p).unwrap();
    assert_eq!(direct, ticked);
    assert_eq!(d1, [d2a, d2b].concat());
    assert!(d1.iter().any(|d| matches!(&d.fact, Fact::Escalated { from, to, .. } if from == "specialist" && to == "service_center") && d.rule.as_deref() == Some("L1")));
    assert!(direct.breaches >= 1);
}
