//! Databases for the benchmarks and `examples/make_db.rs`: the shipped
//! vk-shanghai policy, elevator-entrapment repairs (emergency: limits L2 30 min
//! and L4 2 h, revisits V3#1 then V3#2), opened through [`Service::batch`].

#![allow(dead_code)] // each includer uses a different part

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use steward::engine::{Command, OpenTicket};
use steward::policy::embedded;
use steward::policy::model::Action;
use steward::service::{AppError, Batch, Service};

pub const ESTATE: &str = "riverside";

/// Monday 2026-07-06 09:00 Shanghai, inside office hours.
pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-06T09:00:00+08:00")
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// A database at `path` with vk-shanghai active company-wide.
pub fn service_with_policy(path: &Path) -> Service {
    let mut svc = Service::open(path).expect("database opens");
    let loaded = embedded::load("vk-shanghai")
        .unwrap_or_else(|_| panic!("the embedded vk-shanghai policy loads"));
    svc.apply_policy(&loaded.policy, Some("embedded:vk-shanghai"), None, start())
        .expect("policy applies");
    svc
}

pub fn intake(id: &str) -> OpenTicket {
    OpenTicket {
        id: id.into(),
        estate: ESTATE.into(),
        kind: "repair".into(),
        text: "3号楼电梯困人".into(),
        ..OpenTicket::default()
    }
}

pub fn id(n: usize) -> String {
    format!("T{n:06}")
}

/// Open, classify, respond, resolve, two revisits (V3#1, V3#2), close.
pub fn lifecycle(b: &mut Batch<'_, '_>, id: &str, t0: DateTime<Utc>) -> Result<(), AppError> {
    let at = |minutes| t0 + Duration::minutes(minutes);
    let revisit = |note: &str| Command::Revisit {
        ok: true,
        channel: "phone".into(),
        note: note.into(),
    };
    b.open_ticket(intake(id), at(0))?;
    let classify = Command::Classify {
        category: None,
        class: None,
        major: None,
    };
    b.execute(id, &classify, at(1))?;
    let respond = Command::Act {
        action: Action::Respond,
        by: "王工".into(),
        note: String::new(),
    };
    b.execute(id, &respond, at(5))?;
    let resolve = Command::Resolve {
        note: "更换制动器".into(),
    };
    b.execute(id, &resolve, at(60))?;
    b.execute(id, &revisit("运行正常"), at(120))?;
    b.execute(id, &revisit("二次回访正常"), at(180))?;
    b.execute(id, &Command::Close { invalid: None }, at(181))?;
    Ok(())
}

/// The first timer of an emergency repair: the L2 warning at 50 % of 30 min.
pub const FIRST_TIMER: i64 = 15 * 60;

/// Opens `open` tickets (ids from [`id`]), `per_tx` to a transaction, laid out
/// so that at [`due_at`]`(k)` exactly the first `k` of them have a timer due,
/// for any `k <= early`.
///
/// The first `early` open one second apart from [`start`]; the rest open in the
/// [`FIRST_TIMER`] seconds after them, so they are open but none of their timers
/// is due yet at `due_at(early)`.
pub fn open_staggered(svc: &mut Service, open: usize, early: usize, per_tx: usize) {
    assert!(early <= open);
    let opened_at = |n: usize| {
        let offset = if n < early {
            n as i64
        } else {
            early as i64 + (n - early) as i64 % FIRST_TIMER
        };
        start() + Duration::seconds(offset)
    };
    for chunk in (0..open).collect::<Vec<_>>().chunks(per_tx) {
        svc.batch(|b| {
            chunk
                .iter()
                .try_for_each(|&n| b.open_ticket(intake(&id(n)), opened_at(n)).map(drop))
        })
        .expect("tickets open");
    }
}

/// When exactly the first `k` tickets of [`open_staggered`] are due.
pub fn due_at(k: usize) -> DateTime<Utc> {
    start() + Duration::seconds(k as i64 - 1 + FIRST_TIMER)
}
