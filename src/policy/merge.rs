//! Combining raw trees: the files of one policy directory (a split is not a change:
//! tables merge key by key, rule arrays concatenate), and an overlay on the policy it
//! `extends`:
//! - a table overlays key by key, recursively;
//! - an array of tables that carry `id` (rules) overlays by id: a known id has the
//!   given fields replaced and keeps the rest, a new id is added;
//! - any other value is replaced whole;
//! - `remove = ["limit.L5", "escalation.ladder.leadership"]` deletes a rule by id
//!   from what the overlay inherits.

use crate::diagnostic::Diagnostic;

use super::raw::{Entry, Node, Table, Val};

/// Merge the files of one policy directory.
pub fn merge_files(parts: Vec<Table>, diags: &mut Vec<Diagnostic>) -> Table {
    let mut out = Table::default();
    for part in parts {
        for entry in part.entries {
            merge_file_entry(&mut out, entry, diags);
        }
    }
    out
}

fn merge_file_entry(into: &mut Table, entry: Entry, diags: &mut Vec<Diagnostic>) {
    let Some(existing) = into.get_mut(&entry.key) else {
        into.entries.push(entry);
        return;
    };
    match (&mut existing.node.val, entry.node.val) {
        (Val::Table(a), Val::Table(b)) => {
            for e in b.entries {
                merge_file_entry(a, e, diags);
            }
        }
        (Val::Array(a), Val::Array(b)) if is_table_array(a) && is_table_array(&b) => {
            a.extend(b);
        }
        _ => diags.push(
            Diagnostic::error(
                entry.key_loc,
                format!("key `{}` is defined twice", entry.key),
            )
            .with_help("each setting may appear in only one file of a policy"),
        ),
    }
}

fn is_table_array(items: &[Node]) -> bool {
    items.iter().all(|n| matches!(n.val, Val::Table(_)))
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

/// Overlay `child` on `parent` (both already merged from their files).
pub fn overlay(mut parent: Table, mut child: Table, diags: &mut Vec<Diagnostic>) -> Table {
    if let Some(remove) = child.remove("remove") {
        apply_removals(&mut parent, remove, diags);
    }
    for entry in child.entries {
        overlay_entry(&mut parent, entry, diags);
    }
    parent
}

fn overlay_entry(into: &mut Table, entry: Entry, diags: &mut Vec<Diagnostic>) {
    let Some(existing) = into.get_mut(&entry.key) else {
        into.entries.push(entry);
        return;
    };
    match (&mut existing.node.val, entry.node.val) {
        (Val::Table(a), Val::Table(b)) => {
            for e in b.entries {
                overlay_entry(a, e, diags);
            }
        }
        (Val::Array(a), Val::Array(b))
            if a.iter().all(|n| id_of(n).is_some()) && b.iter().all(|n| id_of(n).is_some()) =>
        {
            // Ids the overlay itself uses: a second use is a duplicate (say, the same
            // rule in two files of the overlay), not a second change to the same rule.
            let mut seen: Vec<String> = Vec::new();
            for item in b {
                let id = id_of(&item).map(str::to_string).unwrap_or_default();
                if seen.contains(&id) {
                    diags.push(
                        Diagnostic::error(id_loc(&item), format!("duplicate {} id `{id}`", entry.key))
                            .with_help("ids must be unique within a policy; an overlay changes a rule by reusing its id in the policy that `extends`"),
                    );
                    continue;
                }
                match a.iter_mut().find(|n| id_of(n) == Some(id.as_str())) {
                    Some(target) => overlay_rule(target, item, diags),
                    None => a.push(item),
                }
                seen.push(id);
            }
        }
        (_, val) => {
            existing.node = Node {
                val,
                loc: entry.node.loc,
            };
            existing.key_loc = entry.key_loc;
        }
    }
}

fn overlay_rule(target: &mut Node, item: Node, diags: &mut Vec<Diagnostic>) {
    if let (Val::Table(a), Val::Table(b)) = (&mut target.val, item.val) {
        for e in b.entries {
            overlay_entry(a, e, diags);
        }
    }
}

/// Where a rule's `id` value is written, or the rule itself.
fn id_loc(node: &Node) -> crate::diagnostic::Loc {
    match &node.val {
        Val::Table(t) => t.get("id").map(|e| e.node.loc).unwrap_or(node.loc),
        _ => node.loc,
    }
}

fn apply_removals(parent: &mut Table, remove: Entry, diags: &mut Vec<Diagnostic>) {
    let Val::Array(items) = remove.node.val else {
        diags.push(
            Diagnostic::error(remove.node.loc, "`remove` must be an array of rule paths")
                .with_help("e.g. remove = [\"limit.L5\", \"revisit.V4\"]"),
        );
        return;
    };
    for item in items {
        let Val::Str(path) = &item.val else {
            diags.push(Diagnostic::error(
                item.loc,
                "expected a rule path like `limit.L5`",
            ));
            continue;
        };
        if !remove_path(parent, path) {
            diags.push(
                Diagnostic::error(
                    item.loc,
                    format!("cannot remove `{path}`: the inherited policy has no such rule"),
                )
                .with_help("a path names a section and a rule id, e.g. `limit.L5`"),
            );
        }
    }
}

/// Rule ids may contain dots (`limit.L2.inquiry`), so every split of the path into
/// a section and an id is tried, the shortest section first.
fn remove_path(table: &mut Table, path: &str) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    (1..parts.len()).any(|i| remove_rule(table, &parts[..i], &parts[i..].join(".")))
}

