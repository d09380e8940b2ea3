//! Behavioural tests of the store: opening and identifying files,
//! transactions, the append-only hash chain, projections, concurrency and
//! the query plans that keep the timer scans cheap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn digest(text: &str) -> String {
    crate::digest::sha256_hex(text.as_bytes())
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    (dir, path)
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

fn ticket_row(id: &str, estate: &str, status: &str, opened: i64) -> TicketRow {
    TicketRow {
        id: id.to_owned(),
        estate: estate.to_owned(),
        status: status.to_owned(),
        fingerprint: "fp1".to_owned(),
        opened_at: t(opened),
        updated_at: t(opened + 1),
        state: r#"{"step":1}"#.to_owned(),
    }
}

fn due(key: &str, at: i64) -> Timer {
    Timer {
        key: key.to_owned(),
        kind: "deadline".to_owned(),
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

/// A second, plain connection for tampering behind the store's back.
fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

// ---- opening -------------------------------------------------------------

#[test]
fn open_creates_and_reopen_keeps_data() {
    let (_dir, path) = temp_db();
    {
        let mut store = Store::open(&path).unwrap();
        store
            .write(|tx| {
                tx.append_event(&event(Some("T-1"), t(0), "{}"))?;
                tx.put_policy(&digest("policy text"), "policy text", Some("p.toml"), t(0))?;
                tx.set_meta("active_policy", "fp1")?;
                tx.put_ticket(&ticket_row("T-1", "north", "open", 0))
            })
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.event_count()?, 1);
            assert_eq!(
                tx.policy(&digest("policy text"))?.as_deref(),
                Some("policy text")
            );
            assert_eq!(tx.meta("active_policy")?.as_deref(), Some("fp1"));
            assert_eq!(
                tx.ticket("T-1")?,
                Some(ticket_row("T-1", "north", "open", 0))
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();

    let conn = raw(&path);
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(app, 0x5354_5744);
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(mode, "wal");
}

#[test]
fn open_fills_an_empty_file() {
    // tempfile-style zero-byte files are valid empty SQLite databases.
    let (_dir, path) = temp_db();
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.read(|tx| tx.event_count()).unwrap(), 0);
}

#[test]
fn plain_text_file_is_not_a_database() {
    let (_dir, path) = temp_db();
    std::fs::write(&path, "these are my notes, not a database\n".repeat(40)).unwrap();
    for result in [Store::open(&path), Store::open_read_only(&path)] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is not a steward database (not an SQLite file)",
                path.display()
            )
        );
    }
    // Refusing must not have modified the file.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("these are my notes"));
}

#[test]
fn foreign_sqlite_database_is_refused() {
    let (_dir, path) = temp_db();
    raw(&path)
        .execute_batch("CREATE TABLE contacts (name TEXT);")
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignDatabase { found: 0, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is not a steward database (application id 0x0 instead of 0x53545744)",
            path.display()
        )
    );
    // Still untouched: not switched to WAL, no steward tables.
    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn other_application_id_is_refused_even_when_empty() {
    let (_dir, path) = temp_db();
    raw(&path)
        .pragma_update(None, "application_id", 0x1234)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignDatabase { found: 0x1234, .. }),
        "{err:?}"
    );
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignDatabase { found: 0x1234, .. }),
        "{err:?}"
    );
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).unwrap());
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 6)
        .unwrap();
    for result in [Store::open(&path), Store::open_read_only(&path)] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "database `{}` has schema version {}, newer than this steward ({}): upgrade steward",
                path.display(),
                SCHEMA_VERSION + 6,
                SCHEMA_VERSION
            )
        );
    }
}

#[test]
fn read_only_open_never_migrates() {
    let (_dir, path) = temp_db();
    // A blank SQLite file: a writable open would initialise it.
    raw(&path).execute_batch("VACUUM;").unwrap();
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooOld {
                found: 0,
                known: SCHEMA_VERSION,
                ..
            }
        ),
        "{err:?}"
    );
    let version: i64 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
}

#[test]
fn read_only_open_of_missing_file() {
    let (_dir, path) = temp_db();
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(!path.exists());
}

#[test]
fn open_in_a_missing_directory_names_the_file() {
    let (dir, _) = temp_db();
    let path = dir.path().join("no/such/dir/steward.db");
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");
    assert!(err.to_string().contains("no/such/dir/steward.db"), "{err}");
}

