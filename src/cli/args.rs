//! clap definitions of every command and flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod formats;
mod ticket;
mod values;

pub use formats::*;
pub use ticket::*;
pub use values::*;

#[derive(Parser, Debug)]
#[command(
    name = "steward",
    version = super::version::SHORT,
    long_version = super::version::LONG,
    about = "Complaint and repair procedures as data, enforced to the minute",
    after_help = "Examples:
  steward demo
  steward policy apply policies/vk-shanghai
  steward ticket open --estate riverside --kind repair --text '客厅灯具不亮'
  steward --format json ticket list --status open --breached
  steward report weekly --lang zh-CN --format html -o weekly.html

Each command lists the --format values it prints in its own --help; written
before the command (`steward --format json ticket list`) it is read as the command's.

Exit codes: 0 ok, 1 differences or violations found, 2 usage or input error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The database: an SQLite file, or a PostgreSQL database as a
    /// postgres://USER:PASSWORD@HOST:PORT/DBNAME URL
    // The value is never shown in --help: a URL may carry a password.
    #[arg(
        long,
        global = true,
        env = "STEWARD_DB",
        hide_env_values = true,
        default_value = "steward.db"
    )]
    pub db: PathBuf,
    /// The current time: RFC 3339 (2026-07-06T09:00:00+08:00) or local time in the
    /// policy's time zone (2026-07-06T09:00, 2026-07-06 09:00); defaults to the clock
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// Colour on a terminal (BREACHED, FAIL, warnings); `auto` honours NO_COLOR
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// The command's `--format`, read from it after parsing.
    #[arg(skip)]
    pub format: Format,
    /// Whether --db was given (or STEWARD_DB set) rather than defaulted; set after parsing.
    #[arg(skip)]
    pub db_given: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check, show, explain, test, diff and apply policies
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Open, act on, show and list tickets
    #[command(subcommand)]
    Ticket(Box<TicketCmd>),
    /// Fire every timer due at --now: warnings, breaches, escalations, overdue revisits
    #[command(after_help = "Example (cron, every minute):\n  steward --db /srv/steward.db tick")]
    Tick {
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Record an external event for an estate (rain, or any kind the policy declares) that revisits wait for
    #[command(
        subcommand,
        after_help = "Examples:\n  steward event rain --estate riverside --at '2026-07-08 14:00'\n  steward event typhoon_warning --estate gardens\n  steward event feed --plugin weather --file observations.csv\n\nThe kinds are those of the estate's policy ([[event]]); the same event (kind,\nestate, time) recorded twice counts once."
    )]
    Event(EventCmd),
    /// The estate registry: id, name, households (K4) and phase dates
    #[command(subcommand)]
    Estate(super::estate_cmd::EstateCmd),
    /// Record a visit to an estate's owners (K5: three a month, 004)
    #[command(
        after_help = "Example:\n  steward visit --estate riverside --unit 3-2-1201 --by 王敏 --note '业主建议增加夜间巡逻'"
    )]
    Visit(super::visit_cmd::VisitArgs),
    /// Check the log's hash chain and rebuild projections from it
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The main job on the embedded default policy: a fresh database and a simulated week
    #[command(
        after_help = "Examples:\n  steward demo\n  steward --db week.db demo && steward --db week.db ticket list"
    )]
    Demo {
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Simulate before rollout: run scenarios, replay a history, generate a history
    #[command(subcommand)]
    Sim(SimCmd),
    /// Import a complaint register (CSV or XLSX) as history, through a mapping file
    #[command(after_help = "Examples:
  steward import register.xlsx --map examples/register/mapping.toml --check
  steward --db company.db import register.csv --map mapping.toml --encoding gbk
  steward import register.xlsx --map mapping.toml --out history.csv
  steward sim replay --history register.xlsx --map mapping.toml --policy policies/vk-shanghai

Bad rows are listed with file, row, column and why, skipped, and make the exit code 2;
--strict refuses the whole file instead. A stopped import resumes when run again.")]
    Import(ImportArgs),
    /// Daily, weekly and quarterly reports and KPIs computed from the event log
    #[command(subcommand)]
    Report(ReportCmd),
    /// Business calendars: the shipped holiday data and a policy's calendars, year by year
    #[command(
        subcommand,
        after_help = "Example:\n  steward calendar show cn-office 2026 --policy policies/vk-shanghai"
    )]
    Calendar(CalendarCmd),
    /// Run the host runtime: the HTTP API, the timer scheduler and notification delivery
    #[command(after_help = "Examples:
  steward --db /srv/steward.db serve --listen 127.0.0.1:8080 --deployment deploy.toml
  steward serve    # a fresh steward.db: the embedded default policy and a bootstrap admin token")]
    Serve(super::serve_cmd::ServeArgs),
    /// API tokens for `steward serve`: create (shown once), list, revoke
    #[command(subcommand)]
    Token(super::token_cmd::TokenCmd),
    /// The notification outbox and its delivery state
    #[command(subcommand)]
    Outbox(super::outbox_cmd::OutboxCmd),
    /// The database itself: copy an SQLite file into PostgreSQL
    #[command(subcommand)]
    Store(super::store_cmd::StoreCmd),
    /// Print a shell completion script to standard output
    #[command(after_help = "Examples:
  steward completions bash > /etc/bash_completion.d/steward
  steward completions zsh > \"${fpath[1]}/_steward\"
  steward completions fish > ~/.config/fish/completions/steward.fish")]
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages: steward.1 and one per subcommand (steward-ticket-open.1, ...)
    #[command(
        after_help = "Examples:\n  steward man --out /usr/local/share/man/man1\n  steward man | man -l -"
    )]
    Man {
        /// Directory to write every page to; without it, steward.1 goes to standard output
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The register: .xlsx, or CSV (UTF-8 or GBK)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The mapping file: columns, date formats, value maps, time zone (docs/import.md)
    #[arg(long, value_name = "MAPPING.toml")]
    pub map: PathBuf,
    /// Refuse the whole file if any row is bad (default: skip and list bad rows)
    #[arg(long)]
    pub strict: bool,
    /// Text encoding of a CSV register (default: detected)
    #[arg(long, value_enum)]
    pub encoding: Option<Encoding>,
    /// Check the register and list bad rows; write nothing
    #[arg(long, conflicts_with = "out")]
    pub check: bool,
    /// Write the register as a steward history CSV instead of into --db
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Records per transaction when importing into --db
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub batch: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: TableJson,
}

