//! clap definitions of `steward ticket ...`: one variant per action on a ticket.

use clap::{Args, Subcommand};

use super::{KindArg, SortArg, StatusArg, TableJson, TierArg};

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
        /// How the ticket came in: a [[channel]] id of the policy, e.g. hotline, app, wechat, front_desk, email (D1, D2)
        #[arg(long, default_value = "hotline")]
        channel: String,
        /// The kind of ticket (D1)
        #[arg(long, value_enum, required_unless_present = "json")]
        kind: Option<KindArg>,
        /// What the owner said; the policy's categories match on it (D3)
        #[arg(long, required_unless_present = "json")]
        text: Option<String>,
        /// Urgency as recorded at intake, an [[urgency]] id of the policy; `emergency` marks an emergency repair (D2, L2)
        #[arg(long, default_value = "")]
        urgency: String,
        /// A major complaint (重大投诉): the ladder starts higher (E2)
        #[arg(long)]
        major: bool,
        /// Phase of the estate: before_occupancy or after_occupancy; categories may route by it (000 §5.2.1)
        #[arg(long, default_value = "")]
        phase: String,
        /// A tag the policy's conditions can test; repeatable
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Complaint class 1, 2 or 3 (D4); 0 = not yet known
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
        class: u8,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Handling form filed with the service center
    #[command(after_help = "Example:\n  steward ticket report T00042 --by 张三")]
    Report {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Progress update to the owner
    #[command(after_help = "Example:\n  steward ticket update T00042 --by 张三 --note '配件已到'")]
    Update {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Written notice to maintenance after a failed revisit (V5)
    #[command(after_help = "Example:\n  steward ticket notice T00042 --by 客户服务中心")]
    Notice {
        /// The ticket id
        id: String,
        #[command(flatten)]
        note: Note,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Record a step of the procedure: a built-in action or one the ticket's policy declares
    #[command(after_help = "Examples:
  steward ticket act T00042                       # list the steps the ticket's policy takes
  steward ticket act T00042 contact_experts --by 客户服务中心 --note '已联系工程管理部'
  steward ticket act T00042 respond --by 张三
STEP is one of the built-in actions (respond, plan, report, expert_reply, update, notice)
or an id of the policy's [[action]] tables; each reaches the milestones that name it in
`reached_by` and starts the clocks that run from them.")]
    Act {
        /// The ticket id
        id: String,
        /// The step to record; without it, the steps the ticket's policy takes are listed
        step: Option<String>,
        #[command(flatten)]
        note: Note,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Set the deadline of a limit on this ticket, with who set it and why (E2)
    #[command(after_help = "Examples:
  steward ticket deadline T00042 E2.deadline --within '3 business days' --by 王经理 --reason '需协调施工单位'
  steward ticket deadline T00042 E2.deadline --at '2026-07-10 18:00' --by 王经理 --reason '等待配件'
The limit's clock restarts now and runs to the deadline; a breach escalates or notifies as
the limit says. --at without an offset is read in the policy's time zone; --within counts
in the limit's calendar, like a span in the policy.")]
    Deadline {
        /// The ticket id
        id: String,
        /// A limit id of the ticket's policy (see `steward policy show`)
        limit: String,
        /// The deadline (same forms as --now)
        #[arg(
            long,
            value_name = "TIME",
            required_unless_present = "within",
            conflicts_with = "within"
        )]
        at: Option<String>,
        /// The deadline as a span from now, e.g. 2d, '3 business days', 'same day 18:00'
        #[arg(long, value_name = "SPAN")]
        within: Option<String>,
        /// Who set the deadline (name or role), recorded in the log
        #[arg(long)]
        by: String,
        /// Why this deadline, recorded in the log
        #[arg(long)]
        reason: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Stop the clocks a pause rule names (waiting for the owner, parts, ...)
    #[command(after_help = "Example:\n  steward ticket pause T00042 --reason owner_unavailable")]
    Pause {
        /// The ticket id
        id: String,
        /// A pause rule id of the policy
        #[arg(long)]
        reason: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Restart paused clocks
    #[command(after_help = "Example:\n  steward ticket resume T00042")]
    Resume {
        /// The ticket id
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// The work is done: revisits are scheduled
    #[command(after_help = "Example:\n  steward ticket resolve T00042 --note '已更换灯具'")]
    Resolve {
        /// The ticket id
        id: String,
        /// What was done
        #[arg(long, default_value = "")]
        note: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Waive a pending revisit with a reason (the owner declines; a policy fix removed the step)
    #[command(after_help = "Examples:
  steward ticket waive-revisit T00042 --slot V4#2 --reason '业主表示无需雨后回访' --by 客服
  steward ticket waive-revisit T00042 --all --reason '政策修订取消该回访步骤'
The waiver is logged with its reason; a ticket with no revisit pending can close.")]
    WaiveRevisit {
        /// The ticket id
        id: String,
        /// The revisit slot, as `ticket show` names it (V4#2, V4#1.r2, ...)
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        slot: Option<String>,
        /// Every pending revisit of the ticket
        #[arg(long)]
        all: bool,
        /// Why it will not be made, recorded in the log
        #[arg(long)]
        reason: String,
        /// Who waived it (name or role), recorded in the log
        #[arg(long, default_value = "")]
        by: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Reopen a resolved or closed ticket
    #[command(after_help = "Example:\n  steward ticket reopen T00042 --reason '业主反映问题复发'")]
    Reopen {
        /// The ticket id
        id: String,
        /// Why it is reopened
        #[arg(long)]
        reason: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// A ticket's state and timeline with rule ids and deadlines
    #[command(
        after_help = "Examples:\n  steward ticket show T00042\n  steward --format json ticket show T00042"
    )]
    Show {
        /// The ticket id
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
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
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}
