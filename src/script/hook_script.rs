//! Hook scripts: rhai files a policy names for a hook point. Each defines a function
//! named after its point — `fn classify(ticket)`, `fn route(ticket)`,
//! `fn before_close(ticket)`, `fn deadline(ticket, limit)` — compiled once at load and
//! called in the hook's own sandbox (its operation, call-depth and size limits).
//!
//! A script reports where it decided by returning through `decide(...)`, which
//! stamps the line of that call on the result, so `policy explain` and the ticket's
//! timeline can say which line made the decision.
//!
//! Any failure — a runtime error, a limit hit, an endless loop stopped by the
//! operation budget, a result of the wrong shape or naming an unknown category — is a
//! [`HookError`] naming the script and line; the engine records it on the ticket and
//! falls back to the policy's declared default.

use std::sync::Arc;

use rhai::{AST, Dynamic, Engine, Map, NativeCallContext, Scope};

use serde::{Deserialize, Serialize};

use crate::hook_point::HookPoint;

use super::facts::TicketFacts;
use super::sandbox::{self, ScriptLimits};

/// A hook as the policy declares it (`[hook.ID]`): the point, the script and its
/// text, the sandbox limits and the fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub on: HookPoint,
    /// Path as written, relative to the policy file that named it.
    pub script: String,
    /// The script text: part of the canonical form, so a script change is a policy change.
    pub source: String,
    pub limits: ScriptLimits,
    pub fallback: Option<String>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("hook script `{script}` line {line}, column {column}: {message}")]
    Compile {
        script: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("hook script `{script}` does not define `fn {function}`")]
    MissingFunction { script: String, function: String },
    #[error("hook script `{script}` stopped at line {line}: {message}")]
    Runtime {
        script: String,
        line: usize,
        message: String,
    },
    #[error("hook script `{script}` returned {message}")]
    BadResult { script: String, message: String },
}

/// What a hook decided, with the line of the `decide(...)` call when it used one.
#[derive(Debug, Clone)]
pub struct HookResult {
    pub value: Map,
    pub line: Option<usize>,
}

#[derive(Clone)]
pub struct CompiledHook {
    pub id: String,
    pub on: HookPoint,
    pub script: String,
    engine: Arc<Engine>,
    ast: Arc<AST>,
}

impl std::fmt::Debug for CompiledHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CompiledHook({} on {:?})", self.id, self.on)
    }
}

pub fn function_name(on: HookPoint) -> &'static str {
    match on {
        HookPoint::Classify => "classify",
        HookPoint::Route => "route",
        HookPoint::BeforeClose => "before_close",
        HookPoint::Deadline => "deadline",
        // Event sources are plug-ins only; `policy check` rejects a script here.
        HookPoint::Events => "events",
    }
}

const LINE_KEY: &str = "__line";

fn hook_engine(hook: &Hook) -> Engine {
    let mut engine = sandbox::engine(&hook.limits, sandbox::HOOK_DEADLINE);
    // Hooks take the ticket as an argument; strict variables would reject globals
    // a script defines at top level for its tables, which are legitimate.
    engine.set_strict_variables(false);
    engine.register_fn("decide", |ctx: NativeCallContext, mut result: Map| -> Map {
        if let Some(line) = ctx.call_position().line() {
            result.insert(LINE_KEY.into(), Dynamic::from(line as i64));
        }
        result
    });
    engine.register_fn("decide", |ctx: NativeCallContext, refusal: String| -> Map {
        let mut m = Map::new();
        m.insert("refuse".into(), refusal.into());
        if let Some(line) = ctx.call_position().line() {
            m.insert(LINE_KEY.into(), Dynamic::from(line as i64));
        }
        m
    });
    engine
}

