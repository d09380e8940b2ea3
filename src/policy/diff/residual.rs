//! The safety net under the section-by-section diff: any difference in the
//! canonical forms that no section reported becomes an `unknown` change at its
//! JSON path. So two policies with different fingerprints never diff to "no
//! semantic changes", even when a field is added to the model and not (yet) to
//! the diff code.

use serde_json::Value;

use super::{At, ChangeKind, Effect, Out};
use crate::policy::model::Policy;

/// The section name a top-level canonical key's changes are reported under, and
/// whether the key holds rules by id (so the second path element is the id).
fn section(key: &str) -> (&'static str, bool) {
    match key {
        "calendars" => ("calendar", true),
        "departments" => ("department", true),
        "roles" => ("role", true),
        "categories" => ("category", true),
        "milestones" => ("milestone", true),
        "limits" => ("limit", true),
        "pauses" => ("pause", true),
        "revisits" => ("revisit", true),
        "hooks" => ("hook", true),
        "plugins" => ("plugin", true),
        "events" => ("event", true),
        "escalation" => ("escalation", false),
        "reopen" => ("reopen", false),
        "closing" => ("closing", false),
        "compensation" => ("compensation", false),
        "ordering" => ("ordering", false),
        _ => ("policy", false),
    }
}

pub(super) fn add_unreported(out: &mut Out, a: &Policy, b: &Policy) {
    let (Ok(va), Ok(vb)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return;
    };
    let mut paths = Vec::new();
    leaves(&va, &vb, &mut Vec::new(), &mut paths);
    for (path, old, new) in paths {
        let Some(top) = path.first() else { continue };
        let (name, by_id) = section(top);
        let (id, rest) = if by_id && path.len() > 1 {
            (path[1].clone(), &path[2..])
        } else if name == "policy" {
            (String::new(), &path[..])
        } else {
            (String::new(), &path[1..])
        };
        // Singleton sections report under ids of their own (ladder steps), so
        // any change in one covers it.
        let reported = out
            .changes
            .iter()
            .any(|c| c.section == name && (!by_id || c.id == id));
        if reported {
            continue;
        }
        let field = if rest.is_empty() {
            None
        } else {
            Some(rest.join("."))
        };
        let kind = match (&old, &new) {
            (None, _) => ChangeKind::Added,
            (_, None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        out.push(
            &At::new(name, &id),
            kind,
            field.as_deref(),
            old.map(|v| v.to_string()),
            new.map(|v| v.to_string()),
            Effect::Unknown,
        );
    }
}

/// The differing values between two JSON trees, at the deepest path where they
/// still have the same shape.
fn leaves(
    a: &Value,
    b: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<Value>, Option<Value>)>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                path.push(k.clone());
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => leaves(x, y, path, out),
                    (x, y) => out.push((path.clone(), x.cloned(), y.cloned())),
                }
                path.pop();
            }
        }
        _ => out.push((path.clone(), Some(a.clone()), Some(b.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let toml = include_str!("../../../policies/base/policy.toml");
        let mut files = crate::policy::files::MemFiles::default();
        files.insert("base/policy.toml", toml);
        match crate::policy::load_with(&files, std::path::Path::new("base")) {
            Ok(l) => l.policy,
            Err(f) => panic!("base loads: {:?}", f.diagnostics),
        }
    }

    #[test]
    fn a_difference_no_section_reported_becomes_an_unknown_change_at_its_path() {
        let a = policy();
        let mut b = a.clone();
        b.title.push('!');
        let (id, limit) = b
            .limits
            .iter_mut()
            .next()
            .map(|(k, v)| (k.clone(), v))
            .unwrap();
        limit.label.push('!');
        let mut out = Out::default();
        add_unreported(&mut out, &a, &b);
        let title = out.changes.iter().find(|c| c.section == "policy").unwrap();
        assert_eq!(title.field.as_deref(), Some("title"));
        assert_eq!(title.effect, Effect::Unknown);
        let label = out.changes.iter().find(|c| c.section == "limit").unwrap();
        assert_eq!(
            (label.id.as_str(), label.field.as_deref()),
            (id.as_str(), Some("label"))
        );
    }

    #[test]
    fn a_rule_the_sections_reported_is_not_reported_twice() {
        let a = policy();
        let mut b = a.clone();
        if let Some(l) = b.limits.values_mut().next() {
            l.label.push('!');
        }
        let mut out = Out::default();
        super::super::sections::all(&mut out, &a, &b);
        let reported = out.changes.len();
        assert!(reported > 0);
        add_unreported(&mut out, &a, &b);
        assert_eq!(out.changes.len(), reported);
    }
}
