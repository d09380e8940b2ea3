//! `steward sim run FILE...`: scenario files on a virtual clock, printed through
//! [`super::sim_render`]. `sim replay` and `sim generate` are in [`super::replay_cmd`].

use std::path::PathBuf;

use crate::sim::{parse, runner::Runner};

use super::args::{Format, Global};
use super::{EXIT_FOUND, EXIT_INPUT, EXIT_OK, output, sim_render};

pub fn run(files: &[PathBuf], quiet: bool, g: &Global) -> i32 {
    let format = g.format;
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
