//! The ticket fields a condition or hook can read, and how they enter a rhai `Scope`.
//! The list of names is also what `policy check` accepts as variables.

use std::sync::LazyLock;

use rhai::{Array, Dynamic, ImmutableString, Scope};
use serde::{Deserialize, Serialize};

use super::predicate::{FactSource, Hits, Var};

/// What policy text may know about a ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketFacts {
    pub kind: String,
    pub category: String,
    pub class: i64,
    pub text: String,
    pub estate: String,
    pub unit: String,
    pub channel: String,
    pub urgency: String,
    pub major: bool,
    pub emergency: bool,
    pub phase: String,
    pub tags: Vec<String>,
    /// Local hour (0–23) and weekday (`mon`..`sun`) the ticket was opened.
    pub hour: i64,
    pub weekday: String,
    pub revisits: i64,
    pub department: String,
}

/// Every variable name a condition may use.
pub const VARIABLES: [&str; 16] = [
    "kind",
    "category",
    "class",
    "text",
    "estate",
    "unit",
    "channel",
    "urgency",
    "major",
    "emergency",
    "phase",
    "tags",
    "hour",
    "weekday",
    "revisits",
    "department",
];

impl TicketFacts {
    /// The facts for conditions evaluated one after another
    /// ([`crate::policy::CompiledPolicy::applies`]): native predicates read them in
    /// place, and a rhai scope is built only when a condition needs rhai.
    pub fn scope(self) -> ConditionScope {
        ConditionScope::new(self)
    }

    /// The facts as rhai variables. Plain variables, not constants: rhai's
    /// optimizer would fold constants of a compile-time scope into the AST,
    /// freezing every condition to the defaults.
    pub fn rhai_scope(&self) -> Scope<'static> {
        self.view().scope()
    }

    /// The facts as a rhai object map, the `ticket` argument of hook functions.
    /// Built by hand: going through serde costs several times more per call.
    pub fn to_map(&self) -> rhai::Map {
        let mut m = rhai::Map::new();
        m.insert("kind".into(), self.kind.clone().into());
        m.insert("category".into(), self.category.clone().into());
        m.insert("class".into(), self.class.into());
        m.insert("text".into(), self.text.clone().into());
        m.insert("estate".into(), self.estate.clone().into());
        m.insert("unit".into(), self.unit.clone().into());
        m.insert("channel".into(), self.channel.clone().into());
        m.insert("urgency".into(), self.urgency.clone().into());
        m.insert("major".into(), self.major.into());
        m.insert("emergency".into(), self.emergency.into());
        m.insert("phase".into(), self.phase.clone().into());
        let tags: Array = self.tags.iter().cloned().map(Dynamic::from).collect();
        m.insert("tags".into(), tags.into());
        m.insert("hour".into(), self.hour.into());
        m.insert("weekday".into(), self.weekday.clone().into());
        m.insert("revisits".into(), self.revisits.into());
        m.insert("department".into(), self.department.clone().into());
        m
    }

    /// A scope with every variable present, for compile-time checking.
    pub fn declaration_scope() -> Scope<'static> {
        TicketFacts::default().rhai_scope()
    }

    pub fn view(&self) -> FactView<'_> {
        FactView {
            kind: &self.kind,
            category: &self.category,
            class: self.class,
            text: &self.text,
            estate: &self.estate,
            unit: &self.unit,
            channel: &self.channel,
            urgency: &self.urgency,
            major: self.major,
            emergency: self.emergency,
            phase: &self.phase,
            tags: &self.tags,
            hour: self.hour,
            weekday: &self.weekday,
            revisits: self.revisits,
            department: &self.department,
        }
    }
}

/// The facts borrowed from wherever they live (a ticket, a [`TicketFacts`]):
/// what native predicates read, at no copying cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FactView<'a> {
    pub kind: &'a str,
    pub category: &'a str,
    pub class: i64,
    pub text: &'a str,
    pub estate: &'a str,
    pub unit: &'a str,
    pub channel: &'a str,
    pub urgency: &'a str,
    pub major: bool,
    pub emergency: bool,
    pub phase: &'a str,
    pub tags: &'a [String],
    pub hour: i64,
    pub weekday: &'a str,
    pub revisits: i64,
    pub department: &'a str,
}

