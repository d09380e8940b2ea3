//! The schema, as an ordered list of migrations. Migration `i` (0-based)
//! brings a database from `user_version` `i` to `i + 1`; entries are never
//! edited once released, only appended, because databases in the field were
//! built from the old text.

/// Each entry runs inside its own transaction together with the
/// `user_version` bump, so a crash leaves the database at a whole version.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r"
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    ticket      TEXT,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    rule        TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX events_ticket ON events(ticket, seq);
-- The log is evidence: even a hand-written SQL session must not rewrite it.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE policies (
    fingerprint TEXT PRIMARY KEY,
    canonical   TEXT NOT NULL,
    source      TEXT,
    stored_at   TEXT NOT NULL
) STRICT;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE tickets (
    id          TEXT PRIMARY KEY,
    estate      TEXT NOT NULL,
    status      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    state       TEXT NOT NULL
) STRICT;
CREATE INDEX tickets_status ON tickets(status);
CREATE INDEX tickets_estate_status ON tickets(estate, status);

CREATE TABLE timers (
    ticket TEXT NOT NULL,
    key    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    due_at TEXT,
    event  TEXT,
    estate TEXT NOT NULL,
    PRIMARY KEY (ticket, key)
) STRICT;
-- Partial and covering: the due scan touches only time-based timers and
-- never the table itself.
CREATE INDEX timers_due ON timers(due_at, ticket) WHERE due_at IS NOT NULL;
-- ticket last so tickets_waiting_for is answered from the index, in order.
CREATE INDEX timers_event ON timers(estate, event, ticket);
",
    // 2: plug-in modules, stored once per SHA-256 so a ticket's policy can run
    // from the database alone, as its canonical text does.
    r"
CREATE TABLE blobs (
    sha256  TEXT PRIMARY KEY,
    bytes   BLOB NOT NULL
) STRICT;
",
    // 3: ticket ids in O(1) and the columns `ticket list` filters and sorts on.
    // `sequences` holds the last number handed out; it starts at the number of
    // tickets already there, which is what the old count-based choice used.
    // The generated columns read the state JSON, so `put_ticket` stays as it was.
    r"
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) STRICT;
INSERT INTO sequences (name, last) SELECT 'ticket', count(*) FROM tickets;
ALTER TABLE tickets ADD COLUMN category TEXT
    GENERATED ALWAYS AS (json_extract(state, '$.category')) VIRTUAL;
ALTER TABLE tickets ADD COLUMN department TEXT
    GENERATED ALWAYS AS (json_extract(state, '$.department')) VIRTUAL;
ALTER TABLE tickets ADD COLUMN breaches INTEGER
    GENERATED ALWAYS AS (json_extract(state, '$.breaches')) VIRTUAL;
CREATE INDEX tickets_opened ON tickets(opened_at, id);
CREATE INDEX tickets_status_opened ON tickets(status, opened_at, id);
CREATE INDEX tickets_estate_opened ON tickets(estate, opened_at, id);
CREATE INDEX tickets_category ON tickets(category, opened_at, id);
CREATE INDEX tickets_department ON tickets(department, opened_at, id);
",
    // 4: the active policy of each scope is read from the log itself (the latest
    // `policy_applied` event of that scope), so a hand-edited setting cannot
    // choose the policy a ticket opens under. Partial: only those few events.
    r"
CREATE INDEX events_policy_scope
    ON events(json_extract(payload, '$.estate'), seq)
    WHERE kind = 'policy_applied';
",
    // 5: the host runtime (`steward serve`). API tokens (only a SHA-256 of each is
    // kept), idempotency records (the response of each keyed POST, replayed on a
    // retry), and the outbox: one row per notification and recipient, written by a
    // trigger in the same transaction as the `notified` or `escalated` event, so
    // every writer (the server, `steward tick` from cron) fills it and `audit
    // verify` rebuilds it from the log. Notifications logged before this migration
    // are entered as already routed: they were never meant to be delivered.
    // `deliveries` is the dispatcher's working state per channel, not evidence.
    r"
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    estates    TEXT NOT NULL,
    sha256     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE TABLE idempotency (
    actor   TEXT NOT NULL,
    key     TEXT NOT NULL,
    request TEXT NOT NULL,
    status  INTEGER NOT NULL,
    body    TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (actor, key)
) STRICT;
CREATE TABLE outbox (
    seq       INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    ticket    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    routed_at TEXT,
    PRIMARY KEY (seq, recipient)
) STRICT;
CREATE INDEX outbox_unrouted ON outbox(seq) WHERE routed_at IS NULL;
INSERT OR IGNORE INTO outbox (seq, recipient, ticket, kind, at, routed_at)
    SELECT e.seq, j.value, e.ticket, e.kind, e.at, e.at
    FROM events e, json_each(e.payload,
        CASE e.kind WHEN 'notified' THEN '$.fact.to' ELSE '$.fact.notify' END) j
    WHERE e.ticket IS NOT NULL AND e.kind IN ('notified', 'escalated');
CREATE TRIGGER events_outbox AFTER INSERT ON events
WHEN NEW.ticket IS NOT NULL AND NEW.kind IN ('notified', 'escalated')
BEGIN
    INSERT OR IGNORE INTO outbox (seq, recipient, ticket, kind, at)
    SELECT NEW.seq, j.value, NEW.ticket, NEW.kind, NEW.at
    FROM json_each(NEW.payload,
        CASE NEW.kind WHEN 'notified' THEN '$.fact.to' ELSE '$.fact.notify' END) j;
END;
CREATE TABLE deliveries (
    seq          INTEGER NOT NULL,
    recipient    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_at      TEXT NOT NULL,
    last_error   TEXT,
    delivered_at TEXT,
    PRIMARY KEY (seq, recipient, channel)
) STRICT;
CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
",
    // 6: the estate registry and the owner-visit log (K5) are ticket-less events
    // of the log, so `audit verify` covers them with the chain; these partial
    // indexes read them without a scan, and find an external event already
    // recorded (kind, estate, time), so recording it again counts once.
    r"
CREATE INDEX events_estates ON events(seq) WHERE kind = 'estate_declared';
CREATE INDEX events_visits ON events(at, seq) WHERE kind = 'owner_visited';
CREATE INDEX events_external
    ON events(json_extract(payload, '$.estate'), json_extract(payload, '$.event'), at)
    WHERE kind = 'external_event';
",
    // 7: notifications logged before the outbox existed are held, not dropped.
    // Migration 5 entered them as routed, so no dispatcher would ever send
    // them and nothing said so; sending them all at the first start of a
    // server would page people about tickets months old. Held, they are in
    // the outbox (`outbox list --state held`, the metrics), and an operator
    // releases what should still go out (`steward outbox release`). They are
    // the rows migration 5 stamped with the event's own time and no dispatcher
    // has given a delivery.
    r"
UPDATE outbox SET routed_at = 'held'
    WHERE routed_at = at
      AND NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.seq = outbox.seq AND d.recipient = outbox.recipient);
",
    // 8: delivery leases, so that several servers on one database send each
    // delivery once. A dispatcher claims due deliveries (its name in
    // `claimed_by`, `lease_until` when the claim lapses), sends outside the
    // claiming transaction, then records the outcome only while the claim is
    // still its own. A server that dies mid-send leaves a lease that lapses,
    // and the delivery is claimable again: at least once survives the crash.
    r"
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
",
];
