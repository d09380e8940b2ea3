//! A plug-in as a policy declares it (`[plugin.ID]`): its hook point, the module
//! pinned by SHA-256, its fuel and memory limits, fallback and config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hook_point::HookPoint;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plugin {
    pub on: HookPoint,
    pub wasm: String,
    pub sha256: String,
    pub fuel: u64,
    pub memory_bytes: u64,
    pub fallback: Option<String>,
    pub config: BTreeMap<String, serde_json::Value>,
    pub rules: Vec<String>,
}
