//! `steward sim replay` and `steward sim generate`.

use std::path::{Path, PathBuf};

use super::args::Format;

pub struct Options {
    pub history: PathBuf,
    pub policies: Vec<PathBuf>,
    pub reclassify: bool,
    pub idle_days: u32,
    pub max_diffs: usize,
    pub threads: Option<usize>,
    pub stats: bool,
    pub daily: bool,
}

pub fn run(_o: &Options, _format: Format) -> i32 {
    super::context::fail("not yet")
}

pub fn generate(_seed: u64, _tickets: u64, _days: u32, _estates: u32, _start: &str, _out: Option<&Path>) -> i32 {
    super::context::fail("not yet")
}
