//! rhai inside policies: the `when` / `applies` conditions compiled once at load, and
//! the sandboxed engine that runs them. Every engine built here has resource limits
//! and no way out to files, network or processes (rhai has none unless registered).

pub mod condition;
pub mod facts;
pub mod hook_script;
pub mod predicate;
pub mod sandbox;

pub use condition::{Condition, ConditionError};
pub use facts::TicketFacts;
