//! A policy ready to run: conditions compiled to rhai ASTs, calendars built, the
//! fingerprint computed once. Built from the model, so a policy loaded back from
//! its canonical text in the database runs exactly as when it was applied.

use std::collections::{BTreeMap, HashMap};

use crate::calendar::Calendar;
use crate::script::condition::{self, Condition, ConditionError};
use crate::script::facts::TicketFacts;
use crate::script::hook_script::CompiledHook;

use super::model::{Kind, Limit, Policy};

pub struct CompiledPolicy {
    pub policy: Policy,
    pub fingerprint: String,
    pub tz: chrono_tz::Tz,
    engine: rhai::Engine,
    /// Keyed `category.ID`, `limit.ID`, `revisit.ID`, `pause.ID`.
    conditions: HashMap<String, Condition>,
    calendars: BTreeMap<String, Calendar>,
    always: Calendar,
    pub(super) hooks: Vec<CompiledHook>,
    /// Classify and event-source plug-ins, by id; a call needs `&mut` (the live
    /// instance), hence the lock.
    pub(super) plugins: Vec<(String, std::sync::Mutex<crate::plugin::LoadedPlugin>)>,
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

/// One wasmtime engine and module cache for the whole process.
fn plugin_host() -> Result<&'static crate::plugin::PluginHost, String> {
    static HOST: std::sync::OnceLock<Result<crate::plugin::PluginHost, String>> =
        std::sync::OnceLock::new();
    HOST.get_or_init(|| crate::plugin::PluginHost::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

impl CompiledPolicy {
    /// A policy without plug-ins, or whose plug-ins are not needed (they are
    /// reported missing only if the policy declares some).
    pub fn new(policy: Policy) -> Result<CompiledPolicy, String> {
        CompiledPolicy::with_plugins(policy, &[])
    }

    /// A policy with its plug-in modules, as `(plug-in id, module bytes)`; every
    /// plug-in the policy declares must be given, matching its pinned SHA-256.
    pub fn with_plugins(
        policy: Policy,
        modules: &[(String, Vec<u8>)],
    ) -> Result<CompiledPolicy, String> {
        let mut plugins = Vec::new();
        for (id, plugin) in &policy.plugins {
            let Some((_, bytes)) = modules.iter().find(|(m, _)| m == id) else {
                return Err(format!(
                    "plug-in `{id}`: its module (sha256 {}) is not available",
                    plugin.sha256
                ));
            };
            let digest = crate::digest::sha256_hex(bytes);
            if digest != plugin.sha256 {
                return Err(format!(
                    "plug-in `{id}`: module sha256 {digest} does not match the pinned {}",
                    plugin.sha256
                ));
            }
            let loaded = plugin_host()?
                .load_for_policy(id, bytes, &policy)
                .map_err(|e| e.to_string())?;
            plugins.push((id.clone(), std::sync::Mutex::new(loaded)));
        }
        let mut compiled = CompiledPolicy::compile(policy)?;
        compiled.plugins = plugins;
        Ok(compiled)
    }

    fn compile(policy: Policy) -> Result<CompiledPolicy, String> {
        let engine = condition::engine();
        let tz: chrono_tz::Tz = policy
            .timezone
            .parse()
            .map_err(|_| format!("unknown timezone `{}`", policy.timezone))?;
        let mut conditions = HashMap::new();
        let mut add = |key: String, expr: &Option<String>| -> Result<(), String> {
            if let Some(expr) = expr {
                let c = Condition::compile(&engine, expr).map_err(|e| format!("{key}: {e}"))?;
                conditions.insert(key, c);
            }
            Ok(())
        };
        for (id, c) in &policy.categories {
            add(format!("category.{id}"), &c.when)?;
        }
        for (id, l) in &policy.limits {
            add(format!("limit.{id}"), &l.applies)?;
        }
        for (id, r) in &policy.revisits {
            add(format!("revisit.{id}"), &r.applies)?;
        }
        for (id, p) in &policy.pauses {
            add(format!("pause.{id}"), &p.applies)?;
        }
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
            .map_err(|e| format!("calendar `{id}`: {e}"))?
            .with_business_days(def.business_days);
            calendars.insert(id.clone(), cal);
        }
        let hooks = policy
            .hooks
            .iter()
            .map(|(id, h)| CompiledHook::compile(id, h).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprint = super::fingerprint(&policy);

        Ok(CompiledPolicy {
            policy,
            fingerprint,
            tz,
            engine,
            conditions,
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
    ) -> Result<CompiledPolicy, String> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| format!("stored policy is unreadable: {e}"))?;
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

    /// Does the rule's `when`/`applies` hold? A rule without one always applies.
    pub fn applies(
        &self,
        key: &str,
        scope: &mut rhai::Scope<'static>,
    ) -> Result<bool, ConditionError> {
        match self.conditions.get(key) {
            Some(c) => c.eval_in(&self.engine, scope),
            None => Ok(true),
        }
    }

    /// First category of the ticket's kind whose condition holds; on a failing
    /// condition, the policy's default category with the error recorded.
    pub fn classify(&self, facts: &TicketFacts) -> Classification {
        let mut scope = facts.scope();
        let kind = Kind::parse(&facts.kind);
        for (id, c) in super::category_order(&self.policy) {
            if Some(c.kind) != kind {
                continue;
            }
            match self.applies(&format!("category.{id}"), &mut scope) {
                Ok(true) => {
                    return Classification {
                        category: id.clone(),
                        matched: c.when.clone(),
                        error: None,
                    };
                }
                Ok(false) => {}
                Err(e) => {
                    return Classification {
                        category: self.policy.default_category.clone(),
                        matched: None,
                        error: Some(format!("category `{id}`: {e}")),
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
