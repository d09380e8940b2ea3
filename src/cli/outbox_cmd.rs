//! `steward outbox list`: notifications and their delivery state;
//! `steward outbox release`: send the notifications held since before the outbox existed.

use clap::Subcommand;

use super::args::{Format, Global, TableJson};
use super::context::{fail, open_existing, open_read_only};
use super::{EXIT_OK, output};

#[derive(Subcommand, Debug)]
pub enum OutboxCmd {
    /// Notifications, newest first, with each delivery's state, attempts and last error
    #[command(after_help = "Examples:
  steward outbox list
  steward outbox list --state dead
  steward outbox list --ticket T00042 --format json")]
    List {
        /// Only this ticket's notifications
        #[arg(long)]
        ticket: Option<String>,
        /// Only entries in this state: unrouted, held, no channel, pending, delivered, dead
        #[arg(long)]
        state: Option<String>,
        /// At most this many entries
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Let held notifications (logged before the outbox existed) go out: the
    /// dispatcher routes them to the deployment's channels like new ones
    #[command(after_help = "Examples:
  steward outbox list --state held
  steward outbox release --ticket T00042
  steward outbox release --all")]
    Release {
        /// Only this ticket's held notifications
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        ticket: Option<String>,
        /// Every held notification
        #[arg(long)]
        all: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}

pub fn run(cmd: OutboxCmd, g: &Global) -> i32 {
    let (ticket, state, limit) = match cmd {
        OutboxCmd::List {
            ticket,
            state,
            limit,
            ..
        } => (ticket, state, limit),
        OutboxCmd::Release { ticket, .. } => return release(ticket.as_deref(), g),
    };
    let svc = match open_read_only(g) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let rows = match svc
        .store()
        .read(|tx| tx.outbox(ticket.as_deref(), limit.max(1), state.as_deref()))
    {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if g.format == Format::Json {
        output::json(&serde_json::json!({ "entries": rows }));
        return EXIT_OK;
    }
    if rows.is_empty() {
        println!("the outbox is empty");
        return EXIT_OK;
    }
    // Times a person reads are local to the company's policy.
    let tz = super::context::active_tz(&g.db).unwrap_or(chrono_tz::UTC);
    let mut table = Vec::new();
    for r in &rows {
        let detail = if r.deliveries.is_empty() {
            "-".to_owned()
        } else {
            r.deliveries
                .iter()
                .map(|d| {
                    let err = d
                        .last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    format!("{} {} ×{}{err}", d.channel, d.state, d.attempts)
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        table.push(vec![
            r.entry.seq.to_string(),
            super::timeline::local(r.entry.at, tz),
            r.entry.ticket.clone(),
            r.entry.estate.clone(),
            r.entry.recipient.clone(),
            r.entry.kind.clone(),
            r.state.clone(),
            output::terminal_safe(&detail, false).into_owned(),
        ]);
    }
    output::print(&output::table(
        &[
            "seq",
            "time",
            "ticket",
            "estate",
            "to",
            "kind",
            "state",
            "deliveries",
        ],
        &table,
    ));
    EXIT_OK
}

fn release(ticket: Option<&str>, g: &Global) -> i32 {
    let mut svc = match open_existing(g) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match svc.batch(|b| Ok(b.tx().release_held(ticket)?)) {
        Ok(n) if g.format == Format::Json => {
            output::json(&serde_json::json!({ "released": n }));
            EXIT_OK
        }
        Ok(0) => {
            println!("no notification is held");
            EXIT_OK
        }
        Ok(n) => {
            println!(
                "released {n} held notification(s); the dispatcher of a running server routes them within 5 s"
            );
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}