#[test]
fn read_only_store_refuses_writes_but_reads() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append_n(&mut store, 3);
    drop(store);

    let mut ro = Store::open_read_only(&path).unwrap();
    assert!(ro.is_read_only());
    assert_eq!(ro.read(|tx| tx.event_count()).unwrap(), 3);
    let err = ro
        .write(|tx| tx.append_event(&event(None, t(9), "{}")))
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("database `{}` is read-only", path.display())
    );
}

#[test]
fn sqlite_readonly_error_maps_to_read_only() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).unwrap());
    let conn =
        Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let err = conn
        .execute("INSERT INTO meta (key, value) VALUES ('a', 'b')", [])
        .unwrap_err();
    let err = error::from_sqlite(err, "x.db");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(err.to_string(), "database `x.db` is read-only");
}

#[test]
fn lock_held_elsewhere_is_reported_as_locked() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    // Keeps the test fast; the production timeout is BUSY_TIMEOUT.
    store
        .sqlite_conn()
        .busy_timeout(Duration::from_millis(50))
        .unwrap();
    let other = raw(&path);
    other.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let err = store
        .write(|tx| tx.append_event(&event(None, t(0), "{}")))
        .unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "database `{}` is locked by another process (waited 5s)",
            path.display()
        )
    );
    other.execute_batch("ROLLBACK;").unwrap();
    store
        .write(|tx| tx.append_event(&event(None, t(0), "{}")))
        .unwrap();
}

// ---- transactions --------------------------------------------------------

#[derive(Debug)]
enum CommandError {
    Store(StoreError),
    Refused,
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store(e)
    }
}

#[test]
fn failing_write_closure_rolls_everything_back() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let result: Result<(), CommandError> = store.write(|tx| {
        tx.append_event(&event(Some("T-1"), t(0), "{}"))?;
        tx.put_ticket(&ticket_row("T-1", "north", "open", 0))?;
        tx.replace_timers("T-1", "north", &[due("reply", 10)])?;
        tx.set_meta("k", "v")?;
        Err(CommandError::Refused)
    });
    assert!(matches!(result, Err(CommandError::Refused)));
    let result: Result<(), CommandError> = store.write(|tx| {
        tx.set_meta("k", "v")?;
        tx.append_event(&event(None, t(0), "not json"))?;
        Ok(())
    });
    match result {
        Err(CommandError::Store(e)) => assert!(matches!(e, StoreError::BadJson { .. }), "{e:?}"),
        other => panic!("expected a store error, got {other:?}"),
    }

    // Also across a reopen, i.e. nothing reached the file.
    drop(store);
    let store = Store::open(&path).unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.event_count()?, 0);
            assert_eq!(tx.ticket("T-1")?, None);
            assert!(tx.timers_for("T-1")?.is_empty());
            assert_eq!(tx.meta("k")?, None);
            Ok::<_, CommandError>(())
        })
        .unwrap();
}

#[test]
fn chain_continues_after_a_rolled_back_append() {
    let mut store = Store::open_in_memory().unwrap();
    append_n(&mut store, 2);
    let _ = store.write(|tx| {
        tx.append_event(&event(None, t(5), "{}"))?;
        Err::<(), _>(StoreError::Invalid("no".into()))
    });
    append_n(&mut store, 2);
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!((report.events, report.first_bad.clone()), (4, None));
    assert_eq!(report.head.as_ref().map(|h| h.seq), Some(4));
}

#[test]
fn store_error_inside_closure_propagates_with_question_mark() {
    let mut store = Store::open_in_memory().unwrap();
    let err = store
        .write(|tx| tx.append_event(&event(None, t(0), "{not json")))
        .unwrap_err();
    assert!(matches!(err, StoreError::BadJson { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("event payload is not valid JSON: "),
        "{err}"
    );
}

// ---- append-only log and hash chain --------------------------------------

#[test]
fn triggers_block_update_and_delete_of_events() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append_n(&mut store, 2);
    let conn = raw(&path);
    for sql in [
        "UPDATE events SET payload = '{\"i\":9}' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("events are append-only"), "{err}");
    }
    assert_eq!(store.read(|tx| tx.event_count()).unwrap(), 2);
}

#[test]
fn appended_event_reads_back_and_links() {
    let mut store = Store::open_in_memory().unwrap();
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
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev_hash, GENESIS_HASH);
    assert_eq!(first.at, t(0), "sub-seconds are not stored");
    assert_eq!(second.seq, 2);
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(second.ticket, None);
    assert_eq!(second.rule, None);
    let stored = store.read(|tx| tx.events_for_ticket("T-1")).unwrap();
    assert_eq!(stored, vec![first.clone()]);
    let mut all = Vec::new();
    store
        .read(|tx| {
            tx.for_each_event(|e| {
                all.push(e);
                Ok(())
            })
        })
        .unwrap();
    assert_eq!(all, vec![first, second]);
}

