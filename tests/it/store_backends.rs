#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The storage interface (`steward::store::Tx`) on whichever backend the run
//! uses (`backend.rs`): the same calls must give the same rows, the same
//! refusals and the same hashes on SQLite and PostgreSQL. The head hash of a
//! fixed log is pinned, so a log verifies identically on both.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use steward::store::{
    Delivery, GENESIS_HASH, Lease, NewEvent, Store, StoreError, TicketFilter, TicketQuery,
    TicketRow, TicketSort, Timer,
};
use tempfile::TempDir;

use crate::backend;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn fresh() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = backend::fresh_db(dir.path());
    (dir, db)
}

fn event<'a>(ticket: Option<&'a str>, at: DateTime<Utc>, payload: &'a str) -> NewEvent<'a> {
    NewEvent {
        ticket,
        at,
        kind: "opened",
        payload,
        fingerprint: "fp1",
        rule: Some("r1"),
    }
}

fn append_n(store: &mut Store, n: usize) {
    store
        .write(|tx| {
            for i in 0..n {
                let payload = format!(r#"{{"i":{i}}}"#);
                tx.append_event(&event(Some("T-1"), t(i as i64), &payload))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

fn ticket_row(id: &str, estate: &str, status: &str, opened: i64) -> TicketRow {
    TicketRow {
        id: id.to_owned(),
        estate: estate.to_owned(),
        status: status.to_owned(),
        fingerprint: "fp1".to_owned(),
        opened_at: t(opened),
        updated_at: t(opened + 1),
        state: r#"{"step":1,"category":"repair.leak","breaches":2}"#.to_owned(),
    }
}

fn due(key: &str, at: i64) -> Timer {
    Timer {
        key: key.to_owned(),
        kind: "breach".to_owned(),
        due_at: Some(t(at)),
        event: None,
    }
}

fn on_event(key: &str, event: &str) -> Timer {
    Timer {
        key: key.to_owned(),
        kind: "revisit".to_owned(),
        due_at: None,
        event: Some(event.to_owned()),
    }
}

#[test]
fn a_fixed_log_has_the_same_head_hash_on_every_backend() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    append_n(&mut store, 3);
    store
        .write(|tx| {
            tx.append_event(&NewEvent {
                ticket: None,
                at: t(9),
                kind: "policy_applied",
                payload: r#"{"by":"ops","estate":null}"#,
                fingerprint: "fp2",
                rule: None,
            })
        })
        .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(report.first_bad, None);
    let head = report.head.unwrap();
    assert_eq!((head.seq, head.at.as_str()), (4, "2023-11-14T22:13:29Z"));
    // Pinned: SHA-256 over the U+001F-joined fields, recomputed independently
    // (Python hashlib) from the four events above; every backend must agree.
    assert_eq!(
        head.hash,
        "7f779a92f9a0854a29609e93cdac3267d61063258f72dd03802548acf0ccd643"
    );
}

#[test]
fn appended_events_read_back_link_and_verify() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    let at = t(0) + chrono::Duration::milliseconds(750);
    let (first, second) = store
        .write(|tx| {
            let first = tx.append_event(&event(Some("T-1"), at, r#"{"a":1}"#))?;
            let second = tx.append_event(&NewEvent {
                ticket: None,
                at: t(1),
                kind: "policy-activated",
                payload: "{}",
                fingerprint: "fp2",
                rule: None,
            })?;
            Ok::<_, StoreError>((first, second))
        })
        .unwrap();
    assert_eq!((first.seq, first.prev_hash.as_str()), (1, GENESIS_HASH));
    assert_eq!(first.at, t(0), "sub-seconds are not stored");
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(
        store.read(|tx| tx.events_for_ticket("T-1")).unwrap(),
        vec![first.clone()]
    );
    let mut all = Vec::new();
    store
        .read(|tx| {
            tx.for_each_event(|e| {
                all.push(e);
                Ok(())
            })
        })
        .unwrap();
    assert_eq!(all, vec![first, second.clone()]);
    assert_eq!(store.read(|tx| tx.head_seq()).unwrap(), 2);
    assert_eq!(
        store.read(|tx| tx.event_hash(2)).unwrap(),
        Some(second.hash)
    );
}

#[test]
fn a_failing_command_keeps_nothing_and_the_chain_continues() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    append_n(&mut store, 2);
    let result = store.write(|tx| {
        tx.append_event(&event(Some("T-9"), t(5), "{}"))?;
        tx.put_ticket(&ticket_row("T-9", "north", "open", 0))?;
        tx.replace_timers("T-9", "north", &[due("reply", 10)])?;
        tx.set_meta("k", "v")?;
        tx.append_event(&event(None, t(6), "not json"))
    });
    assert!(
        matches!(result, Err(StoreError::BadJson { .. })),
        "{result:?}"
    );
    drop(store);
    let mut store = Store::open(&db).unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.event_count()?, 2);
            assert_eq!(tx.ticket("T-9")?, None);
            assert!(tx.timers_for("T-9")?.is_empty());
            assert_eq!(tx.meta("k")?, None);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    append_n(&mut store, 2);
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!((report.events, report.first_bad), (4, None));
}

#[test]
fn the_log_refuses_update_and_delete_even_from_plain_sql() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    append_n(&mut store, 2);
    for sql in [
        "UPDATE events SET payload = '{\"i\":9}' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
    ] {
        let result = std::panic::catch_unwind(|| backend::exec(&db, sql));
        let message = match result {
            Ok(()) => panic!("`{sql}` was allowed"),
            Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        assert!(message.contains("events are append-only"), "{message}");
    }
    assert_eq!(store.read(|tx| tx.event_count()).unwrap(), 2);
}

#[test]
fn a_tampered_payload_is_found_at_its_event() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    append_n(&mut store, 50);
    backend::unlock_events(&db);
    backend::exec(
        &db,
        "UPDATE events SET payload = '{\"i\":99}' WHERE seq = 17",
    );
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(report.first_bad, Some((17, "hash mismatch".to_owned())));
    assert_eq!(report.events, 50);
}

#[test]
fn policies_blobs_and_settings() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    let text = "policy text";
    let fp = steward::digest::sha256_hex(text.as_bytes());
    let module = b"\0asm module";
    let sha = steward::digest::sha256_hex(module);
    store
        .write(|tx| {
            tx.put_policy(&fp, text, Some("here"), t(0))?;
            tx.put_policy(&fp, text, Some("again"), t(1))?;
            tx.put_blob(&sha, module)?;
            tx.put_blob(&sha, module)?;
            tx.set_meta("k", "1")?;
            tx.set_meta("k", "2")
        })
        .unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.policy(&fp)?.as_deref(), Some(text));
            assert_eq!(tx.blob(&sha)?.as_deref(), Some(&module[..]));
            assert_eq!(tx.meta("k")?.as_deref(), Some("2"));
            assert_eq!(tx.stored_policies()?.len(), 1);
            assert_eq!(tx.blob_digests()?, vec![(sha.clone(), sha.clone())]);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let err = store
        .write(|tx| tx.put_policy(&fp, "another text", None, t(2)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // Edited behind steward's back: refused on read, never run.
    backend::exec(&db, "UPDATE policies SET canonical = 'edited'");
    let err = store.read(|tx| tx.policy(&fp)).unwrap_err();
    assert!(matches!(err, StoreError::Tampered { .. }), "{err:?}");
}

#[test]
fn tickets_filter_sort_count_and_page() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            tx.put_ticket(&ticket_row("B", "north", "open", 10))?;
            tx.put_ticket(&ticket_row("A", "north", "open", 10))?;
            tx.put_ticket(&ticket_row("C", "south", "open", 5))?;
            tx.put_ticket(&ticket_row("D", "north", "closed", 1))?;
            tx.put_ticket(&ticket_row("D", "north", "open", 1))?;
            tx.replace_timers("C", "south", &[due("l1", 50)])?;
            tx.replace_timers("A", "north", &[due("l1", 40), on_event("r", "rain")])
        })
        .unwrap();
    let ids = |filter: TicketFilter<'_>| -> Vec<String> {
        store
            .read(|tx| tx.tickets(&filter))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(TicketFilter::default()), ["D", "C", "A", "B"]);
    assert_eq!(
        ids(TicketFilter {
            estate: Some("north"),
            status: Some("open"),
            limit: Some(2),
        }),
        ["D", "A"]
    );
    let listed = |q: TicketQuery<'_>| -> Vec<(String, Option<DateTime<Utc>>)> {
        let mut out = Vec::new();
        store
            .read(|tx| {
                tx.list_tickets(&q, |l| {
                    out.push((l.row.id, l.next_due));
                    Ok(())
                })
            })
            .unwrap();
        out
    };
    let deadline = listed(TicketQuery {
        sort: TicketSort::Deadline,
        ..TicketQuery::default()
    });
    assert_eq!(
        deadline,
        [
            ("A".to_owned(), Some(t(40))),
            ("C".to_owned(), Some(t(50))),
            ("B".to_owned(), None),
            ("D".to_owned(), None)
        ]
    );
    let newest: Vec<String> = listed(TicketQuery {
        category: Some("repair"),
        breached: true,
        limit: Some(3),
        ..TicketQuery::default()
    })
    .into_iter()
    .map(|(id, _)| id)
    .collect();
    assert_eq!(newest, ["B", "A", "C"]);
    let q = TicketQuery {
        estate: Some("north"),
        ..TicketQuery::default()
    };
    assert_eq!(store.read(|tx| tx.count_tickets(&q)).unwrap(), 3);
    let mut page = Vec::new();
    store
        .read(|tx| {
            tx.list_tickets_after(&q, Some((t(10), "B")), |l| {
                page.push(l.row.id);
                Ok(())
            })
        })
        .unwrap();
    assert_eq!(page, ["A", "D"]);
}