#[derive(Subcommand, Debug)]
pub enum CalendarCmd {
    /// Print a year as month grids marking holidays (*) and make-up workdays (+)
    #[command(
        after_help = "Example:\n  steward calendar show cn-office 2026 --policy policies/vk-shanghai"
    )]
    Show {
        /// A calendar of --policy (e.g. `cn-office`), or shipped holiday data (`cn-statutory`)
        name: String,
        /// The year to print, e.g. 2026
        year: i32,
        /// The policy whose calendar NAME is
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// The shipped holiday data, or a policy's calendars, with the years they cover
    #[command(after_help = "Example:\n  steward calendar list --policy policies/vk-shanghai")]
    List {
        /// List this policy's calendars instead of the shipped data
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Run scenario files on a virtual clock; print the timeline and check expectations
    /// (exit 1 when an expectation fails, 2 on a malformed file)
    #[command(after_help = "Example:\n  steward sim run policies/vk-shanghai/scenarios/*.toml")]
    Run {
        /// Scenario files (TOML)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Only the summary and failures, no timeline
        #[arg(long, short)]
        quiet: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Replay a ticket history (CSV or JSON lines) under one or two policies and compare
    #[command(
        after_help = "Example:\n  steward sim replay --history july.csv --policy policies/vk-shanghai --policy policies/three-class"
    )]
    Replay(ReplayArgs),
    /// Write a realistic synthetic ticket history (deterministic for a seed)
    #[command(
        after_help = "Example:\n  steward sim generate --tickets 5000 --days 60 --out history.csv"
    )]
    Generate(GenerateArgs),
}

