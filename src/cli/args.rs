//! clap definitions of every command and flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod values;

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
    /// SQLite database file
    #[arg(long, global = true, env = "STEWARD_DB", default_value = "steward.db")]
    pub db: PathBuf,
    /// The current time: RFC 3339 (2026-07-06T09:00:00+08:00) or local time in the
    /// policy's time zone (2026-07-06T09:00, 2026-07-06 09:00); defaults to the clock
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Colour on a terminal (BREACHED, FAIL, warnings); `auto` honours NO_COLOR
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Whether --db was given (or STEWARD_DB set) rather than defaulted; set after parsing.
    #[arg(skip)]
    pub db_given: bool,
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
    /// Check, show, explain, test, diff and apply policies
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Open, act on, show and list tickets
    #[command(subcommand)]
    Ticket(Box<TicketCmd>),
    /// Fire every timer due at --now: warnings, breaches, escalations, overdue revisits
    #[command(after_help = "Example (cron, every minute):\n  steward --db /srv/steward.db tick")]
    Tick,
    /// Record an external event for an estate (e.g. rain) that pending revisits wait for
    #[command(subcommand)]
    Event(EventCmd),
    /// Check the log's hash chain and rebuild projections from it
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The main job on the embedded default policy: a fresh database and a simulated week
    #[command(
        after_help = "Examples:\n  steward demo\n  steward --db week.db demo && steward --db week.db ticket list"
    )]
    Demo,
    /// Simulate before rollout: run scenarios, replay a history, generate a history
    #[command(subcommand)]
    Sim(SimCmd),
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
    },
    /// The shipped holiday data, or a policy's calendars, with the years they cover
    #[command(after_help = "Example:\n  steward calendar list --policy policies/vk-shanghai")]
    List {
        /// List this policy's calendars instead of the shipped data
        #[arg(long)]
        policy: Option<PathBuf>,
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
    },
    /// Replay a ticket history (CSV or JSON lines) under one or two policies and compare
    #[command(
        after_help = "Example:\n  steward sim replay --history july.csv --policy policies/vk-shanghai --policy policies/three-class"
    )]
    Replay {
        /// History file (`-` for standard input); `.jsonl`/`.json` is read as JSON lines
        #[arg(long, value_name = "FILE")]
        history: PathBuf,
        /// The policy to replay under; give it twice to compare (A, then B)
        #[arg(long = "policy", required = true, num_args = 1, value_name = "PATH")]
        policy: Vec<PathBuf>,
        /// Ignore the history's recorded categories: let each policy classify by its conditions
        #[arg(long)]
        reclassify: bool,
        /// A ticket with no line for this many days is finished as it stands (bounds memory)
        #[arg(long, default_value_t = 60, value_name = "DAYS")]
        idle_days: u32,
        /// At most this many differing tickets are listed (all are counted)
        #[arg(long, default_value_t = 1000, value_name = "N")]
        max_diffs: usize,
        /// Worker threads (default: the number of cores)
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Print tickets per second and peak memory to stderr
        #[arg(long)]
        stats: bool,
        /// Per-day rows in the table even for long histories (default: weekly past 31 days)
        #[arg(long)]
        daily: bool,
    },
    /// Write a realistic synthetic ticket history (deterministic for a seed)
    #[command(
        after_help = "Example:\n  steward sim generate --tickets 5000 --days 60 --out history.csv"
    )]
    Generate {
        /// Random seed; the same seed gives the same history
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
        #[arg(long, default_value = "2026-07-01", value_name = "DATE")]
        start: String,
        /// Output file (default: standard output); `.jsonl` writes JSON lines
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
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
}

