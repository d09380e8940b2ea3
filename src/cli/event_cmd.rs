//! `steward event KIND|rain|feed`: an external event for an estate, given directly
//! (any kind the estate's policy declares) or read from a feed by the event-source
//! plug-in of each estate's policy.

use clap::Parser;

use super::args::{EventCmd, Format, Global, TableJson};
use super::context::{fail, now, open_existing, time_arg};
use super::decisions::tz_of;
use super::{EXIT_INPUT, EXIT_OK, output, ticket_json, timeline};
use crate::service::Ran;

// The flags of `steward event KIND`, parsed from what clap hands over as an
// external subcommand, so a kind can be any word a policy declares.
#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    name = "steward event",
    about = "Record an event of any kind the estate's policy declares ([[event]]); the same event (kind, estate, time) counts once",
    after_help = "Example:\n  steward event typhoon_warning --estate seaside --at '2026-07-08 14:00'"
)]
struct KindArgs {
    /// The event kind, as the policy's `[[event]]` declares it
    kind: String,
    /// The estate where it happened
    #[arg(long)]
    estate: String,
    /// When it happened (default: --now); RFC 3339 or local time in the policy's zone
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: TableJson,
}

/// The `--format` of `event KIND ...`, read before the full parse (for errors).
pub fn format_of(args: &[String]) -> Format {
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    if json { Format::Json } else { Format::Table }
}

pub fn run(cmd: EventCmd, g: &Global) -> i32 {
    let (kind, estate, at) = match cmd {
        EventCmd::Rain { estate, at, .. } => ("rain".to_owned(), estate, at),
        EventCmd::Feed { plugin, file, .. } => return feed(&plugin, &file, g),
        EventCmd::Kind(args) => match KindArgs::try_parse_from(&args) {
            Ok(a) => (a.kind, a.estate, a.at),
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            }
        },
    };
    let result = (|| -> Result<_, String> {
        let at = match &at {
            Some(t) => time_arg(t, &g.db)?,
            None => now(g)?,
        };
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let ran = svc
            .record_event(&estate, &kind, at)
            .map_err(|e| e.to_string())?;
        let tz = svc
            .active_policy_for(Some(&estate))
            .map(|p| p.tz)
            .unwrap_or(chrono_tz::UTC);
        Ok((tz, at, ran))
    })();
    match result {
        Ok((tz, at, ran)) => print_event(&kind, &estate, at, &ran, tz, g),
        Err(e) => fail(e),
    }
}

fn print_event(
    kind: &str,
    estate: &str,
    at: chrono::DateTime<chrono::Utc>,
    ran: &Ran,
    tz: chrono_tz::Tz,
    g: &Global,
) -> i32 {
    let duplicate = ran.event.is_some_and(|e| e.duplicate);
    let seq = ran.event.map(|e| e.seq);
    if g.format == Format::Json {
        let fired: Vec<_> = ran
            .fired
            .iter()
            .map(|(id, d)| serde_json::json!({"ticket": id, "events": ticket_json::events(id, d, tz)}))
            .collect();
        let failed: Vec<_> = ran
            .failed
            .iter()
            .map(|(id, why)| serde_json::json!({"ticket": id, "error": why}))
            .collect();
        output::json(&serde_json::json!({
            "event": kind, "estate": estate, "time": ticket_json::time(at, tz),
            "seq": seq, "duplicate": duplicate, "fired": fired, "failed": failed,
        }));
        return if failed.is_empty() {
            EXIT_OK
        } else {
            EXIT_INPUT
        };
    }
    let when = timeline::local(at, tz);
    if duplicate {
        println!(
            "{kind} at {estate} {when} was already recorded (event {}): it counts once, nothing changed",
            seq.unwrap_or_default()
        );
        return EXIT_OK;
    }
    println!(
        "{kind} at {estate} {when} recorded (event {})",
        seq.unwrap_or_default()
    );
    if ran.fired.is_empty() {
        println!("no ticket was waiting for {kind}");
    } else {
        let rows: Vec<Vec<String>> = ran
            .fired
            .iter()
            .flat_map(|(id, d)| timeline::rows(id, d, tz))
            .collect();
        output::print(&output::table(
            &["time", "ticket", "what happened", "rule"],
            &rows,
        ));
    }
    for (id, why) in &ran.failed {
        eprintln!("error: ticket `{id}`: {why}");
    }
    if ran.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_INPUT
    }
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
                    .map(|(id, d)| serde_json::json!({"ticket": id, "events": ticket_json::events(id, d, tz)}))
                    .collect();
                serde_json::json!({"estate": e.estate, "event": e.kind, "time": ticket_json::time(e.at, tz), "fired": fired, "note": e.note})
            })
            .collect();
        output::json(&serde_json::Value::Array(v));
        return EXIT_OK;
    }
    if applied.is_empty() {
        println!("the feed produced no event up to now");
    }
    for e in &applied {
        let note = e
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        println!(
            "{} {} at {}: {} ticket(s) affected{note}",
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
            output::print(&output::table(
                &["time", "ticket", "what happened", "rule"],
                &rows,
            ));
        }
    }
    EXIT_OK
}
