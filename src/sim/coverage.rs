//! Rule coverage: which rule ids a policy cites (`rules = [...]` on its categories,
//! milestones, limits, revisits, pauses and sections), and which of them a run
//! exercised — a decision made under a rule exercises the ids that rule cites, and a
//! scenario step or expectation may claim ids with its own `rules = [...]`.

use std::collections::BTreeSet;

use crate::engine::{Decision, Fact};
use crate::policy::Policy;

/// Rule ids in the form of docs/domain.md: capital letters then digits (`L4`, `V3`, `K1`).
/// Other citations (a seed document number like `004`) are not rule ids.
pub fn is_rule_id(s: &str) -> bool {
    let letters = s.chars().take_while(char::is_ascii_uppercase).count();
    letters > 0 && s.len() > letters && s[letters..].chars().all(|c| c.is_ascii_digit())
}

/// Every rule id the policy cites, sorted.
pub fn cited(p: &Policy) -> BTreeSet<String> {
    let mut all: Vec<&String> = Vec::new();
    all.extend(p.categories.values().flat_map(|c| &c.rules));
    all.extend(p.milestones.values().flat_map(|m| &m.rules));
    all.extend(p.limits.values().flat_map(|l| &l.rules));
    all.extend(p.revisits.values().flat_map(|r| &r.rules));
    all.extend(p.pauses.values().flat_map(|r| &r.rules));
    all.extend(&p.escalation.rules);
    all.extend(&p.reopen.rules);
    all.extend(&p.closing.rules);
    all.extend(&p.compensation.rules);
    all.into_iter().filter(|r| is_rule_id(r)).cloned().collect()
}

/// The rule ids one decision exercises under `p`.
pub fn exercised(p: &Policy, d: &Decision) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(rule) = &d.rule {
        let cites = p
            .limits
            .get(rule)
            .map(|l| &l.rules)
            .or_else(|| p.categories.get(rule).map(|c| &c.rules))
            .or_else(|| p.revisits.get(rule).map(|r| &r.rules))
            .or_else(|| p.pauses.get(rule).map(|r| &r.rules));
        if let Some(c) = cites {
            out.extend(c.iter().cloned());
        }
        out.push(rule.clone());
    }
    match &d.fact {
        Fact::MilestoneReached { milestone } => {
            if let Some(m) = p.milestones.get(milestone) {
                out.extend(m.rules.iter().cloned());
            }
        }
        Fact::Escalated { .. } => out.extend(p.escalation.rules.iter().cloned()),
        Fact::Reopened { .. } => out.extend(p.reopen.rules.iter().cloned()),
        Fact::Closed { .. } => out.extend(p.closing.rules.iter().cloned()),
        Fact::CompensationClaimed { .. } => out.extend(p.compensation.rules.iter().cloned()),
        _ => {}
    }
    out.retain(|r| is_rule_id(r));
    out
}

/// The coverage of a policy by a set of runs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Coverage {
    pub cited: Vec<String>,
    /// Cited and exercised by a decision.
    pub fired: Vec<String>,
    /// Cited, claimed by a step or expectation, but never made a decision.
    pub claimed_only: Vec<String>,
    pub uncovered: Vec<String>,
    /// Claimed ids the policy does not cite (typos, or rules of another policy).
    pub unknown_claims: Vec<String>,
}

impl Coverage {
    pub fn new(
        cited: &BTreeSet<String>,
        fired: &BTreeSet<String>,
        claimed: &BTreeSet<String>,
    ) -> Coverage {
        let pick = |f: &dyn Fn(&String) -> bool| cited.iter().filter(|r| f(r)).cloned().collect();
        Coverage {
            cited: cited.iter().cloned().collect(),
            fired: pick(&|r| fired.contains(r)),
            claimed_only: pick(&|r| !fired.contains(r) && claimed.contains(r)),
            uncovered: pick(&|r| !fired.contains(r) && !claimed.contains(r)),
            unknown_claims: claimed.difference(cited).cloned().collect(),
        }
    }

    pub fn covered(&self) -> usize {
        self.cited.len() - self.uncovered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_look_like_domain_ids() {
        for ok in ["L4", "V3", "K1", "D7", "E3"] {
            assert!(is_rule_id(ok), "{ok}");
        }
        for no in ["004", "L", "l4", "L4.x", "", "repair.leak"] {
            assert!(!is_rule_id(no), "{no}");
        }
    }
}
