//! `[[event]]`: the external event kinds a policy declares, which `steward event
//! KIND` records and revisit steps (`on_event`) wait for.

use std::collections::BTreeMap;

use super::super::model::EventKind;
use super::super::reader::Reader;
use super::Builder;

impl Builder<'_> {
    pub(super) fn events(&mut self, top: &Reader) -> BTreeMap<String, EventKind> {
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "event", &["id", "label", "rules"]) {
            if !is_event_name(&id) {
                self.ctx.error(
                    r.loc_of("id"),
                    format!("bad event kind `{id}`: use lowercase letters, digits and `_`, starting with a letter"),
                );
                continue;
            }
            let kind = EventKind {
                label: r.string_or(self.ctx, "label", &id),
                rules: self.rule_ids(&r),
            };
            out.insert(id, kind);
        }
        out
    }
}

/// Event kinds are command words (`steward event typhoon_warning`), so they keep to
/// what a shell and a URL take without quoting.
pub fn is_event_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
