//! `steward policy check|show|diff|apply`. `policy show --fingerprint` and `policy
//! list` read the database ([`super::policy_store_cmd`]); `explain` and `test` have
//! files of their own.

use std::path::Path;

use crate::policy::{self, LoadFailure, Loaded};

use super::args::{Format, Global};
use super::{EXIT_FOUND, EXIT_INPUT, EXIT_OK, load, output};

/// `policy diff OLD NEW`: exit 1 when they differ.
pub fn diff(old: &Path, new: &Path, g: &Global) -> i32 {
    let (Some(a), Some(b)) = (load::policy(old, g.format), load::policy(new, g.format)) else {
        return EXIT_INPUT;
    };
    let changes = policy::diff::diff(&a.policy, &b.policy);
    match g.format {
        Format::Json => output::json(&serde_json::to_value(&changes).unwrap_or_default()),
        _ => print!("{}", policy::diff::render(&changes)),
    }
    if changes.is_empty() {
        EXIT_OK
    } else {
        EXIT_FOUND
    }
}

pub fn check(paths: &[std::path::PathBuf], g: &Global) -> i32 {
    let format = g.format;
    let now = match super::context::now(g) {
        Ok(t) => t,
        Err(e) => return super::context::fail(e),
    };
    let mut code = EXIT_OK;
    let mut report = Vec::new();
    for path in paths {
        match policy::load_path(path) {
            Ok(l) => {
                let fp = policy::fingerprint(&l.policy);
                let warnings = check_warnings(&l, now);
                if format == Format::Json {
                    let w: Vec<_> = warnings.iter().map(|d| d.to_json(&l.sources)).collect();
                    report.push(serde_json::json!({"path": path.display().to_string(), "ok": true, "policy": l.policy.id, "fingerprint": fp, "warnings": w}));
                } else {
                    output::diagnostics(format, &l.sources, &warnings);
                    println!(
                        "ok  {}  {} {}  sha256:{}",
                        path.display(),
                        l.policy.id,
                        l.policy.version,
                        fp
                    );
                }
            }
            Err(LoadFailure {
                sources,
                diagnostics,
            }) => {
                code = EXIT_INPUT;
                if format == Format::Json {
                    let d: Vec<_> = diagnostics.iter().map(|d| d.to_json(&sources)).collect();
                    report.push(serde_json::json!({"path": path.display().to_string(), "ok": false, "diagnostics": d}));
                } else {
                    output::diagnostics(format, &sources, &diagnostics);
                    output::print(&format!(
                        "FAIL  {}: {} error(s)\n",
                        path.display(),
                        load::count_errors(&diagnostics)
                    ));
                }
            }
        }
    }
    if format == Format::Json {
        output::json(&serde_json::Value::Array(report));
    }
    code
}

/// The loader's warnings and those that depend on the date: years the calendars
/// have no holiday data for, read in the policy's time zone.
fn check_warnings(
    l: &Loaded,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<crate::diagnostic::Diagnostic> {
    let tz: chrono_tz::Tz = l.policy.timezone.parse().unwrap_or(chrono_tz::UTC);
    let today = now.with_timezone(&tz).date_naive();
    let mut out = l.warnings.clone();
    out.extend(policy::calendar_data::coverage_warnings(
        &l.policy, &l.spans, today,
    ));
    out
}

pub fn show(path: &Path, g: &Global) -> i32 {
    let format = g.format;
    let Some(l) = load::policy(path, format) else {
        return EXIT_INPUT;
    };
    let fp = policy::fingerprint(&l.policy);
    match format {
        Format::Json => output::json(&serde_json::json!({"fingerprint": fp, "policy": l.policy})),
        _ => {
            println!("# fingerprint: sha256:{fp}");
            println!(
                "# resolved from: {}",
                l.chain
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" <- ")
            );
            match toml::to_string_pretty(&l.policy) {
                Ok(text) => print!("{text}"),
                Err(e) => {
                    eprintln!("error: cannot render the policy as TOML: {e}");
                    return EXIT_INPUT;
                }
            }
        }
    }
    EXIT_OK
}

pub fn apply(path: &Path, estate: Option<&str>, by: &str, g: &Global) -> i32 {
    let Some(l) = load::policy(path, g.format) else {
        return EXIT_INPUT;
    };
    // Only a file this command created is removed on failure; a PostgreSQL
    // database is never removed (a failed apply rolled back inside it).
    let existed = crate::store::is_postgres(&g.db) || g.db.exists();
    let result = (|| -> Result<_, String> {
        let at = super::context::now(g)?;
        let mut svc = super::context::open(g).map_err(|e| e.to_string())?;
        let source = path.display().to_string();
        let how = crate::service::Applying {
            modules: &l.wasm,
            source: Some(&source),
            estate,
            by,
        };
        svc.apply(&l.policy, &how, at).map_err(|e| e.to_string())
    })();
    match result {
        Ok(a) => {
            match g.format {
                Format::Json => output::json(&serde_json::to_value(&a).unwrap_or_default()),
                _ if a.previous.as_deref() == Some(a.fingerprint.as_str()) => {
                    println!(
                        "policy {} (sha256:{}) is already active",
                        l.policy.id, a.fingerprint
                    )
                }
                _ => println!(
                    "applied {} {} (sha256:{}); {} open ticket(s) moved from the previous policy",
                    l.policy.id, l.policy.version, a.fingerprint, a.moved
                ),
            }
            EXIT_OK
        }
        Err(e) => {
            if !existed {
                // A database this command created and could not fill holds nothing.
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = g.db.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            super::context::fail(e)
        }
    }
}
