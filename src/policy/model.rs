//! The resolved policy: what a company's procedure says once files are merged and
//! overlays applied. It is plain data; its JSON form is the canonical text that is
//! fingerprinted, stored in the database once per fingerprint, and loaded back to run
//! tickets, so maps are keyed by rule id and ordered, never by file position.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::hook_point::HookPoint;
use crate::limit_duration::LimitDuration;
pub use crate::plugin::Plugin;
pub use crate::script::hook_script::Hook;
pub use crate::script::sandbox::ScriptLimits;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub id: String,
    pub version: String,
    pub title: String,
    pub timezone: String,
    /// The language reports are written in (BCP 47, e.g. `zh-CN`); English when absent.
    /// Left out of the canonical text when absent, so older fingerprints stay the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Calendar used by limits that do not name one.
    pub calendar: Option<String>,
    /// Category a ticket falls back to when no category matches or a hook fails.
    pub default_category: String,
    pub calendars: BTreeMap<String, CalendarDef>,
    pub departments: BTreeMap<String, Department>,
    pub roles: BTreeMap<String, Role>,
    pub categories: BTreeMap<String, Category>,
    pub milestones: BTreeMap<String, Milestone>,
    pub limits: BTreeMap<String, Limit>,
    pub escalation: Escalation,
    pub pauses: BTreeMap<String, PauseRule>,
    pub revisits: BTreeMap<String, Revisit>,
    pub reopen: Reopen,
    pub closing: Closing,
    pub compensation: Compensation,
    pub ordering: Ordering,
    pub hooks: BTreeMap<String, Hook>,
    pub plugins: BTreeMap<String, Plugin>,
    /// The external event kinds (`[[event]]`) that `steward event KIND` records and
    /// revisit steps wait for. Left out of the canonical text when empty, so older
    /// fingerprints stay the same.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub events: BTreeMap<String, EventKind>,
    /// Steps of the procedure beyond the built-in actions (`[[action]]`), each
    /// reaching the milestones that name it in `reached_by`. Left out of the
    /// canonical text when empty, as are the value lists below, so policies that
    /// declare none keep their fingerprints.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub actions: BTreeMap<String, ActionDef>,
    /// The intake channels a ticket may name (`[[channel]]`, D1); when empty, any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, Labelled>,
    /// The urgencies a ticket may name (`[[urgency]]`, D2); when empty, any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub urgencies: BTreeMap<String, Labelled>,
}

/// A step the policy declares (`[[action]]`): `steward ticket act ID STEP` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionDef {
    pub label: String,
    /// Who takes the step (a role, department or ladder step), as the procedure says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub rules: Vec<String>,
}

/// A declared value with its label: a channel or an urgency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    pub label: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// A declared external event kind, e.g. `rain` (V4) or `typhoon_warning`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventKind {
    pub label: String,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDef {
    pub workdays: Vec<String>,
    pub hours: Vec<String>,
    pub holidays: Vec<String>,
    pub makeup_workdays: Vec<String>,
    /// Holiday data the calendar includes (`include = ["cn-statutory"]`, `ics =
    /// [...]`), copied in at load time so the dates are part of the fingerprint.
    /// The calendar's own `holidays` and `makeup_workdays` win on the same date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<IncludedHolidays>,
    /// Where "N business days" ends: `same_time` (default) or `close_of_business`.
    #[serde(default, skip_serializing_if = "is_same_time")]
    pub business_days: crate::calendar::BusinessDays,
}

fn is_same_time(b: &crate::calendar::BusinessDays) -> bool {
    *b == crate::calendar::BusinessDays::SameTime
}

/// One holiday data set as a calendar includes it: a shipped set by name or an
/// iCalendar file by path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncludedHolidays {
    /// `cn-statutory`, or the `.ics` path as written.
    pub name: String,
    /// Where the dates come from (the data set's title, the feed's calendar name).
    pub source: String,
    /// The years the data declares a schedule for.
    pub years: Vec<i32>,
    pub holidays: Vec<String>,
    pub makeup_workdays: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub label: String,
}

