//! `steward policy explain` (in progress).
use crate::policy::Loaded;
use super::args::Global;
pub fn run(_l: &Loaded, _t: &str, _g: &Global) -> i32 { 2 }
