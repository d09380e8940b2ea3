//! Loading a policy for a command: the policy, or its diagnostics printed (with
//! file, line and column) and `None`, for the command to exit with 2.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Severity};
use crate::policy::{self, LoadFailure, Loaded};

use super::args::Format;
use super::output;

/// Load or print the diagnostics; `None` means the caller should exit with 2.
pub fn policy(path: &Path, format: Format) -> Option<Loaded> {
    match policy::load_path(path) {
        Ok(l) => Some(l),
        Err(LoadFailure {
            sources,
            diagnostics,
        }) => {
            output::diagnostics(format, &sources, &diagnostics);
            eprintln!(
                "{}: {} error(s)",
                path.display(),
                count_errors(&diagnostics)
            );
            None
        }
    }
}

pub fn count_errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}
