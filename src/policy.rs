//! Policy as data: loading a company's procedure from TOML files and rhai scripts,
//! overlaying estate and company policies (`extends`), validating with located
//! diagnostics, and the canonical form whose SHA-256 is the policy's fingerprint.
//!
//! ```no_run
//! use std::path::Path;
//! let loaded = steward::policy::load_path(Path::new("policies/vk-shanghai")).ok().unwrap();
//! println!("{} {}", loaded.policy.id, steward::policy::fingerprint(&loaded.policy));
//! ```

mod build;
pub use build::is_event_name;
mod calendar_check;
pub mod calendar_data;
mod check;
pub mod compiled;
pub mod diff;
pub mod embedded;
mod event_check;
pub mod explain;
mod expr_loc;
pub mod files;
pub mod hook_calls;
mod literal_check;
mod load;
mod merge;
pub mod model;
mod overlay_hints;
pub mod raw;
mod raw_json;
pub mod reader;

use std::path::Path;

pub use compiled::{CompileError, CompiledPolicy};
pub use load::{LoadFailure, Loaded};
pub use model::Policy;
pub use reader::SpanIndex;

use model::Category;

pub fn load_path(path: &Path) -> Result<Loaded, LoadFailure> {
    load::load(&files::FsFiles, path)
}

/// [`load_path`] with every file the policy names confined to `root` instead of
/// the directory that holds the policy's directory.
pub fn load_path_within(path: &Path, root: &Path) -> Result<Loaded, LoadFailure> {
    load::load_within(&files::FsFiles, path, Some(root))
}

pub fn load_with(files: &dyn files::Files, path: &Path) -> Result<Loaded, LoadFailure> {
    load::load(files, path)
}

/// The canonical text: JSON with maps ordered by key and fields in a fixed order,
/// independent of key order, whitespace, comments and how the policy is split
/// across files or overlays.
pub fn canonical(policy: &Policy) -> String {
    serde_json::to_string(policy).unwrap_or_default()
}

pub fn fingerprint(policy: &Policy) -> String {
    crate::digest::sha256_hex(canonical(policy).as_bytes())
}

/// Categories in the order they are tried: higher priority first, then by id.
pub fn category_order(policy: &Policy) -> Vec<(&String, &Category)> {
    let mut v: Vec<_> = policy.categories.iter().collect();
    v.sort_by(|a, b| b.1.priority.cmp(&a.1.priority).then_with(|| a.0.cmp(b.0)));
    v
}
