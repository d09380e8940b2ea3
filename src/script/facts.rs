//! The ticket fields a condition or hook can read, and how they enter a rhai `Scope`.
//! The list of names is also what `policy check` accepts as variables.

use rhai::{Array, Dynamic, Scope};
use serde::{Deserialize, Serialize};

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
    /// Plain variables, not constants: rhai's optimizer would fold constants of a
    /// compile-time scope into the AST, freezing every condition to the defaults.
    pub fn scope(&self) -> Scope<'static> {
        let mut scope = Scope::new();
        scope.push("kind", self.kind.clone());
        scope.push("category", self.category.clone());
        scope.push("class", self.class);
        scope.push("text", self.text.clone());
        scope.push("estate", self.estate.clone());
        scope.push("unit", self.unit.clone());
        scope.push("channel", self.channel.clone());
        scope.push("urgency", self.urgency.clone());
        scope.push("major", self.major);
        scope.push("emergency", self.emergency);
        scope.push("phase", self.phase.clone());
        let tags: Array = self.tags.iter().cloned().map(Dynamic::from).collect();
        scope.push("tags", tags);
        scope.push("hour", self.hour);
        scope.push("weekday", self.weekday.clone());
        scope.push("revisits", self.revisits);
        scope.push("department", self.department.clone());
        scope
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
        TicketFacts::default().scope()
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
