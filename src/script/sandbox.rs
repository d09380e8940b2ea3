//! The one place a rhai `Engine` is configured. Conditions and hooks share these
//! limits so that no policy text can loop forever, allocate without bound, or hold
//! the database's write lock for long.
//!
//! rhai is built with `no_time` (no `timestamp()`), and `sleep` is replaced by an
//! error: a script can neither read the clock nor wait on it, so replaying a ticket
//! runs its hooks exactly as they ran live.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult};

use serde::{Deserialize, Serialize};

/// The limits of one hook's sandbox, as a policy sets them (`[hook.limits]`),
/// within the host ceilings below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptLimits {
    pub operations: u64,
    pub call_depth: usize,
    pub string_size: usize,
    pub array_size: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            operations: 100_000,
            call_depth: 32,
            string_size: 64 * 1024,
            array_size: 10_000,
        }
    }
}

/// Wall-clock ceiling of one hook call.
pub const HOOK_DEADLINE: Duration = Duration::from_millis(250);
/// Wall-clock ceiling of one condition evaluation.
pub const CONDITION_DEADLINE: Duration = Duration::from_millis(50);

/// Host ceilings on the limits a policy may set for its hooks (`[hook.limits]`):
/// a policy can lower the defaults or raise them up to these, never beyond.
pub const MAX_OPERATIONS: u64 = 10_000_000;
pub const MAX_CALL_DEPTH: usize = 64;
pub const MAX_STRING_SIZE: usize = 1 << 20;
pub const MAX_ARRAY_SIZE: usize = 100_000;

/// The message a script stopped by its deadline carries (`ErrorTerminated`).
pub const DEADLINE_TOKEN: &str = "time limit";

/// How many operations run between two looks at the clock: a look costs ~20 ns,
/// an operation ~10 ns, and the slowest single operation on a string within the
/// size ceiling is well under a millisecond.
const CLOCK_EVERY: u64 = 64;

thread_local! {
    /// When the evaluation running on this thread started. Each rhai evaluation
    /// counts its operations from 1, so the first one marks the start.
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// An engine for policy text: strict variables, `eval` disabled, every limit set,
/// and stopped after `deadline` of wall-clock time.
pub fn engine(limits: &ScriptLimits, deadline: Duration) -> Engine {
    let limits = limits.capped();
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.disable_symbol("eval");
    engine.set_max_operations(limits.operations);
    engine.set_max_call_levels(limits.call_depth);
    engine.set_max_expr_depths(64, 32);
    engine.set_max_string_size(limits.string_size);
    engine.set_max_array_size(limits.array_size);
    engine.set_max_map_size(limits.array_size);
    engine.set_max_variables(256);
    engine.set_max_functions(64);
    engine.set_max_modules(0);
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    // Registered functions take precedence over the standard package's `sleep`.
    engine.register_fn("sleep", |_: rhai::INT| -> Result<(), Box<EvalAltResult>> {
        Err("`sleep` is not available to policy scripts".into())
    });
    engine.register_fn(
        "sleep",
        |_: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> {
            Err("`sleep` is not available to policy scripts".into())
        },
    );
    // The host measures elapsed time only to stop a runaway script: the deadline
    // bounds how long a sandbox can run (and hold the write lock); it is never an
    // input to a decision, which a script that finishes in time makes alone.
    engine.on_progress(move |ops| {
        if ops == 1 {
            STARTED.set(Some(Instant::now()));
            return None;
        }
        if ops % CLOCK_EVERY != 0 {
            return None;
        }
        match STARTED.get() {
            Some(start) if start.elapsed() > deadline => Some(Dynamic::from(DEADLINE_TOKEN)),
            _ => None,
        }
    });
    engine
}

/// Conditions are one-line predicates: a small budget catches accidental loops.
pub fn condition_limits() -> ScriptLimits {
    ScriptLimits {
        operations: 10_000,
        call_depth: 8,
        string_size: 16 * 1024,
        array_size: 1_000,
    }
}

impl ScriptLimits {
    /// These limits with each one held to its host ceiling — for stored policies
    /// written before the ceilings existed; `policy check` refuses higher values.
    pub fn capped(&self) -> ScriptLimits {
        ScriptLimits {
            operations: self.operations.clamp(1, MAX_OPERATIONS),
            call_depth: self.call_depth.clamp(1, MAX_CALL_DEPTH),
            string_size: self.string_size.clamp(1, MAX_STRING_SIZE),
            array_size: self.array_size.clamp(1, MAX_ARRAY_SIZE),
        }
    }
}
