//! Typed reading of a raw table with every problem collected: missing keys, wrong
//! types, unknown keys (with "did you mean"). Section builders use it so that each
//! one reads like its schema.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Loc, did_you_mean};

use super::raw::{Entry, Node, Table, Val};

/// Locations of values in the resolved policy, keyed like `limit.L4.milestone`, so
/// that checks made after building can point at what the user wrote.
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    map: HashMap<String, Loc>,
}

impl SpanIndex {
    pub fn insert(&mut self, key: String, loc: Loc) {
        self.map.insert(key, loc);
    }

    pub fn get(&self, key: &str) -> Option<Loc> {
        self.map.get(key).copied()
    }
}

pub struct Ctx {
    pub diags: Vec<Diagnostic>,
    pub spans: SpanIndex,
    /// Overlay rules whose id is close to an inherited one (see `overlay_hints`).
    pub hints: Vec<super::overlay_hints::OverlayHint>,
}

impl Ctx {
    pub fn error(&mut self, loc: impl Into<Option<Loc>>, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(loc, message));
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// One table being read. `path` names it in messages (`[[limit]] L4`) and prefixes
/// its span keys (`limit.L4`).
pub struct Reader<'t> {
    pub table: &'t Table,
    pub loc: Loc,
    pub what: String,
    pub path: String,
    allowed: &'static [&'static str],
}

impl<'t> Reader<'t> {
    pub fn new(
        table: &'t Table,
        loc: Loc,
        what: impl Into<String>,
        path: impl Into<String>,
        allowed: &'static [&'static str],
    ) -> Reader<'t> {
        Reader {
            table,
            loc,
            what: what.into(),
            path: path.into(),
            allowed,
        }
    }

    /// Report every key the schema does not know.
    pub fn check_keys(&self, ctx: &mut Ctx) {
        for entry in &self.table.entries {
            if !self.allowed.contains(&entry.key.as_str()) {
                let mut d = Diagnostic::error(
                    entry.key_loc,
                    format!("unknown key `{}` in {}", entry.key, self.what),
                );
                d = match did_you_mean(&entry.key, self.allowed.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("expected one of: {}", self.allowed.join(", "))),
                };
                ctx.push(d);
            }
        }
    }

    pub fn entry(&self, key: &str) -> Option<&'t Entry> {
        self.table.get(key)
    }

    pub fn loc_of(&self, key: &str) -> Loc {
        self.entry(key).map(|e| e.node.loc).unwrap_or(self.loc)
    }

    fn record(&self, ctx: &mut Ctx, key: &str, loc: Loc) {
        ctx.spans.insert(format!("{}.{key}", self.path), loc);
    }

    fn type_error(&self, ctx: &mut Ctx, key: &str, node: &Node, expected: &str) {
        ctx.error(
            node.loc,
            format!(
                "`{key}` in {} must be {expected}, found {}",
                self.what,
                node.val.type_name()
            ),
        );
    }

    pub fn missing(&self, ctx: &mut Ctx, key: &str, expected: &str) {
        ctx.push(
            Diagnostic::error(self.loc, format!("{} is missing `{key}`", self.what))
                .with_help(format!("add `{key} = {expected}`")),
        );
    }

    pub fn opt_str(&self, ctx: &mut Ctx, key: &str) -> Option<(String, Loc)> {
        let entry = self.entry(key)?;
        self.record(ctx, key, entry.node.loc);
        match &entry.node.val {
            Val::Str(s) => Some((s.clone(), entry.node.loc)),
            _ => {
                self.type_error(ctx, key, &entry.node, "a string");
                None
            }
        }
    }

    pub fn req_str(&self, ctx: &mut Ctx, key: &str, example: &str) -> Option<(String, Loc)> {
        if self.entry(key).is_none() {
            self.missing(ctx, key, example);
            return None;
        }
        self.opt_str(ctx, key)
    }

    pub fn string_or(&self, ctx: &mut Ctx, key: &str, default: &str) -> String {
        self.opt_str(ctx, key)
            .map(|(s, _)| s)
            .unwrap_or_else(|| default.to_string())
    }

    pub fn bool_or(&self, ctx: &mut Ctx, key: &str, default: bool) -> bool {
        let Some(entry) = self.entry(key) else {
            return default;
        };
        match entry.node.val {
            Val::Bool(b) => b,
            _ => {
                self.type_error(ctx, key, &entry.node, "true or false");
                default
            }
        }
    }

    pub fn opt_int(&self, ctx: &mut Ctx, key: &str) -> Option<(i64, Loc)> {
        let entry = self.entry(key)?;
        self.record(ctx, key, entry.node.loc);
        match entry.node.val {
            Val::Int(n) => Some((n, entry.node.loc)),
            _ => {
                self.type_error(ctx, key, &entry.node, "an integer");
                None
            }
        }
    }

    /// A list of strings; a single string is accepted as a list of one.
    pub fn str_list(&self, ctx: &mut Ctx, key: &str) -> Vec<(String, Loc)> {
        let Some(entry) = self.entry(key) else {
            return Vec::new();
        };
        self.record(ctx, key, entry.node.loc);
        match &entry.node.val {
            Val::Str(s) => vec![(s.clone(), entry.node.loc)],
            Val::Array(items) => items
                .iter()
                .filter_map(|n| match &n.val {
                    Val::Str(s) => {
                        // Each item too, so a check can point at the one name it rejects.
                        self.record(ctx, &format!("{key}[{s}]"), n.loc);
                        Some((s.clone(), n.loc))
                    }
                    _ => {
                        self.type_error(ctx, key, n, "a list of strings");
                        None
                    }
                })
                .collect(),
            _ => {
                self.type_error(ctx, key, &entry.node, "a list of strings");
                Vec::new()
            }
        }
    }

    /// [`Reader::str_list`] without the locations.
    pub fn strings(&self, ctx: &mut Ctx, key: &str) -> Vec<String> {
        self.str_list(ctx, key).into_iter().map(|v| v.0).collect()
    }

    /// The tables of an array of tables (or a single inline table).
    pub fn tables(&self, ctx: &mut Ctx, key: &str) -> Vec<(&'t Table, Loc)> {
        let Some(entry) = self.entry(key) else {
            return Vec::new();
        };
        tables_of(ctx, &entry.node, key, &self.what)
    }

    pub fn table(&self, ctx: &mut Ctx, key: &str) -> Option<(&'t Table, Loc)> {
        let entry = self.entry(key)?;
        match &entry.node.val {
            Val::Table(t) => Some((t, entry.node.loc)),
            _ => {
                self.type_error(ctx, key, &entry.node, "a table");
                None
            }
        }
    }
}

pub fn tables_of<'t>(
    ctx: &mut Ctx,
    node: &'t Node,
    key: &str,
    what: &str,
) -> Vec<(&'t Table, Loc)> {
    match &node.val {
        Val::Table(t) => vec![(t, node.loc)],
        Val::Array(items) => items
            .iter()
            .filter_map(|n| match &n.val {
                Val::Table(t) => Some((t, n.loc)),
                _ => {
                    ctx.error(
                        n.loc,
                        format!(
                            "`{key}` in {what} must hold tables, found {}",
                            n.val.type_name()
                        ),
                    );
                    None
                }
            })
            .collect(),
        _ => {
            ctx.error(
                node.loc,
                format!(
                    "`{key}` in {what} must be a table or array of tables, found {}",
                    node.val.type_name()
                ),
            );
            Vec::new()
        }
    }
}
