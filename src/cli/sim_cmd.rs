//! `steward sim run|replay|generate` and `steward policy test`: thin wrappers over
//! [`crate::sim`] that print through [`super::sim_render`].

use std::path::Path;

use crate::sim::{parse, runner::Runner, suite};

use super::args::{Format, Global, SimCmd};
use super::{EXIT_FOUND, EXIT_INPUT, EXIT_OK, output, sim_render};

pub fn run(cmd: SimCmd, g: &Global) -> i32 {
    match cmd {
        SimCmd::Run { files, quiet } => run_files(&files, quiet, g.format),
        SimCmd::Replay {
            history,
            policy,
            map,
            estate_policy,
            estate,
            encoding,
            reclassify,
            idle_days,
            max_diffs,
            threads,
            stats,
            daily,
        } => super::replay_cmd::run(
            &super::replay_cmd::Options {
                history,
                policies: policy,
                map,
                estate_policies: estate_policy,
                estate,
                encoding: encoding.map(|e| e.label().to_string()),
                now: g.now.clone(),
                reclassify,
                idle_days,
                max_diffs,
                threads,
                stats,
                daily,
            },
            g.format,
        ),
        SimCmd::Generate {
            seed,
            tickets,
            days,
            estates,
            start,
            out,
        } => super::replay_cmd::generate(seed, tickets, days, estates, &start, out.as_deref()),
    }
}

fn run_files(files: &[std::path::PathBuf], quiet: bool, format: Format) -> i32 {
    let mut runner = Runner::default();
    let mut outcomes = Vec::new();
    let mut code = EXIT_OK;
    for file in files {
        let scenario = match parse::load(file) {
            Ok(s) => s,
            Err(e) => {
                eprint!("{}", e.render());
                eprintln!("{}: the scenario file has errors", file.display());
                code = EXIT_INPUT;
                continue;
            }
        };
        match runner.run(&scenario) {
            Ok(o) => {
                if !o.passed() && code == EXIT_OK {
                    code = EXIT_FOUND;
                }
                if format != Format::Json {
                    output::print(&sim_render::outcome(&o, quiet));
                }
                outcomes.push(o);
            }
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                code = EXIT_INPUT;
            }
        }
    }
    if format == Format::Json {
        output::json(&serde_json::to_value(&outcomes).unwrap_or_default());
    } else if outcomes.len() > 1 || (code != EXIT_OK && !outcomes.is_empty()) {
        let passed = outcomes.iter().filter(|o| o.passed()).count();
        println!(
            "{} scenario(s): {passed} passed, {} failed{}",
            outcomes.len(),
            outcomes.len() - passed,
            if code == EXIT_INPUT {
                ", some could not run (see errors above)"
            } else {
                ""
            }
        );
    }
    code
}

pub fn policy_test(path: &Path, quiet: bool, format: Format) -> i32 {
    let suite = match suite::run(path) {
        Ok(s) => s,
        // Nothing to run is not a failure: the policy itself loaded.
        Err(e @ suite::SuiteError::NoScenarios(_)) => {
            match format {
                Format::Json => output::json(
                    &serde_json::json!({"scenarios": 0, "passed": 0, "failed": 0, "cases": [], "message": e.to_string()}),
                ),
                _ => println!("{e}"),
            }
            return EXIT_OK;
        }
        Err(e) => return super::context::fail(e),
    };
    match format {
        Format::Json => output::json(&serde_json::to_value(&suite).unwrap_or_default()),
        _ => output::print(&sim_render::suite(&suite, quiet)),
    }
    if suite
        .cases
        .iter()
        .any(|c| matches!(c, suite::Case::Error { .. }))
    {
        EXIT_INPUT
    } else if suite.failed() > 0 {
        EXIT_FOUND
    } else {
        EXIT_OK
    }
}