/// `sim replay`: a history under one policy, or two compared.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// History file (`-` for standard input); `.jsonl`/`.json` is read as JSON lines
    #[arg(long, value_name = "FILE")]
    pub history: PathBuf,
    /// The policy to replay under; give it twice to compare (A, then B)
    #[arg(long = "policy", required = true, num_args = 1, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Read --history as a complaint register (CSV or XLSX) through this mapping file
    #[arg(long, value_name = "MAPPING.toml")]
    pub map: Option<PathBuf>,
    /// An estate's own policy, as `policy apply --estate` gives it live: ESTATE=PATH
    /// for both sides, A:ESTATE=PATH or B:ESTATE=PATH for one
    #[arg(long = "estate-policy", value_name = "ESTATE=PATH")]
    pub estate_policy: Vec<String>,
    /// Replay only this estate's tickets
    #[arg(long, value_name = "ESTATE")]
    pub estate: Option<String>,
    /// Text encoding of a CSV register read with --map (default: detected)
    #[arg(long, value_enum, requires = "map")]
    pub encoding: Option<Encoding>,
    /// Ignore the history's recorded categories: let each policy classify by its conditions
    #[arg(long)]
    pub reclassify: bool,
    /// A ticket with no line for this many days is finished as it stands (bounds memory)
    #[arg(long, default_value_t = 60, value_name = "DAYS")]
    pub idle_days: u32,
    /// At most this many differing tickets are listed (all are counted)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_diffs: usize,
    /// Worker threads (default: the number of cores)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print tickets per second and peak memory to stderr
    #[arg(long)]
    pub stats: bool,
    /// Per-day rows in the table even for long histories (default: weekly past 31 days)
    #[arg(long)]
    pub daily: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ReplayFormat,
}

