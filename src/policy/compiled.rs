//! A policy ready to run: conditions compiled to rhai ASTs, calendars built, the
//! fingerprint computed once. Built from the model, so a policy loaded back from
//! its canonical text in the database runs exactly as when it was applied.

use std::collections::{BTreeMap, HashMap};

use std::cell::OnceCell;

use crate::calendar::Calendar;
use crate::script::condition::{self, Condition, ConditionError, Facts};
use crate::script::facts::{ConditionScope, FactCache, TicketFacts};
use crate::script::hook_script::CompiledHook;
use crate::script::predicate::Keywords;

use super::model::{HookPoint, Kind, Limit, Policy};

/// The rule sections a condition belongs to, as its key's prefix names them.
const SECTIONS: [&str; 4] = ["category", "limit", "revisit", "pause"];

/// A category as classification tries it: in the policy's order, with its condition.
pub struct CategoryRule {
    pub id: String,
    pub kind: Kind,
    /// The condition's text, reported as what matched.
    pub when: Option<String>,
    pub condition: Option<Condition>,
    /// The phase of the estate the category is for (000 §5.2.1); `None`: any.
    pub phase: Option<&'static str>,
}

pub struct CompiledPolicy {
    pub policy: Policy,
    pub fingerprint: String,
    pub tz: chrono_tz::Tz,
    engine: rhai::Engine,
    /// By section (`SECTIONS`), then rule id: a few dozen short keys, where a
    /// B-tree's string comparisons cost less than hashing the key.
    conditions: [BTreeMap<String, Condition>; 4],
    /// Categories in the order they are tried (`category_order`), fixed at load.
    categories: Vec<CategoryRule>,
    /// The `applies` of each limit and revisit rule, in the policy's order.
    limit_conditions: Vec<Option<Condition>>,
    revisit_conditions: Vec<Option<Condition>>,
    /// Every `text.contains` keyword of every condition, as one search.
    keywords: Keywords,
    calendars: BTreeMap<String, Calendar>,
    always: Calendar,
    pub(super) hooks: Vec<CompiledHook>,
    /// Classify and event-source plug-ins, by id; a call needs `&mut` (the live
    /// instance), hence the lock.
    pub(super) plugins: Vec<(String, std::sync::Mutex<crate::plugin::LoadedPlugin>)>,
}

/// Why a policy cannot run. The messages are those `policy check` and the ticket
/// commands print; the variants let a caller tell a missing or changed plug-in
/// module (the database lost or altered it) from a policy that does not compile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("plug-in `{id}`: its module (sha256 {sha256}) is not available")]
    ModuleMissing { id: String, sha256: String },
    #[error("plug-in `{id}`: module sha256 {digest} does not match the pinned {pinned}")]
    ModuleMismatch {
        id: String,
        digest: String,
        pinned: String,
    },
    #[error("{0}")]
    Host(String),
    #[error(transparent)]
    Plugin(#[from] crate::plugin::PluginError),
    #[error("unknown timezone `{0}`")]
    Timezone(String),
    #[error("{key}: {error}")]
    Condition { key: String, error: ConditionError },
    #[error("calendar `{id}`: {message}")]
    Calendar { id: String, message: String },
    #[error(transparent)]
    Hook(#[from] crate::script::hook_script::HookError),
    #[error("stored policy is unreadable: {0}")]
    Unreadable(String),
}

/// The category chosen for a ticket and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub category: String,
    /// The condition that matched; `None` when the category has none or on fallback.
    pub matched: Option<String>,
    /// A condition that failed while classifying; the default category was used.
    pub error: Option<String>,
}

impl CompiledPolicy {
    /// A policy without plug-ins, or whose plug-ins are not needed (they are
    /// reported missing only if the policy declares some).
    pub fn new(policy: Policy) -> Result<CompiledPolicy, CompileError> {
        CompiledPolicy::with_plugins(policy, &[])
    }

