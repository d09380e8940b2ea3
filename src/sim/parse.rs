//! Reading scenario files: the project's spanned TOML reader, so every mistake —
//! bad TOML, an unknown key, a wrong type, a bad time, a step with two actions — is
//! reported with file, line and column, all of them at once.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::diagnostic::{Diagnostic, FileId, Loc, SourceMap};
use crate::engine::{Command, OpenTicket};
use crate::policy::model::Action;
use crate::policy::raw::{self, Node, Table, Val};
use crate::policy::reader::{Ctx, Reader, SpanIndex};

use super::scenario::{Check, Expect, Scenario, Step, StepAction};
use super::time;

mod actions;
use actions::action;

/// A scenario file that could not be read: its diagnostics and the text they point into.
#[derive(Debug)]
pub struct ScenarioError {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    pub fn render(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.sources))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

const TOP: &[&str] = &["scenario", "step", "expect"];
const HEAD: &[&str] = &["name", "policy", "start", "estate_policies", "description"];
const ACTIONS: &[&str] = &[
    "open",
    "classify",
    "respond",
    "plan",
    "report",
    "expert_reply",
    "update",
    "notice",
    "assign",
    "pause",
    "resume",
    "resolve",
    "revisit",
    "close",
    "reopen",
    "compensation",
    "waive",
    "act",
    "deadline",
    "event",
    "rain",
    "tick",
];
const STEP: &[&str] = &[
    "at",
    "rules",
    "expect_error",
    "note",
    "open",
    "classify",
    "respond",
    "plan",
    "report",
    "expert_reply",
    "update",
    "notice",
    "assign",
    "pause",
    "resume",
    "resolve",
    "revisit",
    "close",
    "reopen",
    "compensation",
    "waive",
    "act",
    "deadline",
    "event",
    "rain",
    "tick",
];
const EXPECT: &[&str] = &[
    "at",
    "ticket",
    "rules",
    "note",
    "status",
    "category",
    "department",
    "ladder",
    "breached",
    "notified",
    "not_notified",
    "revisits_due",
    "revisits",
    "clocks",
    "deadlines",
    "escalations",
    "paused_minutes",
    "reopened",
];
const OPEN: &[&str] = &[
    "ref", "id", "estate", "unit", "owner", "channel", "kind", "text", "urgency", "major", "phase",
    "tags", "class",
];

/// Read and check one scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let mut sources = SourceMap::default();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                let f = sources.add(path, String::new());
                return Err(fail(sources, f, "the file is not UTF-8 text"));
            }
        },
        Err(e) => {
            let f = sources.add(path, String::new());
            return Err(fail(sources, f, &format!("cannot read the file: {e}")));
        }
    };
    parse(path, text)
}

fn fail(sources: SourceMap, f: FileId, message: &str) -> ScenarioError {
    ScenarioError {
        sources,
        diagnostics: vec![Diagnostic::error(Loc::new(f, 0..0), message.to_string())],
    }
}

/// Parse scenario text; `path` names it in messages and anchors relative policy paths.
pub fn parse(path: &Path, text: String) -> Result<Scenario, ScenarioError> {
    let mut sources = SourceMap::default();
    let file = sources.add(path, text.clone());
    let (table, loc) = match raw::parse(file, &text) {
        Ok(t) => t,
        Err(d) => {
            return Err(ScenarioError {
                sources,
                diagnostics: vec![d],
            });
        }
    };
    let mut ctx = Ctx {
        hints: Vec::new(),
        diags: Vec::new(),
        spans: SpanIndex::default(),
    };
    let scenario = build(path, &table, loc, &mut ctx);
    match scenario {
        Some(mut s) if ctx.diags.is_empty() => {
            s.sources = sources;
            Ok(s)
        }
        _ => Err(ScenarioError {
            sources,
            diagnostics: ctx.diags,
        }),
    }
}

