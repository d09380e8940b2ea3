//! `steward ticket ...`, `tick` and `event rain`: each one command,
//! one transaction against the database.

use crate::engine::{Command, Decision, OpenTicket, Ticket};
use crate::policy::model::Action;
use crate::service::{AppError, Service};

use super::args::{EventCmd, Format, Global, TicketCmd};
use super::context::{fail, now, open_existing, open_read_only};
use super::timeline;
use super::{EXIT_FOUND, EXIT_OK, output};

pub fn ticket(cmd: TicketCmd, g: &Global) -> i32 {
    match run_ticket(cmd, g) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn run_ticket(cmd: TicketCmd, g: &Global) -> Result<i32, String> {
    let at = now(g)?;
    match cmd {
        TicketCmd::Show { id } => return show(&id, g).map_err(|e| e.to_string()),
        TicketCmd::List {
            estate,
            status,
            limit,
        } => {
            return list(estate.as_deref(), status.as_deref(), limit, g).map_err(|e| e.to_string());
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
        } => {
            let intake = match json {
                Some(j) => serde_json::from_str::<OpenTicket>(&j)
                    .map_err(|e| format!("bad ticket JSON: {e}"))?,
                None => OpenTicket {
                    id: id.unwrap_or_default(),
                    estate: estate.unwrap_or_default(),
                    unit,
                    owner,
                    channel,
                    kind: kind.unwrap_or_default(),
                    text: text.unwrap_or_default(),
                    urgency,
                    major,
                    phase,
                    tags,
                    class,
                },
            };
            let mut svc = open_existing(g).map_err(|e| e.to_string())?;
            let mut intake = intake;
            if intake.id.is_empty() {
                let n = svc
                    .tickets(None, None, None)
                    .map_err(|e| e.to_string())?
                    .len();
                intake.id = format!("T{:05}", n + 1);
            }
            let (ticket, decisions) = svc.open_ticket(intake, at).map_err(|e| e.to_string())?;
            return Ok(report(&svc, &ticket, &decisions, g));
        }
        _ => {}
    }
    let (id, command) = to_command(cmd)?;
    let mut svc = open_existing(g).map_err(|e| e.to_string())?;
    let (ticket, decisions) = svc.execute(&id, &command, at).map_err(|e| e.to_string())?;
    Ok(report(&svc, &ticket, &decisions, g))
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
        } => (
            id,
            Command::Classify {
                category,
                class,
                major,
            },
        ),
        TicketCmd::Respond { id, note } => act(id, Action::Respond, note),
        TicketCmd::Plan { id, note } => act(id, Action::Plan, note),
        TicketCmd::Report { id, note } => act(id, Action::Report, note),
        TicketCmd::ExpertReply { id, note } => act(id, Action::ExpertReply, note),
        TicketCmd::Update { id, note } => act(id, Action::Update, note),
        TicketCmd::Notice { id, note } => act(id, Action::Notice, note),
        TicketCmd::Assign {
            id,
            department,
            tier,
            lead,
        } => (
            id,
            Command::Assign {
                department,
                tier,
                lead,
            },
        ),
        TicketCmd::Pause { id, reason } => (id, Command::Pause { reason }),
        TicketCmd::Resume { id } => (id, Command::Resume),
        TicketCmd::Resolve { id, note } => (id, Command::Resolve { note }),
        TicketCmd::Revisit {
            id,
            ok,
            problem,
            channel,
            note,
        } => {
            if ok == problem {
                return Err("say how the revisit went: --ok or --problem".into());
            }
            (id, Command::Revisit { ok, channel, note })
        }
        TicketCmd::Close { id, invalid } => (id, Command::Close { invalid }),
        TicketCmd::Reopen { id, reason } => (id, Command::Reopen { reason }),
        TicketCmd::Compensation { id, amount, note } => {
            check_amount(&amount)?;
            (id, Command::Compensation { amount, note })
        }
        TicketCmd::Open { .. } | TicketCmd::Show { .. } | TicketCmd::List { .. } => {
            return Err("internal: not a ticket action".into());
        }
    })
}

fn tz_of(svc: &mut Service) -> chrono_tz::Tz {
    svc.active_policy().map(|p| p.tz).unwrap_or(chrono_tz::UTC)
}

fn report(svc: &Service, ticket: &Ticket, decisions: &[Decision], g: &Global) -> i32 {
    let tz = ticket_tz(svc, ticket);
    match g.format {
        Format::Json => output::json(
            &serde_json::json!({"ticket": ticket.id(), "status": ticket.status, "decisions": decisions}),
        ),
        _ => print!(
            "{}",
            output::table(
                &["time", "ticket", "what happened", "rule"],
                &timeline::rows(ticket.id(), decisions, tz)
            )
        ),
    }
    EXIT_OK
}