impl CompiledHook {
    pub fn compile(id: &str, hook: &Hook) -> Result<CompiledHook, HookError> {
        let engine = hook_engine(hook);
        let ast = engine.compile(&hook.source).map_err(|e| {
            let pos = e.position();
            HookError::Compile {
                script: hook.script.clone(),
                line: pos.line().unwrap_or(1),
                column: pos.position().unwrap_or(1),
                message: e.err_type().to_string(),
            }
        })?;
        let function = function_name(hook.on);
        let arity = if hook.on == HookPoint::Deadline { 2 } else { 1 };
        if !ast
            .iter_functions()
            .any(|f| f.name == function && f.params.len() == arity)
        {
            return Err(HookError::MissingFunction {
                script: hook.script.clone(),
                function: format!(
                    "{function}({})",
                    if arity == 2 {
                        "ticket, limit"
                    } else {
                        "ticket"
                    }
                ),
            });
        }
        Ok(CompiledHook {
            id: id.to_string(),
            on: hook.on,
            script: hook.script.clone(),
            engine: Arc::new(engine),
            ast: Arc::new(ast),
        })
    }

    /// Call the hook. `Ok(None)` when it returns `()`: the hook has no opinion.
    pub fn call(
        &self,
        facts: &TicketFacts,
        limit: Option<&str>,
    ) -> Result<Option<HookResult>, HookError> {
        let ticket = Dynamic::from_map(facts.to_map());
        let mut scope = Scope::new();
        let function = function_name(self.on);
        let result = match limit {
            Some(l) => self.engine.call_fn::<Dynamic>(
                &mut scope,
                &self.ast,
                function,
                (ticket, l.to_string()),
            ),
            None => self
                .engine
                .call_fn::<Dynamic>(&mut scope, &self.ast, function, (ticket,)),
        };
        let value = result.map_err(|e| self.runtime(&e))?;
        if value.is_unit() {
            return Ok(None);
        }
        if value.is_string() {
            // A plain string is shorthand for a duration, time or refusal.
            let mut m = Map::new();
            m.insert("value".into(), value);
            return Ok(Some(HookResult {
                value: m,
                line: None,
            }));
        }
        if value.is_bool() {
            let mut m = Map::new();
            if !value.as_bool().unwrap_or(true) {
                m.insert("refuse".into(), "refused by hook".into());
            }
            return Ok(Some(HookResult {
                value: m,
                line: None,
            }));
        }
        let Some(mut map) = value.try_cast::<Map>() else {
            return Err(
                self.bad("a value that is not a map; return `decide(#{ ... })` or `()`".into())
            );
        };
        let line = map
            .remove(LINE_KEY)
            .and_then(|d| d.as_int().ok())
            .and_then(|n| usize::try_from(n).ok());
        Ok(Some(HookResult { value: map, line }))
    }

    fn runtime(&self, err: &rhai::EvalAltResult) -> HookError {
        use rhai::EvalAltResult as E;
        let inner = err.unwrap_inner();
        let line = inner
            .position()
            .line()
            .or(err.position().line())
            .unwrap_or(0);
        let message = match inner {
            E::ErrorTooManyOperations(..) => "operation limit reached (endless loop?)".to_string(),
            E::ErrorStackOverflow(..) => "call depth limit reached".to_string(),
            E::ErrorDataTooLarge(what, ..) => format!("size limit reached: {what}"),
            E::ErrorTooManyVariables(..) => "variable limit reached".to_string(),
            E::ErrorTerminated(..) => format!(
                "time limit reached ({} ms of wall-clock time)",
                sandbox::HOOK_DEADLINE.as_millis()
            ),
            other => other.to_string(),
        };
        HookError::Runtime {
            script: self.script.clone(),
            line,
            message,
        }
    }

    pub fn bad(&self, message: String) -> HookError {
        HookError::BadResult {
            script: self.script.clone(),
            message,
        }
    }
}

/// Read an optional string field of a hook result.
pub fn get_str(map: &Map, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(d) if d.is_unit() => Ok(None),
        Some(d) => d
            .clone()
            .into_string()
            .map(Some)
            .map_err(|t| format!("`{key}` as {t} instead of a string")),
    }
}

pub fn get_bool(map: &Map, key: &str) -> Result<Option<bool>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(d) => d
            .as_bool()
            .map(Some)
            .map_err(|t| format!("`{key}` as {t} instead of true/false")),
    }
}

