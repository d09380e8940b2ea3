//! `steward policy test PATH`: every scenario shipped with a policy
//! (PATH/scenarios/*.toml), with the rule coverage they reach.

use std::path::Path;

use crate::sim::suite;

use super::args::{Format, Global};
use super::{EXIT_FOUND, EXIT_INPUT, EXIT_OK, output, sim_render};

pub fn run(path: &Path, quiet: bool, g: &Global) -> i32 {
    let format = g.format;
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