#[test]
fn hash_is_sha256_of_fields_joined_by_unit_separator() {
    let mut store = Store::open_in_memory().unwrap();
    let row = store
        .write(|tx| tx.append_event(&event(Some("T-1"), t(0), r#"{"a":1}"#)))
        .unwrap();
    let canonical = format!(
        "{GENESIS_HASH}\x1f1\x1fT-1\x1f2023-11-14T22:13:20Z\x1fopened\x1f{{\"a\":1}}\x1ffp1\x1fr1"
    );
    let digest = Sha256::digest(canonical.as_bytes());
    let expected: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(row.hash, expected);
}

#[test]
fn fields_that_would_make_the_hash_ambiguous_are_refused() {
    let mut store = Store::open_in_memory().unwrap();
    let bad = [
        NewEvent {
            kind: "a\u{1f}b",
            ..event(None, t(0), "{}")
        },
        NewEvent {
            ticket: Some(""),
            ..event(None, t(0), "{}")
        },
        NewEvent {
            rule: Some("r\u{1f}"),
            ..event(None, t(0), "{}")
        },
    ];
    for e in bad {
        let err = store.write(|tx| tx.append_event(&e)).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    let err = store
        .write(|tx| tx.append_event(&event(None, far, "{}")))
        .unwrap_err();
    assert!(matches!(err, StoreError::TimeOutOfRange { .. }), "{err:?}");
    assert_eq!(store.read(|tx| tx.event_count()).unwrap(), 0);
}

#[test]
fn thousand_events_verify_and_tampered_payload_is_found() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    // Several transactions, so the cached chain head is rebuilt in between.
    for _ in 0..10 {
        append_n(&mut store, 100);
    }
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!((report.events, report.first_bad.clone()), (1000, None));
    assert_eq!(report.head.as_ref().map(|h| h.seq), Some(1000));
    assert!(report.is_intact());

    let conn = raw(&path);
    conn.execute_batch(
        "DROP TRIGGER events_no_update;
         UPDATE events SET payload = '{\"i\":-1}' WHERE seq = 537;",
    )
    .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(report.events, 1000);
    assert_eq!(report.first_bad, Some((537, "hash mismatch".to_owned())));
}

#[test]
fn tampering_that_recomputes_the_hash_breaks_the_next_link() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append_n(&mut store, 5);
    let row = store.read(|tx| tx.events_for_ticket("T-1")).unwrap()[2].clone();
    let forged = chain::Canonical {
        prev_hash: &row.prev_hash,
        seq: row.seq,
        ticket: "T-1",
        at: &time::format(row.at).unwrap(),
        kind: &row.kind,
        payload: r#"{"i":99}"#,
        fingerprint: &row.fingerprint,
        rule: "r1",
    }
    .hash();
    raw(&path)
        .execute_batch(&format!(
            "DROP TRIGGER events_no_update;
             UPDATE events SET payload = '{{\"i\":99}}', hash = '{forged}' WHERE seq = 3;"
        ))
        .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(
        report.first_bad,
        Some((4, "previous hash does not match row 3".to_owned()))
    );
}

#[test]
fn deleted_event_is_reported_as_a_gap() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append_n(&mut store, 50);
    raw(&path)
        .execute_batch("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 20;")
        .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(report.events, 49);
    assert_eq!(
        report.first_bad,
        Some((21, "sequence gap after 19".to_owned()))
    );

    raw(&path)
        .execute("DELETE FROM events WHERE seq = 1", [])
        .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(
        report.first_bad,
        Some((2, "sequence gap after 0".to_owned()))
    );
}

#[test]
fn unreadable_tampered_time_is_a_finding_not_an_error() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append_n(&mut store, 3);
    raw(&path)
        .execute_batch(
            "DROP TRIGGER events_no_update; UPDATE events SET at = 'yesterday' WHERE seq = 2;",
        )
        .unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!(report.first_bad, Some((2, "hash mismatch".to_owned())));
    let err = store.read(|tx| tx.events_for_ticket("T-1")).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains("events.at holds `yesterday`"),
        "{err}"
    );
}

