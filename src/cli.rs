//! The `steward` command line: argument parsing and dispatch. Each command lives in
//! its own file; they print through [`output`] and return an exit code:
//! 0 ok, 1 differences or violations found, 2 usage or input error.

mod args;
mod audit_cmd;
mod calendar_cmd;
mod context;
mod demo;
mod docs_cmd;
mod explain_cmd;
mod outbox_cmd;
mod output;
mod policy_cmd;
mod policy_store_cmd;
mod replay_cmd;
mod replay_render;
mod report_cmd;
mod serve_cmd;
mod sim_cmd;
mod sim_render;
pub(crate) mod ticket_cmd;
pub(crate) mod ticket_json;
pub(crate) mod timeline;
mod token_cmd;
mod version;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FOUND: i32 = 1;
pub const EXIT_INPUT: i32 = 2;

pub fn run() -> i32 {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) if err.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            return context::fail("an argument is not valid UTF-8 text");
        }
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_INPUT
            } else {
                EXIT_OK
            };
            if code == EXIT_INPUT && json_requested() {
                let text = err.render().to_string();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                output::json(&serde_json::json!({ "error": first }));
            } else {
                let _ = err.print();
            }
            return code;
        }
    };
    cli.global.db_given = matches.value_source("db") != Some(ValueSource::DefaultValue);
    anstream::ColorChoice::write_global(match cli.global.color {
        args::ColorWhen::Auto => anstream::ColorChoice::Auto,
        args::ColorWhen::Always => anstream::ColorChoice::Always,
        args::ColorWhen::Never => anstream::ColorChoice::Never,
    });
    context::set_format(cli.global.format);
    dispatch(cli)
}

/// `--format json` (or `--format=json`) on a command line clap refused, so the
/// usage error can still come out as JSON.
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json")
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
        Command::Serve(args) => serve_cmd::run(args, &global),
        Command::Token(cmd) => token_cmd::run(cmd, &global),
        Command::Outbox(cmd) => outbox_cmd::run(cmd, &global),
        Command::Completions { shell } => docs_cmd::completions(shell),
        Command::Man { out } => docs_cmd::man(out.as_deref()),
    }
}