fn ticket_tz(svc: &Service, ticket: &Ticket) -> chrono_tz::Tz {
    svc.store()
        .read(|tx| tx.policy(&ticket.fingerprint))
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str::<crate::policy::Policy>(&text).ok())
        .and_then(|p| p.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

fn show(id: &str, g: &Global) -> Result<i32, AppError> {
    let svc = open_read_only(g)?;
    let (ticket, recorded) = svc.timeline(id)?;
    let tz = ticket_tz(&svc, &ticket);
    match g.format {
        Format::Json => output::json(&serde_json::json!({"ticket": ticket, "timeline": recorded})),
        _ => {
            print!(
                "{}",
                output::terminal_safe(&timeline::state(&ticket, tz), true)
            );
            println!();
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
            print!(
                "{}",
                output::table(
                    &["time", "ticket", "what happened", "rule", "policy"],
                    &rows
                )
            );
        }
    }
    Ok(EXIT_OK)
}

fn list(
    estate: Option<&str>,
    status: Option<&str>,
    limit: Option<usize>,
    g: &Global,
) -> Result<i32, AppError> {
    let svc = open_read_only(g)?;
    let tickets = svc.tickets(estate, status, limit)?;
    match g.format {
        Format::Json => output::json(&serde_json::to_value(&tickets).unwrap_or_default()),
        _ => {
            let rows: Vec<Vec<String>> = tickets
                .iter()
                .map(|t| {
                    let next = t
                        .clocks
                        .values()
                        .filter(|c| c.is_live())
                        .map(|c| c.deadline)
                        .min();
                    vec![
                        t.id().to_string(),
                        t.intake.estate.clone(),
                        t.status.as_str().to_string(),
                        t.category.clone().unwrap_or_default(),
                        t.ladder_id.clone().unwrap_or_else(|| "specialist".into()),
                        next.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into()),
                        t.intake.text.chars().take(24).collect(),
                    ]
                })
                .collect();
            print!(
                "{}",
                output::table(
                    &[
                        "id",
                        "estate",
                        "status",
                        "category",
                        "step",
                        "next deadline (UTC)",
                        "text"
                    ],
                    &rows
                )
            );
        }
    }
    Ok(EXIT_OK)
}

pub fn tick(g: &Global) -> i32 {
    let result = (|| -> Result<_, String> {
        let at = now(g)?;
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let ran = svc.tick_report(at).map_err(|e| e.to_string())?;
        Ok((tz_of(&mut svc), ran))
    })();
    match result {
        Ok((tz, ran)) => {
            let code = print_batch(&ran.fired, tz, g, "nothing due");
            // The others were kept; each ticket that could not be decided is named.
            for (id, why) in &ran.failed {
                fail(format!("ticket `{id}` skipped: {why}"));
            }
            if ran.failed.is_empty() {
                code
            } else {
                EXIT_FOUND
            }
        }
        Err(e) => fail(e),
    }
}

pub fn event(cmd: EventCmd, g: &Global) -> i32 {
    let estate = match cmd {
        EventCmd::Rain { estate } => estate,
        EventCmd::Feed { plugin, file } => return feed(&plugin, &file, g),
    };
    let result = (|| -> Result<_, String> {
        let at = now(g)?;
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let fired = svc.event(&estate, "rain", at).map_err(|e| e.to_string())?;
        Ok((tz_of(&mut svc), fired))
    })();
    match result {
        Ok((tz, fired)) => print_batch(&fired, tz, g, "no ticket was waiting for rain"),
        Err(e) => fail(e),
    }
}

fn print_batch(
    fired: &[(String, Vec<Decision>)],
    tz: chrono_tz::Tz,
    g: &Global,
    empty: &str,
) -> i32 {
    match g.format {
        Format::Json => {
            let v: Vec<_> = fired
                .iter()
                .map(|(id, d)| serde_json::json!({"ticket": id, "decisions": d}))
                .collect();
            output::json(&serde_json::Value::Array(v));
        }
        _ if fired.is_empty() => println!("{empty}"),
        _ => {
            let rows: Vec<Vec<String>> = fired
                .iter()
                .flat_map(|(id, d)| timeline::rows(id, d, tz))
                .collect();
            print!(
                "{}",
                output::table(&["time", "ticket", "what happened", "rule"], &rows)
            );
        }
    }
    EXIT_OK
}

fn feed(plugin: &str, file: &std::path::Path, g: &Global) -> i32 {
    let result = (|| -> Result<_, String> {
        let at = now(g)?;
        let input = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let applied = svc.feed(plugin, &input, at).map_err(|e| e.to_string())?;
        Ok((tz_of(&mut svc), applied))
    })();
    let (tz, applied) = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if g.format == Format::Json {
        let v: Vec<_> = applied
            .iter()
            .map(|e| {
                let fired: Vec<_> = e
                    .fired
                    .iter()
                    .map(|(id, d)| serde_json::json!({"ticket": id, "decisions": d}))
                    .collect();
                serde_json::json!({"estate": e.estate, "event": e.kind, "at": e.at, "fired": fired})
            })
            .collect();
        output::json(&serde_json::Value::Array(v));
        return EXIT_OK;
    }
    if applied.is_empty() {
        println!("the feed produced no event up to now");
    }
    for e in &applied {
        println!(
            "{} {} at {}: {} ticket(s) affected",
            timeline::local(e.at, tz),
            e.kind,
            e.estate,
            e.fired.len()
        );
        let rows: Vec<Vec<String>> = e
            .fired
            .iter()
            .flat_map(|(id, d)| timeline::rows(id, d, tz))
            .collect();
        if !rows.is_empty() {
            print!(
                "{}",
                output::table(&["time", "ticket", "what happened", "rule"], &rows)
            );
        }
    }
    EXIT_OK
}

/// A compensation amount: a positive decimal number of at most two decimals, as
/// money is written (`200`, `199.50`); anything else is refused before it is logged.
fn check_amount(amount: &str) -> Result<(), String> {
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