fn build(path: &Path, table: &Table, loc: Loc, ctx: &mut Ctx) -> Option<Scenario> {
    let top = Reader::new(table, loc, "the scenario file", "", TOP);
    top.check_keys(ctx);
    let Some((head, head_loc)) = top.table(ctx, "scenario") else {
        ctx.push(
            Diagnostic::error(loc, "the scenario file has no [scenario] table")
                .with_help("start the file with [scenario] name = \"...\" start = \"2026-07-01T09:00:00+08:00\""),
        );
        return None;
    };
    let h = Reader::new(head, head_loc, "[scenario]", "scenario", HEAD);
    h.check_keys(ctx);
    let name = h.string_or(ctx, "name", "");
    let name = if name.is_empty() {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        name
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let policy = dir.join(h.string_or(ctx, "policy", ".."));
    let mut estate_policies = Vec::new();
    if let Some((t, _)) = h.table(ctx, "estate_policies") {
        for e in &t.entries {
            match &e.node.val {
                Val::Str(p) => estate_policies.push((e.key.clone(), dir.join(p))),
                other => ctx.error(
                    e.node.loc,
                    format!(
                        "estate policy `{}` must be a path string, found {}",
                        e.key,
                        other.type_name()
                    ),
                ),
            }
        }
    }
    let start = match h.entry("start") {
        None => {
            h.missing(ctx, "start", "\"2026-07-01T09:00:00+08:00\"");
            None
        }
        Some(e) => instant(ctx, &e.node, None),
    };
    let start = start?;
    let mut steps = Vec::new();
    for (t, l) in top.tables(ctx, "step") {
        if let Some(s) = step(ctx, t, l, start) {
            steps.push(s);
        }
    }
    let mut expects = Vec::new();
    for (t, l) in top.tables(ctx, "expect") {
        if let Some(e) = expect(ctx, t, l, start) {
            expects.push(e);
        }
    }
    if steps.is_empty() {
        ctx.push(
            Diagnostic::error(loc, "the scenario has no [[step]]")
                .with_help("add [[step]] at = \"+0m\" open = { ref = \"T1\", ... }"),
        );
    }
    Some(Scenario {
        name,
        path: path.to_path_buf(),
        policy: PathBuf::from(&policy),
        estate_policies,
        start,
        steps,
        expects,
        sources: SourceMap::default(),
    })
}

/// A time value: an offset string (needs `start`), an RFC 3339 string or a TOML datetime.
fn instant(ctx: &mut Ctx, node: &Node, start: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let text = match &node.val {
        Val::Str(s) | Val::Datetime(s) => s.clone(),
        other => {
            ctx.error(
                node.loc,
                format!("expected a time, found {}", other.type_name()),
            );
            return None;
        }
    };
    let result = match start {
        Some(s) => time::resolve(&text, s),
        None => time::parse_instant(&text),
    };
    match result {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(node.loc, e.to_string());
            None
        }
    }
}

fn when(ctx: &mut Ctx, r: &Reader<'_>, start: DateTime<Utc>) -> Option<(DateTime<Utc>, String)> {
    let Some(e) = r.entry("at") else {
        r.missing(ctx, "at", "\"+1h\"");
        return None;
    };
    let text = match &e.node.val {
        Val::Str(s) | Val::Datetime(s) => s.clone(),
        _ => String::new(),
    };
    instant(ctx, &e.node, Some(start)).map(|t| (t, text))
}

fn rules(ctx: &mut Ctx, r: &Reader<'_>) -> Vec<String> {
    r.str_list(ctx, "rules")
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

fn step(ctx: &mut Ctx, t: &Table, loc: Loc, start: DateTime<Utc>) -> Option<Step> {
    let r = Reader::new(t, loc, "[[step]]", "step", STEP);
    r.check_keys(ctx);
    let at = when(ctx, &r, start);
    let rules = rules(ctx, &r);
    let expect_error = r.opt_str(ctx, "expect_error").map(|(s, _)| s);
    let present: Vec<_> = t
        .entries
        .iter()
        .filter(|e| ACTIONS.contains(&e.key.as_str()))
        .collect();
    if present.len() > 1 {
        let names: Vec<_> = present.iter().map(|e| format!("`{}`", e.key)).collect();
        ctx.push(
            Diagnostic::error(
                present[1].key_loc,
                format!("a step does one thing, found {}", names.join(" and ")),
            )
            .with_help("split it into two [[step]] tables at the same `at`"),
        );
        return None;
    }
    let action = match present.first() {
        None => Some(StepAction::Tick),
        Some(e) => action(ctx, &e.key, &e.node, start),
    };
    let (at, when) = at?;
    Some(Step {
        at,
        when,
        action: action?,
        rules,
        expect_error,
        loc,
    })
}

/// A value that is either a ticket ref string or a table with `ticket` and more keys.
fn ticket_table<'t>(
    ctx: &mut Ctx,
    key: &str,
    node: &'t Node,
    allowed: &'static [&'static str],
) -> Option<(String, Option<Reader<'t>>)> {
    match &node.val {
        Val::Str(s) => Some((s.clone(), None)),
        Val::Table(t) => {
            let r = Reader::new(t, node.loc, format!("`{key}`"), key.to_string(), allowed);
            r.check_keys(ctx);
            let (id, _) = r.req_str(ctx, "ticket", "\"T1\"")?;
            Some((id, Some(r)))
        }
        other => {
            ctx.push(
                Diagnostic::error(
                    node.loc,
                    format!(
                        "`{key}` must be a ticket ref or a table, found {}",
                        other.type_name()
                    ),
                )
                .with_help(format!(
                    "write `{key} = \"T1\"` or `{key} = {{ ticket = \"T1\" }}`"
                )),
            );
            None
        }
    }
}