pub fn get_int(map: &Map, key: &str) -> Result<Option<i64>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(d) => d
            .as_int()
            .map(Some)
            .map_err(|t| format!("`{key}` as {t} instead of an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(on: HookPoint, source: &str) -> Hook {
        Hook {
            on,
            script: "t.rhai".into(),
            source: source.into(),
            limits: ScriptLimits::default(),
            fallback: None,
            rules: vec![],
        }
    }

    fn facts(text: &str) -> TicketFacts {
        TicketFacts {
            kind: "repair".into(),
            text: text.into(),
            ..TicketFacts::default()
        }
    }

    #[test]
    fn classify_returns_the_decision_and_its_line() {
        let src = "fn classify(t) {\n  if t.text.contains(\"渗水\") {\n    return decide(#{ category: \"repair.leak\" });\n  }\n  ()\n}\n";
        let h = CompiledHook::compile("c", &hook(HookPoint::Classify, src)).unwrap();
        let r = h.call(&facts("卫生间渗水"), None).unwrap().unwrap();
        assert_eq!(
            get_str(&r.value, "category").unwrap().as_deref(),
            Some("repair.leak")
        );
        assert_eq!(r.line, Some(3));
        assert!(h.call(&facts("灯不亮"), None).unwrap().is_none());
    }

    #[test]
    fn missing_function_is_reported() {
        let err = CompiledHook::compile("c", &hook(HookPoint::Route, "fn classify(t) { () }"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "hook script `t.rhai` does not define `fn route(ticket)`"
        );
    }

    #[test]
    fn syntax_error_names_script_line_and_column() {
        let err = CompiledHook::compile(
            "c",
            &hook(HookPoint::Classify, "fn classify(t) {\n  let x = ;\n}"),
        )
        .unwrap_err();
        assert!(matches!(err, HookError::Compile { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn endless_loop_is_stopped_by_the_operation_limit() {
        let h = CompiledHook::compile(
            "c",
            &hook(HookPoint::Classify, "fn classify(t) {\n  loop { }\n}"),
        )
        .unwrap();
        let err = h.call(&facts("x"), None).unwrap_err();
        assert!(err.to_string().contains("operation limit"), "{err}");
        assert!(err.to_string().contains("t.rhai"), "{err}");
    }

    #[test]
    fn runtime_error_reports_its_line() {
        let h = CompiledHook::compile(
            "c",
            &hook(
                HookPoint::Classify,
                "fn classify(t) {\n  let x = 1;\n  x.nope()\n}",
            ),
        )
        .unwrap();
        match h.call(&facts("x"), None).unwrap_err() {
            HookError::Runtime { line, .. } => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn string_growth_hits_the_size_limit() {
        let src = "fn classify(t) {\n  let s = \"xxxxxxxx\";\n  loop { s += s; }\n}";
        let h = CompiledHook::compile("c", &hook(HookPoint::Classify, src)).unwrap();
        let err = h.call(&facts("x"), None).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }

    #[test]
    fn array_growth_hits_the_size_limit() {
        let src = "fn classify(t) {\n  let a = [];\n  loop { a.push(1); }\n}";
        // A small cap: size checks make growth quadratic, and in a debug build the
        // default cap takes longer to reach than the time limit.
        let mut h = hook(HookPoint::Classify, src);
        h.limits.array_size = 1_000;
        let h = CompiledHook::compile("c", &h).unwrap();
        assert!(
            h.call(&facts("x"), None)
                .unwrap_err()
                .to_string()
                .contains("size limit")
        );
    }

    #[test]
    fn map_index_assignment_hits_the_size_limit() {
        let src =
            "fn classify(t) {\n  let m = #{};\n  let i = 0;\n  loop { m[`k${i}`] = i; i += 1; }\n}";
        let mut h = hook(HookPoint::Classify, src);
        h.limits.array_size = 1_000;
        let h = CompiledHook::compile("c", &h).unwrap();
        let err = h.call(&facts("x"), None).unwrap_err().to_string();
        assert!(
            // rhai does not size-check index assignment; the operation budget
            // or (in a slow debug build) the time limit stops it instead.
            err.contains("size limit")
                || err.contains("operation limit")
                || err.contains("time limit"),
            "{err}"
        );
    }

    #[test]
    fn deep_recursion_hits_the_call_depth_limit() {
        let src = "fn f(n) { f(n + 1) }\nfn classify(t) {\n  f(0)\n}";
        let h = CompiledHook::compile("c", &hook(HookPoint::Classify, src)).unwrap();
        assert!(
            h.call(&facts("x"), None)
                .unwrap_err()
                .to_string()
                .contains("call depth")
        );
    }

    #[test]
    fn no_eval_and_no_file_access() {
        assert!(
            CompiledHook::compile(
                "c",
                &hook(HookPoint::Classify, "fn classify(t) { eval(\"1\") }")
            )
            .is_err()
        );
        let h = CompiledHook::compile(
            "c",
            &hook(
                HookPoint::Classify,
                "fn classify(t) { open_file(\"/etc/passwd\") }",
            ),
        )
        .unwrap();
        assert!(h.call(&facts("x"), None).is_err());
    }

    #[test]
    fn sleep_and_the_clock_are_not_available() {
        let h = CompiledHook::compile(
            "c",
            &hook(
                HookPoint::Classify,
                "fn classify(t) {\n  sleep(30);\n  ()\n}",
            ),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let err = h.call(&facts("x"), None).unwrap_err().to_string();
        assert!(err.contains("`sleep` is not available"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let h = CompiledHook::compile(
            "c",
            &hook(
                HookPoint::Classify,
                "fn classify(t) {\n  sleep(0.5);\n  ()\n}",
            ),
        )
        .unwrap();
        assert!(h.call(&facts("x"), None).is_err());
        let h = CompiledHook::compile(
            "c",
            &hook(HookPoint::Classify, "fn classify(t) { timestamp() }"),
        )
        .unwrap();
        let err = h.call(&facts("x"), None).unwrap_err().to_string();
        assert!(err.contains("timestamp"), "{err}");
    }

    #[test]
    fn slow_work_within_the_operation_budget_hits_the_time_limit() {
        // Every operation is a search through a 64 KiB string: the operation
        // budget at its ceiling would allow minutes of this.
        let src = "fn classify(t) {\n  let s = \"a\".pad(65000, \"a\") + \"b\";\n  let n = 0;\n  loop { n += s.index_of(\"aab\"); }\n}";
        let mut h = hook(HookPoint::Classify, src);
        h.limits.operations = sandbox::MAX_OPERATIONS;
        let h = CompiledHook::compile("c", &h).unwrap();
        let started = std::time::Instant::now();
        let err = h.call(&facts("x"), None).unwrap_err().to_string();
        let took = started.elapsed();
        assert!(err.contains("time limit reached"), "{err}");
        assert!(took >= sandbox::HOOK_DEADLINE, "{took:?}");
        assert!(took < sandbox::HOOK_DEADLINE * 3, "{took:?}");
    }

    #[test]
    fn limits_above_the_host_ceilings_are_held_to_them() {
        let l = ScriptLimits {
            operations: u64::MAX,
            call_depth: usize::MAX,
            string_size: 1 << 30,
            array_size: usize::MAX,
        }
        .capped();
        assert_eq!(l.operations, sandbox::MAX_OPERATIONS);
        assert_eq!(l.call_depth, sandbox::MAX_CALL_DEPTH);
        assert_eq!(l.string_size, sandbox::MAX_STRING_SIZE);
        assert_eq!(l.array_size, sandbox::MAX_ARRAY_SIZE);
    }

    #[test]
    fn non_map_result_is_a_bad_result() {
        let h = CompiledHook::compile("c", &hook(HookPoint::Classify, "fn classify(t) { 42 }"))
            .unwrap();
        assert!(matches!(
            h.call(&facts("x"), None).unwrap_err(),
            HookError::BadResult { .. }
        ));
    }
}
