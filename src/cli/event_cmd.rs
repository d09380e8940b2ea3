//! `steward event rain|feed`: an external event for an estate, given directly or
//! read from a feed by the active policy's event-source plug-in.

use super::args::{EventCmd, Format, Global};
use super::context::{fail, now, open_existing};
use super::decisions::{print_batch, tz_of};
use super::{EXIT_OK, output, ticket_json, timeline};

pub fn run(cmd: EventCmd, g: &Global) -> i32 {
    let estate = match cmd {
        EventCmd::Rain { estate, .. } => estate,
        EventCmd::Feed { plugin, file, .. } => return feed(&plugin, &file, g),
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
                serde_json::json!({"estate": e.estate, "event": e.kind, "time": ticket_json::time(e.at, tz), "fired": fired})
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
            output::print(&output::table(
                &["time", "ticket", "what happened", "rule"],
                &rows,
            ));
        }
    }
    EXIT_OK
}
