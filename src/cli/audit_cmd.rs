//! `steward audit verify|checkpoint|keygen`: what an auditor runs, with steward
//! alone, to show that nothing in the database changed.

use std::io::Write;
use std::path::Path;

use crate::audit::{Against, Checkpoint, Verification, checkpoint};

use super::args::{AuditCmd, Format, Global};
use super::context::{fail, now, open_read_only};
use super::{EXIT_FOUND, EXIT_OK, output};

pub fn run(cmd: AuditCmd, g: &Global) -> i32 {
    match cmd {
        AuditCmd::Verify {
            checkpoint,
            public_key,
            ..
        } => verify(checkpoint.as_deref(), public_key.as_deref(), g),
        AuditCmd::Checkpoint { out, sign, .. } => {
            take_checkpoint(out.as_deref(), sign.as_deref(), g)
        }
        AuditCmd::Keygen { out, .. } => keygen(&out),
    }
}

fn verify(file: Option<&Path>, public_key: Option<&str>, g: &Global) -> i32 {
    let saved = match file.map(Checkpoint::read).transpose() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let svc = match open_read_only(g) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let result = match &saved {
        Some(c) => svc.verify_against(Against {
            checkpoint: c,
            public_key,
        }),
        None => svc.verify(),
    };
    let v = match result {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    match g.format {
        Format::Json => output::json(&serde_json::to_value(&v).unwrap_or_default()),
        _ => print!("{}", render(&v)),
    }
    if v.ok { EXIT_OK } else { EXIT_FOUND }
}

/// The text report: a line per check, then every finding.
pub fn render(v: &Verification) -> String {
    let mut out = format!("events: {}  tickets: {}\n", v.events, v.tickets);
    match &v.chain_problem {
        None => out.push_str("hash chain: intact\n"),
        Some(p) => out.push_str(&format!("hash chain: BROKEN at {p}\n")),
    }
    if let Some(c) = &v.checkpoint {
        if c.ok {
            out.push_str(&format!(
                "checkpoint: the log still holds event {} unchanged and extends it (signature {})\n",
                c.seq, c.signature
            ));
        } else {
            out.push_str(&format!("checkpoint: FAILED: {}\n", c.problem));
        }
    }
    let count = |areas: &[&str]| {
        v.findings
            .iter()
            .filter(|f| areas.contains(&f.area))
            .count()
    };
    let line = |what: &str, areas: &[&str], fine: &str| match count(areas) {
        0 => format!("{what}: {fine}\n"),
        n => format!("{what}: {n} finding(s)\n"),
    };
    out.push_str(&line(
        "stored policies and modules",
        &["policy", "module"],
        "every one matches its digest",
    ));
    out.push_str(&line(
        "schema",
        &["schema"],
        "as steward created it, append-only triggers in place",
    ));
    out.push_str(&line(
        "settings",
        &["setting"],
        "the active policy of every scope is the log's",
    ));
    out.push_str(&line(
        "outbox",
        &["outbox"],
        "every notification in the log is in it, and nothing else",
    ));
    if v.mismatched.is_empty() {
        out.push_str("projections: every ticket and timer column rebuilds from the log\n");
    } else {
        out.push_str(&format!(
            "projections: {} differ from the log: {}\n",
            v.mismatched.len(),
            v.mismatched.join(", ")
        ));
    }
    let rows: Vec<Vec<String>> = v
        .findings
        .iter()
        .filter(|f| f.area != "chain" && f.area != "checkpoint")
        .map(|f| vec![f.area.to_owned(), f.subject.clone(), f.problem.clone()])
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&output::table(&["area", "what", "problem"], &rows));
    }
    out
}

fn take_checkpoint(out: Option<&Path>, sign: Option<&Path>, g: &Global) -> i32 {
    let result = (|| -> Result<Checkpoint, String> {
        let key = sign.map(checkpoint::read_key).transpose()?;
        let taken = now(g)?;
        let svc = open_read_only(g).map_err(|e| e.to_string())?;
        let v = svc.verify().map_err(|e| e.to_string())?;
        if !v.chain_ok {
            // A checkpoint vouches for the log; never vouch for a broken one.
            return Err(format!(
                "the hash chain is broken ({}): no checkpoint taken; run `steward audit verify`",
                v.chain_problem.unwrap_or_default()
            ));
        }
        let taken = crate::store::time_text(taken).map_err(|e| e.to_string())?;
        let mut c = Checkpoint::of(
            &crate::store::display_name(&g.db),
            v.head.as_ref(),
            v.events,
            &taken,
        );
        if let Some(k) = &key {
            c.sign(k);
        }
        if let Some(path) = out {
            let text = serde_json::to_string_pretty(&c).map_err(|e| e.to_string())?;
            std::fs::write(path, format!("{text}\n"))
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        }
        Ok(c)
    })();
    let c = match result {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match g.format {
        Format::Json => output::json(&serde_json::to_value(&c).unwrap_or_default()),
        _ => {
            // The file keeps UTC (it is what the signature covers); a person reads
            // the company's local time.
            let tz = super::context::active_tz(&g.db).unwrap_or(chrono_tz::UTC);
            let local = |t: &str| match chrono::DateTime::parse_from_rfc3339(t) {
                Ok(t) => t
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S %:z")
                    .to_string(),
                Err(_) => t.to_string(),
            };
            println!("checkpoint of {}", c.database);
            println!("  head     event {}", c.seq);
            println!("  hash     {}", c.hash);
            println!("  at       {}", local(&c.at));
            println!("  events   {}", c.events);
            println!("  taken    {}", local(&c.taken_at));
            match &c.signature {
                Some(s) => println!("  signed   ed25519 by {}", s.public_key),
                None => println!("  signed   no (use --sign KEYFILE)"),
            }
            if let Some(path) = out {
                println!(
                    "written to {}; keep it outside the database",
                    path.display()
                );
            }
        }
    }
    EXIT_OK
}

fn keygen(out: &Path) -> i32 {
    let result = (|| -> Result<String, String> {
        let key = checkpoint::generate_key()?;
        let public = checkpoint::public_key_text(&key);
        write_new(out, &checkpoint::key_text(&key), true)?;
        let pub_path = format!("{}.pub", out.display());
        write_new(Path::new(&pub_path), &format!("{public}\n"), false)?;
        Ok(public)
    })();
    match result {
        Ok(public) => {
            println!(
                "secret key: {} (keep it off the database's machine)",
                out.display()
            );
            println!("public key: {public} (also in {}.pub)", out.display());
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// Creates `path` (never overwriting), readable by its owner alone when `secret`.
fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}
