//! The `steward` command line: argument parsing and dispatch. Each command lives in
//! its own file; they print through [`output`] and return an exit code:
//! 0 ok, 1 differences or violations found, 2 usage or input error.

mod args;
mod audit_cmd;
mod calendar_cmd;
mod context;
mod demo;
mod explain_cmd;
mod output;
mod policy_cmd;
mod policy_store_cmd;
mod replay_cmd;
mod replay_render;
mod report_cmd;
mod sim_cmd;
mod sim_render;
mod ticket_cmd;
mod timeline;

use clap::Parser;

pub use args::{Cli, Command};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FOUND: i32 = 1;
pub const EXIT_INPUT: i32 = 2;

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            return context::fail("an argument is not valid UTF-8 text");
        }
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_INPUT
            } else {
                EXIT_OK
            };
            let _ = err.print();
            return code;
        }
    };
    dispatch(cli)
}

fn dispatch(cli: Cli) -> i32 {
    let global = cli.global;
    let csv_ok = matches!(
        cli.command,
        Command::Report(_) | Command::Sim(args::SimCmd::Replay { .. })
    );
    let html_ok = matches!(cli.command, Command::Report(_));
    let refused = match global.format {
        args::Format::Csv => !csv_ok,
        args::Format::Html => !html_ok,
        _ => false,
    };
    if refused {
        return context::fail(
            "--format csv is for `steward report` and `sim replay`, --format html for `steward report`; use table or json here",
        );
    }
    match cli.command {
        Command::Policy(cmd) => policy_cmd::run(cmd, &global),
        Command::Ticket(cmd) => ticket_cmd::ticket(*cmd, &global),
        Command::Tick => ticket_cmd::tick(&global),
        Command::Event(cmd) => ticket_cmd::event(cmd, &global),
        Command::Audit(cmd) => audit_cmd::run(cmd, &global),
        Command::Demo => demo::run(&global),
        Command::Sim(cmd) => sim_cmd::run(cmd, &global),
        Command::Report(cmd) => report_cmd::run(cmd, &global),
        Command::Calendar(cmd) => calendar_cmd::run(cmd, &global),
    }
}