// ---- policies, meta, tickets ---------------------------------------------

#[test]
fn policies_are_stored_once_per_fingerprint() {
    let mut store = Store::open_in_memory().unwrap();
    let fp = digest("text");
    store
        .write(|tx| {
            tx.put_policy(&fp, "text", None, t(0))?;
            tx.put_policy(&fp, "text", Some("again.toml"), t(5))
        })
        .unwrap();
    assert_eq!(
        store.read(|tx| tx.policy(&fp)).unwrap().as_deref(),
        Some("text")
    );
    assert_eq!(store.read(|tx| tx.policy("nope")).unwrap(), None);
    let err = store
        .write(|tx| tx.put_policy(&fp, "other text", None, t(6)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

#[test]
fn policy_text_and_module_edited_in_the_file_are_refused_on_read() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let fp = digest("within = 2h");
    let module = digest("module bytes");
    store
        .write(|tx| {
            tx.put_policy(&fp, "within = 2h", None, t(0))?;
            tx.put_blob(&module, b"module bytes")
        })
        .unwrap();
    raw(&path)
        .execute_batch(
            "UPDATE policies SET canonical = 'within = 4h'; UPDATE blobs SET bytes = X'00';",
        )
        .unwrap();
    let err = store.read(|tx| tx.policy(&fp)).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("stored policy {fp} was changed outside steward")),
        "{err}"
    );
    let err = store.read(|tx| tx.blob(&module)).unwrap_err();
    assert!(matches!(err, StoreError::Tampered { .. }), "{err:?}");
}

#[test]
fn meta_overwrites() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|tx| {
            tx.set_meta("active_policy", "fp1")?;
            tx.set_meta("active_policy", "fp2")
        })
        .unwrap();
    assert_eq!(
        store
            .read(|tx| tx.meta("active_policy"))
            .unwrap()
            .as_deref(),
        Some("fp2")
    );
}

