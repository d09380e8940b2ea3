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
    /// The ticket as constants, for evaluating compiled conditions.
    pub fn scope(&self) -> Scope<'static> {
        self.fill(true)
    }

    fn fill(&self, constant: bool) -> Scope<'static> {
        let mut scope = Scope::new();
        let mut put = |name: &'static str, value: Dynamic| {
            if constant {
                scope.push_constant_dynamic(name, value);
            } else {
                scope.push_dynamic(name, value);
            }
        };
        put("kind", self.kind.clone().into());
        put("category", self.category.clone().into());
        put("class", self.class.into());
        put("text", self.text.clone().into());
        put("estate", self.estate.clone().into());
        put("unit", self.unit.clone().into());
        put("channel", self.channel.clone().into());
        put("urgency", self.urgency.clone().into());
        put("major", self.major.into());
        put("emergency", self.emergency.into());
        put("phase", self.phase.clone().into());
        let tags: Array = self.tags.iter().cloned().map(Dynamic::from).collect();
        put("tags", tags.into());
        put("hour", self.hour.into());
        put("weekday", self.weekday.clone().into());
        put("revisits", self.revisits.into());
        put("department", self.department.clone().into());
        scope
    }

    /// A scope with every variable present, for compile-time checking. They are
    /// variables, not constants: rhai's optimizer folds constants of the compile
    /// scope into the AST, which would turn `category == "repair.leak"` into
    /// `false` for every ticket.
    pub fn declaration_scope() -> Scope<'static> {
        TicketFacts::default().fill(false)
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

    /// Regression: conditions were compiled against a scope of constants, and rhai
    /// folded `category == "repair.leak"` and `emergency` to `false` at compile time.
    #[test]
    fn compiled_conditions_read_the_ticket_not_the_declaration_defaults() {
        use crate::script::condition::{Condition, engine};
        let e = engine();
        let facts = TicketFacts {
            category: "repair.leak".into(),
            emergency: true,
            class: 2,
            ..TicketFacts::default()
        };
        for expr in [r#"category == "repair.leak""#, "emergency", "class == 2"] {
            let c = Condition::compile(&e, expr).unwrap();
            assert!(c.eval(&e, &facts).unwrap(), "{expr}");
        }
    }
}
