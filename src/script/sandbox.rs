//! The one place a rhai `Engine` is configured. Conditions and hooks share these
//! limits so that no policy text can loop forever or allocate without bound.

use rhai::Engine;

use crate::policy::model::ScriptLimits;

/// An engine for policy text: strict variables, `eval` disabled, every limit set.
pub fn engine(limits: &ScriptLimits) -> Engine {
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