/// Someone who can be notified: a ladder step, a department or a named role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Inquiry,
    Repair,
    Complaint,
    Suggestion,
}

impl Kind {
    pub const ALL: [&'static str; 4] = ["inquiry", "repair", "complaint", "suggestion"];

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "inquiry" => Some(Kind::Inquiry),
            "repair" => Some(Kind::Repair),
            "complaint" => Some(Kind::Complaint),
            "suggestion" => Some(Kind::Suggestion),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Kind::ALL[self as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    BeforeOccupancy,
    AfterOccupancy,
}

impl Phase {
    pub const ALL: [&'static str; 2] = ["before_occupancy", "after_occupancy"];

    pub fn parse(s: &str) -> Option<Phase> {
        match s {
            "before_occupancy" => Some(Phase::BeforeOccupancy),
            "after_occupancy" => Some(Phase::AfterOccupancy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::BeforeOccupancy => "before_occupancy",
            Phase::AfterOccupancy => "after_occupancy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub kind: Kind,
    pub label: String,
    /// rhai condition over the ticket; `None` matches every ticket of the kind.
    pub when: Option<String>,
    /// Higher priority is tried first; ties are broken by id, so file order never matters.
    pub priority: i64,
    /// Complaint class 1/2/3 (D4).
    pub class: Option<u8>,
    pub emergency: bool,
    pub major: bool,
    pub phase: Option<Phase>,
    /// Department that handles it (E1 tier L2 dispatch).
    pub route: Option<String>,
    /// Paper form the procedure files it on (D4).
    pub form: Option<String>,
    /// Roles to report to in writing (D4 class 2 → developer's service center).
    pub report_to: Vec<String>,
    /// The result is published to owners (D4 class 3).
    pub publish_result: bool,
    pub rules: Vec<String>,
}

/// The ticket actions that can reach a milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Classify,
    Respond,
    Plan,
    Report,
    ExpertReply,
    Assign,
    Update,
    Resolve,
    Close,
    /// The written notice to maintenance after a failed revisit (V5).
    Notice,
}

impl Action {
    pub const ALL: [&'static str; 10] = [
        "classify",
        "respond",
        "plan",
        "report",
        "expert_reply",
        "assign",
        "update",
        "resolve",
        "close",
        "notice",
    ];

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "classify" => Action::Classify,
            "respond" => Action::Respond,
            "plan" => Action::Plan,
            "report" => Action::Report,
            "expert_reply" => Action::ExpertReply,
            "assign" => Action::Assign,
            "update" => Action::Update,
            "resolve" => Action::Resolve,
            "close" => Action::Close,
            "notice" => Action::Notice,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Action::ALL[self as usize]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub label: String,
    /// Built-in actions (`respond`, ...) and the policy's declared `[[action]]` ids.
    pub reached_by: Vec<String>,
    pub rules: Vec<String>,
}

/// When a limit's clock starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "on", content = "id")]
pub enum ClockStart {
    Opened,
    Milestone(String),
    Escalated(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub label: String,
    pub applies: Option<String>,
    /// The milestone the ticket must reach.
    pub milestone: String,
    /// `None` only for a limit whose deadline a person sets per ticket (`set_by`).
    pub within: Option<LimitDuration>,
    pub from: ClockStart,
    /// Further moments the clock may start at (`from = [..]`): the first that
    /// happens starts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_from: Vec<ClockStart>,
    /// Who sets this limit's deadline on a ticket (`steward ticket deadline`); a
    /// limit without `within` has no clock until they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
    pub calendar: Option<String>,
    /// Warn when this share of the time is used, in percent.
    pub warn_at: Option<u8>,
    /// Restart the clock each time the milestone is reached ("no complaint goes 24 h
    /// without an update").
    pub repeat: bool,
    pub on_breach: Breach,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    /// Move the ticket to this ladder step; `next` moves one step up.
    pub escalate: Option<EscalateTo>,
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "step")]
pub enum EscalateTo {
    Next,
    Step(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub ladder: Vec<LadderStep>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LadderStep {
    pub id: String,
    pub label: String,
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PauseRule {
    pub label: String,
    pub applies: Option<String>,
    /// Milestone ids whose clocks stop while paused for this reason.
    pub stops: Vec<String>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revisit {
    pub label: String,
    pub applies: Option<String>,
    pub steps: Vec<RevisitStep>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RevisitStep {
    /// Due `within` after resolution, or after the previous revisit was done.
    Within {
        within: LimitDuration,
        after: RevisitAnchor,
    },
    /// Due when the named event (e.g. `rain`) happens for the ticket's estate.
    OnEvent { event: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisitAnchor {
    Resolved,
    Previous,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reopen {
    /// Written notice to maintenance after a failed revisit (V5).
    pub notice_within: Option<LimitDuration>,
    pub notify: Vec<String>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closing {
    pub invalid_requires_explanation: bool,
    /// Closing needs a recorded callback through one of these channels (V6).
    pub callback_channels: Vec<String>,
    pub require_callback: bool,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compensation {
    pub notify: Vec<String>,
    pub rules: Vec<String>,
}

/// How same-instant events are ordered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ordering {
    /// An action at exactly the deadline instant counts as on time when true.
    pub action_before_deadline: bool,
    /// Order in which timers due at the same instant fire.
    pub timers: Vec<TimerKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    Breach,
    Warning,
    Revisit,
    Notice,
}

impl TimerKind {
    pub fn parse(s: &str) -> Option<TimerKind> {
        Some(match s {
            "breach" => TimerKind::Breach,
            "warning" => TimerKind::Warning,
            "revisit" => TimerKind::Revisit,
            "notice" => TimerKind::Notice,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Breach => "breach",
            TimerKind::Warning => "warning",
            TimerKind::Revisit => "revisit",
            TimerKind::Notice => "notice",
        }
    }
}

impl Limit {
    /// The limit's span as written, or who sets its deadline when it has none.
    pub fn within_text(&self) -> String {
        match (&self.within, &self.set_by) {
            (Some(w), _) => w.to_string(),
            (None, Some(by)) => format!("set by {by}"),
            (None, None) => "set per ticket".into(),
        }
    }

    /// Does the span count working time (and so need a calendar)?
    pub fn needs_calendar(&self) -> bool {
        self.within
            .as_ref()
            .is_some_and(LimitDuration::needs_calendar)
    }

    /// Every moment that can start the clock, `from` first.
    pub fn starts(&self) -> impl Iterator<Item = &ClockStart> {
        std::iter::once(&self.from).chain(&self.also_from)
    }
}

impl Policy {
    /// The event kinds `steward event` accepts for tickets under this policy: the
    /// declared ones, and those its revisit steps wait for (a policy stored before
    /// kinds were declared names them only there).
    pub fn event_kinds(&self) -> std::collections::BTreeSet<&str> {
        let mut kinds: std::collections::BTreeSet<&str> =
            self.events.keys().map(String::as_str).collect();
        for r in self.revisits.values() {
            for s in &r.steps {
                if let RevisitStep::OnEvent { event } = s {
                    kinds.insert(event);
                }
            }
        }
        kinds
    }

    /// Is `name` a built-in action or a step the policy declares?
    pub fn knows_action(&self, name: &str) -> bool {
        Action::parse(name).is_some() || self.actions.contains_key(name)
    }

    /// What the plug-in host checks this policy's plug-ins against.
    pub fn plugin_owner(&self) -> crate::plugin::Owner<'_> {
        crate::plugin::Owner {
            id: &self.id,
            plugins: &self.plugins,
            categories: self.categories.keys().cloned().collect(),
        }
    }
}
