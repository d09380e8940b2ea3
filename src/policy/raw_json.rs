//! Raw TOML values as JSON, for free-form settings handed to plug-ins.

use super::raw::{Node, Val};

pub fn to_json(node: &Node) -> serde_json::Value {
    match &node.val {
        Val::Str(s) | Val::Datetime(s) => serde_json::Value::String(s.clone()),
        Val::Int(n) => serde_json::Value::from(*n),
        Val::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Val::Bool(b) => serde_json::Value::Bool(*b),
        Val::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Val::Table(t) => serde_json::Value::Object(
            t.entries
                .iter()
                .map(|e| (e.key.clone(), to_json(&e.node)))
                .collect(),
        ),
    }
}
