//! Calling a policy's hook scripts and checking what they return against the
//! policy: a category or department a hook names must exist, a tier must be one of
//! the ladder tiers, a deadline must be a duration or a time. Any failure becomes
//! [`HookOutcome::Failed`] so the engine can record it and fall back.

use chrono::{DateTime, Utc};

use crate::limit_duration::LimitDuration;
use crate::script::facts::TicketFacts;
use crate::script::hook_script::{CompiledHook, HookResult, get_bool, get_int, get_str};

use super::CompiledPolicy;
use super::model::HookPoint;

#[derive(Debug, Clone, PartialEq)]
pub enum HookOutcome<T> {
    /// The policy has no hook for this point.
    NoHook,
    /// The hook returned `()`: the policy's own rules decide.
    NoOpinion,
    Decided {
        value: T,
        hook: String,
        line: Option<usize>,
    },
    Failed {
        hook: String,
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HookCategory {
    pub category: String,
    pub urgency: Option<String>,
    pub major: Option<bool>,
    pub emergency: Option<bool>,
    pub class: Option<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HookRoute {
    pub department: String,
    pub tier: String,
    pub lead: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HookDeadline {
    Within(LimitDuration),
    At(DateTime<Utc>),
}

/// How a ticket's category was chosen: the classify hook first, then the
/// categories' conditions. The engine and `policy explain` both use this, so an
/// explanation is exactly what the engine does.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryChoice {
    pub category: String,
    /// The `when` condition that matched, when conditions decided.
    pub matched: Option<String>,
    /// `hook (script:line)` when the classify hook decided.
    pub by_hook: Option<String>,
    /// The hook's id when it decided or when its declared fallback was used.
    pub hook_id: Option<String>,
    pub overrides: Option<HookCategory>,
    /// (hook or plug-in, error, what was used instead) for each source that failed.
    pub hook_failures: Vec<(String, String, String)>,
    /// A condition failed; the policy default was used.
    pub condition_error: Option<String>,
}

impl CompiledPolicy {
    /// Classify plug-ins first (in id order), then the rhai classify hook, then
    /// the categories' conditions. A source that fails is recorded; its declared
    /// fallback is used when it is a category of the ticket's kind, otherwise the
    /// next source decides.
    pub fn choose_category(&self, facts: &TicketFacts) -> CategoryChoice {
        let mut choice = CategoryChoice {
            category: String::new(),
            matched: None,
            by_hook: None,
            hook_id: None,
            overrides: None,
            hook_failures: Vec::new(),
            condition_error: None,
        };
        let mut sources: Vec<(HookOutcome<HookCategory>, String, Option<String>)> = Vec::new();
        for (id, _) in self
            .plugins
            .iter()
            .filter(|(id, _)| self.plugin_on(id) == Some(HookPoint::Classify))
        {
            let fallback = self.policy.plugins.get(id).and_then(|p| p.fallback.clone());
            sources.push((
                self.plugin_classify(id, facts),
                format!("plug-in {id}"),
                fallback,
            ));
        }
        let hook_fallback = self
            .hook_for(HookPoint::Classify)
            .and_then(|h| self.policy.hooks.get(&h.id))
            .and_then(|h| h.fallback.clone());
        sources.push((self.hook_classify(facts), String::new(), hook_fallback));
        for (outcome, label, fallback) in sources {
            match outcome {
                HookOutcome::Decided { value, hook, line } => {
                    let what = if label.is_empty() {
                        let script = self
                            .policy
                            .hooks
                            .get(&hook)
                            .map(|h| h.script.clone())
                            .unwrap_or_default();
                        match line {
                            Some(l) => format!("{hook} ({script}:{l})"),
                            None => format!("{hook} ({script})"),
                        }
                    } else {
                        label
                    };
                    choice.by_hook = Some(what);
                    choice.hook_id = Some(hook);
                    choice.category = value.category.clone();
                    choice.overrides = Some(value);
                    return choice;
                }
                HookOutcome::Failed { hook, error } => {
                    let fallback = fallback.unwrap_or_else(|| self.policy.default_category.clone());
                    let fits = self
                        .policy
                        .categories
                        .get(&fallback)
                        .is_some_and(|c| c.kind.as_str() == facts.kind);
                    if fits {
                        choice
                            .hook_failures
                            .push((hook.clone(), error, fallback.clone()));
                        choice.hook_id = Some(hook);
                        choice.category = fallback;
                        return choice;
                    }
                    // The rhai hook is the last classifier before the conditions.
                    let next = if label.is_empty() {
                        "the policy's category conditions"
                    } else {
                        "the policy's next classifier"
                    };
                    choice.hook_failures.push((hook, error, next.into()));
                }
                HookOutcome::NoHook | HookOutcome::NoOpinion => {}
            }
        }
        let result = self.classify(facts);
        choice.category = result.category;
        choice.matched = result.matched;
        choice.condition_error = result.error;
        choice
    }

    /// Run an event-source plug-in (hook point `events`) on a feed's text.
    pub fn plugin_events(
        &self,
        id: &str,
        input: &str,
    ) -> Result<Vec<crate::plugin::PluginEvent>, String> {
        if self.plugin_on(id) != Some(HookPoint::Events) {
            let known: Vec<&str> = self
                .plugins
                .iter()
                .map(|(p, _)| p.as_str())
                .filter(|p| self.plugin_on(p) == Some(HookPoint::Events))
                .collect();
            return Err(format!(
                "policy `{}` has no event-source plug-in `{id}`; it has: {}",
                self.policy.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        let Some((_, lock)) = self.plugins.iter().find(|(p, _)| p == id) else {
            return Err(format!("plug-in `{id}` is not loaded"));
        };
        let mut loaded = lock
            .lock()
            .map_err(|_| format!("plug-in `{id}` is unusable after an earlier failure"))?;
        loaded.events(input).map_err(|e| e.to_string())
    }

    fn plugin_on(&self, id: &str) -> Option<HookPoint> {
        self.policy.plugins.get(id).map(|p| p.on)
    }

    /// One classify plug-in's answer, checked like a hook's.
    fn plugin_classify(&self, id: &str, facts: &TicketFacts) -> HookOutcome<HookCategory> {
        let Some((_, lock)) = self.plugins.iter().find(|(p, _)| p == id) else {
            return HookOutcome::NoHook;
        };
        let result = match lock.lock() {
            Ok(mut loaded) => loaded.classify(facts),
            Err(_) => {
                return HookOutcome::Failed {
                    hook: id.into(),
                    error: format!("plug-in `{id}` is unusable after an earlier failure"),
                };
            }
        };
        match result {
            Ok(c) => match c.category {
                None => HookOutcome::NoOpinion,
                Some(category) => match self.policy.categories.get(&category) {
                    Some(cat) if cat.kind.as_str() == facts.kind => HookOutcome::Decided {
                        value: HookCategory {
                            category,
                            urgency: c.urgency,
                            major: c.major.then_some(true),
                            emergency: c.emergency.then_some(true),
                            class: c.class,
                        },
                        hook: id.into(),
                        line: None,
                    },
                    Some(cat) => HookOutcome::Failed {
                        hook: id.into(),
                        error: format!(
                            "plug-in `{id}` answered `{category}`, a {} category, for a {} ticket",
                            cat.kind.as_str(),
                            facts.kind
                        ),
                    },
                    None => HookOutcome::Failed {
                        hook: id.into(),
                        error: format!("plug-in `{id}` answered the unknown category `{category}`"),
                    },
                },
            },
            Err(e) => HookOutcome::Failed {
                hook: id.into(),
                error: e.to_string(),
            },
        }
    }

    fn hook_for(&self, on: HookPoint) -> Option<&CompiledHook> {
        self.hooks.iter().find(|h| h.on == on)
    }

    fn run<T>(
        &self,
        on: HookPoint,
        facts: &TicketFacts,
        limit: Option<&str>,
        read: impl Fn(&HookResult) -> Result<T, String>,
    ) -> HookOutcome<T> {
        let Some(hook) = self.hook_for(on) else {
            return HookOutcome::NoHook;
        };
        match hook.call(facts, limit) {
            Ok(None) => HookOutcome::NoOpinion,
            Ok(Some(result)) => match read(&result) {
                Ok(value) => HookOutcome::Decided {
                    value,
                    hook: hook.id.clone(),
                    line: result.line,
                },
                Err(message) => HookOutcome::Failed {
                    hook: hook.id.clone(),
                    error: hook.bad(message).to_string(),
                },
            },
            Err(e) => HookOutcome::Failed {
                hook: hook.id.clone(),
                error: e.to_string(),
            },
        }
    }

    pub fn hook_classify(&self, facts: &TicketFacts) -> HookOutcome<HookCategory> {
        self.run(HookPoint::Classify, facts, None, |r| {
            let category = get_str(&r.value, "category")?.ok_or("a result without `category`")?;
            match self.policy.categories.get(&category) {
                None => return Err(format!("unknown category `{category}`")),
                Some(c) if c.kind.as_str() != facts.kind => {
                    return Err(format!(
                        "category `{category}` of kind {} for a {} ticket",
                        c.kind.as_str(),
                        facts.kind
                    ));
                }
                Some(_) => {}
            }
            let class = match get_int(&r.value, "class")? {
                Some(n @ 1..=3) => Some(n as u8),
                Some(n) => return Err(format!("complaint class {n}; expected 1, 2 or 3")),
                None => None,
            };
            Ok(HookCategory {
                category,
                urgency: get_str(&r.value, "urgency")?,
                major: get_bool(&r.value, "major")?,
                emergency: get_bool(&r.value, "emergency")?,
                class,
            })
        })
    }

    pub fn hook_route(&self, facts: &TicketFacts) -> HookOutcome<HookRoute> {
        self.run(HookPoint::Route, facts, None, |r| {
            let department =
                get_str(&r.value, "department")?.ok_or("a result without `department`")?;
            if !self.policy.departments.contains_key(&department) {
                return Err(format!("unknown department `{department}`"));
            }
            let tier = get_str(&r.value, "tier")?.unwrap_or_else(|| "L2".into());
            if !matches!(tier.as_str(), "L1" | "L2" | "L3") {
                return Err(format!("unknown tier `{tier}`; expected L1, L2 or L3"));
            }
            let lead = get_str(&r.value, "lead")?;
            if let Some(l) = &lead
                && !self.policy.departments.contains_key(l)
            {
                return Err(format!("unknown lead department `{l}`"));
            }
            Ok(HookRoute {
                department,
                tier,
                lead,
            })
        })
    }

    /// `Decided(Some(reason))` refuses the close.
    pub fn hook_before_close(&self, facts: &TicketFacts) -> HookOutcome<Option<String>> {
        self.run(HookPoint::BeforeClose, facts, None, |r| {
            Ok(get_str(&r.value, "refuse")?.or(get_str(&r.value, "value")?))
        })
    }

    pub fn hook_deadline(&self, facts: &TicketFacts, limit: &str) -> HookOutcome<HookDeadline> {
        self.run(HookPoint::Deadline, facts, Some(limit), |r| {
            let text = get_str(&r.value, "within")?
                .or(get_str(&r.value, "at")?)
                .or(get_str(&r.value, "value")?)
                .ok_or("a result without `within` or `at`")?;
            if let Ok(span) = text.parse::<LimitDuration>() {
                return Ok(HookDeadline::Within(span));
            }
            DateTime::parse_from_rfc3339(&text)
                .map(|t| HookDeadline::At(t.with_timezone(&Utc)))
                .map_err(|_| {
                    format!("`{text}`, which is neither a duration like `4h` nor an RFC 3339 time")
                })
        })
    }
}
