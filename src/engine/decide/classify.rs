//! Classifying a ticket (hook, plug-ins, then the categories' conditions), its
//! route, and manual assignment (E1).

use super::*;
use crate::policy::hook_calls::CategoryChoice;

impl Run<'_> {
    pub(super) fn classify(
        &mut self,
        now: DateTime<Utc>,
        forced: Option<String>,
        class: Option<u8>,
        major: Option<bool>,
    ) -> Result<(), EngineError> {
        if let Some(c) = class {
            self.t.class = Some(c);
        }
        if let Some(m) = major {
            self.t.major = m;
        }
        let mut decided = Decided::default();
        let (category, matched) = match forced {
            Some(c) => (c, None),
            None => self.choose_category(now, &mut decided),
        };
        let Some(cat) = self.p.policy.categories.get(&category) else {
            return Err(EngineError::Invalid(format!(
                "policy `{}` has no category `{category}`",
                self.p.policy.id
            )));
        };
        let urgency_emergency =
            decided.urgency.as_deref().unwrap_or(&self.t.intake.urgency) == "emergency";
        let fact = Fact::Classified {
            category: category.clone(),
            class: decided.class.or(cat.class).or(class).or(self.t.class),
            emergency: decided
                .emergency
                .unwrap_or(cat.emergency || urgency_emergency),
            major: decided.major.unwrap_or(cat.major || self.t.major),
            route: cat.route.clone(),
            matched,
            hook: decided.hook.clone(),
        };
        let rule = decided.hook_id.clone().unwrap_or_else(|| category.clone());
        self.emit(now, fact, Some(&rule));
        self.route(now);
        self.sync_limits(now, "no longer applies after reclassification")
    }

    /// The classify hook decides first; without one, or when it has no opinion,
    /// the categories' conditions do. A failing hook falls back to its declared
    /// category; a failing condition to the policy default.
    pub(super) fn choose_category(
        &mut self,
        now: DateTime<Utc>,
        decided: &mut Decided,
    ) -> (String, Option<String>) {
        let choice = if self.p.has_hook(HookPoint::Classify) {
            self.p.choose_category(&self.facts())
        } else {
            // No hook or plug-in to ask: what `choose_category` would do, on the
            // facts in place.
            let facts = Facts::new(self.view(), self.p.keywords(), &self.hits);
            let c = self.p.classify_facts(&facts, &mut self.cache.borrow_mut());
            CategoryChoice {
                category: c.category,
                matched: c.matched,
                by_hook: None,
                hook_id: None,
                overrides: None,
                hook_failures: Vec::new(),
                condition_error: c.error,
            }
        };
        for (hook, error, fallback) in choice.hook_failures {
            self.hook_failed(now, hook, error, fallback);
        }
        if let Some(err) = choice.condition_error {
            let fact = Fact::ConditionFailed {
                error: err,
                fallback: choice.category.clone(),
            };
            self.emit(now, fact, Some(&choice.category));
        }
        decided.hook = choice.by_hook;
        decided.hook_id = choice.hook_id;
        if let Some(o) = choice.overrides {
            decided.urgency = o.urgency;
            decided.major = o.major;
            decided.emergency = o.emergency;
            decided.class = o.class;
        }
        (choice.category, choice.matched)
    }

    /// The route hook may dispatch the ticket (department, tier, lead); on failure
    /// the category's own route stands.
    pub(super) fn route(&mut self, now: DateTime<Utc>) {
        if !self.p.has_hook(HookPoint::Route) {
            return;
        }
        match self.p.hook_route(&self.facts()) {
            HookOutcome::Decided { value, hook, .. } => {
                let fact = Fact::Assigned {
                    department: value.department,
                    tier: value.tier,
                    lead: value.lead,
                };
                self.emit(now, fact, Some(&hook));
            }
            HookOutcome::Failed { hook, error } => {
                let fallback = format!(
                    "the category's route ({})",
                    self.t.department.as_deref().unwrap_or("none")
                );
                self.hook_failed(now, hook, error, fallback);
            }
            HookOutcome::NoHook | HookOutcome::NoOpinion => {}
        }
    }

    pub(super) fn assign(
        &mut self,
        now: DateTime<Utc>,
        department: &str,
        tier: &str,
        lead: Option<&str>,
    ) -> Result<(), EngineError> {
        let depts = &self.p.policy.departments;
        if !depts.contains_key(department) {
            return Err(EngineError::Invalid(format!(
                "unknown department `{department}`; known: {}",
                keys(depts)
            )));
        }
        if !matches!(tier, "L1" | "L2" | "L3") {
            return Err(EngineError::Invalid(format!(
                "unknown tier `{tier}`: expected L1, L2 or L3 (E1)"
            )));
        }
        if let Some(l) = lead
            && !depts.contains_key(l)
        {
            return Err(EngineError::Invalid(format!(
                "unknown lead department `{l}`"
            )));
        }
        if tier == "L3" && lead.is_none() {
            return Err(self.refuse("assign", "tier L3 needs a lead department (E1)"));
        }
        let fact = Fact::Assigned {
            department: department.into(),
            tier: tier.into(),
            lead: lead.map(str::to_string),
        };
        self.emit(now, fact, Some("E1"));
        self.act(now, Action::Assign.as_str(), "", "")
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{at, kinds, open, policy, run};
    use super::*;

    #[test]
    fn the_first_category_whose_condition_holds_wins() {
        let p = policy("vk-shanghai");
        let (t, ds) = open(&p, "repair", "卫生间天花板渗水");
        assert_eq!(t.category.as_deref(), Some("repair.leak"));
        let matched = ds.iter().find_map(|d| match &d.fact {
            Fact::Classified { matched, .. } => matched.clone(),
            _ => None,
        });
        assert!(matched.is_some_and(|m| m.contains("渗水")), "{ds:?}");
        assert!(!t.emergency);
    }

    #[test]
    fn the_classify_hook_decides_before_the_conditions() {
        let p = policy("vk-shanghai");
        let (t, ds) = open(&p, "repair", "3号楼电梯困人");
        assert_eq!(t.category.as_deref(), Some("repair.emergency"));
        assert!(t.emergency);
        let by_hook = ds.iter().any(|d| {
            matches!(&d.fact, Fact::Classified { hook: Some(h), .. } if h.starts_with("classify"))
        });
        assert!(by_hook, "{:?}", kinds(&ds));
        // The category's route dispatches the ticket (E1).
        assert_eq!(t.department.as_deref(), Some("engineering"));
    }

    #[test]
    fn no_matching_condition_falls_back_to_the_kinds_catch_all() {
        let p = policy("base");
        let (t, _) = open(&p, "suggestion", "希望增加绿化");
        assert_eq!(t.category.as_deref(), Some("suggestion.general"));
    }

    #[test]
    fn reclassifying_to_an_unknown_category_is_refused() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        let cmd = Command::Classify {
            category: Some("no.such".into()),
            class: None,
            major: None,
        };
        assert!(matches!(run(&p, &t, cmd, 1), Err(EngineError::Invalid(_))));
    }

    #[test]
    fn tier_l3_needs_a_lead_department() {
        let p = policy("base");
        let (t, _) = open(&p, "complaint", "噪音");
        let cmd = |lead: Option<&str>| Command::Assign {
            department: "engineering".into(),
            tier: "L3".into(),
            lead: lead.map(str::to_string),
        };
        assert!(matches!(
            run(&p, &t, cmd(None), 1),
            Err(EngineError::Refused { .. })
        ));
        let (t, ds) = run(&p, &t, cmd(Some("project")), 1).expect("assigned");
        assert_eq!(t.department.as_deref(), Some("engineering"));
        assert_eq!(ds.first().map(|d| d.at), Some(at(1)));
        assert_eq!(kinds(&ds).first().map(String::as_str), Some("assigned:E1"));
    }
}
