//! steward: a company's complaint and repair procedure, as data, enforced to the minute.
//!
//! | module | owns |
//! |---|---|
//! | [`policy`] | loading, overlays, validation, fingerprint, diff of policy files |
//! | [`calendar`], [`span`] | business calendars and limit durations |
//! | [`script`] | rhai conditions and hooks in a sandbox |
//! | [`engine`] | the pure ticket state machine: `(ticket, command, now, policy) -> facts` |
//! | [`store`] | SQLite: hash-chained event log, projections, timers |
//! | [`report`] | daily, weekly and quarterly reports and KPIs from the event log |
//! | [`cli`] | the `steward` command line |

pub mod calendar;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod policy;
pub mod report;
pub mod script;
pub mod service;
pub mod span;
pub mod store;
