//! steward: a company's complaint and repair procedure, as data, enforced to the minute.
//!
//! | module | owns |
//! |---|---|
//! | [`audit`] | `audit verify` and checkpoints: the database proved against its own log |
//! | [`policy`] | loading, overlays, validation, fingerprint, diff of policy files |
//! | [`calendar`], [`limit_duration`] | business calendars and limit durations |
//! | [`hook_point`] | where in the procedure a hook or plug-in runs |
//! | [`script`] | rhai conditions and hooks in a sandbox |
//! | [`plugin`] | WebAssembly plug-ins (wasmtime): ABI 1, sandbox, module cache |
//! | [`engine`] | the pure ticket state machine: `(ticket, command, now, policy) -> facts` |
//! | [`digest`] | SHA-256 and hex, one helper for every digest steward prints |
//! | [`store`] | SQLite: hash-chained event log, projections, timers |
//! | [`import`] | complaint registers (CSV, XLSX) read by a mapping file: into replay or a database |
//! | [`sim`] | scenarios, policy tests, history replay and compare, synthetic histories |
//! | [`report`] | daily, weekly and quarterly reports and KPIs from the event log |
//! | [`width`] | terminal display width for aligned tables and carets |
//! | [`serve`] | `steward serve`: HTTP API, scheduler, dispatcher |
//! | [`outbox`] | notifications: the deployment file and delivery channels |
//! | [`cli`] | the `steward` command line |

pub mod audit;
pub(crate) mod calendar;
pub mod cli;
pub(crate) mod diagnostic;
pub mod digest;
pub mod engine;
pub(crate) mod hook_point;
pub mod import;
pub(crate) mod limit_duration;
pub mod outbox;
pub mod plugin;
pub mod policy;
pub mod report;
pub mod script;
pub mod serve;
pub mod service;
pub mod sim;
pub mod store;
pub(crate) mod width;

/// [`limit_duration`] under its former name, for code written before the rename
/// ("span" now only ever means a place in a source file).
#[doc(hidden)]
pub mod span {
    pub use crate::limit_duration::LimitDuration as Span;
    pub use crate::limit_duration::LimitDurationError as SpanError;
}
