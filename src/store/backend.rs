//! The storage seam: [`Tx`] is the one transaction type the service, the
//! server, reports, replay, audit and the CLI see, whichever database is
//! behind it. Each method hands the call to the backend the store was opened
//! on: SQLite (`super::tx::Tx` and the modules beside it) or PostgreSQL
//! (`super::pg`). Both implement the same methods with the same meaning, the
//! same rows and the same hashes, so the integration suite runs against both.
//!
//! A closed enum rather than a trait object: there are exactly two backends,
//! several methods are generic (streaming callbacks), and a `match` costs
//! nothing next to the SQL behind it.

use chrono::{DateTime, Utc};

use super::serve::Row5;
use super::{
    Application, ChainReport, Delivery, EventRow, Gauges, Lease, ListedTicket, Mark, NewEvent,
    OutboxEntry, OutboxView, Remembered, StoreError, StoredPolicyRow, TicketFilter, TicketQuery,
    TicketRecord, TicketRow, Timer, TokenRow,
};
use super::{pg, tx as sqlite};

/// A transaction on the store, handed to the closures of
/// [`Store::write`](super::Store::write) and [`Store::read`](super::Store::read).
///
/// Read methods take `&self` and write methods `&mut self`, and `read` only
/// hands out `&Tx`, so the compiler keeps writes out of read transactions.
pub struct Tx<'c> {
    inner: Inner<'c>,
}

