//! Where in a ticket's procedure an extension runs. Shared by the policy model,
//! rhai hooks ([`crate::script::hook_script`]) and WebAssembly plug-ins ([`crate::plugin`]),
//! so neither of those depends on the policy for it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPoint {
    Classify,
    Route,
    BeforeClose,
    Deadline,
    /// An event source: a plug-in that turns an external feed (weather observations)
    /// into events such as `rain` per estate. Plug-ins only; rhai hooks cannot.
    Events,
}

impl HookPoint {
    pub const ALL: [&'static str; 5] = ["classify", "route", "before_close", "deadline", "events"];

    pub fn parse(s: &str) -> Option<HookPoint> {
        Some(match s {
            "classify" => HookPoint::Classify,
            "route" => HookPoint::Route,
            "before_close" => HookPoint::BeforeClose,
            "deadline" => HookPoint::Deadline,
            "events" => HookPoint::Events,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        HookPoint::ALL[self as usize]
    }
}
