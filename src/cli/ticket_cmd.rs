//! `steward ticket ...`: each one command, one transaction against the database.

use std::collections::HashMap;

use crate::engine::{BUILTIN_STEPS, Command, Due, OpenTicket, Ticket};
use crate::policy::model::Action;
use crate::service::AppError;
use crate::store::TicketQuery;

use super::args::{Format, Global, TicketCmd};
use super::context::{fail, now, open_existing, open_read_only};
use super::decisions::{policy_tz_in, print_decisions, ticket_tz};
use super::{EXIT_OK, output, ticket_json, timeline};

pub fn run(cmd: TicketCmd, g: &Global) -> i32 {
    match run_ticket(cmd, g) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn run_ticket(cmd: TicketCmd, g: &Global) -> Result<i32, String> {
    match cmd {
        TicketCmd::Show { id, .. } => return show(&id, g).map_err(|e| e.to_string()),
        TicketCmd::List {
            estate,
            status,
            category,
            department,
            breached,
            due_before,
            sort,
            limit,
            ..
        } => {
            let due_before = due_before
                .map(|t| super::context::time_arg(&t, &g.db))
                .transpose()?;
            let q = TicketQuery {
                estate: estate.as_deref(),
                status: status.map(|s| s.as_str()),
                category: category.as_deref(),
                department: department.as_deref(),
                breached,
                due_before,
                sort: sort.to_store(),
                limit: (limit > 0).then_some(limit),
            };
            return list(&q, g).map_err(|e| e.to_string());
        }
        TicketCmd::Open {
            json,
            id,
            estate,
            unit,
            owner,
            channel,
            kind,
            text,
            urgency,
            major,
            phase,
            tags,
            class,
            ..
        } => {
            let at = now(g)?;
            let intake = match json {
                Some(j) => serde_json::from_str::<OpenTicket>(&j)
                    .map_err(|e| format!("bad ticket JSON: {e}"))?,
                None => OpenTicket {
                    id: id.unwrap_or_default(),
                    estate: estate.unwrap_or_default(),
                    unit,
                    owner,
                    channel,
                    kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
                    text: text.unwrap_or_default(),
                    urgency,
                    major,
                    phase,
                    tags,
                    class,
                },
            };
            // An empty id takes the next number of the store's sequence, chosen
            // inside the opening transaction (see `Batch::open_ticket`).
            let mut svc = open_existing(g).map_err(|e| e.to_string())?;
            let (ticket, decisions) = svc.open_ticket(intake, at).map_err(|e| e.to_string())?;
            return Ok(print_decisions(&svc, &ticket, &decisions, g));
        }
        TicketCmd::Act { id, step: None, .. } => {
            return super::ticket_steps::list(&id, g).map_err(|e| e.to_string());
        }
        TicketCmd::Deadline {
            id,
            limit,
            at,
            within,
            by,
            reason,
            ..
        } => {
            let now_at = now(g)?;
            let due = match (at, within) {
                (Some(t), _) => Due::At(super::context::time_arg(&t, &g.db)?),
                (None, Some(w)) => {
                    Due::Within(w.parse().map_err(|e| format!("bad `--within {w}`: {e}"))?)
                }
                (None, None) => return Err("say when: --at TIME or --within SPAN".into()),
            };
            let command = Command::SetDeadline {
                limit,
                due,
                by,
                reason,
            };
            let mut svc = open_existing(g).map_err(|e| e.to_string())?;
            let (ticket, decisions) = svc
                .execute(&id, &command, now_at)
                .map_err(|e| e.to_string())?;
            return Ok(print_decisions(&svc, &ticket, &decisions, g));
        }
        _ => {}
    }
    let at = now(g)?;
    let (id, command) = to_command(cmd)?;
    let mut svc = open_existing(g).map_err(|e| e.to_string())?;
    let (ticket, decisions) = svc.execute(&id, &command, at).map_err(|e| e.to_string())?;
    Ok(print_decisions(&svc, &ticket, &decisions, g))
}

fn to_command(cmd: TicketCmd) -> Result<(String, Command), String> {
    let act = |id: String, action: Action, n: super::args::Note| {
        (
            id,
            Command::Act {
                action,
                by: n.by,
                note: n.note,
            },
        )
    };
    Ok(match cmd {
        TicketCmd::Classify {
            id,
            category,
            class,
            major,
            ..
        } => (
            id,
            Command::Classify {
                category,
                class,
                major,
            },
        ),
        TicketCmd::Respond { id, note, .. } => act(id, Action::Respond, note),
        TicketCmd::Plan { id, note, .. } => act(id, Action::Plan, note),
        TicketCmd::Report { id, note, .. } => act(id, Action::Report, note),
        TicketCmd::ExpertReply { id, note, .. } => act(id, Action::ExpertReply, note),
        TicketCmd::Update { id, note, .. } => act(id, Action::Update, note),
        TicketCmd::Notice { id, note, .. } => act(id, Action::Notice, note),
        TicketCmd::Act {
            id,
            step: Some(step),
            note,
            ..
        } => match Action::parse(&step).filter(|_| BUILTIN_STEPS.contains(&step.as_str())) {
            Some(action) => act(id, action, note),
            None => (
                id,
                Command::Step {
                    step,
                    by: note.by,
                    note: note.note,
                },
            ),
        },
        TicketCmd::Assign {
            id,
            department,
            tier,
            lead,
            ..
        } => (
            id,
            Command::Assign {
                department,
                tier: tier.as_str().to_owned(),
                lead,
            },
        ),
        TicketCmd::Pause { id, reason, .. } => (id, Command::Pause { reason }),
        TicketCmd::Resume { id, .. } => (id, Command::Resume),
        TicketCmd::Resolve { id, note, .. } => (id, Command::Resolve { note }),
        TicketCmd::Revisit {
            id,
            ok,
            problem,
            channel,
            note,
            ..
        } => {
            if ok == problem {
                return Err("say how the revisit went: --ok or --problem".into());
            }
            (id, Command::Revisit { ok, channel, note })
        }
        TicketCmd::Close { id, invalid, .. } => (id, Command::Close { invalid }),
        TicketCmd::Reopen { id, reason, .. } => (id, Command::Reopen { reason }),
        TicketCmd::WaiveRevisit {
            id,
            slot,
            reason,
            by,
            ..
        } => (id, Command::WaiveRevisit { slot, reason, by }),
        TicketCmd::Compensation {
            id, amount, note, ..
        } => {
            check_amount(&amount)?;
            (id, Command::Compensation { amount, note })
        }
        TicketCmd::Open { .. }
        | TicketCmd::Show { .. }
        | TicketCmd::List { .. }
        | TicketCmd::Act { step: None, .. }
        | TicketCmd::Deadline { .. } => {
            return Err("internal: not a ticket action".into());
        }
    })
}

fn show(id: &str, g: &Global) -> Result<i32, AppError> {
    let svc = open_read_only(g)?;
    let (ticket, recorded) = svc.timeline(id)?;
    let tz = ticket_tz(&svc, &ticket);
    match g.format {
        Format::Json => output::json(&ticket_json::detail(&ticket, &recorded, tz)),
        _ => {
            let mut text = output::terminal_safe(&timeline::state(&ticket, tz), true).into_owned();
            text.push('\n');
            // Each row names the policy that decided it: a ticket moved by
            // `policy apply` shows both fingerprints, each where it applied.
            let rows: Vec<Vec<String>> = recorded
                .iter()
                .map(|r| {
                    let mut row = timeline::row(id, &r.decision, tz);
                    row.push(timeline::short(&r.fingerprint).to_owned());
                    row
                })
                .collect();
            text.push_str(&output::table(
                &["time", "ticket", "what happened", "rule", "policy"],
                &rows,
            ));
            output::print(&text);
        }
    }
    Ok(EXIT_OK)
}

/// `ticket list`: rows are streamed from the store, parsed and printed one at a
/// time; the table holds its first rows only, to size the columns, and the JSON is
/// written as it goes.
fn list(q: &TicketQuery<'_>, g: &Global) -> Result<i32, AppError> {
    let svc = open_read_only(g)?;
    if let Some(e) = q.estate {
        svc.check_estate(e)?;
    }
    let mut zones: HashMap<String, chrono_tz::Tz> = HashMap::new();
    let mut table = output::TableStream::new(&[
        "id",
        "estate",
        "status",
        "category",
        "step",
        "next deadline",
        "text",
    ]);
    let mut json = JsonList::default();
    let mut shown = 0u64;
    let (total, shown) = svc.store().read(|tx| -> Result<_, AppError> {
        tx.list_tickets(q, |listed| {
            // The row was selected by its columns: they must say what its state says.
            let t: Ticket = crate::service::parse_ticket(&listed.row)
                .map_err(|e| crate::store::StoreError::Invalid(e.to_string()))?;
            let tz = *zones
                .entry(t.fingerprint.clone())
                .or_insert_with(|| policy_tz_in(tx, &t.fingerprint));
            shown += 1;
            if g.format == Format::Json {
                json.push(&ticket_json::row(&t, listed.next_due, tz));
            } else {
                table.row(vec![
                    t.id().to_string(),
                    t.intake.estate.clone(),
                    t.status.as_str().to_string(),
                    t.category.clone().unwrap_or_else(|| "-".into()),
                    ticket_json::step(&t).to_string(),
                    listed
                        .next_due
                        .map(|d| timeline::local(d, tz))
                        .unwrap_or_else(|| "-".into()),
                    clip(&t.intake.text, 24),
                ]);
            }
            Ok(())
        })?;
        // Counted only when the limit may have cut the list short.
        let total = match q.limit {
            Some(n) if shown as usize >= n => tx.count_tickets(q)?,
            _ => shown,
        };
        Ok((total, shown))
    })?;
    let more = total.saturating_sub(shown);
    if g.format == Format::Json {
        json.finish(shown, total, more);
    } else {
        let footer = if more > 0 {
            format!(
                "... {more} more (of {total}); use --limit N (0 for all) or narrow the filters\n"
            )
        } else {
            String::new()
        };
        table.finish("no tickets match", &footer);
    }
    Ok(EXIT_OK)
}

/// The JSON of `ticket list`, written while the rows arrive: one ticket per line
/// inside `"tickets"`, then the counts (the shape of docs/cli-json.md).
#[derive(Default)]
struct JsonList {
    buf: String,
    rows: u64,
}

impl JsonList {
    fn push(&mut self, row: &serde_json::Value) {
        self.buf.push_str(if self.rows == 0 {
            "{\n  \"tickets\": [\n    "
        } else {
            ",\n    "
        });
        self.buf.push_str(&row.to_string());
        self.rows += 1;
        if self.buf.len() > 64 * 1024 {
            print!("{}", std::mem::take(&mut self.buf));
        }
    }

    fn finish(mut self, shown: u64, total: u64, more: u64) {
        self.buf.push_str(if self.rows == 0 {
            "{\n  \"tickets\": [],\n"
        } else {
            "\n  ],\n"
        });
        self.buf.push_str(&format!(
            "  \"shown\": {shown},\n  \"total\": {total},\n  \"more\": {more}\n}}\n"
        ));
        print!("{}", self.buf);
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// A compensation amount: a positive decimal number of at most two decimals, as
/// money is written (`200`, `199.50`); anything else is refused before it is logged.
pub(crate) fn check_amount(amount: &str) -> Result<(), String> {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = !whole.is_empty()
        && whole.len() <= 12
        && digits(whole)
        && digits(cents)
        && cents.len() <= 2
        && (amount.contains('.') <= !cents.is_empty())
        && amount.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`--amount {}` is not an amount: write a positive number such as 200 or 199.50",
            super::output::terminal_safe(amount, false)
        ))
    }
}

#[cfg(test)]
mod amount_tests {
    use super::check_amount;

    #[test]
    fn amounts_are_positive_decimals() {
        for ok in ["200", "199.50", "0.5", "1000000"] {
            assert!(check_amount(ok).is_ok(), "{ok}");
        }
        for bad in [
            "lots",
            "",
            "-5",
            "0",
            "0.00",
            "1.",
            ".5",
            "1.234",
            "1e9",
            "1,000",
            "9999999999999",
        ] {
            assert!(check_amount(bad).is_err(), "{bad}");
        }
    }
}
