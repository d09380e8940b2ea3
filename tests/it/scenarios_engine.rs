#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Hand-written scenarios through the service (in-memory store) for the seed rules
//! of docs/domain.md: V3, V4, V5, L4 (2 h vs 4 h overlay), D7 business hours across the
//! National Day holiday, pauses (E2) against L3, and `policy apply` moving open
//! tickets while closed ones keep their fingerprint.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use steward::engine::{ClockState, Command, Decision, Fact, OpenTicket, SlotState, Status, Ticket};
use steward::policy::Policy;
use steward::policy::model::Action;
use steward::service::{AppError, Service};

fn policy(name: &str) -> Policy {
    steward::policy::embedded::load(name)
        .unwrap_or_else(|_| panic!("{name} loads"))
        .policy
}

/// Shanghai local time.
fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A service with vk-shanghai active company-wide.
fn service() -> Service {
    let mut svc = Service::in_memory().unwrap();
    svc.apply_policy(
        &policy("vk-shanghai"),
        Some("vk-shanghai"),
        None,
        local(2026, 1, 1, 0, 0),
    )
    .unwrap();
    svc
}

fn intake(id: &str, estate: &str, kind: &str, text: &str) -> OpenTicket {
    OpenTicket {
        id: id.into(),
        estate: estate.into(),
        channel: "hotline".into(),
        kind: kind.into(),
        text: text.into(),
        ..OpenTicket::default()
    }
}

fn act(action: Action) -> Command {
    Command::Act {
        action,
        by: "tester".into(),
        note: String::new(),
    }
}

fn revisit(ok: bool) -> Command {
    Command::Revisit {
        ok,
        channel: "phone".into(),
        note: if ok {
            String::new()
        } else {
            "还在漏".into()
        },
    }
}

fn resolve() -> Command {
    Command::Resolve {
        note: "done".into(),
    }
}

fn close() -> Command {
    Command::Close { invalid: None }
}

fn slot<'a>(t: &'a Ticket, key: &str) -> &'a steward::engine::RevisitSlot {
    t.revisits
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no revisit {key} in {:?}", t.revisits))
}

fn deadline(t: &Ticket, limit: &str) -> DateTime<Utc> {
    t.clocks
        .get(limit)
        .unwrap_or_else(|| panic!("no clock {limit} in {:?}", t.clocks.keys()))
        .deadline
}

fn refusal(r: Result<(Ticket, Vec<Decision>), AppError>) -> String {
    match r {
        Ok((t, _)) => panic!("expected a refusal, the ticket is now {:?}", t.status),
        Err(e) => e.to_string(),
    }
}

fn assert_verified(svc: &Service) {
    let v = svc.verify().unwrap();
    assert!(v.chain_ok && v.mismatched.is_empty(), "{v:?}");
}

// --- V3 ---------------------------------------------------------------------------

