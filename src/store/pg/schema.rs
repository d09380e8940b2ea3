//! The PostgreSQL schema: the same tables, columns and rules as the SQLite
//! migrations 1-8 (`../schema.rs`), written once for PostgreSQL 15. Text
//! columns are `COLLATE "C"` so that comparing and ordering them is byte
//! order, as in SQLite: stored times compare as times and ticket ids sort the
//! same on both backends (`audit verify` merges ordered cursors by id).
//!
//! Entries are only ever appended; `steward_schema.version` counts them.

/// The bodies of the trigger functions, as PostgreSQL keeps them in
/// `pg_proc.prosrc`: `audit verify` compares them to find a rewritten rule.
pub(super) const APPEND_ONLY_BODY: &str = "
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
";

pub(super) const OUTBOX_BODY: &str = "
DECLARE
    list jsonb;
BEGIN
    IF NEW.ticket IS NOT NULL AND NEW.kind IN ('notified', 'escalated') THEN
        list := (NEW.payload::jsonb) #> CASE NEW.kind
            WHEN 'notified' THEN '{fact,to}'::text[] ELSE '{fact,notify}'::text[] END;
        IF list IS NOT NULL THEN
            INSERT INTO outbox (seq, recipient, ticket, kind, at)
            SELECT NEW.seq, r, NEW.ticket, NEW.kind, NEW.at
            FROM jsonb_array_elements_text(CASE jsonb_typeof(list)
                WHEN 'array' THEN list ELSE jsonb_build_array(list) END) AS r
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NEW;
END
";

