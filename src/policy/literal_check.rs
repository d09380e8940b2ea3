//! Typos in conditions that rhai cannot catch: a string literal compared with
//! `category`, `kind`, `phase`, `channel` or `urgency` that names no declared
//! value (`category == "repair.leek"`) makes the rule silently never (or always)
//! apply. Each such literal is an error at its place inside the condition, with a
//! did-you-mean. `channel` and `urgency` are checked when the policy declares
//! their values (`[[channel]]`, `[[urgency]]`); a policy that declares none
//! leaves them free text.

use crate::diagnostic::{Diagnostic, Loc, SourceMap, did_you_mean};

use super::model::{Kind, Phase, Policy};
use super::reader::Ctx;

pub fn check(p: &Policy, sources: &SourceMap, ctx: &mut Ctx) {
    let categories: Vec<&str> = p.categories.keys().map(String::as_str).collect();
    let channels: Vec<&str> = p.channels.keys().map(String::as_str).collect();
    let urgencies: Vec<&str> = p.urgencies.keys().map(String::as_str).collect();
    let known = |field: &str| -> Option<Vec<&str>> {
        match field {
            "category" => Some(categories.clone()),
            "kind" => Some(Kind::ALL.to_vec()),
            "phase" => Some(Phase::ALL.to_vec()),
            "channel" if !channels.is_empty() => Some(channels.clone()),
            "urgency" if !urgencies.is_empty() => Some(urgencies.clone()),
            _ => None,
        }
    };
    let mut conditions: Vec<(String, &str)> = Vec::new();
    for (id, c) in &p.categories {
        if let Some(w) = &c.when {
            conditions.push((format!("category.{id}.when"), w));
        }
    }
    for (id, l) in &p.limits {
        if let Some(a) = &l.applies {
            conditions.push((format!("limit.{id}.applies"), a));
        }
    }
    for (id, r) in &p.revisits {
        if let Some(a) = &r.applies {
            conditions.push((format!("revisit.{id}.applies"), a));
        }
    }
    for (id, r) in &p.pauses {
        if let Some(a) = &r.applies {
            conditions.push((format!("pause.{id}.applies"), a));
        }
    }
    for (key, expr) in conditions {
        for (field, literal, offset) in comparisons(expr) {
            let Some(values) = known(field) else {
                continue;
            };
            if values.contains(&literal) {
                continue;
            }
            let loc = ctx
                .spans
                .get(&key)
                .map(|value| literal_loc(sources, value, expr, offset, literal.len()));
            let d = Diagnostic::error(
                loc,
                format!("`{field}` is compared with `{literal}`, which is no declared {field}"),
            );
            ctx.push(match did_you_mean(literal, values.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("declared: {}", values.join(", "))),
            });
        }
    }
}

/// `(field, literal, byte offset of the literal's text)` for each
/// `field == "x"`, `field != "x"`, `"x" == field` and `"x" != field` in `expr`.
fn comparisons(expr: &str) -> Vec<(&'static str, &str, usize)> {
    const FIELDS: [&str; 5] = ["category", "kind", "phase", "channel", "urgency"];
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let Some(len) = expr[start..].find('"') else {
            break;
        };
        let literal = &expr[start..start + len];
        let end = start + len + 1;
        let before = expr[..i].trim_end();
        let after = expr[end..].trim_start();
        let field = if let Some(rest) = before.strip_suffix("==").or(before.strip_suffix("!=")) {
            last_ident(rest.trim_end())
        } else if let Some(rest) = after.strip_prefix("==").or(after.strip_prefix("!=")) {
            first_ident(rest.trim_start())
        } else {
            None
        };
        if let Some(f) = field.and_then(|f| FIELDS.iter().find(|x| **x == f)) {
            out.push((*f, literal, start));
        }
        i = end;
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn last_ident(text: &str) -> Option<&str> {
    let start = text
        .rfind(|c: char| !is_ident(c))
        .map(|i| i + 1)
        .unwrap_or(0);
    Some(&text[start..]).filter(|s| !s.is_empty())
}

fn first_ident(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !is_ident(c)).unwrap_or(text.len());
    Some(&text[..end]).filter(|s| !s.is_empty())
}

/// The literal's place in the file: the line and column of `offset` in `expr`,
/// mapped through the TOML string `value`.
fn literal_loc(sources: &SourceMap, value: Loc, expr: &str, offset: usize, len: usize) -> Loc {
    let before = &expr[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let at = super::expr_loc::locate(sources, value, line, column);
    Loc {
        file: at.file,
        start: at.start,
        end: (at.start + len).min(value.end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_comparisons_either_way_round() {
        let found = comparisons(
            r#"category == "repair.leek" || "complant" != kind && text.contains("漏水") && urgency=="high""#,
        );
        assert_eq!(
            found,
            [
                ("category", "repair.leek", 13),
                ("kind", "complant", 30),
                ("urgency", "high", 88),
            ]
        );
        assert!(comparisons(r#"text == "category""#).is_empty());
        assert!(comparisons(r#"tags.contains("kind")"#).is_empty());
    }
}