/// V3: an emergency repair is revisited within 24 h of completion, and again 2 days
/// after the first revisit (not after completion).
#[test]
fn v3_emergency_revisits_at_24h_then_two_days_after_the_first() {
    let mut svc = service();
    let t0 = local(2026, 7, 1, 9, 0);
    let (t, _) = svc
        .open_ticket(intake("R1", "E1", "repair", "楼道扶手松动危险"), t0)
        .unwrap();
    assert!(t.emergency, "category {:?}", t.category);
    let done = local(2026, 7, 1, 12, 0);
    let (t, ds) = svc.execute("R1", &resolve(), done).unwrap();
    assert_eq!(slot(&t, "V3#1").due, Some(done + Duration::hours(24)));
    assert_eq!(
        slot(&t, "V3#2").state,
        SlotState::Blocked,
        "V3#2 counts from the first revisit"
    );
    assert!(
        ds.iter()
            .filter(|d| matches!(d.fact, Fact::RevisitScheduled { .. }))
            .all(|d| d.rule.as_deref() == Some("V3"))
    );

    // First revisit the next morning, 20 h after completion.
    let first = local(2026, 7, 2, 8, 0);
    let (t, _) = svc.execute("R1", &revisit(true), first).unwrap();
    assert_eq!(slot(&t, "V3#1").state, SlotState::Done);
    assert_eq!(slot(&t, "V3#2").state, SlotState::Scheduled);
    assert_eq!(
        slot(&t, "V3#2").due,
        Some(first + Duration::days(2)),
        "2 days after the first revisit, not after completion"
    );

    let err = refusal(svc.execute("R1", &close(), first + Duration::hours(1)));
    assert!(err.contains("revisits pending: V3#2"), "{err}");

    // Nothing is overdue a minute early; at the due time the revisit goes overdue.
    let fired = svc
        .tick(first + Duration::days(2) - Duration::minutes(1))
        .unwrap();
    assert!(
        fired.iter().all(|(_, ds)| ds
            .iter()
            .all(|d| !matches!(d.fact, Fact::RevisitOverdue { .. }))),
        "{fired:?}"
    );
    let fired = svc.tick(first + Duration::days(2)).unwrap();
    let (_, ds) = fired.iter().find(|(id, _)| id == "R1").expect("R1 fired");
    assert!(
        ds.iter().any(
            |d| matches!(&d.fact, Fact::RevisitOverdue { key, .. } if key == "V3#2")
                && d.rule.as_deref() == Some("V3")
        ),
        "{ds:?}"
    );

    let (t, _) = svc
        .execute(
            "R1",
            &revisit(true),
            first + Duration::days(2) + Duration::hours(1),
        )
        .unwrap();
    assert_eq!(slot(&t, "V3#2").state, SlotState::Done);
    let (t, _) = svc
        .execute(
            "R1",
            &close(),
            first + Duration::days(2) + Duration::hours(2),
        )
        .unwrap();
    assert_eq!(t.status, Status::Closed);
    assert_verified(&svc);
}

// --- V4 ---------------------------------------------------------------------------

/// V4: a leak is revisited within 3 days and again after the next rain. Rain before
/// the 3-day revisit makes V4#2 due at once.
#[test]
fn v4_rain_before_the_three_day_revisit_makes_the_second_due() {
    let mut svc = service();
    let t0 = local(2026, 7, 1, 9, 0);
    let (t, _) = svc
        .open_ticket(intake("L1", "E1", "repair", "卫生间天花板渗水"), t0)
        .unwrap();
    assert_eq!(t.category.as_deref(), Some("repair.leak"));
    let done = local(2026, 7, 1, 15, 0);
    let (t, _) = svc.execute("L1", &resolve(), done).unwrap();
    assert_eq!(slot(&t, "V4#1").due, Some(done + Duration::days(3)));
    assert_eq!(slot(&t, "V4#2").state, SlotState::Waiting);
    assert_eq!(slot(&t, "V4#2").event.as_deref(), Some("rain"));

    // Rain at another estate changes nothing here.
    assert!(
        svc.event("E2", "rain", local(2026, 7, 2, 9, 0))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        slot(&svc.ticket("L1").unwrap().0, "V4#2").state,
        SlotState::Waiting
    );

    let fired = svc.event("E1", "rain", local(2026, 7, 2, 10, 0)).unwrap();
    let (_, ds) = fired
        .iter()
        .find(|(id, _)| id == "L1")
        .expect("L1 was waiting for rain");
    assert!(ds.iter().any(|d| matches!(&d.fact, Fact::RevisitDue { key, cause, .. } if key == "V4#2" && cause == "rain") && d.rule.as_deref() == Some("V4")));
    let (t, _) = svc.ticket("L1").unwrap();
    assert_eq!(slot(&t, "V4#2").state, SlotState::Due);
    assert_eq!(
        slot(&t, "V4#1").state,
        SlotState::Scheduled,
        "the 3-day revisit is still owed"
    );

    // Two revisits: V4#1, then V4#2; then the ticket closes.
    let (t, _) = svc
        .execute("L1", &revisit(true), local(2026, 7, 2, 11, 0))
        .unwrap();
    assert_eq!(slot(&t, "V4#1").state, SlotState::Done);
    let (t, _) = svc
        .execute("L1", &revisit(true), local(2026, 7, 2, 11, 5))
        .unwrap();
    assert_eq!(slot(&t, "V4#2").state, SlotState::Done);
    let (t, _) = svc
        .execute("L1", &close(), local(2026, 7, 2, 11, 10))
        .unwrap();
    assert_eq!(t.status, Status::Closed);
    // Rain after closing finds nobody waiting.
    assert!(
        svc.event("E1", "rain", local(2026, 7, 3, 10, 0))
            .unwrap()
            .is_empty()
    );
    assert_verified(&svc);
}