fn s(ctx: &mut Ctx, r: &Option<Reader<'_>>, key: &str, default: &str) -> String {
    match r {
        Some(r) => r.string_or(ctx, key, default),
        None => default.to_string(),
    }
}

fn expect(ctx: &mut Ctx, t: &Table, loc: Loc, start: DateTime<Utc>) -> Option<Expect> {
    let r = Reader::new(t, loc, "[[expect]]", "expect", EXPECT);
    r.check_keys(ctx);
    let at = when(ctx, &r, start);
    let ticket = r.req_str(ctx, "ticket", "\"T1\"").map(|(s, _)| s);
    let rules = rules(ctx, &r);
    let mut checks = Vec::new();
    let list = |ctx: &mut Ctx, key: &str| -> Vec<String> {
        r.str_list(ctx, key).into_iter().map(|(s, _)| s).collect()
    };
    for e in &t.entries {
        let key = e.key.as_str();
        let check = match key {
            "status" => r.opt_str(ctx, key).map(|(s, _)| Check::Status(s)),
            "category" => r.opt_str(ctx, key).map(|(s, _)| Check::Category(s)),
            "department" => r.opt_str(ctx, key).map(|(s, _)| Check::Department(s)),
            "ladder" => r.opt_str(ctx, key).map(|(s, _)| Check::Ladder(s)),
            "breached" => Some(Check::Breached(sorted(list(ctx, key)))),
            "notified" => Some(Check::Notified(list(ctx, key))),
            "not_notified" => Some(Check::NotNotified(list(ctx, key))),
            "revisits_due" => Some(Check::RevisitsDue(sorted(list(ctx, key)))),
            "escalations" => Some(Check::Escalations(list(ctx, key))),
            "revisits" => string_map(ctx, &e.node, key).map(Check::Revisits),
            "clocks" => string_map(ctx, &e.node, key).map(Check::Clocks),
            "deadlines" => map_of(ctx, &e.node, key, |ctx, n| instant(ctx, n, Some(start)))
                .map(Check::Deadlines),
            "paused_minutes" => map_of(ctx, &e.node, key, |ctx, n| match n.val {
                Val::Int(m) => Some(m),
                _ => {
                    ctx.error(n.loc, "expected a number of minutes");
                    None
                }
            })
            .map(Check::PausedMinutes),
            "reopened" => r.opt_int(ctx, key).map(|(n, _)| Check::Reopened(n)),
            _ => None,
        };
        checks.extend(check);
    }
    let asserts = t
        .entries
        .iter()
        .any(|e| !matches!(e.key.as_str(), "at" | "ticket" | "rules" | "note"));
    if !asserts {
        ctx.push(
            Diagnostic::error(loc, "this [[expect]] checks nothing")
                .with_help("add e.g. `status = \"resolved\"` or `breached = [\"L4\"]`"),
        );
    }
    let (at, when) = at?;
    Some(Expect {
        at,
        when,
        ticket: ticket?,
        checks,
        rules,
        loc,
    })
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn string_map(ctx: &mut Ctx, node: &Node, key: &str) -> Option<Vec<(String, String)>> {
    map_of(ctx, node, key, |ctx, n| match &n.val {
        Val::Str(s) => Some(s.clone()),
        other => {
            ctx.error(
                n.loc,
                format!("expected a string, found {}", other.type_name()),
            );
            None
        }
    })
}

fn map_of<T>(
    ctx: &mut Ctx,
    node: &Node,
    key: &str,
    mut value: impl FnMut(&mut Ctx, &Node) -> Option<T>,
) -> Option<Vec<(String, T)>> {
    let Val::Table(t) = &node.val else {
        ctx.error(
            node.loc,
            format!(
                "`{key}` must be a table like {{ L4 = ... }}, found {}",
                node.val.type_name()
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for e in &t.entries {
        out.push((e.key.clone(), value(ctx, &e.node)?));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{ACTIONS, STEP};

    /// `STEP` repeats the action keys (the reader wants one static list); they must
    /// not drift apart.
    #[test]
    fn every_action_is_an_allowed_step_key() {
        for a in ACTIONS {
            assert!(STEP.contains(a), "`{a}` missing from STEP");
        }
        assert_eq!(
            STEP.len(),
            ACTIONS.len() + 4,
            "STEP = at, rules, expect_error, note + ACTIONS"
        );
    }
}