#[test]
fn due_timers_event_timers_and_the_ticket_sequence() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            tx.replace_timers("T-late", "north", &[due("a", 50), due("b", 300)])?;
            tx.replace_timers("T-early", "north", &[due("a", 200), due("b", 10)])?;
            tx.replace_timers("T-tie-b", "south", &[due("a", 30)])?;
            tx.replace_timers("T-tie-a", "south", &[due("a", 30)])?;
            tx.replace_timers("T-future", "north", &[due("a", 101)])?;
            tx.replace_timers("T-rain", "north", &[on_event("revisit", "rain")])
        })
        .unwrap();
    store
        .read(|tx| {
            assert_eq!(
                tx.due_tickets(t(100))?,
                ["T-early", "T-tie-a", "T-tie-b", "T-late"]
            );
            assert_eq!(tx.due_tickets(t(10))?, ["T-early"]);
            assert_eq!(tx.next_due()?, Some(t(10)));
            assert_eq!(tx.tickets_waiting_for("north", "rain")?, ["T-rain"]);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let never = Timer {
        key: "x".into(),
        kind: "k".into(),
        due_at: None,
        event: None,
    };
    let err = store
        .write(|tx| tx.replace_timers("T-late", "north", std::slice::from_ref(&never)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let numbers = store
        .write(|tx| Ok::<_, StoreError>((tx.next_ticket_number()?, tx.next_ticket_number()?)))
        .unwrap();
    assert_eq!(numbers, (1, 2));
    let _ = store.write(|tx| {
        tx.next_ticket_number()?;
        Err::<(), _>(StoreError::Invalid("rolled back".into()))
    });
    assert_eq!(store.write(|tx| tx.next_ticket_number()).unwrap(), 3);
}

#[test]
fn a_notification_event_fills_the_outbox_in_its_transaction() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            tx.put_ticket(&ticket_row("T-1", "north", "open", 0))?;
            tx.append_event(&NewEvent {
                ticket: Some("T-1"),
                at: t(1),
                kind: "notified",
                payload: r#"{"fact":{"to":["center","owner"]}}"#,
                fingerprint: "fp1",
                rule: Some("E3"),
            })?;
            tx.append_event(&NewEvent {
                ticket: Some("T-1"),
                at: t(2),
                kind: "escalated",
                payload: r#"{"fact":{"notify":["manager"]}}"#,
                fingerprint: "fp1",
                rule: Some("E3"),
            })
        })
        .unwrap();
    let unrouted = store.read(|tx| tx.outbox_unrouted(10)).unwrap();
    let got: Vec<(i64, &str, &str)> = unrouted
        .iter()
        .map(|e| (e.seq, e.recipient.as_str(), e.estate.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "center", "north"),
            (1, "owner", "north"),
            (2, "manager", "north")
        ]
    );
    store
        .write(|tx| tx.route_entry(1, "center", &["sms".to_owned()], t(3)))
        .unwrap();
    // Routed once: a second dispatcher routing the same entry adds nothing.
    store
        .write(|tx| tx.route_entry(1, "center", &["mail".to_owned()], t(3)))
        .unwrap();
    let lease = Lease {
        worker: "a",
        now: t(3),
        until: t(63),
    };
    let due = store.write(|tx| tx.claim_deliveries(&lease, 10)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.channel, "sms");
    let views = store.read(|tx| tx.outbox(Some("T-1"), 10, None)).unwrap();
    let states: Vec<&str> = views.iter().map(|v| v.state.as_str()).collect();
    assert_eq!(states, ["unrouted", "pending", "unrouted"]);
    assert_eq!(store.read(|tx| tx.outbox_rows()).unwrap().len(), 3);
    assert_eq!(store.read(|tx| tx.notification_events()).unwrap().len(), 2);
}

