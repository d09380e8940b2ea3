//! The `steward` command line: argument parsing and dispatch. Each command lives in
//! its own file; they print through [`output`] and return an exit code:
//! 0 ok, 1 differences or violations found, 2 usage or input error.

// Command files: one per command (or group of leaves), dispatched from
// [`dispatch`] only; they never import each other.
mod audit_cmd;
mod calendar_cmd;
mod demo;
mod docs_cmd;
mod estate_cmd;
mod event_cmd;
mod import_cmd;
mod outbox_cmd;
mod policy_cmd;
mod policy_explain_cmd;
mod policy_store_cmd;
mod policy_test_cmd;
mod replay_cmd;
mod report_cmd;
mod serve_cmd;
mod sim_cmd;
mod store_cmd;
mod tick_cmd;
pub(crate) mod ticket_cmd;
mod ticket_steps;
mod token_cmd;
mod visit_cmd;

// Shared leaves: what the command files use.
mod args;
mod context;
mod decisions;
mod load;
mod output;
mod replay_render;
mod sim_render;
pub(crate) mod ticket_json;
pub(crate) mod timeline;
mod version;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command};
use args::{PolicyCmd, SimCmd};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FOUND: i32 = 1;
pub const EXIT_INPUT: i32 = 2;

pub fn run() -> i32 {
    let parsed = Cli::command()
        .try_get_matches_from(args::hoist_format(std::env::args_os().collect()))
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
    cli.global.format = cli.command.format();
    anstream::ColorChoice::write_global(match cli.global.color {
        args::ColorWhen::Auto => anstream::ColorChoice::Auto,
        args::ColorWhen::Always => anstream::ColorChoice::Always,
        args::ColorWhen::Never => anstream::ColorChoice::Never,
    });
    context::set_format(cli.global.format);
    let code = dispatch(cli);
    plugin_stats();
    code
}

/// `STEWARD_PLUGIN_STATS=1`: how the plug-in module cache served this process, on
/// stderr (nothing when no plug-in was loaded), so a deployment can see that a
/// warm `STEWARD_PLUGIN_CACHE` spares every command its compiles.
fn plugin_stats() {
    if std::env::var_os("STEWARD_PLUGIN_STATS").is_none_or(|v| v.is_empty()) {
        return;
    }
    if let Some(host) = crate::plugin::PluginHost::global_if_started() {
        let s = host.stats();
        eprintln!(
            "plug-in modules: {} compiled, {} from memory, {} from the disk cache",
            s.compiled, s.memory_hits, s.disk_hits
        );
    }
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
    let g = &global;
    match cli.command {
        Command::Policy(cmd) => match cmd {
            PolicyCmd::Check { paths, .. } => policy_cmd::check(&paths, g),
            PolicyCmd::Show {
                path: Some(path),
                fingerprint: None,
                ..
            } => policy_cmd::show(&path, g),
            PolicyCmd::Show { fingerprint, .. } => {
                policy_store_cmd::show(fingerprint.as_deref().unwrap_or_default(), g)
            }
            PolicyCmd::List { .. } => policy_store_cmd::list(g),
            PolicyCmd::Explain { path, ticket, .. } => policy_explain_cmd::run(&path, &ticket, g),
            PolicyCmd::Test { path, quiet, .. } => policy_test_cmd::run(&path, quiet, g),
            PolicyCmd::Diff { old, new, .. } => policy_cmd::diff(&old, &new, g),
            PolicyCmd::Apply {
                path, estate, by, ..
            } => policy_cmd::apply(&path, estate.as_deref(), &by, g),
        },
        Command::Ticket(cmd) => ticket_cmd::run(*cmd, g),
        Command::Tick { .. } => tick_cmd::run(g),
        Command::Event(cmd) => event_cmd::run(cmd, g),
        Command::Estate(cmd) => estate_cmd::run(cmd, g),
        Command::Visit(args) => visit_cmd::run(&args, g),
        Command::Audit(cmd) => audit_cmd::run(cmd, g),
        Command::Demo { .. } => demo::run(g),
        Command::Sim(SimCmd::Run { files, quiet, .. }) => sim_cmd::run(&files, quiet, g),
        Command::Sim(SimCmd::Replay(args)) => replay_cmd::replay(&args, g),
        Command::Sim(SimCmd::Generate(args)) => replay_cmd::generate(&args),
        Command::Import(a) => import_cmd::run(&a, g),
        Command::Report(cmd) => report_cmd::run(cmd, g),
        Command::Calendar(cmd) => calendar_cmd::run(cmd, g),
        Command::Serve(args) => serve_cmd::run(args, g),
        Command::Token(cmd) => token_cmd::run(cmd, g),
        Command::Outbox(cmd) => outbox_cmd::run(cmd, g),
        Command::Store(cmd) => store_cmd::run(cmd, g),
        Command::Completions { shell } => docs_cmd::completions(shell),
        Command::Man { out } => docs_cmd::man(out.as_deref()),
    }
}