    /// A policy with its plug-in modules, as `(plug-in id, module bytes)`; every
    /// plug-in the policy declares must be given, matching its pinned SHA-256.
    pub fn with_plugins(
        policy: Policy,
        modules: &[(String, Vec<u8>)],
    ) -> Result<CompiledPolicy, CompileError> {
        let mut plugins = Vec::new();
        for (id, plugin) in &policy.plugins {
            let Some((_, bytes)) = modules.iter().find(|(m, _)| m == id) else {
                return Err(CompileError::ModuleMissing {
                    id: id.clone(),
                    sha256: plugin.sha256.clone(),
                });
            };
            let digest = crate::digest::sha256_hex(bytes);
            if digest != plugin.sha256 {
                return Err(CompileError::ModuleMismatch {
                    id: id.clone(),
                    digest,
                    pinned: plugin.sha256.clone(),
                });
            }
            // The process-wide host `policy check` uses too: one engine, one module
            // cache (on disk with STEWARD_PLUGIN_CACHE), so a ticket command compiles
            // nothing a previous process already compiled.
            let loaded = crate::plugin::PluginHost::global()
                .map_err(|e| CompileError::Host(e.to_string()))?
                .load_for_policy(id, bytes, &policy.plugin_owner())?;
            plugins.push((id.clone(), std::sync::Mutex::new(loaded)));
        }
        let mut compiled = CompiledPolicy::compile(policy)?;
        compiled.plugins = plugins;
        Ok(compiled)
    }

    fn compile(policy: Policy) -> Result<CompiledPolicy, CompileError> {
        let engine = condition::engine();
        let tz: chrono_tz::Tz = policy
            .timezone
            .parse()
            .map_err(|_| CompileError::Timezone(policy.timezone.clone()))?;
        let mut patterns: Vec<Box<str>> = Vec::new();
        let mut intern = |lit: &str| match patterns.iter().position(|p| &**p == lit) {
            Some(i) => i,
            None => {
                patterns.push(lit.into());
                patterns.len() - 1
            }
        };
        let mut compile = |section: &str, id: &str, expr: &Option<String>| {
            expr.as_ref()
                .map(|expr| {
                    let mut c = Condition::compile(&engine, expr).map_err(|error| {
                        CompileError::Condition {
                            key: format!("{section}.{id}"),
                            error,
                        }
                    })?;
                    c.intern_keywords(&mut intern);
                    Ok::<_, CompileError>(c)
                })
                .transpose()
        };
        let mut conditions: [BTreeMap<String, Condition>; 4] = Default::default();
        let mut by_id = |section: usize, id: &str, c: &Option<Condition>| {
            if let (Some(c), Some(map)) = (c, conditions.get_mut(section)) {
                map.insert(id.to_string(), c.clone());
            }
        };
        let mut category_conditions = HashMap::new();
        for (id, c) in &policy.categories {
            let cond = compile("category", id, &c.when)?;
            by_id(0, id, &cond);
            category_conditions.insert(id.clone(), cond);
        }
        let mut limit_conditions = Vec::new();
        for (id, l) in &policy.limits {
            let cond = compile("limit", id, &l.applies)?;
            by_id(1, id, &cond);
            limit_conditions.push(cond);
        }
        let mut revisit_conditions = Vec::new();
        for (id, r) in &policy.revisits {
            let cond = compile("revisit", id, &r.applies)?;
            by_id(2, id, &cond);
            revisit_conditions.push(cond);
        }
        for (id, p) in &policy.pauses {
            let cond = compile("pause", id, &p.applies)?;
            by_id(3, id, &cond);
        }
        let categories = super::category_order(&policy)
            .into_iter()
            .map(|(id, c)| CategoryRule {
                id: id.clone(),
                kind: c.kind,
                when: c.when.clone(),
                condition: category_conditions.remove(id).flatten(),
                phase: c.phase.map(super::model::Phase::as_str),
            })
            .collect();
        let keywords = Keywords::new(patterns);
        let mut calendars = BTreeMap::new();
        for (id, def) in &policy.calendars {
            let (holidays, makeup) = def.effective();
            let cal = Calendar::new(
                tz,
                &strs(&def.workdays),
                &strs(&def.hours),
                &strs(&holidays),
                &strs(&makeup),
            )
            .map_err(|e| CompileError::Calendar {
                id: id.clone(),
                message: e.to_string(),
            })?
            .with_business_days(def.business_days);
            calendars.insert(id.clone(), cal);
        }
        let hooks = policy
            .hooks
            .iter()
            .map(|(id, h)| CompiledHook::compile(id, h).map_err(CompileError::from))
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprint = super::fingerprint(&policy);

        Ok(CompiledPolicy {
            policy,
            fingerprint,
            tz,
            engine,
            conditions,
            categories,
            limit_conditions,
            revisit_conditions,
            keywords,
            calendars,
            always: Calendar::always(tz),
            hooks,
            plugins: Vec::new(),
        })
    }