/// A store with one routed notification to `center` over `sms`, due at t(3).
fn one_due_delivery() -> (TempDir, PathBuf, Store) {
    let (dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            tx.put_ticket(&ticket_row("T-1", "north", "open", 0))?;
            tx.append_event(&NewEvent {
                ticket: Some("T-1"),
                at: t(1),
                kind: "notified",
                payload: r#"{"fact":{"to":["center"]}}"#,
                fingerprint: "fp1",
                rule: Some("E1"),
            })?;
            tx.route_entry(1, "center", &["sms".to_owned()], t(3))
        })
        .unwrap();
    (dir, db, store)
}

fn claim(store: &mut Store, worker: &str, now: i64) -> Vec<Delivery> {
    let lease = Lease {
        worker,
        now: t(now),
        until: t(now + 60),
    };
    store
        .write(|tx| tx.claim_deliveries(&lease, 10))
        .unwrap()
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

#[test]
fn a_leased_delivery_is_claimed_by_one_dispatcher_until_its_lease_lapses() {
    let (_dir, db, mut a) = one_due_delivery();
    let mut b = Store::open(&db).unwrap();
    assert!(claim(&mut a, "a", 2).is_empty(), "not due before next_at");
    let got = claim(&mut a, "a", 3);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].claimed_by.as_deref(), got[0].lease_until),
        (Some("a"), Some(t(63)))
    );
    // The other dispatcher sees nothing while the lease holds, ...
    assert!(claim(&mut b, "b", 4).is_empty());
    assert!(claim(&mut b, "b", 62).is_empty());
    // ... and claims it once the lease has lapsed (a died mid-send).
    let mut d = claim(&mut b, "b", 63).pop().unwrap();
    assert_eq!(d.claimed_by.as_deref(), Some("b"));
    // a's late outcome is not recorded: b holds the delivery now.
    let mut late = d.clone();
    late.state = "dead".into();
    assert!(!a.write(|tx| tx.finish_delivery(&late, "a")).unwrap());
    d.state = "delivered".into();
    d.attempts = 1;
    d.delivered_at = Some(t(64));
    assert!(b.write(|tx| tx.finish_delivery(&d, "b")).unwrap());
    let view = a.read(|tx| tx.outbox(Some("T-1"), 10, None)).unwrap();
    let stored = &view[0].deliveries[0];
    assert_eq!(
        (
            stored.state.as_str(),
            stored.attempts,
            &stored.claimed_by,
            stored.lease_until
        ),
        ("delivered", 1, &None, None)
    );
    // Delivered: nobody claims it again, whatever the time.
    assert!(claim(&mut a, "a", 10_000).is_empty());
}

