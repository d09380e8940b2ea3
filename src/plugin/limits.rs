//! Per-store resource limits: a plug-in's memory cap from its policy, small fixed caps
//! on tables and instances, and a record of a denied growth so that hitting the cap
//! is reported as "out of memory" rather than as an anonymous trap.

use std::time::Duration;

use wasmtime::{ResourceLimiter, format_err};

/// Host ceiling on `limits.fuel`: about a second of guest code at full speed.
pub const MAX_FUEL: u64 = 1_000_000_000;
/// Host ceiling on `limits.memory`.
pub const MAX_MEMORY: u64 = 256 << 20;
/// Wall-clock ceiling of one plug-in call (instantiation and config included).
pub const CALL_DEADLINE: Duration = Duration::from_millis(250);
/// How often the host's ticker advances the engine's epoch.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// [`CALL_DEADLINE`] in epoch ticks: a call is interrupted after between
/// `DEADLINE_TICKS - 1` and `DEADLINE_TICKS` ticks.
pub const DEADLINE_TICKS: u64 = (CALL_DEADLINE.as_millis() / EPOCH_TICK.as_millis()) as u64 + 1;

/// Table elements a plug-in may have (function pointers for `call_indirect`).
const MAX_TABLE_ELEMENTS: usize = 10_000;

pub struct Limits {
    pub memory_bytes: usize,
    /// Set when a memory growth was refused; read after a failed call.
    pub memory_denied: bool,
}

impl Limits {
    pub fn new(memory_bytes: u64) -> Self {
        Limits {
            memory_bytes: usize::try_from(memory_bytes.min(MAX_MEMORY)).unwrap_or(usize::MAX),
            memory_denied: false,
        }
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired <= self.memory_bytes {
            return Ok(true);
        }
        self.memory_denied = true;
        // A trap rather than `memory.grow` returning -1: a guest that ignores the
        // failure would otherwise spin until its fuel ran out.
        Err(format_err!(
            "memory limit: {current} → {desired} bytes exceeds {} bytes",
            self.memory_bytes
        ))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }
}