    /// Load back from the canonical JSON stored in the database, with the plug-in
    /// modules `module(sha256)` finds.
    pub fn from_canonical(
        text: &str,
        mut module: impl FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<CompiledPolicy, CompileError> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| CompileError::Unreadable(e.to_string()))?;
        let modules: Vec<(String, Vec<u8>)> = policy
            .plugins
            .iter()
            .filter_map(|(id, p)| module(&p.sha256).map(|b| (id.clone(), b)))
            .collect();
        CompiledPolicy::with_plugins(policy, &modules)
    }

    pub fn engine(&self) -> &rhai::Engine {
        &self.engine
    }

    /// Does the rule's `when`/`applies` hold? `key` is `category.ID`, `limit.ID`,
    /// `revisit.ID` or `pause.ID`; a rule without a condition always applies.
    pub fn applies(&self, key: &str, scope: &mut ConditionScope) -> Result<bool, ConditionError> {
        match self.condition(key) {
            Some(c) => c.eval_scoped(&self.engine, &self.keywords, scope),
            None => Ok(true),
        }
    }

    /// The condition of the rule `key` names (see [`CompiledPolicy::applies`]).
    pub fn condition(&self, key: &str) -> Option<&Condition> {
        let (section, id) = key.split_once('.')?;
        let i = SECTIONS.iter().position(|s| *s == section)?;
        self.conditions.get(i)?.get(id)
    }

    /// The same policy with every condition run by rhai: the reference that
    /// decisions under native predicates are tested against.
    pub fn without_native_conditions(mut self) -> CompiledPolicy {
        let strip = |c: &mut Condition| *c = c.clone().without_native();
        for map in &mut self.conditions {
            map.values_mut().for_each(strip);
        }
        for rule in &mut self.categories {
            rule.condition.iter_mut().for_each(strip);
        }
        for c in self
            .limit_conditions
            .iter_mut()
            .chain(&mut self.revisit_conditions)
        {
            c.iter_mut().for_each(strip);
        }
        self
    }

    /// Does `condition` hold for the ticket (`None`: the rule has none)?
    pub fn holds(
        &self,
        condition: Option<&Condition>,
        facts: &Facts<'_>,
        cache: &mut FactCache,
    ) -> Result<bool, ConditionError> {
        match condition {
            Some(c) => c.eval_facts(&self.engine, facts, cache),
            None => Ok(true),
        }
    }

    /// The policy's keyword search, for [`Facts::new`].
    pub fn keywords(&self) -> &Keywords {
        &self.keywords
    }

    /// Each limit with its condition, in the policy's order.
    pub fn limit_rules(&self) -> impl Iterator<Item = (&String, &Limit, Option<&Condition>)> {
        self.policy
            .limits
            .iter()
            .zip(&self.limit_conditions)
            .map(|((id, l), c)| (id, l, c.as_ref()))
    }

    /// Each revisit rule with its condition, in the policy's order.
    pub fn revisit_rules(
        &self,
    ) -> impl Iterator<Item = (&String, &super::model::Revisit, Option<&Condition>)> {
        self.policy
            .revisits
            .iter()
            .zip(&self.revisit_conditions)
            .map(|((id, r), c)| (id, r, c.as_ref()))
    }

    pub fn limit_condition(&self, id: &str) -> Option<&Condition> {
        self.conditions.get(1)?.get(id)
    }

    pub fn pause_condition(&self, id: &str) -> Option<&Condition> {
        self.conditions.get(3)?.get(id)
    }

    /// Is there a hook or plug-in for `on`? Without one, nothing needs the facts.
    pub fn has_hook(&self, on: HookPoint) -> bool {
        self.hooks.iter().any(|h| h.on == on)
            || self
                .plugins
                .iter()
                .any(|(id, _)| self.policy.plugins.get(id).is_some_and(|p| p.on == on))
    }

    /// First category of the ticket's kind whose condition holds; on a failing
    /// condition, the policy's default category with the error recorded.
    pub fn classify(&self, facts: &TicketFacts) -> Classification {
        let hits = OnceCell::new();
        let facts = Facts::new(facts.view(), &self.keywords, &hits);
        self.classify_facts(&facts, &mut FactCache::default())
    }

    /// [`CompiledPolicy::classify`] on facts read in place.
    pub fn classify_facts(&self, facts: &Facts<'_>, cache: &mut FactCache) -> Classification {
        cache.new_group();
        let kind = Kind::parse(facts.view.kind);
        let phase = facts.view.phase;
        for rule in self
            .categories
            .iter()
            .filter(|c| Some(c.kind) == kind && c.phase.is_none_or(|p| p == phase))
        {
            match self.holds(rule.condition.as_ref(), facts, cache) {
                Ok(true) => {
                    return Classification {
                        category: rule.id.clone(),
                        matched: rule.when.clone(),
                        error: None,
                    };
                }
                Ok(false) => {}
                Err(e) => {
                    return Classification {
                        category: self.policy.default_category.clone(),
                        matched: None,
                        error: Some(format!("category `{}`: {e}", rule.id)),
                    };
                }
            }
        }
        Classification {
            category: self.policy.default_category.clone(),
            matched: None,
            error: None,
        }
    }

    /// The calendar a limit counts in: its own, the policy's, or round the clock.
    pub fn calendar_for(&self, limit: &Limit) -> &Calendar {
        limit
            .calendar
            .as_ref()
            .or(self.policy.calendar.as_ref())
            .and_then(|id| self.calendars.get(id))
            .unwrap_or(&self.always)
    }

    /// The policy's default calendar (for revisits and notices).
    pub fn default_calendar(&self) -> &Calendar {
        self.policy
            .calendar
            .as_ref()
            .and_then(|id| self.calendars.get(id))
            .unwrap_or(&self.always)
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod compile_error_tests {
    use super::{CompileError, CompiledPolicy};

    fn plugin_policy() -> super::Policy {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/vk-shanghai-plugins");
        match crate::policy::load_path(&dir) {
            Ok(l) => l.policy,
            Err(e) => panic!("the shipped plug-in policy loads: {:?}", e.diagnostics),
        }
    }

    #[test]
    fn a_missing_or_changed_module_is_its_own_error() {
        let policy = plugin_policy();
        let id = policy.plugins.keys().next().cloned().unwrap_or_default();
        let err = CompiledPolicy::with_plugins(policy.clone(), &[]).err();
        assert!(
            matches!(&err, Some(CompileError::ModuleMissing { id: i, .. }) if *i == id),
            "{err:?}"
        );
        let wrong = vec![(id.clone(), b"(module)".to_vec())];
        let err = CompiledPolicy::with_plugins(policy, &wrong).err();
        assert!(
            matches!(&err, Some(CompileError::ModuleMismatch { id: i, .. }) if *i == id),
            "{err:?}"
        );
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("does not match the pinned"), "{text}");
    }
}
