//! The shipped policies compiled into the binary, so `steward demo` runs anywhere.

use std::path::Path;

use super::files::MemFiles;
use super::{LoadFailure, Loaded};

const FILES: &[(&str, &str)] = &[
    (
        "policies/base/policy.toml",
        include_str!("../../policies/base/policy.toml"),
    ),
    (
        "policies/vk-shanghai/policy.toml",
        include_str!("../../policies/vk-shanghai/policy.toml"),
    ),
    (
        "policies/vk-shanghai/scripts/classify.rhai",
        include_str!("../../policies/vk-shanghai/scripts/classify.rhai"),
    ),
    (
        "policies/vk-shanghai/calendar.toml",
        include_str!("../../policies/vk-shanghai/calendar.toml"),
    ),
    (
        "policies/vk-shanghai-gardens/policy.toml",
        include_str!("../../policies/vk-shanghai-gardens/policy.toml"),
    ),
];

pub fn files() -> MemFiles {
    let mut m = MemFiles::default();
    for (path, text) in FILES {
        m.insert(path, text.as_bytes());
    }
    m
}

/// Load an embedded policy by name, e.g. `vk-shanghai`.
pub fn load(name: &str) -> Result<Loaded, LoadFailure> {
    super::load_with(&files(), &Path::new("policies").join(name))
}
