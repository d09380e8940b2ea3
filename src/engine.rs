//! The ticket engine: a pure function from `(ticket, command, now, policy)` to the
//! facts that happen. No clock, no I/O: the CLI, the simulator and replay call the
//! same code. Facts are applied to the ticket as they are decided, and the same
//! [`Ticket::apply`] rebuilds a ticket from its logged facts.
//!
//! Before any command, timers due before `now` fire first (catch-up), so the facts
//! are the same whether `tick` ran in between or not.

mod clock;
mod command;
mod decide;
mod fact;
mod revisit;
mod ticket;
mod timers;

pub use clock::{Clock, ClockState};
pub use command::{Command, Due, OpenTicket};
pub use decide::{BUILTIN_STEPS, check_intake, decide, step_names, unknown_step};
pub use fact::{Decision, Fact};
pub use revisit::{RevisitSlot, SlotState};
pub use ticket::{Status, Ticket};
pub use timers::{DueTimer, NOTICE_CLOCK, earliest_timer, pending_timers};

/// Why a command was refused. Nothing is written when a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("ticket `{0}` already exists")]
    Exists(String),
    #[error("cannot {action} ticket `{ticket}`: it is {status}")]
    InvalidTransition {
        ticket: String,
        action: String,
        status: String,
    },
    #[error("cannot {action} ticket `{ticket}`: {reason}")]
    Refused {
        ticket: String,
        action: String,
        reason: String,
    },
    #[error("time {now} is before the ticket's last event at {last}")]
    InThePast { now: String, last: String },
    #[error("{0}")]
    Invalid(String),
}
