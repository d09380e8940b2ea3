//! `steward import FILE --map MAPPING.toml`: check a register, then write it into
//! --db as history (or, with --out, as a history CSV). The CLI reads the clock
//! only for `now` when --now is absent; rows after `now` are bad rows.

use std::io::Write;

use serde_json::json;

use crate::import::mapping::Mapping;
use crate::import::{self, Register, db};

use super::args::{Format, Global, ImportArgs};
use super::{EXIT_INPUT, EXIT_OK, context, output};

/// Bad rows listed in the table (all of them in JSON).
const LISTED: usize = 50;

pub fn run(a: &ImportArgs, g: &Global) -> i32 {
    let mapping = match Mapping::load(&a.map) {
        Ok(m) => m,
        Err(e) => return context::fail(e),
    };
    let now = match context::now(g) {
        Ok(t) => t,
        Err(e) => return context::fail(e),
    };
    let opts = import::Options {
        now,
        encoding: a.encoding.map(|e| e.label().to_string()),
    };
    let mut reg = match Register::open(&a.file, mapping.clone(), &opts) {
        Ok(r) => r,
        Err(e) => return context::fail(e),
    };
    let refuse = a.strict && !reg.bad.is_empty();
    if a.check || refuse {
        print_check(&reg, g.format, refuse);
        return if reg.bad.is_empty() {
            EXIT_OK
        } else {
            EXIT_INPUT
        };
    }
    if let Some(out) = &a.out {
        let written = std::fs::File::create(out).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            let records = reg.records().map_err(std::io::Error::other)?;
            let n = import::history_out::write(records, &mut w)?;
            w.flush()?;
            Ok(n)
        });
        return match written {
            Ok(n) => {
                let extra = format!("{n} history lines written to {}", out.display());
                finish(&reg, g.format, None, &extra)
            }
            Err(e) => context::fail(format!("{}: {e}", out.display())),
        };
    }
    let mut svc = match context::open_existing(g) {
        Ok(s) => s,
        Err(e) => return context::fail(e),
    };
    if let Err(e) = svc.active_policy() {
        return context::fail(e);
    }
    // An unfinished import resumes against the `now` it was checked with, so its
    // rows and their order are the ones its marks count.
    if let Ok(earlier) = db::progress(&svc)
        && let Some(p) = earlier
            .iter()
            .find(|p| p.import == reg.identity && !p.complete && p.now != now)
    {
        let again = import::Options {
            now: p.now,
            ..opts.clone()
        };
        reg = match Register::open(&a.file, mapping, &again) {
            Ok(r) => r,
            Err(e) => return context::fail(e),
        };
    }
    let from = match db::admit(&svc, &reg) {
        Ok(f) => f,
        Err(e) => return context::fail(e),
    };
    let started = std::time::Instant::now();
    match db::import(
        &mut svc,
        &reg,
        from,
        &db::Options {
            now: reg.now,
            batch: a.batch,
            max_batches: None,
        },
    ) {
        Ok(out) => {
            let secs = started.elapsed().as_secs_f64();
            finish(&reg, g.format, Some(&out), &format!("in {secs:.1} s"))
        }
        Err(e) => {
            print_bad(&reg, g.format);
            context::fail(e)
        }
    }
}

fn head(reg: &Register) -> String {
    let form = reg
        .mapping
        .form
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    format!(
        "register {}{form}, {}: {} rows, {} tickets, {} actions, {} bad rows, {} empty rows",
        reg.name,
        reg.note(),
        reg.rows,
        reg.tickets,
        reg.actions,
        reg.bad_row_count(),
        reg.empty_rows
    )
}

fn bad_json(reg: &Register) -> serde_json::Value {
    serde_json::to_value(&reg.bad).unwrap_or_default()
}

fn summary_json(reg: &Register) -> serde_json::Value {
    json!({
        "file": reg.name,
        "form": reg.mapping.form,
        "read_as": reg.note(),
        "file_sha256": reg.file_digest,
        "import": reg.identity,
        "rows": reg.rows,
        "tickets": reg.tickets,
        "actions": reg.actions,
        "bad_rows": reg.bad_row_count(),
        "empty_rows": reg.empty_rows,
        "bad": bad_json(reg),
    })
}

fn print_bad(reg: &Register, format: Format) {
    if format == Format::Json || reg.bad.is_empty() {
        return;
    }
    let mut text = String::new();
    for b in reg.bad.iter().take(LISTED) {
        text.push_str(&format!("bad row: {b}\n"));
    }
    if reg.bad.len() > LISTED {
        text.push_str(&format!(
            "... and {} more (--format json lists them all)\n",
            reg.bad.len() - LISTED
        ));
    }
    output::eprint(&output::terminal_safe(&text, true));
}

fn print_check(reg: &Register, format: Format, refused: bool) {
    if format == Format::Json {
        let mut v = summary_json(reg);
        v["refused"] = json!(refused);
        output::json(&v);
        return;
    }
    output::print(&output::terminal_safe(&format!("{}\n", head(reg)), true));
    print_bad(reg, format);
    if refused {
        output::eprint(&format!(
            "error: --strict: {} bad row(s); nothing was written\n",
            reg.bad_row_count()
        ));
    }
}

fn finish(reg: &Register, format: Format, out: Option<&db::Outcome>, extra: &str) -> i32 {
    let code = if reg.bad.is_empty() {
        EXIT_OK
    } else {
        EXIT_INPUT
    };
    if format == Format::Json {
        let mut v = summary_json(reg);
        if let Some(o) = out {
            v["imported"] = serde_json::to_value(o).unwrap_or_default();
        }
        output::json(&v);
        return code;
    }
    let mut text = format!("{}\n", head(reg));
    if let Some(o) = out {
        if o.resumed_from > 0 {
            text.push_str(&format!(
                "resumed after {} of {} records written by an earlier run\n",
                o.resumed_from, o.records
            ));
        }
        text.push_str(&format!(
            "imported {} tickets, {} records, {} decisions ({} timers fired) in {} batch(es) {extra}\n",
            o.opened,
            o.records - o.resumed_from,
            o.decisions,
            o.timers_fired,
            o.batches
        ));
        for (fp, n) in &o.policies {
            text.push_str(&format!("  {n} ticket(s) opened under {fp}\n"));
        }
        if o.refused > 0 {
            text.push_str(&format!(
                "{} command(s) refused by the policy (kept in the register, not in the log):\n",
                o.refused
            ));
            for r in o.refusals.iter().take(LISTED) {
                let row = if r.row > 0 {
                    format!("row {}", r.row)
                } else {
                    "timer".into()
                };
                text.push_str(&format!(
                    "  {row} {} {}: {}\n",
                    r.ticket, r.action, r.reason
                ));
            }
        }
    } else {
        text.push_str(&format!("{extra}\n"));
    }
    output::print(&output::terminal_safe(&text, true));
    print_bad(reg, format);
    code
}
