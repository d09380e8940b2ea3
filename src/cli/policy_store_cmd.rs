//! `steward policy list` and `policy show --fingerprint`: the policies stored in
//! the database, read from it (not from policy files), for auditors.

use crate::audit::policies;

use super::args::{Format, Global};
use super::context::{fail, open_read_only};
use super::{EXIT_OK, output, timeline};

pub fn list(g: &Global) -> i32 {
    let svc = match open_read_only(g) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let stored = match policies::list(svc.store()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if g.format == Format::Json {
        output::json(&serde_json::to_value(&stored).unwrap_or_default());
        return EXIT_OK;
    }
    if stored.is_empty() {
        println!("no policy is stored in this database");
        return EXIT_OK;
    }
    let mut rows = Vec::new();
    for p in &stored {
        let name = format!(
            "{} {}{}",
            p.id.as_deref().unwrap_or("?"),
            p.version.as_deref().unwrap_or("?"),
            if p.intact { "" } else { " (TAMPERED)" }
        );
        let fp = timeline::short(&p.fingerprint).to_owned();
        if p.applied.is_empty() {
            rows.push(vec![
                fp.clone(),
                name.clone(),
                "stored, never applied".into(),
                String::new(),
                String::new(),
            ]);
        }
        for a in &p.applied {
            rows.push(vec![
                fp.clone(),
                name.clone(),
                match p
                    .timezone
                    .as_deref()
                    .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
                {
                    Some(tz) => timeline::local(a.at, tz),
                    None => a.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                },
                a.estate
                    .as_deref()
                    .map_or("company-wide".into(), |e| format!("estate {e}")),
                if a.by.is_empty() {
                    "-".into()
                } else {
                    a.by.clone()
                },
            ]);
        }
    }
    print!(
        "{}",
        output::table(&["fingerprint", "policy", "applied", "scope", "by"], &rows)
    );
    EXIT_OK
}

pub fn show(prefix: &str, g: &Global) -> i32 {
    let svc = match open_read_only(g) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let (fp, policy) = match policies::show(svc.store(), prefix) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match g.format {
        Format::Json => output::json(&serde_json::json!({"fingerprint": fp, "policy": policy})),
        _ => {
            println!("# fingerprint: sha256:{fp}");
            println!(
                "# from the database {} (text checked against the fingerprint)",
                crate::store::display_name(&g.db)
            );
            match toml::to_string_pretty(&policy) {
                Ok(text) => print!("{text}"),
                Err(e) => return fail(format!("cannot render the policy as TOML: {e}")),
            }
        }
    }
    EXIT_OK
}
