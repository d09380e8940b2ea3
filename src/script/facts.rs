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
    pub fn scope(&self) -> Scope<'static> {
        let mut scope = Scope::new();
        scope.push_constant("kind", self.kind.clone());
        scope.push_constant("category", self.category.clone());
        scope.push_constant("class", self.class);
        scope.push_constant("text", self.text.clone());
        scope.push_constant("estate", self.estate.clone());
        scope.push_constant("unit", self.unit.clone());
        scope.push_constant("channel", self.channel.clone());
        scope.push_constant("urgency", self.urgency.clone());
        scope.push_constant("major", self.major);
        scope.push_constant("emergency", self.emergency);
        scope.push_constant("phase", self.phase.clone());
        let tags: Array = self.tags.iter().cloned().map(Dynamic::from).collect();
        scope.push_constant("tags", tags);
        scope.push_constant("hour", self.hour);
        scope.push_constant("weekday", self.weekday.clone());
        scope.push_constant("revisits", self.revisits);
        scope.push_constant("department", self.department.clone());
        scope
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
    fn scope_declares_every_variable() {
        let scope = TicketFacts::declaration_scope();
        for name in VARIABLES {
            assert!(scope.contains(name), "missing {name}");
        }
        assert_eq!(scope.len(), VARIABLES.len());
    }
}
