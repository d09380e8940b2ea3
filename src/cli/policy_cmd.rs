//! `steward policy check|show|explain|diff|apply`; `test` lives in [`super::sim_cmd`].

use std::path::Path;

use crate::policy::{self, LoadFailure, Loaded};

use super::args::{Format, Global, PolicyCmd};
use super::{EXIT_FOUND, EXIT_INPUT, EXIT_OK, output};

pub fn run(cmd: PolicyCmd, g: &Global) -> i32 {
    match cmd {
        PolicyCmd::Check { paths } => check(&paths, g.format),
        PolicyCmd::Test { path, quiet } => super::sim_cmd::policy_test(&path, quiet, g.format),
        PolicyCmd::Apply { path, estate } => apply(&path, estate.as_deref(), g),
        PolicyCmd::Show { path } => show(&path, g.format),
        PolicyCmd::Explain { path, ticket } => match load(&path, g.format) {
            Some(l) => super::explain_cmd::run(&l, &ticket, g),
            None => EXIT_INPUT,
        },
        PolicyCmd::Diff { old, new } => {
            let (Some(a), Some(b)) = (load(&old, g.format), load(&new, g.format)) else {
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
    }
}

/// Load or print the diagnostics; `None` means the caller should exit with 2.
pub fn load(path: &Path, format: Format) -> Option<Loaded> {
    match policy::load_path(path) {
        Ok(l) => Some(l),
        Err(LoadFailure {
            sources,
            diagnostics,
        }) => {
            output::diagnostics(format, &sources, &diagnostics);
            eprintln!(
                "{}: {} error(s)",
                path.display(),
                count_errors(&diagnostics)
            );
            None
        }
    }
}

fn count_errors(diags: &[crate::diagnostic::Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .count()
}

fn check(paths: &[std::path::PathBuf], format: Format) -> i32 {
    let mut code = EXIT_OK;
    let mut report = Vec::new();
    for path in paths {
        match policy::load_path(path) {
            Ok(l) => {
                let fp = policy::fingerprint(&l.policy);
                if format == Format::Json {
                    report.push(serde_json::json!({"path": path.display().to_string(), "ok": true, "policy": l.policy.id, "fingerprint": fp}));
                } else {
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
                        count_errors(&diagnostics)
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

fn show(path: &Path, format: Format) -> i32 {
    let Some(l) = load(path, format) else {
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

fn apply(path: &Path, estate: Option<&str>, g: &Global) -> i32 {
    let Some(l) = load(path, g.format) else {
        return EXIT_INPUT;
    };
    let result = (|| -> Result<_, String> {
        let at = super::context::now(g)?;
        let mut svc = super::context::open(g).map_err(|e| e.to_string())?;
        svc.apply_policy_with_plugins(
            &l.policy,
            &l.wasm,
            Some(&path.display().to_string()),
            estate,
            at,
        )
        .map_err(|e| e.to_string())
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
        Err(e) => super::context::fail(e),
    }
}
