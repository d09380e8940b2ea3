//! An overlay changes an inherited rule by reusing its id; a mistyped id
//! (`L4x` for `L4`) adds a new rule instead, which then fails for the keys only a
//! complete rule has ("is missing `milestone`"). Before overlaying, each new id
//! with a close inherited one is noted, and a "missing" error on that rule gets a
//! did-you-mean to the inherited id.

use crate::diagnostic::{Diagnostic, Loc, did_you_mean};

use super::raw::{Node, Table, Val};

/// A rule of an overlay whose id matches no inherited rule but is close to one.
#[derive(Debug, Clone)]
pub struct OverlayHint {
    /// The overlay's rule table, where "missing" errors point.
    rule: Loc,
    section: String,
    id: String,
    closest: String,
}

fn id_of(node: &Node) -> Option<&str> {
    match &node.val {
        Val::Table(t) => match &t.get("id")?.node.val {
            Val::Str(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// New ids of `child` close to an id of the same section in `parent`.
pub fn find(parent: &Table, child: &Table) -> Vec<OverlayHint> {
    let mut out = Vec::new();
    for entry in &child.entries {
        let (Val::Array(items), Some(inherited)) = (&entry.node.val, parent.get(&entry.key)) else {
            continue;
        };
        let Val::Array(old) = &inherited.node.val else {
            continue;
        };
        let ids: Vec<&str> = old.iter().filter_map(id_of).collect();
        for item in items {
            let Some(id) = id_of(item) else { continue };
            if ids.contains(&id) {
                continue;
            }
            if let Some(closest) = did_you_mean(id, ids.iter().copied()) {
                out.push(OverlayHint {
                    rule: item.loc,
                    section: entry.key.clone(),
                    id: id.to_string(),
                    closest: closest.to_string(),
                });
            }
        }
    }
    out
}

/// Point "missing key" errors on a hinted rule at the inherited id.
pub fn apply(hints: &[OverlayHint], diags: &mut [Diagnostic]) {
    for d in diags.iter_mut() {
        let Some(h) = hints.iter().find(|h| d.loc == Some(h.rule)) else {
            continue;
        };
        if d.message.contains(" is missing `") {
            // A new rule may be meant: keep what it would need, then the id it may
            // have been meant to change.
            let meant = format!(
                "no inherited {} has the id `{}` — to change one, reuse its id: did you mean `{}`?",
                h.section, h.id, h.closest
            );
            d.help = Some(match d.help.take() {
                Some(add) => format!("{add}; or, {meant}"),
                None => meant,
            });
        }
    }
}
