//! `when` / `applies` conditions: rhai expressions compiled once when a policy loads,
//! then evaluated against a ticket's facts. A condition that fails at run time is an
//! error value naming the rule, never a panic; callers decide the fallback.

use std::sync::Arc;

use rhai::{AST, Engine};

use super::facts::TicketFacts;
use super::sandbox;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("{message}")]
    Compile {
        message: String,
        /// 1-based line and column inside the expression text.
        line: usize,
        column: usize,
    },
    #[error("condition `{expr}` failed: {message}")]
    Runtime { expr: String, message: String },
}

/// A compiled condition; cheap to clone and share.
#[derive(Clone)]
pub struct Condition {
    pub expr: String,
    ast: Arc<AST>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Condition({:?})", self.expr)
    }
}

/// The engine conditions run in; build it once per policy.
pub fn engine() -> Engine {
    sandbox::engine(&sandbox::condition_limits(), sandbox::CONDITION_DEADLINE)
}

impl Condition {
    pub fn compile(engine: &Engine, expr: &str) -> Result<Condition, ConditionError> {
        let scope = TicketFacts::declaration_scope();
        match engine.compile_expression_with_scope(&scope, expr) {
            Ok(ast) => Ok(Condition {
                expr: expr.to_string(),
                ast: Arc::new(ast),
            }),
            Err(err) => {
                let pos = err.position();
                Err(ConditionError::Compile {
                    message: describe_parse_error(&err),
                    line: pos.line().unwrap_or(1),
                    column: pos.position().unwrap_or(1),
                })
            }
        }
    }

    pub fn eval(&self, engine: &Engine, facts: &TicketFacts) -> Result<bool, ConditionError> {
        let mut scope = facts.scope();
        self.eval_in(engine, &mut scope)
    }

    /// Evaluate with a scope built once for many conditions over the same ticket.
    pub fn eval_in(
        &self,
        engine: &Engine,
        scope: &mut rhai::Scope<'static>,
    ) -> Result<bool, ConditionError> {
        engine
            .eval_ast_with_scope::<bool>(scope, &self.ast)
            .map_err(|err| ConditionError::Runtime {
                expr: self.expr.clone(),
                message: err.to_string(),
            })
    }
}

fn describe_parse_error(err: &rhai::ParseError) -> String {
    use rhai::ParseErrorType as P;
    match err.err_type() {
        P::VariableUndefined(name) => format!(
            "unknown variable `{name}` in condition; known: {}",
            super::facts::VARIABLES.join(", ")
        ),
        other => format!(
            "invalid condition: {}",
            other.to_string().trim_end_matches('.')
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TicketFacts {
        TicketFacts {
            kind: "repair".into(),
            text: "卫生间天花板渗水".into(),
            ..TicketFacts::default()
        }
    }

    #[test]
    fn evaluates_against_ticket_facts() {
        let e = engine();
        let c = Condition::compile(&e, r#"kind == "repair" && text.contains("渗水")"#).unwrap();
        assert!(c.eval(&e, &facts()).unwrap());
        let c = Condition::compile(&e, r#"kind == "complaint""#).unwrap();
        assert!(!c.eval(&e, &facts()).unwrap());
    }

    #[test]
    fn unknown_variable_is_a_compile_error_with_position() {
        let e = engine();
        let err = Condition::compile(&e, "kind == \"repair\" && colour == 1").unwrap_err();
        match err {
            ConditionError::Compile {
                message,
                line,
                column,
            } => {
                assert!(message.contains("unknown variable `colour`"), "{message}");
                assert_eq!((line, column), (1, 21));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn compiled_conditions_read_the_evaluation_scope_not_the_declaration_defaults() {
        let e = engine();
        let c = Condition::compile(&e, r#"kind == "complaint""#).unwrap();
        let complaint = TicketFacts {
            kind: "complaint".into(),
            ..TicketFacts::default()
        };
        assert!(c.eval(&e, &complaint).unwrap());
    }

    #[test]
    fn non_boolean_result_is_a_runtime_error() {
        let e = engine();
        let c = Condition::compile(&e, "class + 1").unwrap();
        assert!(matches!(
            c.eval(&e, &facts()),
            Err(ConditionError::Runtime { .. })
        ));
    }

    #[test]
    fn eval_is_disabled() {
        let e = engine();
        assert!(Condition::compile(&e, r#"eval("1 == 1")"#).is_err());
    }

    #[test]
    fn endless_work_hits_the_operation_limit() {
        let e = engine();
        let c = Condition::compile(&e, "(0..1000000).map(|x| x * 2).len() > 0").unwrap();
        let err = c.eval(&e, &facts()).unwrap_err();
        assert!(err.to_string().contains("failed"), "{err}");
    }
}
