//! `when` / `applies` conditions: rhai expressions compiled once when a policy loads,
//! then evaluated against a ticket's facts. A condition that fails at run time is an
//! error value naming the rule, never a panic; callers decide the fallback.

use std::sync::Arc;

use rhai::{AST, Engine};

use super::facts::{ConditionScope, FactCache, FactView, TicketFacts};
use super::predicate::{FactSource, Hits, Keywords, Predicate, Var};
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

/// A compiled condition; cheap to clone and share. Always compiled by rhai (its
/// errors and positions are the policy check's); when the text is in the native
/// subset it also carries the [`Predicate`] that answers the same, faster.
#[derive(Clone)]
pub struct Condition {
    pub expr: String,
    ast: Arc<AST>,
    native: Option<Predicate>,
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
                native: Predicate::parse(expr),
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
        let mut scope = facts.rhai_scope();
        self.eval_in(engine, &mut scope)
    }

    /// Evaluate one of a run of conditions over the same facts: natively on the
    /// facts in place (with the policy's keyword search, run once) until some
    /// condition needs rhai, then in the scope that condition got.
    pub fn eval_scoped(
        &self,
        engine: &Engine,
        keywords: &Keywords,
        scope: &mut ConditionScope,
    ) -> Result<bool, ConditionError> {
        let native = self.native.as_ref().and_then(|p| match scope.built() {
            Some(built) => p.eval(built),
            None => p.eval(&Facts::new(scope.facts().view(), keywords, scope.hits())),
        });
        match native {
            Some(b) => Ok(b),
            None => self.eval_rhai(engine, scope.rhai()),
        }
    }

    /// The same condition run by rhai alone: the reference the native path is
    /// tested against.
    pub fn without_native(mut self) -> Condition {
        self.native = None;
        self
    }

    /// The native predicate, when the condition is in the subset.
    pub fn predicate(&self) -> Option<&Predicate> {
        self.native.as_ref()
    }

    /// Number the condition's `text.contains` keywords in the policy's search.
    pub fn intern_keywords(&mut self, intern: &mut impl FnMut(&str) -> usize) {
        if let Some(p) = &mut self.native {
            p.keywords_mut(intern);
        }
    }

    /// Evaluate with a scope built once for many conditions over the same ticket:
    /// natively when the condition is in the subset, else by rhai.
    pub fn eval_in(
        &self,
        engine: &Engine,
        scope: &mut rhai::Scope<'static>,
    ) -> Result<bool, ConditionError> {
        if let Some(b) = self.native.as_ref().and_then(|p| p.eval(&*scope)) {
            return Ok(b);
        }
        self.eval_rhai(engine, scope)
    }

    /// Evaluate a ticket's facts: natively, reading `facts` in place, or by rhai in
    /// the cache's scope (see [`FactCache`] for when a group keeps to rhai).
    pub fn eval_facts(
        &self,
        engine: &Engine,
        facts: &Facts<'_>,
        cache: &mut FactCache,
    ) -> Result<bool, ConditionError> {
        if !cache.scope_in_use()
            && let Some(b) = self.native.as_ref().and_then(|p| p.eval(facts))
        {
            return Ok(b);
        }
        self.eval_rhai(engine, cache.scope_for_rhai(&facts.view))
    }

    /// Evaluate by rhai alone, whatever the condition's form.
    pub fn eval_rhai(
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

/// One ticket's facts as native predicates read them: borrowed in place, with
/// the policy's keyword search run over the text at most once.
pub struct Facts<'a> {
    pub view: FactView<'a>,
    keywords: &'a Keywords,
    hits: &'a std::cell::OnceCell<Hits>,
}

impl<'a> Facts<'a> {
    /// `hits` caches the keyword search of `view.text`; share it only between
    /// views of the same text.
    pub fn new(
        view: FactView<'a>,
        keywords: &'a Keywords,
        hits: &'a std::cell::OnceCell<Hits>,
    ) -> Facts<'a> {
        Facts {
            view,
            keywords,
            hits,
        }
    }
}

impl FactSource for Facts<'_> {
    fn with_str<R>(&self, var: Var, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.view.with_str(var, f)
    }

    fn int(&self, var: Var) -> Option<i64> {
        self.view.int(var)
    }

    fn flag(&self, var: Var) -> Option<bool> {
        self.view.flag(var)
    }

    fn has_tag(&self, tag: &str) -> Option<bool> {
        self.view.has_tag(tag)
    }

    fn text_has(&self, id: usize, lit: &str) -> Option<bool> {
        if !self.keywords.is(id, lit) {
            return Some(self.view.text.contains(lit));
        }
        let hits = self.hits.get_or_init(|| self.keywords.hits(self.view.text));
        Some(hits.get(id).unwrap_or_else(|| self.view.text.contains(lit)))
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
    fn a_lazy_scope_answers_as_one_shared_rhai_scope() {
        let e = engine();
        let keywords = Keywords::new(Vec::new());
        let facts = TicketFacts {
            tags: vec!["a".into(), "x".into()],
            ..facts()
        };
        let native = Condition::compile(&e, r#"tags.contains("x")"#).unwrap();
        let popping = Condition::compile(&e, r#"tags.pop() == "x""#).unwrap();
        assert!(native.predicate().is_some() && popping.predicate().is_none());
        let run = [&native, &popping, &native];
        let mut shared = facts.rhai_scope();
        let expected: Vec<bool> = run
            .iter()
            .map(|c| c.eval_in(&e, &mut shared).unwrap())
            .collect();
        assert_eq!(
            expected,
            [true, true, false],
            "the pop is seen by what follows"
        );
        let mut lazy = facts.clone().scope();
        assert!(lazy.built().is_none());
        let got: Vec<bool> = run
            .iter()
            .map(|c| c.eval_scoped(&e, &keywords, &mut lazy).unwrap())
            .collect();
        assert_eq!(got, expected);
        let mut untouched = facts.scope();
        assert!(native.eval_scoped(&e, &keywords, &mut untouched).unwrap());
        assert!(
            untouched.built().is_none(),
            "native conditions build no scope"
        );
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
