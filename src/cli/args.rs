//! clap definitions of every command and flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "steward", version, about = "Complaint and repair procedures as data, enforced to the minute")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// SQLite database file
    #[arg(long, global = true, env = "STEWARD_DB", default_value = "steward.db")]
    pub db: PathBuf,
    /// The current time (RFC 3339, e.g. 2026-07-01T09:00:00+08:00); defaults to the clock
    #[arg(long, global = true)]
    pub now: Option<String>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Toml,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check, show, explain and diff policies
    #[command(subcommand)]
    Policy(PolicyCmd),
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Validate policies; report every error with file, line and column
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the resolved policy (after overlays) and its fingerprint
    Show { path: PathBuf },
    /// Explain which category, limits, deadlines, ladder and revisits apply to a ticket
    Explain {
        path: PathBuf,
        /// The ticket as JSON: {"kind":"repair","text":"...","estate":"...","channel":"..."}
        #[arg(long)]
        ticket: String,
    },
    /// Semantic diff of two policies, rule by rule (exit 1 when they differ)
    Diff { old: PathBuf, new: PathBuf },
}
