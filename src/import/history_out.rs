//! Records written back as steward's history CSV (docs/sim.md), so an imported
//! register can be read, diffed or replayed like any generated history.

use std::io::Write;

use crate::engine::Command;
use crate::sim::history::{COLUMNS, Op, Record, Row};

/// The history row of a record: the inverse of [`Row::parse`].
pub fn row(r: &Record) -> Row {
    let mut row = Row {
        ticket: r.ticket.clone(),
        at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ..Row::default()
    };
    match &r.op {
        Op::Open { intake, category } => {
            row.action = "open".into();
            row.estate = intake.estate.clone();
            row.kind = intake.kind.clone();
            row.channel = intake.channel.clone();
            row.category = category.clone().unwrap_or_default();
            row.text = intake.text.clone();
            let mut flags = Vec::new();
            if intake.major {
                flags.push("major".to_string());
            }
            if intake.class > 0 {
                flags.push(format!("class={}", intake.class));
            }
            for (k, v) in [
                ("urgency", &intake.urgency),
                ("unit", &intake.unit),
                ("owner", &intake.owner),
                ("phase", &intake.phase),
            ] {
                if !v.is_empty() {
                    flags.push(format!("{k}={}", v.replace(';', ",")));
                }
            }
            for t in &intake.tags {
                flags.push(format!("tag={t}"));
            }
            row.detail = flags.join(";");
        }
        Op::Classify {
            category,
            class,
            major,
        } => {
            row.action = "classify".into();
            row.category = category.clone().unwrap_or_default();
            let mut flags = Vec::new();
            match major {
                Some(true) => flags.push("major".to_string()),
                Some(false) => flags.push("minor".to_string()),
                None => {}
            }
            if let Some(c) = class {
                flags.push(format!("class={c}"));
            }
            row.detail = flags.join(";");
        }
        Op::Event { kind } => {
            row.estate = r.estate.clone();
            if kind == "rain" {
                row.action = "rain".into();
            } else {
                row.action = "event".into();
                row.detail = kind.clone();
            }
        }
        Op::Command(cmd) => command(cmd, &mut row),
    }
    row
}

fn command(cmd: &Command, row: &mut Row) {
    row.action = cmd.name().to_string();
    match cmd {
        Command::Act { by, note, .. } => {
            row.detail = by.clone();
            row.text = note.clone();
        }
        Command::Assign {
            department,
            tier,
            lead,
        } => {
            row.detail = match lead {
                Some(l) => format!("{department}/{tier}/{l}"),
                None => format!("{department}/{tier}"),
            };
        }
        Command::Pause { reason } => row.detail = reason.clone(),
        Command::Resolve { note } => row.text = note.clone(),
        Command::Reopen { reason } => row.text = reason.clone(),
        Command::Revisit { ok, channel, note } => {
            row.detail = if *ok { "ok" } else { "problem" }.into();
            row.channel = channel.clone();
            row.text = note.clone();
        }
        Command::Close {
            invalid: Some(reason),
        } => {
            row.detail = "invalid".into();
            row.text = reason.clone();
        }
        Command::Compensation { amount, note } => {
            row.detail = amount.clone();
            row.text = note.clone();
        }
        _ => {}
    }
}

/// Write `records` as a history CSV with its header; returns the lines written.
pub fn write(records: impl Iterator<Item = Record>, out: impl Write) -> std::io::Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let mut n = 0;
    for r in records {
        w.write_record(row(&r).fields())?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}