/// Migration 1: everything SQLite's five migrations build.
pub(super) fn migrations() -> Vec<String> {
    vec![
        format!(
            r#"
CREATE TABLE events (
    seq         BIGINT PRIMARY KEY,
    ticket      TEXT COLLATE "C",
    at          TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    payload     TEXT NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    rule        TEXT COLLATE "C",
    prev_hash   TEXT COLLATE "C" NOT NULL,
    hash        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX events_ticket ON events (ticket, seq);
CREATE INDEX events_policy_scope ON events (((payload::jsonb) ->> 'estate'), seq)
    WHERE kind = 'policy_applied';
-- The log is evidence: even a hand-written SQL session must not rewrite it.
CREATE FUNCTION steward_append_only() RETURNS trigger LANGUAGE plpgsql AS $body${APPEND_ONLY_BODY}$body$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION steward_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION steward_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION steward_append_only();

CREATE TABLE policies (
    fingerprint TEXT COLLATE "C" PRIMARY KEY,
    canonical   TEXT NOT NULL,
    source      TEXT,
    stored_at   TEXT COLLATE "C" NOT NULL
);
CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT COLLATE "C" PRIMARY KEY,
    bytes  BYTEA NOT NULL
);
CREATE TABLE sequences (
    name TEXT COLLATE "C" PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO sequences (name, last) VALUES ('ticket', 0);

CREATE TABLE tickets (
    id          TEXT COLLATE "C" PRIMARY KEY,
    estate      TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    opened_at   TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    category    TEXT COLLATE "C" GENERATED ALWAYS AS ((state::jsonb) ->> 'category') STORED,
    department  TEXT COLLATE "C" GENERATED ALWAYS AS ((state::jsonb) ->> 'department') STORED,
    breaches    BIGINT GENERATED ALWAYS AS (((state::jsonb) ->> 'breaches')::bigint) STORED
);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_estate_status ON tickets (estate, status);
CREATE INDEX tickets_opened ON tickets (opened_at, id);
CREATE INDEX tickets_status_opened ON tickets (status, opened_at, id);
CREATE INDEX tickets_estate_opened ON tickets (estate, opened_at, id);
CREATE INDEX tickets_category ON tickets (category, opened_at, id);
CREATE INDEX tickets_department ON tickets (department, opened_at, id);

CREATE TABLE timers (
    ticket TEXT COLLATE "C" NOT NULL,
    key    TEXT COLLATE "C" NOT NULL,
    kind   TEXT COLLATE "C" NOT NULL,
    due_at TEXT COLLATE "C",
    event  TEXT COLLATE "C",
    estate TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (ticket, key)
);
CREATE INDEX timers_due ON timers (due_at, ticket) WHERE due_at IS NOT NULL;
CREATE INDEX timers_event ON timers (estate, event, ticket);

CREATE TABLE tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    estates    TEXT NOT NULL,
    sha256     TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT COLLATE "C"
);
CREATE TABLE idempotency (
    actor   TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    request TEXT NOT NULL,
    status  INTEGER NOT NULL,
    body    TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE TABLE outbox (
    seq       BIGINT NOT NULL,
    recipient TEXT COLLATE "C" NOT NULL,
    ticket    TEXT COLLATE "C" NOT NULL,
    kind      TEXT NOT NULL,
    at        TEXT COLLATE "C" NOT NULL,
    routed_at TEXT COLLATE "C",
    PRIMARY KEY (seq, recipient)
);
CREATE INDEX outbox_unrouted ON outbox (seq) WHERE routed_at IS NULL;
CREATE INDEX outbox_ticket ON outbox (ticket, seq);
CREATE FUNCTION steward_outbox() RETURNS trigger LANGUAGE plpgsql AS $body${OUTBOX_BODY}$body$;
CREATE TRIGGER events_outbox AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION steward_outbox();
CREATE TABLE deliveries (
    seq          BIGINT NOT NULL,
    recipient    TEXT COLLATE "C" NOT NULL,
    channel      TEXT COLLATE "C" NOT NULL,
    state        TEXT COLLATE "C" NOT NULL,
    attempts     BIGINT NOT NULL,
    next_at      TEXT COLLATE "C" NOT NULL,
    last_error   TEXT,
    delivered_at TEXT,
    PRIMARY KEY (seq, recipient, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
"#
        ),
        // 6 (SQLite migration 6): the estate registry, owner visits and external
        // events are ticket-less events, read without a scan; an external event
        // already recorded (kind, estate, time) is found, so it counts once.
        r"
CREATE INDEX events_estates ON events (seq) WHERE kind = 'estate_declared';
CREATE INDEX events_visits ON events (at, seq) WHERE kind = 'owner_visited';
CREATE INDEX events_external
    ON events (((payload::jsonb) ->> 'estate'), ((payload::jsonb) ->> 'event'), at)
    WHERE kind = 'external_event';
"
        .to_owned(),
        // 7 (SQLite migration 7): entries the outbox trigger made for events
        // logged before it existed are held for an operator. A PostgreSQL
        // database always had the trigger, so this finds none; it keeps the
        // two migration histories the same.
        r"
UPDATE outbox SET routed_at = 'held'
    WHERE routed_at = at
      AND NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.seq = outbox.seq AND d.recipient = outbox.recipient);
"
        .to_owned(),
        // 8 (SQLite migration 8): delivery leases (claimed with `FOR UPDATE
        // SKIP LOCKED`, see `serve.rs`).
        r#"
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT COLLATE "C";
ALTER TABLE deliveries ADD COLUMN lease_until TEXT COLLATE "C";
"#
        .to_owned(),
    ]
}

/// Tables, indexes, trigger functions and triggers of a current database, as
/// `schema_objects` reads them: tables and indexes by name, functions by body,
/// triggers by their enabled state and the function they run.
pub(super) fn expected() -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let mut add = |kind: &str, name: &str, def: Option<String>| {
        out.push((kind.to_owned(), name.to_owned(), def));
    };
    for t in [
        "blobs",
        "deliveries",
        "events",
        "idempotency",
        "meta",
        "outbox",
        "policies",
        "sequences",
        "steward_schema",
        "tickets",
        "timers",
        "tokens",
    ] {
        add("table", t, None);
    }
    for i in [
        "blobs_pkey",
        "deliveries_due",
        "deliveries_pkey",
        "events_estates",
        "events_external",
        "events_pkey",
        "events_policy_scope",
        "events_ticket",
        "events_visits",
        "idempotency_pkey",
        "meta_pkey",
        "outbox_pkey",
        "outbox_ticket",
        "outbox_unrouted",
        "policies_pkey",
        "sequences_pkey",
        "tickets_category",
        "tickets_department",
        "tickets_estate_opened",
        "tickets_estate_status",
        "tickets_opened",
        "tickets_pkey",
        "tickets_status",
        "tickets_status_opened",
        "timers_due",
        "timers_event",
        "timers_pkey",
        "tokens_name_key",
        "tokens_pkey",
        "tokens_sha256_key",
    ] {
        add("index", i, None);
    }
    add(
        "function",
        "steward_append_only",
        Some(APPEND_ONLY_BODY.to_owned()),
    );
    add("function", "steward_outbox", Some(OUTBOX_BODY.to_owned()));
    for (t, f) in [
        ("events_no_delete", "steward_append_only"),
        ("events_no_truncate", "steward_append_only"),
        ("events_no_update", "steward_append_only"),
        ("events_outbox", "steward_outbox"),
    ] {
        add("trigger", t, Some(format!("enabled, runs {f}")));
    }
    out.sort();
    out
}

/// The query behind `schema_objects`, in the shape of [`expected`].
pub(super) const OBJECTS_SQL: &str = "
SELECT 'table', c.relname::text, NULL::text FROM pg_class c
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'index', c.relname::text, NULL::text FROM pg_class c
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'i'
UNION ALL
SELECT 'function', p.proname::text, p.prosrc FROM pg_proc p
  WHERE p.pronamespace = current_schema()::regnamespace
UNION ALL
SELECT 'trigger', t.tgname::text,
       CASE WHEN t.tgenabled = 'D' THEN 'disabled' ELSE 'enabled' END || ', runs ' || p.proname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
  WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
ORDER BY 1, 2";
