//! The sections a policy declares its own vocabulary in: the steps of its
//! procedure (`[[action]]`) and the values intake may name (`[[channel]]`,
//! `[[urgency]]`).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, did_you_mean};

use super::super::model::{Action, ActionDef, Labelled};
use super::super::reader::Reader;
use super::Builder;

/// A step id becomes a CLI argument and a log entry: keep it to what a shell and
/// a reader take without quoting.
fn is_step_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Builder<'_> {
    pub(super) fn actions(&mut self, top: &Reader) -> BTreeMap<String, ActionDef> {
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "action", &["id", "label", "by", "rules"]) {
            let loc = r.loc_of("id");
            if Action::parse(&id).is_some() {
                self.ctx.push(
                    Diagnostic::error(loc, format!("`{id}` is a built-in action"))
                        .with_help("a milestone names it in `reached_by` without declaring it; give a new step another id"),
                );
                continue;
            }
            if !is_step_id(&id) {
                self.ctx.push(
                    Diagnostic::error(loc, format!("bad action id `{id}`"))
                        .with_help("use lowercase letters, digits and `_`, starting with a letter (e.g. `contact_experts`)"),
                );
                continue;
            }
            let def = ActionDef {
                label: r.string_or(self.ctx, "label", &id),
                by: r.opt_str(self.ctx, "by").map(|v| v.0),
                rules: self.rule_ids(&r),
            };
            out.insert(id, def);
        }
        out
    }

    /// `[[channel]]` or `[[urgency]]`: ids with a label and the rules citing them.
    pub(super) fn values(&mut self, top: &Reader, section: &str) -> BTreeMap<String, Labelled> {
        self.rules(top, section, &["id", "label", "rules"])
            .into_iter()
            .map(|(id, r)| {
                let label = r.string_or(self.ctx, "label", &id);
                let rules = self.rule_ids(&r);
                (id, Labelled { label, rules })
            })
            .collect()
    }

    /// `reached_by`: built-in actions and the policy's declared steps.
    pub(super) fn reached_by(
        &mut self,
        r: &Reader,
        declared: &BTreeMap<String, ActionDef>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (a, loc) in r.str_list(self.ctx, "reached_by") {
            if Action::parse(&a).is_some() || declared.contains_key(&a) {
                out.push(a);
                continue;
            }
            let known: Vec<&str> = Action::ALL
                .iter()
                .copied()
                .chain(declared.keys().map(String::as_str))
                .collect();
            let d = Diagnostic::error(loc, format!("unknown action `{a}`"));
            self.ctx
                .push(match did_you_mean(&a, known.iter().copied()) {
                    Some(s) => d.with_help(format!(
                        "did you mean `{s}`? (a new step is declared in an `[[action]]` table)"
                    )),
                    None => d.with_help(format!(
                        "expected one of: {}; or declare a step in an `[[action]]` table",
                        known.join(", ")
                    )),
                });
        }
        out
    }
}
