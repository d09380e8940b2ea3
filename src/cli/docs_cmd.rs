//! `steward completions SHELL` and `steward man`: generated from the clap
//! definitions, so they always match the flags this build accepts.

use std::path::Path;

use clap::CommandFactory;

use super::EXIT_OK;
use super::args::Cli;
use super::context::fail;

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "steward", &mut std::io::stdout());
    EXIT_OK
}

pub fn man(out: Option<&Path>) -> i32 {
    let cmd = Cli::command();
    let result = match out {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
    };
    match (result, out) {
        (Err(e), Some(dir)) => fail(format!(
            "cannot write man pages to `{}`: {e}",
            dir.display()
        )),
        (Err(e), None) => fail(format!("cannot write the man page: {e}")),
        (Ok(()), Some(dir)) => {
            println!("man pages written to {}", dir.display());
            EXIT_OK
        }
        (Ok(()), None) => EXIT_OK,
    }
}