fn remove_rule(table: &mut Table, sections: &[&str], id: &str) -> bool {
    let mut current = table;
    for (i, key) in sections.iter().enumerate() {
        let Some(entry) = current.get_mut(key) else {
            return false;
        };
        if i + 1 == sections.len() {
            return match &mut entry.node.val {
                Val::Array(items) => {
                    let before = items.len();
                    items.retain(|n| id_of(n) != Some(id));
                    items.len() != before
                }
                Val::Table(t) => t.remove(id).is_some(),
                _ => false,
            };
        }
        match &mut entry.node.val {
            Val::Table(t) => current = t,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::FileId;
    use crate::policy::raw::parse;

    fn t(text: &str, f: u32) -> Table {
        parse(FileId(f), text).unwrap().0
    }

    fn get_str<'a>(table: &'a Table, path: &[&str]) -> Option<&'a str> {
        let (last, rest) = path.split_last()?;
        let mut cur = table;
        for k in rest {
            match &cur.get(k)?.node.val {
                Val::Table(inner) => cur = inner,
                _ => return None,
            }
        }
        match &cur.get(last)?.node.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn overlay_replaces_fields_by_id_and_keeps_the_rest() {
        let parent = t(
            "[[limit]]\nid = \"L4\"\nwithin = \"2h\"\nmilestone = \"report\"\n[[limit]]\nid = \"L5\"\nwithin = \"4h\"\n",
            0,
        );
        let child = t(
            "[[limit]]\nid = \"L4\"\nwithin = \"4h\"\n[[limit]]\nid = \"L9\"\nwithin = \"1h\"\n",
            1,
        );
        let mut diags = vec![];
        let out = overlay(parent, child, &mut diags);
        assert!(diags.is_empty());
        let Val::Array(limits) = &out.get("limit").unwrap().node.val else {
            panic!()
        };
        assert_eq!(limits.len(), 3);
        let Val::Table(l4) = &limits[0].val else {
            panic!()
        };
        assert_eq!(get_str(l4, &["within"]), Some("4h"));
        assert_eq!(get_str(l4, &["milestone"]), Some("report"));
        assert_eq!(
            limits[0].loc.file,
            FileId(0),
            "the rule keeps its parent location"
        );
        assert_eq!(l4.get("within").unwrap().node.loc.file, FileId(1));
    }

    #[test]
    fn remove_deletes_by_id_and_reports_unknown_ids() {
        let parent = t("[[limit]]\nid = \"L4\"\n[[limit]]\nid = \"L5\"\n", 0);
        let child = t("remove = [\"limit.L5\", \"limit.L7\"]\n", 1);
        let mut diags = vec![];
        let out = overlay(parent, child, &mut diags);
        let Val::Array(limits) = &out.get("limit").unwrap().node.val else {
            panic!()
        };
        assert_eq!(limits.len(), 1);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("`limit.L7`"));
    }

    #[test]
    fn remove_accepts_ids_with_dots_and_nested_sections() {
        let parent = t(
            "[[limit]]\nid = \"L2.inquiry\"\n[[limit]]\nid = \"L2\"\n[escalation]\n[[escalation.ladder]]\nid = \"a\"\n[[escalation.ladder]]\nid = \"b\"\n",
            0,
        );
        let child = t(
            "remove = [\"limit.L2.inquiry\", \"escalation.ladder.b\"]\n",
            1,
        );
        let mut diags = vec![];
        let out = overlay(parent, child, &mut diags);
        assert!(
            diags.is_empty(),
            "{:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let Val::Array(limits) = &out.get("limit").unwrap().node.val else {
            panic!()
        };
        assert_eq!(limits.iter().map(id_of).collect::<Vec<_>>(), [Some("L2")]);
    }

    #[test]
    fn a_rule_twice_in_an_overlay_is_a_duplicate() {
        let parent = t("[[limit]]\nid = \"L4\"\nwithin = \"2h\"\n", 0);
        let child = t(
            "[[limit]]\nid = \"L4\"\nwithin = \"4h\"\n[[limit]]\nid = \"L4\"\nwithin = \"8h\"\n",
            1,
        );
        let mut diags = vec![];
        let out = overlay(parent, child, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "duplicate limit id `L4`");
        let Val::Array(limits) = &out.get("limit").unwrap().node.val else {
            panic!()
        };
        let Val::Table(l4) = &limits[0].val else {
            panic!()
        };
        assert_eq!(get_str(l4, &["within"]), Some("4h"));
    }

    #[test]
    fn file_split_concatenates_rules_and_rejects_duplicate_keys() {
        let a = t("[policy]\nid = \"x\"\n[[limit]]\nid = \"L1\"\n", 0);
        let b = t("[policy]\nversion = \"1\"\n[[limit]]\nid = \"L2\"\n", 1);
        let mut diags = vec![];
        let out = merge_files(vec![a, b], &mut diags);
        assert!(diags.is_empty());
        assert_eq!(get_str(&out, &["policy", "version"]), Some("1"));
        let c = t("[policy]\nid = \"y\"\n", 2);
        merge_files(vec![out, c], &mut diags);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("defined twice"));
    }
}