/// V4 without rain: after the 3-day revisit the second keeps waiting, and close is
/// refused while it does (V1).
#[test]
fn v4_without_rain_keeps_waiting_and_close_is_refused() {
    let mut svc = service();
    svc.open_ticket(
        intake("L2", "E1", "repair", "阳台漏水"),
        local(2026, 7, 1, 9, 0),
    )
    .unwrap();
    svc.execute("L2", &resolve(), local(2026, 7, 1, 15, 0))
        .unwrap();
    let (t, _) = svc
        .execute("L2", &revisit(true), local(2026, 7, 3, 10, 0))
        .unwrap();
    assert_eq!(slot(&t, "V4#1").state, SlotState::Done);
    assert_eq!(slot(&t, "V4#2").state, SlotState::Waiting);
    // Weeks pass without rain: no timer makes it due or overdue.
    let fired = svc.tick(local(2026, 8, 1, 0, 0)).unwrap();
    assert!(fired.iter().all(|(id, _)| id != "L2"), "{fired:?}");
    assert_eq!(
        slot(&svc.ticket("L2").unwrap().0, "V4#2").state,
        SlotState::Waiting
    );
    let err = refusal(svc.execute("L2", &close(), local(2026, 8, 1, 9, 0)));
    assert!(
        err.contains("revisits pending") && err.contains("V4#2"),
        "{err}"
    );
    assert_eq!(svc.ticket("L2").unwrap().0.status, Status::Resolved);
    // Another callback before the rain cannot stand in for the rain revisit.
    let (t, ds) = svc
        .execute("L2", &revisit(true), local(2026, 8, 1, 9, 5))
        .unwrap();
    assert!(
        ds.iter().any(
            |d| matches!(&d.fact, Fact::RevisitDone { slot: None, key, .. } if key == "callback")
        ),
        "{ds:?}"
    );
    assert_eq!(slot(&t, "V4#2").state, SlotState::Waiting);
    let err = refusal(svc.execute("L2", &close(), local(2026, 8, 1, 9, 10)));
    assert!(err.contains("V4#2"), "{err}");
}

// --- V5 ---------------------------------------------------------------------------