#[test]
fn tickets_upsert_filter_order_and_limit() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|tx| {
            tx.put_ticket(&ticket_row("B", "north", "open", 10))?;
            tx.put_ticket(&ticket_row("A", "north", "open", 10))?;
            tx.put_ticket(&ticket_row("C", "south", "open", 5))?;
            tx.put_ticket(&ticket_row("D", "north", "closed", 1))?;
            // Upsert: D moves to open.
            tx.put_ticket(&ticket_row("D", "north", "open", 1))
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
            ..Default::default()
        }),
        ["D", "A", "B"]
    );
    assert_eq!(
        ids(TicketFilter {
            estate: Some("north"),
            status: Some("open"),
            limit: Some(2),
        }),
        ["D", "A"]
    );
    assert_eq!(
        ids(TicketFilter {
            status: Some("closed"),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    let err = store
        .write(|tx| {
            tx.put_ticket(&TicketRow {
                state: "{oops".into(),
                ..ticket_row("E", "north", "open", 0)
            })
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::BadJson { .. }), "{err:?}");
}

// ---- timers ----------------------------------------------------------------

#[test]
fn due_tickets_returns_only_due_ones_in_order() {
    let mut store = Store::open_in_memory().unwrap();
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
    let due_now = store.read(|tx| tx.due_tickets(t(100))).unwrap();
    assert_eq!(due_now, ["T-early", "T-tie-a", "T-tie-b", "T-late"]);
    // Inclusive bound.
    assert_eq!(store.read(|tx| tx.due_tickets(t(10))).unwrap(), ["T-early"]);
    assert!(store.read(|tx| tx.due_tickets(t(0))).unwrap().is_empty());
}

#[test]
fn replace_timers_replaces_and_event_timers_are_found_by_estate() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|tx| {
            tx.replace_timers("T-1", "north", &[due("a", 10), on_event("r", "rain")])?;
            tx.replace_timers("T-2", "north", &[on_event("r", "rain")])?;
            tx.replace_timers("T-3", "south", &[on_event("r", "rain")])?;
            tx.replace_timers("T-1", "north", &[due("b", 500)])
        })
        .unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.timers_for("T-1")?, vec![due("b", 500)]);
            assert!(tx.due_tickets(t(100))?.is_empty());
            assert_eq!(tx.tickets_waiting_for("north", "rain")?, ["T-2"]);
            assert_eq!(tx.tickets_waiting_for("south", "rain")?, ["T-3"]);
            assert!(tx.tickets_waiting_for("north", "frost")?.is_empty());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
        .write(|tx| tx.replace_timers("T-2", "north", &[]))
        .unwrap();
    assert!(
        store
            .read(|tx| tx.tickets_waiting_for("north", "rain"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn invalid_timers_are_refused_without_losing_the_old_ones() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|tx| tx.replace_timers("T-1", "north", &[due("a", 10)]))
        .unwrap();
    let never = Timer {
        key: "x".into(),
        kind: "k".into(),
        due_at: None,
        event: None,
    };
    for timers in [vec![never], vec![due("a", 1), due("a", 2)]] {
        let err = store
            .write(|tx| {
                let result = tx.replace_timers("T-1", "north", &timers);
                // Even a caller that shrugs the error off keeps the old set.
                assert_eq!(tx.timers_for("T-1")?, vec![due("a", 10)]);
                result
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
}

#[test]
fn clear_projections_keeps_the_log() {
    let mut store = Store::open_in_memory().unwrap();
    append_n(&mut store, 3);
    store
        .write(|tx| {
            tx.put_ticket(&ticket_row("T-1", "north", "open", 0))?;
            tx.replace_timers("T-1", "north", &[due("a", 1), on_event("r", "rain")])?;
            tx.put_policy(&digest("text"), "text", None, t(0))?;
            tx.clear_projections()
        })
        .unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.ticket("T-1")?, None);
            assert!(tx.timers_for("T-1")?.is_empty());
            assert_eq!(tx.event_count()?, 3);
            assert!(tx.policy(&digest("text"))?.is_some());
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

fn query_plan(store: &Store, sql: &str, params: &[&str]) -> String {
    let mut stmt = store
        .sqlite_conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let details: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    details.join("\n")
}

#[test]
fn due_tickets_uses_the_due_index() {
    let mut store = Store::open_in_memory().unwrap();
    // Enough rows, most not time-based, that a scan would be the wrong plan.
    store
        .write(|tx| {
            for i in 0..200 {
                let id = format!("T-{i}");
                if i % 10 == 0 {
                    tx.replace_timers(&id, "north", &[due("a", i)])?;
                } else {
                    tx.replace_timers(&id, "north", &[on_event("r", "rain")])?;
                }
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store.sqlite_conn().execute_batch("ANALYZE;").unwrap();
    let plan = query_plan(&store, tx::DUE_TICKETS_SQL, &["2024-01-01T00:00:00Z"]);
    assert!(
        plan.contains("SEARCH timers USING COVERING INDEX timers_due ("),
        "{plan}"
    );
    assert!(!plan.contains("SCAN timers"), "{plan}");

    let plan = query_plan(
        &store,
        "SELECT DISTINCT ticket FROM timers WHERE estate = ?1 AND event = ?2 ORDER BY ticket",
        &["north", "rain"],
    );
    assert!(
        plan.contains("USING COVERING INDEX timers_event (estate=? AND event=?)"),
        "{plan}"
    );
}

// ---- concurrency -------------------------------------------------------------

#[test]
fn two_processes_worth_of_writers_interleave_safely() {
    let (_dir, path) = temp_db();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                for i in 0..200 {
                    let payload = format!(r#"{{"writer":{w},"i":{i}}}"#);
                    store
                        .write(|tx| tx.append_event(&event(Some("T-1"), t(i), &payload)))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = Store::open_read_only(&path).unwrap();
    let report = store.read(|tx| tx.verify_chain()).unwrap();
    assert_eq!((report.events, report.first_bad.clone()), (400, None));
    assert_eq!(report.head.as_ref().map(|h| h.seq), Some(400));
}

#[test]
fn time_matches_only_the_stored_form_of_that_second() {
    let at = t(1_700_000_000);
    let text = crate::store::time_text(at).unwrap();
    assert!(crate::store::time_matches(&text, at));
    assert!(crate::store::time_matches(
        &text,
        at + chrono::Duration::milliseconds(400)
    ));
    assert!(!crate::store::time_matches(
        &text,
        at + chrono::Duration::seconds(1)
    ));
    assert!(!crate::store::time_matches("2023-11-14 22:13:20", at));
    assert!(!crate::store::time_matches("not a time", at));
}