/// `mon`..`sun`, as conditions spell weekdays.
pub fn weekday_name(d: chrono::Weekday) -> &'static str {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    NAMES
        .get(d.num_days_from_monday() as usize)
        .copied()
        .unwrap_or("mon")
}

impl FactView<'_> {
    pub fn to_facts(&self) -> TicketFacts {
        TicketFacts {
            kind: self.kind.to_owned(),
            category: self.category.to_owned(),
            class: self.class,
            text: self.text.to_owned(),
            estate: self.estate.to_owned(),
            unit: self.unit.to_owned(),
            channel: self.channel.to_owned(),
            urgency: self.urgency.to_owned(),
            major: self.major,
            emergency: self.emergency,
            phase: self.phase.to_owned(),
            tags: self.tags.to_vec(),
            hour: self.hour,
            weekday: self.weekday.to_owned(),
            revisits: self.revisits,
            department: self.department.to_owned(),
        }
    }

    /// The facts as rhai variables (see [`TicketFacts::rhai_scope`]). Built from the
    /// borrowed text: short values live inside rhai's string, one allocation each.
    pub fn scope(&self) -> Scope<'static> {
        // Empty facts (no unit, phase, department) and weekday names share one
        // string each instead of allocating one per scope.
        static SHARED: LazyLock<[ImmutableString; 8]> = LazyLock::new(|| {
            ["", "mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(ImmutableString::from)
        });
        let s = |v: &str| {
            let shared = SHARED.iter().find(|i| i.as_str() == v);
            Dynamic::from(shared.cloned().unwrap_or_else(|| ImmutableString::from(v)))
        };
        let mut scope = Scope::with_capacity(VARIABLES.len());
        scope.push_dynamic("kind", s(self.kind));
        scope.push_dynamic("category", s(self.category));
        scope.push_dynamic("class", Dynamic::from(self.class));
        scope.push_dynamic("text", s(self.text));
        scope.push_dynamic("estate", s(self.estate));
        scope.push_dynamic("unit", s(self.unit));
        scope.push_dynamic("channel", s(self.channel));
        scope.push_dynamic("urgency", s(self.urgency));
        scope.push_dynamic("major", Dynamic::from(self.major));
        scope.push_dynamic("emergency", Dynamic::from(self.emergency));
        scope.push_dynamic("phase", s(self.phase));
        let tags: Array = self.tags.iter().map(|t| s(t)).collect();
        scope.push_dynamic("tags", Dynamic::from(tags));
        scope.push_dynamic("hour", Dynamic::from(self.hour));
        scope.push_dynamic("weekday", s(self.weekday));
        scope.push_dynamic("revisits", Dynamic::from(self.revisits));
        scope.push_dynamic("department", s(self.department));
        scope
    }

    fn str_of(&self, var: Var) -> Option<&str> {
        Some(match var {
            Var::Kind => self.kind,
            Var::Category => self.category,
            Var::Text => self.text,
            Var::Estate => self.estate,
            Var::Unit => self.unit,
            Var::Channel => self.channel,
            Var::Urgency => self.urgency,
            Var::Phase => self.phase,
            Var::Weekday => self.weekday,
            Var::Department => self.department,
            _ => return None,
        })
    }
}

impl FactSource for FactView<'_> {
    fn with_str<R>(&self, var: Var, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.str_of(var).map(f)
    }

    fn int(&self, var: Var) -> Option<i64> {
        match var {
            Var::Class => Some(self.class),
            Var::Hour => Some(self.hour),
            Var::Revisits => Some(self.revisits),
            _ => None,
        }
    }

    fn flag(&self, var: Var) -> Option<bool> {
        match var {
            Var::Major => Some(self.major),
            Var::Emergency => Some(self.emergency),
            _ => None,
        }
    }

    fn has_tag(&self, tag: &str) -> Option<bool> {
        Some(self.tags.iter().any(|t| t == tag))
    }
}