/// V5: a problem found on a revisit reopens the ticket, notifies maintenance and
/// starts a 12 h clock for the written notice.
#[test]
fn v5_failed_revisit_reopens_with_a_12h_written_notice() {
    let mut svc = service();
    svc.open_ticket(
        intake("L3", "E1", "repair", "厨房漏水"),
        local(2026, 7, 1, 9, 0),
    )
    .unwrap();
    svc.execute("L3", &resolve(), local(2026, 7, 1, 15, 0))
        .unwrap();
    let at = local(2026, 7, 2, 20, 0);
    let (t, ds) = svc.execute("L3", &revisit(false), at).unwrap();
    assert_eq!(t.status, Status::Open);
    assert_eq!(t.reopened, 1);
    assert_eq!(slot(&t, "V4#1").state, SlotState::Failed);
    assert_eq!(slot(&t, "V4#2").state, SlotState::Cancelled);
    let notice = t.clocks.get("reopen.notice").expect("notice clock");
    assert_eq!(notice.deadline, at + Duration::hours(12));
    assert_eq!(notice.state, ClockState::Running);
    assert!(
        ds.iter()
            .any(|d| matches!(&d.fact, Fact::Reopened { .. }) && d.rule.as_deref() == Some("V5"))
    );
    assert!(ds.iter().any(
        |d| matches!(&d.fact, Fact::Notified { to, .. } if to == &["maintenance".to_string()])
            && d.rule.as_deref() == Some("V5")
    ));

    // No notice within 12 h: the notice clock breaches and maintenance is told again.
    let fired = svc.tick(at + Duration::hours(12)).unwrap();
    let (_, ds) = fired.iter().find(|(id, _)| id == "L3").expect("L3 fired");
    assert!(
        ds.iter()
            .any(|d| matches!(&d.fact, Fact::Breached { limit, .. } if limit == "reopen.notice"))
    );
    assert!(ds.iter().any(|d| matches!(&d.fact, Fact::Notified { to, about } if to == &["maintenance".to_string()] && about.contains("V5"))));
    // The ladder is for response limits, not for the notice.
    assert_eq!(svc.ticket("L3").unwrap().0.ladder_id, None);
    assert_verified(&svc);
}

#[test]
fn v5_notice_in_time_meets_the_clock() {
    let mut svc = service();
    svc.open_ticket(
        intake("L4", "E1", "repair", "厨房漏水"),
        local(2026, 7, 1, 9, 0),
    )
    .unwrap();
    svc.execute("L4", &resolve(), local(2026, 7, 1, 15, 0))
        .unwrap();
    let at = local(2026, 7, 2, 20, 0);
    svc.execute("L4", &revisit(false), at).unwrap();
    let (t, _) = svc
        .execute("L4", &act(Action::Notice), at + Duration::hours(11))
        .unwrap();
    assert_eq!(t.clocks["reopen.notice"].state, ClockState::Met);
    assert!(
        svc.tick(at + Duration::hours(13))
            .unwrap()
            .iter()
            .all(|(id, _)| id != "L4")
    );
    // The reopened repair is resolved again and gets a fresh set of revisits.
    let (t, _) = svc
        .execute("L4", &resolve(), at + Duration::hours(20))
        .unwrap();
    assert_eq!(t.status, Status::Resolved);
    assert!(
        t.revisits.iter().filter(|s| s.is_open()).count() >= 2,
        "{:?}",
        t.revisits
    );
}

// --- L4 ---------------------------------------------------------------------------