/// `sim generate`: a synthetic history.
#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Random seed; the same seed gives the same history
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of tickets
    #[arg(long, default_value_t = 1000)]
    pub tickets: u64,
    /// Days the history spans
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Number of estates
    #[arg(long, default_value_t = 4)]
    pub estates: u32,
    /// First day (local date)
    #[arg(long, default_value = "2026-07-01", value_name = "DATE")]
    pub start: String,
    /// Output file (default: standard output); `.jsonl` writes JSON lines
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Daily complaint report (日报): new complaints per specialist with initial plans and
    /// committed dates, due before 12:00 the next day (K1, L3)
    #[command(
        after_help = "Examples:\n  steward report daily 2026-07-06\n  steward report daily --lang zh-CN --format html -o daily.html"
    )]
    Daily {
        /// The local day, YYYY-MM-DD; defaults to the day before --now
        #[arg(value_name = "DATE", conflicts_with_all = ["from", "to"])]
        date: Option<String>,
        #[command(flatten)]
        common: ReportArgs,
    },
    /// Weekly statistics, due every Monday (K2): close rates, valid-complaint rate, revisits,
    /// on-time rates, escalations
    #[command(
        after_help = "Examples:\n  steward report weekly 2026-07-06 --households riverside=1200\n  steward report weekly --format csv -o week.csv"
    )]
    Weekly {
        /// Any day of the Monday–Sunday week, YYYY-MM-DD; defaults to last week
        #[arg(value_name = "WEEK_OF", conflicts_with_all = ["from", "to"])]
        week_of: Option<String>,
        #[command(flatten)]
        common: ReportArgs,
    },
    /// Quarterly report (K3, K4, V1): per-specialist and per-department close rates and more
    #[command(
        after_help = "Example:\n  steward report quarterly 2026Q3 --estates estates.toml --format html -o q3.html"
    )]
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
    #[arg(long, requires = "to", value_name = "DATE")]
    pub from: Option<String>,
    /// Last local day of a custom period, inclusive (with --from)
    #[arg(long, requires = "from", value_name = "DATE")]
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
    /// Language of the table and HTML report; defaults to the policy's `locale`, else English
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Subcommand, Debug)]
pub enum EventCmd {
    /// Rain at an estate: leak repairs waiting for "after the next rain" become due (V4)
    #[command(
        after_help = "Examples:\n  steward --now '2026-07-08 14:00' event rain --estate riverside\n  steward event rain --estate riverside --at '2026-07-08 14:00'"
    )]
    Rain {
        /// The estate where it rained
        #[arg(long)]
        estate: String,
        /// When it happened (default: --now); RFC 3339 or local time in the policy's zone
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Run a feed (e.g. hourly rainfall CSV) through the event-source plug-in of each estate's policy
    #[command(
        after_help = "Example:\n  steward event feed --plugin weather --file observations.csv"
    )]
    Feed {
        /// The plug-in id, e.g. `weather`
        #[arg(long)]
        plugin: String,
        /// The feed file the plug-in reads
        #[arg(long, value_name = "FILE")]
        file: std::path::PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Any other kind the estate's policy declares (`[[event]]`):
    /// `steward event KIND --estate E [--at TIME]`
    #[command(external_subcommand)]
    Kind(Vec<String>),
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Make an Ed25519 key pair for signing checkpoints: the secret key goes to
    /// FILE (mode 0600, never into the database), the public key to FILE.pub and
    /// standard output
    #[command(after_help = "Example:\n  steward audit keygen --out auditor.key")]
    Keygen {
        /// Where to write the secret key; refuses to overwrite an existing file
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Validate policies; report every error with file, line and column
    #[command(after_help = "Example:\n  steward policy check policies/*/")]
    Check {
        /// Policy directories or policy.toml files
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Print the resolved policy (after overlays) and its fingerprint: from policy
    /// files, or with --fingerprint as stored in the database
    #[command(
        after_help = "Examples:\n  steward policy show policies/vk-shanghai-gardens\n  steward --db /srv/steward.db policy show --fingerprint 3eeef03de9e1"
    )]
    Show {
        /// A policy directory or policy.toml file
        #[arg(
            required_unless_present = "fingerprint",
            conflicts_with = "fingerprint"
        )]
        path: Option<PathBuf>,
        /// A fingerprint (or a unique prefix of one) stored in the database (--db)
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: ShowFormat,
    },
    /// Every policy stored in the database: fingerprint, id, version, and each time
    /// it was applied, to which scope, by whom
    #[command(after_help = "Example:\n  steward --db /srv/steward.db policy list")]
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Explain which category, limits, deadlines, ladder and revisits apply to a ticket
    #[command(
        after_help = "Example:\n  steward policy explain policies/vk-shanghai --ticket '{\"kind\":\"repair\",\"text\":\"卫生间漏水\",\"estate\":\"riverside\"}'"
    )]
    Explain {
        /// A policy directory or policy.toml file
        path: PathBuf,
        /// The ticket as JSON: {"kind":"repair","text":"...","estate":"...","channel":"..."}
        #[arg(long)]
        ticket: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Run every scenario shipped with a policy (PATH/scenarios/*.toml); report rule coverage
    #[command(after_help = "Example:\n  steward policy test policies/vk-shanghai")]
    Test {
        /// A policy directory
        path: PathBuf,
        /// Only the summary, no per-scenario lines
        #[arg(long, short)]
        quiet: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Semantic diff of two policies, rule by rule (exit 1 when they differ)
    #[command(
        after_help = "Example:\n  steward policy diff policies/vk-shanghai policies/three-class"
    )]
    Diff {
        /// The policy before
        old: PathBuf,
        /// The policy after
        new: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Make a policy the database's active one; open tickets move to it (each move is logged)
    #[command(
        after_help = "Examples:\n  steward policy apply policies/vk-shanghai\n  steward policy apply policies/vk-shanghai-gardens --estate gardens"
    )]
    Apply {
        /// A policy directory or policy.toml file
        path: PathBuf,
        /// Apply to one estate only (an estate overlay)
        #[arg(long)]
        estate: Option<String>,
        /// Who applies it, recorded in the log (shown by `policy list`)
        #[arg(long, default_value = "")]
        by: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}

impl Command {
    /// The `--format` this command was given, or `table` where it has none.
    pub fn format(&self) -> Format {
        match self {
            Command::Policy(PolicyCmd::Show { format, .. }) => (*format).into(),
            Command::Policy(
                PolicyCmd::Check { format, .. }
                | PolicyCmd::List { format, .. }
                | PolicyCmd::Explain { format, .. }
                | PolicyCmd::Test { format, .. }
                | PolicyCmd::Diff { format, .. }
                | PolicyCmd::Apply { format, .. },
            )
            | Command::Tick { format }
            | Command::Demo { format }
            | Command::Event(EventCmd::Rain { format, .. } | EventCmd::Feed { format, .. })
            | Command::Audit(
                AuditCmd::Verify { format, .. } | AuditCmd::Checkpoint { format, .. },
            )
            | Command::Sim(SimCmd::Run { format, .. })
            | Command::Calendar(
                CalendarCmd::Show { format, .. } | CalendarCmd::List { format, .. },
            ) => (*format).into(),
            Command::Ticket(cmd) => match cmd.as_ref() {
                TicketCmd::Open { format, .. }
                | TicketCmd::Classify { format, .. }
                | TicketCmd::Respond { format, .. }
                | TicketCmd::Plan { format, .. }
                | TicketCmd::Report { format, .. }
                | TicketCmd::ExpertReply { format, .. }
                | TicketCmd::Update { format, .. }
                | TicketCmd::Notice { format, .. }
                | TicketCmd::Act { format, .. }
                | TicketCmd::Deadline { format, .. }
                | TicketCmd::Assign { format, .. }
                | TicketCmd::Pause { format, .. }
                | TicketCmd::Resume { format, .. }
                | TicketCmd::Resolve { format, .. }
                | TicketCmd::Revisit { format, .. }
                | TicketCmd::Close { format, .. }
                | TicketCmd::Reopen { format, .. }
                | TicketCmd::WaiveRevisit { format, .. }
                | TicketCmd::Compensation { format, .. }
                | TicketCmd::Show { format, .. }
                | TicketCmd::List { format, .. } => (*format).into(),
            },
            Command::Sim(SimCmd::Replay(a)) => a.format.into(),
            Command::Event(EventCmd::Kind(args)) => super::event_cmd::format_of(args),
            Command::Estate(cmd) => cmd.format(),
            Command::Visit(a) => a.format.into(),
            Command::Import(a) => a.format.into(),
            Command::Token(
                super::token_cmd::TokenCmd::Create { format, .. }
                | super::token_cmd::TokenCmd::List { format }
                | super::token_cmd::TokenCmd::Revoke { format, .. },
            )
            | Command::Outbox(
                super::outbox_cmd::OutboxCmd::List { format, .. }
                | super::outbox_cmd::OutboxCmd::Release { format, .. },
            )
            | Command::Store(super::store_cmd::StoreCmd::Copy { format, .. }) => (*format).into(),
            Command::Report(
                ReportCmd::Daily { common, .. }
                | ReportCmd::Weekly { common, .. }
                | ReportCmd::Quarterly { common, .. },
            ) => common.format.into(),
            Command::Audit(AuditCmd::Keygen { .. })
            | Command::Sim(SimCmd::Generate(_))
            | Command::Serve(_)
            | Command::Completions { .. }
            | Command::Man { .. } => Format::Table,
        }
    }
}
