#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! `Service::batch`: many commands, one transaction, all or nothing.

use chrono::{DateTime, Duration, Utc};
use steward::engine::{Command, OpenTicket};
use steward::policy::embedded;
use steward::policy::model::Action;
use steward::service::{AppError, Batch, Service};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-06T09:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

fn service() -> Service {
    let mut svc = Service::in_memory().unwrap();
    let loaded =
        embedded::load("vk-shanghai").unwrap_or_else(|_| panic!("embedded vk-shanghai loads"));
    svc.apply_policy(&loaded.policy, Some("embedded:vk-shanghai"), None, start())
        .unwrap();
    svc
}

/// An elevator entrapment from intake to close: an emergency repair, so its
/// revisits are V3#1 and then V3#2, both time-based.
fn lifecycle(b: &mut Batch<'_, '_>, id: &str, t0: DateTime<Utc>) -> Result<(), AppError> {
    let at = |minutes| t0 + Duration::minutes(minutes);
    let intake = OpenTicket {
        id: id.into(),
        estate: "riverside".into(),
        kind: "repair".into(),
        text: "3号楼电梯困人".into(),
        ..OpenTicket::default()
    };
    b.open_ticket(intake, at(0))?;
    b.execute(
        id,
        &Command::Classify {
            category: None,
            class: None,
            major: None,
        },
        at(1),
    )?;
    b.execute(
        id,
        &Command::Act {
            action: Action::Respond,
            by: "王工".into(),
            note: String::new(),
        },
        at(5),
    )?;
    b.execute(
        id,
        &Command::Resolve {
            note: "更换制动器".into(),
        },
        at(60),
    )?;
    for (minutes, note) in [(120, "运行正常"), (180, "二次回访正常")] {
        b.execute(
            id,
            &Command::Revisit {
                ok: true,
                channel: "phone".into(),
                note: note.into(),
            },
            at(minutes),
        )?;
    }
    b.execute(id, &Command::Close { invalid: None }, at(181))?;
    Ok(())
}

fn events(svc: &Service) -> i64 {
    svc.store().read(|tx| tx.event_count()).unwrap()
}

#[test]
fn a_batch_of_lifecycles_lands_every_ticket() {
    let mut svc = service();
    let before = events(&svc);
    let n = 25;
    svc.batch(|b| (0..n).try_for_each(|i| lifecycle(b, &format!("T{i:03}"), start())))
        .unwrap();

    let tickets = svc.tickets(None, None, None).unwrap();
    assert_eq!(tickets.len(), n);
    assert!(
        tickets.iter().all(|t| t.status.as_str() == "closed"),
        "{:?}",
        tickets
            .iter()
            .map(|t| t.status.as_str())
            .collect::<Vec<_>>()
    );
    assert!(events(&svc) > before + 7 * n as i64);
    let audit = svc.verify().unwrap();
    assert!(audit.chain_ok && audit.mismatched.is_empty(), "{audit:?}");
    assert_eq!(audit.tickets, n);
}

#[test]
fn an_error_inside_a_batch_rolls_back_everything() {
    let mut svc = service();
    svc.batch(|b| lifecycle(b, "KEEP", start())).unwrap();
    let before = events(&svc);

    let err = svc
        .batch(|b| {
            for i in 0..10 {
                lifecycle(b, &format!("T{i:03}"), start())?;
            }
            // Refused by the engine: the ticket is already closed.
            b.execute(
                "T000",
                &Command::Resolve {
                    note: String::new(),
                },
                start() + Duration::hours(5),
            )
        })
        .unwrap_err();
    assert!(matches!(err, AppError::Engine(_)), "{err}");
    assert_eq!(events(&svc), before, "no event of the failed batch is kept");
    assert_eq!(svc.tickets(None, None, None).unwrap().len(), 1);

    let err = svc
        .batch(|b| {
            lifecycle(b, "T100", start())?;
            b.execute(
                "NOPE",
                &Command::Resolve {
                    note: String::new(),
                },
                start(),
            )
        })
        .unwrap_err();
    assert!(matches!(err, AppError::UnknownTicket(_)), "{err}");
    assert_eq!(events(&svc), before);
    assert!(svc.ticket("T100").is_err());

    // The service is still usable after a rolled-back batch.
    svc.batch(|b| lifecycle(b, "T200", start())).unwrap();
    assert_eq!(svc.tickets(None, Some("closed"), None).unwrap().len(), 2);
}

#[test]
fn single_commands_and_batches_write_the_same_log() {
    let mut batched = service();
    batched.batch(|b| lifecycle(b, "T1", start())).unwrap();
    // The same lifecycle, one transaction per command.
    let mut single = service();
    let t0 = start();
    let at = |m| t0 + Duration::minutes(m);
    single
        .open_ticket(
            OpenTicket {
                id: "T1".into(),
                estate: "riverside".into(),
                kind: "repair".into(),
                text: "3号楼电梯困人".into(),
                ..OpenTicket::default()
            },
            at(0),
        )
        .unwrap();
    single
        .execute(
            "T1",
            &Command::Classify {
                category: None,
                class: None,
                major: None,
            },
            at(1),
        )
        .unwrap();
    single
        .execute(
            "T1",
            &Command::Act {
                action: Action::Respond,
                by: "王工".into(),
                note: String::new(),
            },
            at(5),
        )
        .unwrap();
    single
        .execute(
            "T1",
            &Command::Resolve {
                note: "更换制动器".into(),
            },
            at(60),
        )
        .unwrap();
    single
        .execute(
            "T1",
            &Command::Revisit {
                ok: true,
                channel: "phone".into(),
                note: "运行正常".into(),
            },
            at(120),
        )
        .unwrap();
    single
        .execute(
            "T1",
            &Command::Revisit {
                ok: true,
                channel: "phone".into(),
                note: "二次回访正常".into(),
            },
            at(180),
        )
        .unwrap();
    single
        .execute("T1", &Command::Close { invalid: None }, at(181))
        .unwrap();
    let hashes = |svc: &Service| {
        svc.store()
            .read(|tx| tx.events_for_ticket("T1"))
            .unwrap()
            .into_iter()
            .map(|e| e.hash)
            .collect::<Vec<_>>()
    };
    assert_eq!(hashes(&single), hashes(&batched));
}