/// L4: the company files the handling form within 2 h (§5.2.2.4); the gardens estate
/// overlay says 4 h (§4.3.2). Same complaint, same minute, two estates.
#[test]
fn l4_major_complaint_two_hours_company_four_hours_gardens() {
    let mut svc = service();
    let applied = svc
        .apply_policy(
            &policy("vk-shanghai-gardens"),
            Some("gardens"),
            Some("gardens"),
            local(2026, 1, 1, 0, 0),
        )
        .unwrap();
    assert_eq!(applied.moved, 0);
    let t0 = local(2026, 7, 1, 9, 0);
    let mut a = intake("M1", "E1", "complaint", "多户业主集体投诉电梯噪音");
    a.major = true;
    let mut b = a.clone();
    b.id = "M2".into();
    b.estate = "gardens".into();
    let (ta, _) = svc.open_ticket(a, t0).unwrap();
    let (tb, _) = svc.open_ticket(b, t0).unwrap();
    assert!(ta.major && tb.major);
    assert_eq!(deadline(&ta, "L4"), t0 + Duration::hours(2));
    assert_eq!(deadline(&tb, "L4"), t0 + Duration::hours(4));
    assert_ne!(ta.fingerprint, tb.fingerprint);
    // L6 is the same in both.
    assert_eq!(deadline(&ta, "L6.answer"), deadline(&tb, "L6.answer"));

    // At 3 h only the company ticket has breached L4 and moved up the ladder.
    svc.tick(t0 + Duration::hours(3)).unwrap();
    let (ta, _) = svc.ticket("M1").unwrap();
    let (tb, _) = svc.ticket("M2").unwrap();
    assert_eq!(ta.clocks["L4"].state, ClockState::Breached);
    assert_eq!(ta.ladder_id.as_deref(), Some("service_center"));
    assert_eq!(tb.clocks["L4"].state, ClockState::Running);
    assert_eq!(tb.ladder_id, None);
    // Filing at 3.5 h is on time in gardens.
    let (tb, ds) = svc
        .execute("M2", &act(Action::Report), t0 + Duration::minutes(210))
        .unwrap();
    assert_eq!(tb.clocks["L4"].state, ClockState::Met);
    assert!(
        ds.iter()
            .any(|d| matches!(d.fact, Fact::ClockMet { on_time: true, .. })
                && d.rule.as_deref() == Some("L4"))
    );
    assert_verified(&svc);
}

// --- D7 ---------------------------------------------------------------------------

fn d7_deadline(svc: &mut Service, id: &str, at: DateTime<Utc>) -> DateTime<Utc> {
    let mut i = intake(id, "E1", "complaint", "业主反映问题,是否有效待定");
    i.tags = vec!["validity_unclear".into()];
    i.class = 2;
    let (t, ds) = svc.open_ticket(i, at).unwrap();
    assert!(ds.iter().any(
        |d| matches!(&d.fact, Fact::ClockStarted { limit, .. } if limit == "D7")
            && d.rule.as_deref() == Some("D7")
    ));
    deadline(&t, "D7")
}

/// D7: "4 business hours" on the cn-office calendar (09:00–12:00, 13:30–18:00,
/// Mon–Fri, the State Council's 2026 schedule), skipping the 2026-10-01..07 holiday
/// and working the 2026-10-10 make-up Saturday.
#[test]
fn d7_four_business_hours_across_the_national_day_holiday_and_makeup_saturday() {
    let mut svc = service();
    // Wednesday before the holiday, 16:00: 2 h today, the rest after the holiday.
    assert_eq!(
        d7_deadline(&mut svc, "D1", local(2026, 9, 30, 16, 0)),
        local(2026, 10, 8, 11, 0)
    );
    // Opened on a holiday: the clock starts on 10-08 at 09:00 (3 h morning + 1 h afternoon).
    assert_eq!(
        d7_deadline(&mut svc, "D2", local(2026, 10, 3, 10, 0)),
        local(2026, 10, 8, 14, 30)
    );
    // Friday 10-09, 16:00: Saturday 10-10 is a make-up workday.
    assert_eq!(
        d7_deadline(&mut svc, "D3", local(2026, 10, 9, 16, 0)),
        local(2026, 10, 10, 11, 0)
    );
    // An ordinary Friday a week later: the weekend is skipped.
    assert_eq!(
        d7_deadline(&mut svc, "D4", local(2026, 10, 16, 16, 0)),
        local(2026, 10, 19, 11, 0)
    );
    // Across lunch on an ordinary day: 11:00 + 1 h morning + 3 h afternoon.
    assert_eq!(
        d7_deadline(&mut svc, "D5", local(2026, 10, 14, 11, 0)),
        local(2026, 10, 14, 16, 30)
    );
    // The Sunday make-up day before the holiday (09-20, State Council 2026) counts
    // as well. Saturday 09-19 is a day off; Sunday 09-20 is worked: 3 h + 1 h.
    assert_eq!(
        d7_deadline(&mut svc, "D6", local(2026, 9, 19, 17, 0)),
        local(2026, 9, 20, 14, 30)
    );
    // Mid-Autumn, Friday 09-25 to Sunday 09-27, is a holiday (09-27 is not a
    // make-up workday): Thursday 16:00 gives 2 h, the other 2 h on Monday 09-28.
    assert_eq!(
        d7_deadline(&mut svc, "D7", local(2026, 9, 24, 16, 0)),
        local(2026, 9, 28, 11, 0)
    );

    // The breach fires at the business deadline, not 4 wall hours later.
    let fired = svc.tick(local(2026, 10, 8, 10, 59)).unwrap();
    let d1_breached = |fired: &[(String, Vec<Decision>)]| {
        fired
            .iter()
            .filter(|(id, _)| id == "D1")
            .flat_map(|(_, ds)| ds)
            .any(|d| matches!(&d.fact, Fact::Breached { limit, .. } if limit == "D7"))
    };
    assert!(
        !d1_breached(&fired),
        "D1 breached a minute early: {fired:?}"
    );
    // D2 (due 10-08 14:30) has not breached either, while D6 (due 09-27) has.
    assert_eq!(
        svc.ticket("D2").unwrap().0.clocks["D7"].state,
        ClockState::Running
    );
    assert_eq!(
        svc.ticket("D6").unwrap().0.clocks["D7"].state,
        ClockState::Breached
    );
    let fired = svc.tick(local(2026, 10, 8, 11, 0)).unwrap();
    let (_, ds) = fired
        .iter()
        .find(|(id, _)| id == "D1")
        .expect("D1 breached");
    assert!(ds.iter().any(
        |d| matches!(&d.fact, Fact::Breached { limit, .. } if limit == "D7")
            && d.rule.as_deref() == Some("D7")
    ));
}