/// A rhai scope as filled by [`TicketFacts::rhai_scope`] (or by hand): a value of an
/// unexpected type answers `None`, and the condition is left to rhai.
impl FactSource for Scope<'_> {
    fn with_str<R>(&self, var: Var, f: impl FnOnce(&str) -> R) -> Option<R> {
        let value = self.get(var.name())?.read_lock::<ImmutableString>()?;
        Some(f(value.as_str()))
    }

    fn int(&self, var: Var) -> Option<i64> {
        self.get(var.name())?.as_int().ok()
    }

    fn flag(&self, var: Var) -> Option<bool> {
        self.get(var.name())?.as_bool().ok()
    }

    fn has_tag(&self, tag: &str) -> Option<bool> {
        let tags = self.get(Var::Tags.name())?.read_lock::<Array>()?;
        let mut found = false;
        for t in tags.iter() {
            found |= t.read_lock::<ImmutableString>()?.as_str() == tag;
        }
        Some(found)
    }
}

/// One ticket's owned facts for a run of conditions, with their rhai scope built
/// the first time a condition needs rhai. From then on every condition reads the
/// scope, which a rhai condition may have changed (`tags.pop() == "x"`), exactly
/// as when all of them shared one scope from the start.
pub struct ConditionScope {
    facts: TicketFacts,
    scope: Option<Scope<'static>>,
    /// The policy's keyword search over `facts.text`, run when first read.
    hits: std::cell::OnceCell<Hits>,
}

impl ConditionScope {
    pub fn new(facts: TicketFacts) -> ConditionScope {
        ConditionScope {
            facts,
            scope: None,
            hits: Default::default(),
        }
    }

    pub fn facts(&self) -> &TicketFacts {
        &self.facts
    }

    /// The rhai scope once a condition has used it.
    pub fn built(&self) -> Option<&Scope<'static>> {
        self.scope.as_ref()
    }

    pub fn hits(&self) -> &std::cell::OnceCell<Hits> {
        &self.hits
    }

    /// The rhai scope, built now if no condition needed it before.
    pub fn rhai(&mut self) -> &mut Scope<'static> {
        let facts = &self.facts;
        self.scope.get_or_insert_with(|| facts.rhai_scope())
    }
}

/// The facts of one ticket, and their rhai scope, built on first use and kept
/// while the ticket's facts stay the same: the engine asks for them many times
/// in one decision, and a ticket's facts rarely change inside it.
///
/// The scope is also forgotten at the start of each group of conditions that
/// used to share one scope ([`FactCache::new_group`]): a rhai condition can
/// change a variable (`tags.pop() == "x"`), and what it changed must be seen by
/// the rest of its group and by no other group, as when each group built its own.
#[derive(Default)]
pub struct FactCache {
    facts: Option<TicketFacts>,
    scope: Option<Scope<'static>>,
    /// A rhai condition ran on the scope in this group: the rest of the group
    /// reads the scope too, which it may have changed.
    scope_in_use: bool,
}

impl FactCache {
    /// The owned facts equal to `view`.
    pub fn facts(&mut self, view: &FactView<'_>) -> &TicketFacts {
        self.refresh(view);
        self.facts.get_or_insert_with(|| view.to_facts())
    }

    /// A scope holding `view`'s facts.
    pub fn scope(&mut self, view: &FactView<'_>) -> &mut Scope<'static> {
        self.refresh(view);
        let facts = self.facts.get_or_insert_with(|| view.to_facts());
        self.scope.get_or_insert_with(|| facts.view().scope())
    }

    pub fn new_group(&mut self) {
        self.scope = None;
        self.scope_in_use = false;
    }

    pub fn scope_in_use(&self) -> bool {
        self.scope_in_use
    }

    /// The scope for a rhai condition; from now on the group reads the scope.
    pub fn scope_for_rhai(&mut self, view: &FactView<'_>) -> &mut Scope<'static> {
        self.scope_in_use = true;
        self.scope(view)
    }

    fn refresh(&mut self, view: &FactView<'_>) {
        if self.facts.as_ref().is_some_and(|f| f.view() != *view) {
            self.facts = None;
            self.scope = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_holds_every_variable() {
        let m = TicketFacts::default().to_map();
        for name in VARIABLES {
            assert!(m.contains_key(name), "missing {name}");
        }
        assert_eq!(m.len(), VARIABLES.len());
    }

    #[test]
    fn scope_declares_every_variable() {
        let scope = TicketFacts::declaration_scope();
        for name in VARIABLES {
            assert!(scope.contains(name), "missing {name}");
        }
        assert_eq!(scope.len(), VARIABLES.len());
    }
}