#[test]
fn a_failed_attempt_ends_the_lease_and_waits_for_its_retry_time() {
    let (_dir, _db, mut store) = one_due_delivery();
    let mut d = claim(&mut store, "a", 3).pop().unwrap();
    d.attempts = 1;
    d.next_at = t(20);
    d.last_error = Some("HTTP 500".into());
    assert!(store.write(|tx| tx.finish_delivery(&d, "a")).unwrap());
    assert!(claim(&mut store, "b", 19).is_empty(), "retry not due yet");
    let again = claim(&mut store, "b", 20);
    assert_eq!(again.len(), 1, "due again, lease ended: any dispatcher");
    assert_eq!(again[0].attempts, 1);
}

#[test]
fn concurrent_writers_never_fork_the_chain() {
    let (_dir, db) = fresh();
    drop(Store::open(&db).unwrap());
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&db).unwrap();
                for i in 0..100 {
                    let payload = format!(r#"{{"writer":{w},"i":{i}}}"#);
                    store
                        .write(|tx| tx.append_event(&event(Some("T-1"), t(i), &payload)))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = Store::open_read_only(&db).unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!((report.events, report.first_bad), (300, None));
}

#[test]
fn a_read_only_store_refuses_writes() {
    let (_dir, db) = fresh();
    let mut store = Store::open(&db).unwrap();
    append_n(&mut store, 1);
    let mut ro = Store::open_read_only(&db).unwrap();
    let err = ro.write(|tx| tx.set_meta("k", "v")).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(ro.read(|tx| tx.event_count()).unwrap(), 1);
}