#[derive(Subcommand, Debug)]
pub enum EventCmd {
    /// Rain at an estate: leak repairs waiting for "after the next rain" become due (V4)
    #[command(
        after_help = "Example:\n  steward --now '2026-07-08 14:00' event rain --estate riverside"
    )]
    Rain {
        /// The estate where it rained
        #[arg(long)]
        estate: String,
    },
    /// Run a feed (e.g. hourly rainfall CSV) through the active policy's event-source plug-in
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
    #[command(after_help = "Example:\n  steward audit keygen --out auditor.key")]
    Keygen {
        /// Where to write the secret key; refuses to overwrite an existing file
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Note {
    /// Who did it (name or role), recorded in the log
    #[arg(long, default_value = "")]
    pub by: String,
    /// Free text recorded with the action
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Subcommand, Debug)]
pub enum TicketCmd {
    /// Open a ticket under the active policy (intake, D1–D2)
    #[command(after_help = "Examples:
  steward ticket open --estate riverside --unit 3-2-1201 --kind repair --text '客厅灯具不亮'
  steward ticket open --json '{\"estate\":\"riverside\",\"kind\":\"complaint\",\"text\":\"电梯噪音\"}'
Without --id the next free id of the sequence T00001, T00002, ... is taken.")]
    Open {
        /// All fields as JSON instead of flags: {"id":..,"estate":..,"kind":..,"text":..}
        #[arg(long, conflicts_with_all = ["estate", "kind", "text"])]
        json: Option<String>,
        /// The ticket id; defaults to the next number of the database's sequence (T00001, ...)
        #[arg(long)]
        id: Option<String>,
        /// The estate (小区) the ticket belongs to
        #[arg(long, required_unless_present = "json")]
        estate: Option<String>,
        /// Unit or location, e.g. building-entrance-room 3-2-1201 (D2)
        #[arg(long, default_value = "")]
        unit: String,
        /// The owner or caller (D2)
        #[arg(long, default_value = "")]
        owner: String,
        /// How the ticket came in, e.g. hotline, app, wechat, walk-in, email (D2)
        #[arg(long, default_value = "hotline")]
        channel: String,
        /// The kind of ticket (D1)
        #[arg(long, value_enum, required_unless_present = "json")]
        kind: Option<KindArg>,
        /// What the owner said; the policy's categories match on it (D3)
        #[arg(long, required_unless_present = "json")]
        text: Option<String>,
        /// Urgency as recorded at intake; `emergency` marks an emergency repair (D2, L2)
        #[arg(long, default_value = "")]
        urgency: String,
        /// A major complaint (重大投诉): the ladder starts higher (E2)
        #[arg(long)]
        major: bool,
        /// Phase of the property, e.g. before-occupancy or warranty; policies may route by it
        #[arg(long, default_value = "")]
        phase: String,
        /// A tag the policy's conditions can test; repeatable
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Complaint class 1, 2 or 3 (D4); 0 = not yet known
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
        class: u8,
    },
    /// Set category, class or major explicitly (re-evaluates which limits apply)
    #[command(
        after_help = "Example:\n  steward ticket classify T00042 --category repair.leak --class 2"
    )]
    Classify {
        /// The ticket id
        id: String,
        /// A category id of the policy (see `steward policy show`)
        #[arg(long)]
        category: Option<String>,
        /// Complaint class 1, 2 or 3 (D4)
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
        class: Option<u8>,
        /// Mark (true) or unmark (false) as a major complaint
        #[arg(long, value_name = "BOOL")]
        major: Option<bool>,
    },
    /// First response to the owner
    #[command(
        after_help = "Example:\n  steward ticket respond T00042 --by 张三 --note '已电话联系业主'"
    )]
    Respond {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Initial handling plan
    #[command(
        after_help = "Example:\n  steward ticket plan T00042 --by 张三 --note '明日上门检查'"
    )]
    Plan {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Handling form filed with the service center
    #[command(after_help = "Example:\n  steward ticket report T00042 --by 张三")]
    Report {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// The expert panel's reply
    #[command(
        after_help = "Example:\n  steward ticket expert-reply T00042 --by 专家顾问团 --note '...'"
    )]
    ExpertReply {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Progress update to the owner
    #[command(after_help = "Example:\n  steward ticket update T00042 --by 张三 --note '配件已到'")]
    Update {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Written notice to maintenance after a failed revisit (V5)
    #[command(after_help = "Example:\n  steward ticket notice T00042 --by 客户服务中心")]
    Notice {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
    },
    /// Dispatch to a department at a tier (E1)
    #[command(
        after_help = "Examples:\n  steward ticket assign T00042 --department engineering\n  steward ticket assign T00042 --department security --tier L3 --lead engineering"
    )]
    Assign {
        /// The ticket id
        id: String,
        /// A department id of the policy
        #[arg(long)]
        department: String,
        /// The dispatch tier (E1)
        #[arg(long, value_enum, ignore_case = true, default_value = "L2")]
        tier: TierArg,
        /// The lead department of a tier-L3 dispatch (required with --tier L3)
        #[arg(long)]
        lead: Option<String>,
    },
    /// Stop the clocks a pause rule names (waiting for the owner, parts, ...)
    #[command(after_help = "Example:\n  steward ticket pause T00042 --reason owner_unavailable")]
    Pause {
        /// The ticket id
        id: String,
        /// A pause rule id of the policy
        #[arg(long)]
        reason: String,
    },
    /// Restart paused clocks
    #[command(after_help = "Example:\n  steward ticket resume T00042")]
    Resume {
        /// The ticket id
        id: String,
    },
    /// The work is done: revisits are scheduled
    #[command(after_help = "Example:\n  steward ticket resolve T00042 --note '已更换灯具'")]
    Resolve {
        /// The ticket id
        id: String,
        /// What was done
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a revisit / callback; --problem reopens the ticket (V5)
    #[command(
        after_help = "Examples:\n  steward ticket revisit T00042 --ok\n  steward ticket revisit T00042 --problem --note '仍有渗水'"
    )]
    Revisit {
        /// The ticket id
        id: String,
        /// The owner is satisfied
        #[arg(long, conflicts_with = "problem")]
        ok: bool,
        /// The problem persists: the ticket reopens and maintenance gets a written notice (V5)
        #[arg(long)]
        problem: bool,
        /// How the revisit was made, e.g. phone, email, sms, visit (V6)
        #[arg(long, default_value = "phone")]
        channel: String,
        /// What the owner said
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close (after resolution and revisits) or close as invalid with an explanation (D5)
    #[command(
        after_help = "Examples:\n  steward ticket close T00042\n  steward ticket close T00043 --invalid '非物业管理范围，已向业主解释'"
    )]
    Close {
        /// The ticket id
        id: String,
        /// Close as an invalid complaint; the text is the explanation given to the owner (D5)
        #[arg(long, value_name = "EXPLANATION")]
        invalid: Option<String>,
    },
    /// Reopen a resolved or closed ticket
    #[command(after_help = "Example:\n  steward ticket reopen T00042 --reason '业主反映问题复发'")]
    Reopen {
        /// The ticket id
        id: String,
        /// Why it is reopened
        #[arg(long)]
        reason: String,
    },
    /// Record a compensation claim (D6)
    #[command(
        after_help = "Example:\n  steward ticket compensation T00042 --amount 'CNY 500' --note '地板泡水'"
    )]
    Compensation {
        /// The ticket id
        id: String,
        /// The amount claimed, as the owner states it
        #[arg(long)]
        amount: String,
        /// Details of the claim
        #[arg(long, default_value = "")]
        note: String,
    },
    /// A ticket's state and timeline with rule ids and deadlines
    #[command(
        after_help = "Examples:\n  steward ticket show T00042\n  steward --format json ticket show T00042"
    )]
    Show {
        /// The ticket id
        id: String,
    },
    /// Tickets, newest first (at most --limit; a last line says how many more match)
    #[command(after_help = "Examples:
  steward ticket list
  steward ticket list --status open --sort deadline --limit 20
  steward ticket list --estate riverside --category repair --breached
  steward ticket list --due-before '2026-07-07 18:00' --department engineering")]
    List {
        /// Only tickets of this estate
        #[arg(long)]
        estate: Option<String>,
        /// Only tickets in this status
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only this category, or a category family (`repair` matches `repair.leak`)
        #[arg(long)]
        category: Option<String>,
        /// Only tickets dispatched or routed to this department
        #[arg(long)]
        department: Option<String>,
        /// Only tickets that breached at least one limit
        #[arg(long)]
        breached: bool,
        /// Only tickets with a running deadline at or before TIME (same forms as --now)
        #[arg(long, value_name = "TIME")]
        due_before: Option<String>,
        /// Order of the list
        #[arg(long, value_enum, default_value_t = SortArg::Newest)]
        sort: SortArg,
        /// At most this many tickets (0: no limit)
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
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
    },
    /// Every policy stored in the database: fingerprint, id, version, and each time
    /// it was applied, to which scope, by whom
    #[command(after_help = "Example:\n  steward --db /srv/steward.db policy list")]
    List,
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
    },
    /// Run every scenario shipped with a policy (PATH/scenarios/*.toml); report rule coverage
    #[command(after_help = "Example:\n  steward policy test policies/vk-shanghai")]
    Test {
        /// A policy directory
        path: PathBuf,
        /// Only the summary, no per-scenario lines
        #[arg(long, short)]
        quiet: bool,
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
    },
}