enum Inner<'c> {
    Sqlite(sqlite::Tx<'c>),
    Pg(pg::Tx<'c>),
}

/// Which kind of database a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

macro_rules! forward {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {$(
        $(#[$m])*
        pub fn $name(&self $(, $arg: $ty)*) -> $ret {
            match &self.inner {
                Inner::Sqlite(t) => t.$name($($arg),*),
                Inner::Pg(t) => t.$name($($arg),*),
            }
        }
    )*};
}

macro_rules! forward_mut {
    ($( $(#[$m:meta])* fn $name:ident(&mut self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {$(
        $(#[$m])*
        pub fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            match &mut self.inner {
                Inner::Sqlite(t) => t.$name($($arg),*),
                Inner::Pg(t) => t.$name($($arg),*),
            }
        }
    )*};
}

impl<'c> Tx<'c> {
    pub(super) fn sqlite(tx: sqlite::Tx<'c>) -> Tx<'c> {
        Tx {
            inner: Inner::Sqlite(tx),
        }
    }

    pub(super) fn pg(tx: pg::Tx<'c>) -> Tx<'c> {
        Tx {
            inner: Inner::Pg(tx),
        }
    }

    pub(super) fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Sqlite(t) => t.commit(),
            Inner::Pg(t) => t.commit(),
        }
    }

    pub(super) fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Sqlite(t) => t.rollback(),
            Inner::Pg(t) => t.rollback(),
        }
    }

    /// The PostgreSQL transaction underneath, for `store copy`.
    pub(super) fn pg_mut(&mut self) -> Option<&mut pg::Tx<'c>> {
        match &mut self.inner {
            Inner::Pg(t) => Some(t),
            Inner::Sqlite(_) => None,
        }
    }

    /// The database behind this transaction.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Pg(_) => Backend::Postgres,
        }
    }

    /// Calls `f` on every ticket with its events, projection row and timers,
    /// one ticket at a time in id order (see `scan.rs`).
    pub fn scan_tickets<E: From<StoreError>>(
        &self,
        f: impl FnMut(TicketRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        match &self.inner {
            Inner::Sqlite(t) => t.scan_tickets(f),
            Inner::Pg(t) => t.scan_tickets(f),
        }
    }

    /// The schema objects a database of this backend made by this steward has,
    /// in the shape of [`Tx::schema_objects`], for `audit verify` to compare.
    pub fn expected_schema(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        match &self.inner {
            Inner::Sqlite(_) => super::expected_schema(),
            Inner::Pg(t) => t.expected_schema(),
        }
    }

    forward! {
        /// The database as named in messages.
        fn name(&self) -> &str;
        /// The events of one ticket, oldest first.
        fn events_for_ticket(&self, ticket: &str) -> Result<Vec<EventRow>, StoreError>;
        /// Calls `f` on every event in `seq` order without loading the log.
        fn for_each_event(&self, f: impl FnMut(EventRow) -> Result<(), StoreError>) -> Result<(), StoreError>;
        fn event_count(&self) -> Result<i64, StoreError>;
        fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
        fn policy(&self, fingerprint: &str) -> Result<Option<String>, StoreError>;
        fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
        fn ticket(&self, id: &str) -> Result<Option<TicketRow>, StoreError>;
        fn tickets(&self, filter: &TicketFilter<'_>) -> Result<Vec<TicketRow>, StoreError>;
        fn timers_for(&self, ticket: &str) -> Result<Vec<Timer>, StoreError>;
        fn due_tickets(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
        fn tickets_waiting_for(&self, estate: &str, event: &str) -> Result<Vec<String>, StoreError>;
        fn applied_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError>;
        fn active_policy(&self, estate: Option<&str>) -> Result<Option<String>, StoreError>;
        fn applications(&self) -> Result<Vec<Application>, StoreError>;
        fn stored_policies(&self) -> Result<Vec<StoredPolicyRow>, StoreError>;
        fn verify_chain(&self) -> Result<ChainReport, StoreError>;
        fn marks(&self, kind: &str) -> Result<Vec<Mark>, StoreError>;
        fn last_ticket_event_at(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
        fn list_tickets(&self, q: &TicketQuery<'_>, f: impl FnMut(ListedTicket) -> Result<(), StoreError>) -> Result<(), StoreError>;
        fn count_tickets(&self, q: &TicketQuery<'_>) -> Result<u64, StoreError>;
        fn settings(&self) -> Result<Vec<(String, String)>, StoreError>;
        fn blob_digests(&self) -> Result<Vec<(String, String)>, StoreError>;
        fn schema_objects(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError>;
        fn head_seq(&self) -> Result<i64, StoreError>;
        fn event_hash(&self, seq: i64) -> Result<Option<String>, StoreError>;
        fn token_by_hash(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError>;
        fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;
        fn remembered(&self, actor: &str, key: &str) -> Result<Option<Remembered>, StoreError>;
        fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
        fn gauges(&self, now: DateTime<Utc>) -> Result<Gauges, StoreError>;
        fn list_tickets_after(
            &self,
            q: &TicketQuery<'_>,
            after: Option<(DateTime<Utc>, &str)>,
            f: impl FnMut(ListedTicket) -> Result<(), StoreError>,
        ) -> Result<(), StoreError>;
        fn outbox_unrouted(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
        fn outbox(&self, ticket: Option<&str>, limit: usize, state: Option<&str>) -> Result<Vec<OutboxView>, StoreError>;
        fn outbox_rows(&self) -> Result<Vec<Row5>, StoreError>;
        fn notification_events(&self) -> Result<Vec<Row5>, StoreError>;
        /// Every estate declaration, oldest first.
        fn estate_declarations(&self) -> Result<Vec<Mark>, StoreError>;
        /// Whether any estate has been declared.
        fn has_estates(&self) -> Result<bool, StoreError>;
        /// Owner visits with `from <= at < to`, in time order.
        fn visits(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Mark>, StoreError>;
        /// The `seq` of the external event `kind` for `estate` at `at`, if recorded.
        fn external_event(&self, estate: &str, kind: &str, at: DateTime<Utc>) -> Result<Option<i64>, StoreError>;
    }

    forward_mut! {
        /// Appends an event at the end of the chain and returns it as stored.
        fn append_event(&mut self, e: &NewEvent<'_>) -> Result<EventRow, StoreError>;
        /// [`Tx::append_event`] without handing the row back; returns its `seq`.
        fn append(&mut self, e: &NewEvent<'_>) -> Result<i64, StoreError>;
        fn put_policy(&mut self, fingerprint: &str, canonical: &str, source: Option<&str>, at: DateTime<Utc>) -> Result<(), StoreError>;
        fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError>;
        fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
        fn put_ticket(&mut self, row: &TicketRow) -> Result<(), StoreError>;
        fn replace_timers(&mut self, ticket: &str, estate: &str, timers: &[Timer]) -> Result<(), StoreError>;
        fn clear_projections(&mut self) -> Result<(), StoreError>;
        fn next_ticket_number(&mut self) -> Result<i64, StoreError>;
        fn insert_token(&mut self, t: &TokenRow) -> Result<(), StoreError>;
        fn revoke_token(&mut self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
        fn remember(&mut self, actor: &str, key: &str, answer: &Remembered, at: DateTime<Utc>) -> Result<(), StoreError>;
        fn route_entry(&mut self, seq: i64, recipient: &str, channels: &[String], at: DateTime<Utc>) -> Result<(), StoreError>;
        /// Claims due deliveries that no live lease holds, setting this lease on them.
        fn claim_deliveries(&mut self, lease: &Lease<'_>, limit: usize) -> Result<Vec<(OutboxEntry, Delivery)>, StoreError>;
        /// Records an attempt's outcome and ends the lease, if `worker` still holds it.
        fn finish_delivery(&mut self, d: &Delivery, worker: &str) -> Result<bool, StoreError>;
        /// Lets held outbox entries go out; returns how many.
        fn release_held(&mut self, ticket: Option<&str>) -> Result<usize, StoreError>;
        /// Undoes `next_ticket_number` for a number an open did not use.
        fn give_back_ticket_number(&mut self, n: i64) -> Result<(), StoreError>;
    }
}