// --- pauses ------------------------------------------------------------------------

/// E2 pauses: `waiting_owner` stops the L3 initial-plan clock (not L1), the deadline
/// moves by the paused time, and paused minutes are kept per reason.
#[test]
fn pause_waiting_owner_stops_l3_and_moves_its_deadline() {
    let mut svc = service();
    let t0 = local(2026, 7, 1, 9, 0);
    let (t, _) = svc
        .open_ticket(intake("C1", "E1", "complaint", "保洁不到位"), t0)
        .unwrap();
    assert_eq!(t.category.as_deref(), Some("complaint.direct"));
    assert_eq!(deadline(&t, "L3"), t0 + Duration::hours(24));
    let l1 = deadline(&t, "L1");

    let (t, ds) = svc
        .execute(
            "C1",
            &Command::Pause {
                reason: "waiting_owner".into(),
            },
            t0 + Duration::hours(1),
        )
        .unwrap();
    assert_eq!(t.clocks["L3"].state, ClockState::Paused);
    assert_eq!(t.clocks["L3"].used_minutes, 60);
    assert_eq!(
        t.clocks["L1"].state,
        ClockState::Running,
        "waiting_owner does not stop first_response"
    );
    assert!(ds.iter().any(
        |d| matches!(&d.fact, Fact::ClockPaused { limit, .. } if limit == "L3")
            && d.rule.as_deref() == Some("waiting_owner")
    ));

    // While paused, L3's original deadline passes without a breach.
    svc.tick(t0 + Duration::hours(25)).unwrap();
    let (t, _) = svc.ticket("C1").unwrap();
    assert_eq!(t.clocks["L3"].state, ClockState::Paused);
    assert_eq!(
        t.clocks["L1"].state,
        ClockState::Breached,
        "L1 kept running"
    );

    // Resume after 26 h paused: the deadline moves by exactly that.
    let (t, _) = svc
        .execute("C1", &Command::Resume, t0 + Duration::hours(27))
        .unwrap();
    assert_eq!(t.clocks["L3"].state, ClockState::Running);
    assert_eq!(deadline(&t, "L3"), t0 + Duration::hours(24 + 26));
    assert_eq!(deadline(&t, "L1"), l1);
    assert_eq!(t.paused_minutes.get("waiting_owner"), Some(&(26 * 60)));

    // A second pause for another reason is accounted separately and does not stop L3.
    svc.execute(
        "C1",
        &Command::Pause {
            reason: "parts_on_order".into(),
        },
        t0 + Duration::hours(28),
    )
    .unwrap();
    let (t, _) = svc
        .execute(
            "C1",
            &Command::Resume,
            t0 + Duration::hours(28) + Duration::minutes(45),
        )
        .unwrap();
    assert_eq!(t.paused_minutes.get("parts_on_order"), Some(&45));
    assert_eq!(t.paused_minutes.get("waiting_owner"), Some(&(26 * 60)));
    assert_eq!(
        deadline(&t, "L3"),
        t0 + Duration::hours(50),
        "parts_on_order does not stop initial_plan"
    );

    // The plan 1 minute before the moved deadline is on time.
    let (t, _) = svc
        .execute(
            "C1",
            &act(Action::Plan),
            t0 + Duration::hours(50) - Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(t.clocks["L3"].state, ClockState::Met);
    assert_eq!(
        t.clocks["L3"].met_at,
        Some(t0 + Duration::hours(50) - Duration::minutes(1))
    );
    assert_verified(&svc);
}

// --- policy apply -------------------------------------------------------------------

/// `policy apply` of a changed policy moves open (and resolved) tickets, logging a
/// `policy_moved` fact; closed tickets keep the fingerprint they were decided under.
#[test]
fn policy_apply_moves_open_tickets_and_leaves_closed_ones() {
    let mut svc = service();
    let old_fp = svc.active_policy().unwrap().fingerprint.clone();
    let t0 = local(2026, 7, 1, 9, 0);
    svc.open_ticket(intake("OPEN", "E1", "complaint", "噪音扰民"), t0)
        .unwrap();
    svc.open_ticket(intake("DONE", "E1", "complaint", "噪音扰民"), t0)
        .unwrap();
    svc.execute("DONE", &act(Action::Respond), t0 + Duration::hours(1))
        .unwrap();
    svc.execute("DONE", &resolve(), t0 + Duration::hours(2))
        .unwrap();
    svc.execute("DONE", &revisit(true), t0 + Duration::hours(3))
        .unwrap();
    let (done, _) = svc
        .execute("DONE", &close(), t0 + Duration::hours(4))
        .unwrap();
    assert_eq!(done.status, Status::Closed);

    // The company shortens L1 to 12 h.
    let mut changed = policy("vk-shanghai");
    changed.version = "2026.12".into();
    changed.limits.get_mut("L1").unwrap().within = Some("12h".parse().unwrap());
    let at = t0 + Duration::hours(5);
    let applied = svc
        .apply_policy(&changed, Some("vk-shanghai 2026.12"), None, at)
        .unwrap();
    assert_eq!(applied.previous.as_deref(), Some(old_fp.as_str()));
    assert_ne!(applied.fingerprint, old_fp);
    assert_eq!(applied.moved, 1);

    let (open, log) = svc.ticket("OPEN").unwrap();
    assert_eq!(open.fingerprint, applied.fingerprint);
    let moved: Vec<_> = log
        .iter()
        .filter(|d| matches!(d.fact, Fact::PolicyMoved { .. }))
        .collect();
    assert_eq!(moved.len(), 1);
    match &moved[0].fact {
        Fact::PolicyMoved { from, to } => {
            assert_eq!(from, &old_fp);
            assert_eq!(to, &applied.fingerprint);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(moved[0].at, at);
    // The running L1 clock follows the new limit, still counted from intake.
    assert_eq!(deadline(&open, "L1"), t0 + Duration::hours(12));
    assert_eq!(open.clocks["L1"].state, ClockState::Running);

    let (done, log) = svc.ticket("DONE").unwrap();
    assert_eq!(done.fingerprint, old_fp);
    assert!(
        log.iter()
            .all(|d| !matches!(d.fact, Fact::PolicyMoved { .. }))
    );

    // Applying the same policy again moves nothing.
    let again = svc
        .apply_policy(&changed, None, None, at + Duration::hours(1))
        .unwrap();
    assert_eq!(again.moved, 0);
    // New tickets open under the new policy.
    let (new, _) = svc
        .open_ticket(intake("NEW", "E1", "complaint", "噪音扰民"), at)
        .unwrap();
    assert_eq!(new.fingerprint, applied.fingerprint);
    assert_eq!(deadline(&new, "L1"), at + Duration::hours(12));
    // The old ticket's later commands still run under its own (old) policy, which
    // the store keeps.
    let (done, _) = svc
        .execute(
            "DONE",
            &Command::Reopen {
                reason: "again".into(),
            },
            at,
        )
        .unwrap();
    assert_eq!(done.fingerprint, old_fp);
    assert_verified(&svc);
}

/// D5 + E2: closing a paused complaint as invalid ends the pause (its minutes are
/// counted up to the close), and the closed ticket cannot be resumed afterwards.
/// Before the fix the ticket stayed paused forever and a later `resume` was
/// accepted on the closed ticket, counting minutes after the close.
#[test]
fn closing_as_invalid_while_paused_ends_the_pause() {
    let mut svc = service();
    let t0 = local(2026, 7, 1, 9, 0);
    svc.open_ticket(intake("C9", "E1", "complaint", "保洁不到位"), t0)
        .unwrap();
    svc.execute(
        "C9",
        &Command::Pause {
            reason: "waiting_owner".into(),
        },
        t0 + Duration::hours(1),
    )
    .unwrap();
    let (t, ds) = svc
        .execute(
            "C9",
            &Command::Close {
                invalid: Some("无故障".into()),
            },
            t0 + Duration::hours(3),
        )
        .unwrap();
    assert_eq!(t.status, Status::Invalid);
    assert_eq!(t.pause, None);
    assert_eq!(t.paused_minutes.get("waiting_owner"), Some(&120));
    assert!(t.clocks.values().all(|c| !c.is_live()), "{:?}", t.clocks);
    assert!(
        ds.iter()
            .any(|d| matches!(&d.fact, Fact::Resumed { minutes: 120, .. }))
    );
    let err = refusal(svc.execute("C9", &Command::Resume, t0 + Duration::hours(5)));
    assert!(err.contains("not paused"), "{err}");
    assert_verified(&svc);
}

/// E3: a direct complaint that misses both L1 (answer in 24 h) and L3 (plan in
/// 24 h) at the same minute moves up one ladder step, not two; the second breach
/// notifies instead.
#[test]
fn e3_two_limits_missed_at_the_same_instant_escalate_once() {
    let mut svc = service();
    let t0 = local(2026, 7, 6, 9, 0);
    svc.open_ticket(intake("T1", "riverside", "complaint", "楼道灯不亮"), t0)
        .unwrap();
    let fired = svc.tick(t0 + Duration::hours(24)).unwrap();
    let decisions: Vec<&Decision> = fired.iter().flat_map(|(_, d)| d).collect();
    let breaches: Vec<&str> = decisions
        .iter()
        .filter_map(|d| match &d.fact {
            Fact::Breached { limit, .. } => Some(limit.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        breaches.contains(&"L1") && breaches.contains(&"L3"),
        "{breaches:?}"
    );
    let escalations = decisions
        .iter()
        .filter(|d| matches!(d.fact, Fact::Escalated { .. }))
        .count();
    assert_eq!(escalations, 1);
    let (t, _) = svc.ticket("T1").unwrap();
    assert_eq!(t.ladder_id.as_deref(), Some("service_center"));
}
