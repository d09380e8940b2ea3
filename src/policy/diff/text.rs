//! Line diffs of script texts: an auditor reads what a hook change does, not
//! two hashes.

use similar::TextDiff;

/// A unified diff (three lines of context) of `old` against `new`, headed by
/// the two script paths.
pub(super) fn unified(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{old_name}"), &format!("b/{new_name}"))
        .to_string()
}
