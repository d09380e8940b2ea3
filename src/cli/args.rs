//! clap definitions of every command and flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "steward",
    version,
    about = "Complaint and repair procedures as data, enforced to the minute"
)]
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
    /// Comma-separated values (`sim replay`, `report`); other commands print a table
    Csv,
    /// `steward report` only: one self-contained file with SVG charts
    Html,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check, show, explain and diff policies
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Open, act on, show and list tickets
    #[command(subcommand)]
    Ticket(Box<TicketCmd>),
    /// Fire every timer due at --now: warnings, breaches, escalations, overdue revisits
    Tick,
    /// Record an external event for an estate (e.g. rain) that pending revisits wait for
    #[command(subcommand)]
    Event(EventCmd),
    /// Check the log's hash chain and rebuild projections from it
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The main job on the embedded default policy: a fresh database and a simulated week
    Demo,
    /// Simulate before rollout: run scenarios, replay a history, generate a history
    #[command(subcommand)]
    Sim(SimCmd),
    /// Daily, weekly and quarterly reports and KPIs computed from the event log
    #[command(subcommand)]
    Report(ReportCmd),
    /// Business calendars: the shipped holiday data and a policy's calendars, year by year
    #[command(subcommand)]
    Calendar(CalendarCmd),
}

#[derive(Subcommand, Debug)]
pub enum CalendarCmd {
    /// Print a year as month grids marking holidays (*) and make-up workdays (+)
    Show {
        /// A calendar of --policy (e.g. `cn-office`), or shipped holiday data (`cn-statutory`)
        name: String,
        year: i32,
        /// The policy whose calendar NAME is
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// The shipped holiday data, or a policy's calendars, with the years they cover
    List {
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Run scenario files on a virtual clock; print the timeline and check expectations
    /// (exit 1 when an expectation fails, 2 on a malformed file)
    Run {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only the summary and failures, no timeline
        #[arg(long, short)]
        quiet: bool,
    },
    /// Replay a ticket history (CSV or JSON lines) under one or two policies and compare
    Replay {
        /// History file (`-` for standard input); `.jsonl`/`.json` is read as JSON lines
        #[arg(long)]
        history: PathBuf,
        /// The policy to replay under; give it twice to compare (A, then B)
        #[arg(long = "policy", required = true, num_args = 1)]
        policy: Vec<PathBuf>,
        /// Ignore the history's recorded categories: let each policy classify by its conditions
        #[arg(long)]
        reclassify: bool,
        /// A ticket with no line for this many days is finished as it stands (bounds memory)
        #[arg(long, default_value_t = 60)]
        idle_days: u32,
        /// At most this many differing tickets are listed (all are counted)
        #[arg(long, default_value_t = 1000)]
        max_diffs: usize,
        /// Worker threads (default: the number of cores)
        #[arg(long)]
        threads: Option<usize>,
        /// Print tickets per second and peak memory to stderr
        #[arg(long)]
        stats: bool,
        /// Per-day rows in the table even for long histories (default: weekly past 31 days)
        #[arg(long)]
        daily: bool,
    },
    /// Write a realistic synthetic ticket history (deterministic for a seed)
    Generate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of tickets
        #[arg(long, default_value_t = 1000)]
        tickets: u64,
        /// Days the history spans
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Number of estates
        #[arg(long, default_value_t = 4)]
        estates: u32,
        /// First day (local date)
        #[arg(long, default_value = "2026-07-01")]
        start: String,
        /// Output file (default: standard output); `.jsonl` writes JSON lines
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Daily complaint report (日报): new complaints per specialist with initial plans and
    /// committed dates, due before 12:00 the next day (K1, L3)
    Daily {
        /// The local day, YYYY-MM-DD; defaults to the day before --now
        #[arg(value_name = "DATE", conflicts_with_all = ["from", "to"])]
        date: Option<String>,
        #[command(flatten)]
        common: ReportArgs,
    },
    /// Weekly statistics, due every Monday (K2): close rates, valid-complaint rate, revisits,
    /// on-time rates, escalations
    Weekly {
        /// Any day of the Monday–Sunday week, YYYY-MM-DD; defaults to last week
        #[arg(value_name = "WEEK_OF", conflicts_with_all = ["from", "to"])]
        week_of: Option<String>,
        #[command(flatten)]
        common: ReportArgs,
    },
    /// Quarterly report (K3, K4, V1): per-specialist and per-department close rates and more
    Quarterly {
        /// The quarter, e.g. 2026Q3; defaults to the last complete quarter
        #[arg(value_name = "QUARTER", conflicts_with_all = ["from", "to"])]
        quarter: Option<String>,
        #[command(flatten)]
        common: ReportArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Only this estate
    #[arg(long)]
    pub estate: Option<String>,
    /// First local day of a custom period, YYYY-MM-DD (with --to)
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last local day of a custom period, inclusive (with --from)
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Households of an estate, for the valid-complaint rate (K4); repeatable
    #[arg(long = "households", value_name = "ESTATE=N")]
    pub households: Vec<String>,
    /// A TOML file of `[[estate]] id = "..", households = N` entries
    #[arg(long, value_name = "FILE")]
    pub estates: Option<PathBuf>,
    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum EventCmd {
    /// Rain at an estate: leak repairs waiting for "after the next rain" become due (V4)
    Rain {
        #[arg(long)]
        estate: String,
    },
    /// Run a feed (e.g. hourly rainfall CSV) through the active policy's event-source plug-in
    Feed {
        /// The plug-in id, e.g. `weather`
        #[arg(long)]
        plugin: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Prove the database unchanged: the hash chain, every stored policy and module
    /// against its digest, every projection column and setting rebuilt from the log,
    /// the schema's append-only triggers, and (with --checkpoint) the log's head
    /// (exit 1 on any finding)
    #[command(after_help = "Example:\n  steward audit verify --checkpoint head-2026-07-10.json")]
    Verify {
        /// A checkpoint saved earlier (`audit checkpoint --out`): the log must still
        /// contain its head unchanged, so a truncated or rewritten log fails
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Require the checkpoint to be signed by this Ed25519 public key (64 hex
        /// digits, or a file holding them, as `audit keygen` prints)
        #[arg(long, value_name = "KEY", requires = "checkpoint")]
        public_key: Option<String>,
    },
    /// Print the head of the log (sequence, hash, time, event count) as a record to
    /// keep outside the database; `audit verify --checkpoint` checks it later
    #[command(
        after_help = "Example:\n  steward audit checkpoint --out head.json --sign auditor.key\n  steward audit verify --checkpoint head.json --public-key $(cat auditor.pub)"
    )]
    Checkpoint {
        /// Also write the record (JSON) to this file
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Sign the record with the Ed25519 secret key in this file (`audit keygen`)
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
    /// Make an Ed25519 key pair for signing checkpoints: the secret key goes to
    /// FILE (mode 0600, never into the database), the public key to FILE.pub and
    /// standard output
    Keygen {
        /// Where to write the secret key; refuses to overwrite an existing file
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Note {
    /// Who did it
    #[arg(long, default_value = "")]
    pub by: String,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Subcommand, Debug)]
pub enum TicketCmd {
    /// Open a ticket under the active policy (intake, D1–D2)
    Open {
        /// All fields as JSON instead of flags: {"id":..,"estate":..,"kind":..,"text":..}
        #[arg(long, conflicts_with_all = ["estate", "kind", "text"])]
        json: Option<String>,
        #[arg(long)]
        id: Option<String>,
        #[arg(long, required_unless_present = "json")]
        estate: Option<String>,
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value = "")]
        owner: String,
        #[arg(long, default_value = "hotline")]
        channel: String,
        /// inquiry, repair, complaint or suggestion
        #[arg(long, required_unless_present = "json")]
        kind: Option<String>,
        #[arg(long, required_unless_present = "json")]
        text: Option<String>,
        #[arg(long, default_value = "")]
        urgency: String,
        #[arg(long)]
        major: bool,
        #[arg(long, default_value = "")]
        phase: String,
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Complaint class 1, 2 or 3 (D4)
        #[arg(long, default_value_t = 0)]
        class: u8,
    },
    /// Set category, class or major explicitly (re-evaluates which limits apply)
    Classify {
        id: String,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        class: Option<u8>,
        #[arg(long)]
        major: Option<bool>,
    },
    /// First response to the owner
    Respond {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Initial handling plan
    Plan {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Handling form filed with the service center
    Report {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// The expert panel's reply
    ExpertReply {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Progress update to the owner
    Update {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Written notice to maintenance after a failed revisit (V5)
    Notice {
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Dispatch to a department at a tier (E1)
    Assign {
        id: String,
        #[arg(long)]
        department: String,
        #[arg(long, default_value = "L2")]
        tier: String,
        #[arg(long)]
        lead: Option<String>,
    },
    /// Stop the clocks a pause rule names (waiting for the owner, parts, ...)
    Pause {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Restart paused clocks
    Resume { id: String },
    /// The work is done: revisits are scheduled
    Resolve {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a revisit / callback; --problem reopens the ticket (V5)
    Revisit {
        id: String,
        #[arg(long, conflicts_with = "problem")]
        ok: bool,
        #[arg(long)]
        problem: bool,
        #[arg(long, default_value = "phone")]
        channel: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close (after resolution and revisits) or close as invalid with an explanation (D5)
    Close {
        id: String,
        #[arg(long)]
        invalid: Option<String>,
    },
    /// Reopen a resolved or closed ticket
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Record a compensation claim (D6)
    Compensation {
        id: String,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// A ticket's timeline with rule ids and deadlines
    Show { id: String },
    /// Tickets, newest state first
    List {
        #[arg(long)]
        estate: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Validate policies; report every error with file, line and column
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the resolved policy (after overlays) and its fingerprint: from policy
    /// files, or with --fingerprint as stored in the database
    Show {
        #[arg(
            required_unless_present = "fingerprint",
            conflicts_with = "fingerprint"
        )]
        path: Option<PathBuf>,
        /// A fingerprint (or a unique prefix of one) stored in the database (--db)
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
    },
    /// Every policy stored in the database: fingerprint, id, version, and each time
    /// it was applied, to which scope, by whom
    List,
    /// Explain which category, limits, deadlines, ladder and revisits apply to a ticket
    Explain {
        path: PathBuf,
        /// The ticket as JSON: {"kind":"repair","text":"...","estate":"...","channel":"..."}
        #[arg(long)]
        ticket: String,
    },
    /// Run every scenario shipped with a policy (PATH/scenarios/*.toml); report rule coverage
    Test {
        path: PathBuf,
        /// Only the summary, no per-scenario lines
        #[arg(long, short)]
        quiet: bool,
    },
    /// Semantic diff of two policies, rule by rule (exit 1 when they differ)
    Diff { old: PathBuf, new: PathBuf },
    /// Make a policy the database's active one; open tickets move to it (each move is logged)
    Apply {
        path: PathBuf,
        /// Apply to one estate only (an estate overlay)
        #[arg(long)]
        estate: Option<String>,
        /// Who applies it, recorded in the log (shown by `policy list`)
        #[arg(long, default_value = "")]
        by: String,
    },
}
