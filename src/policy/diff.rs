//! Semantic diff of two resolved policies, for auditors: what changed in meaning,
//! rule by rule, and whether each change is stricter or looser *for the owner*.
//!
//! Rules are matched by id, never by position or file, so moving a rule to another
//! file or overlay is not a change. Every [`Change`] names its section, the rule id,
//! the field, old and new values as display text, its [`Effect`] where that is
//! decidable, and the DOMAIN rule ids (`L4`, `V4`, …) the rule carries.
//!
//! How effects are decided (the per-section details are in [`sections`]):
//! - a shorter limit, revisit step or notice span is stricter, a longer one looser;
//!   spans of different measures (wall time against business hours) are `unknown`;
//! - an added limit or revisit (or revisit step) is stricter, a removed one looser;
//!   an added pause reason is looser (one more way to stop a clock);
//! - more working time is stricter, because business-hour deadlines come sooner: a
//!   removed holiday, an added workday or make-up workday, or wider office hours;
//! - more people notified on a breach, a warning raised earlier (`warn_at` lowered)
//!   or added, `repeat` switched on: stricter;
//! - anything whose effect depends on the ticket (conditions, categories, escalation
//!   targets, hooks, plug-ins, time zone) is `unknown`; labels, paths and rule-id
//!   lists are `neutral`.
//!
//! ```
//! # use steward::policy::diff;
//! # fn demo(old: &steward::policy::Policy, new: &steward::policy::Policy) {
//! let changes = diff::diff(old, new);
//! print!("{}", diff::render(&changes));
//! # }
//! ```

mod dates;
mod residual;
mod sections;
mod text;

use serde::Serialize;

use super::model::Policy;

/// What a change means for the owner (the customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The company must do more, sooner, or tell more people.
    Stricter,
    /// The company may do less or take longer.
    Looser,
    /// No effect on any ticket (labels, ids, file paths).
    Neutral,
    /// Depends on the ticket or cannot be ordered (e.g. `2h` against `4 business hours`).
    Unknown,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Stricter => "stricter",
            Effect::Looser => "looser",
            Effect::Neutral => "neutral",
            Effect::Unknown => "unknown",
        }
    }

    /// The effect of undoing the change.
    pub fn inverse(self) -> Effect {
        match self {
            Effect::Stricter => Effect::Looser,
            Effect::Looser => Effect::Stricter,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference between two policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `policy`, `calendar`, `department`, `role`, `category`, `milestone`, `limit`,
    /// `escalation`, `pause`, `revisit`, `reopen`, `closing`, `compensation`,
    /// `ordering`, `hook` or `plugin`.
    pub section: &'static str,
    /// The rule id; empty for the singleton sections (`policy`, `reopen`, …).
    pub id: String,
    /// The rule's label (the new one when both have it).
    pub label: Option<String>,
    pub change: ChangeKind,
    /// The field that changed; `None` when the whole rule was added or removed. For a
    /// list field (`holidays`, `notify`, `steps`) with `change` added/removed, one
    /// element was added to or removed from that list.
    pub field: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub effect: Effect,
    /// DOMAIN rule ids of the rule (old and new, deduplicated).
    pub rules: Vec<String>,
    /// For a changed script text: a unified line diff of old against new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
}

impl Change {
    /// One line for a person, e.g. `limit L4 (重大投诉、急修2小…) within: 2h → 4h`.
    pub fn message(&self) -> String {
        self.message_with(usize::MAX)
    }

    /// Like [`Change::message`], with each value shortened to `max` characters.
    fn message_with(&self, max: usize) -> String {
        let mut head = self.section.to_string();
        if !self.id.is_empty() {
            head.push(' ');
            head.push_str(&self.id);
        }
        if let Some(label) = &self.label
            && label != &self.id
        {
            head.push_str(&format!(" ({})", shorten(label, 18)));
        }
        let value = |v: &Option<String>| shorten(v.as_deref().unwrap_or(""), max);
        match (&self.field, self.change) {
            (None, ChangeKind::Added) => match &self.new {
                Some(n) if !n.is_empty() => format!("{head} added: {}", value(&Some(n.clone()))),
                _ => format!("{head} added"),
            },
            (None, ChangeKind::Removed) => format!("{head} removed"),
            (None, ChangeKind::Changed) => {
                format!("{head}: {} → {}", value(&self.old), value(&self.new))
            }
            (Some(field), ChangeKind::Changed) => {
                format!(
                    "{head} {field}: {} → {}",
                    value(&self.old),
                    value(&self.new)
                )
            }
            (Some(field), kind) => {
                let (v, word) = if kind == ChangeKind::Added {
                    (value(&self.new), "added")
                } else {
                    (value(&self.old), "removed")
                };
                let elem = field.strip_suffix('s').unwrap_or(field);
                if v.contains(char::is_whitespace) {
                    format!("{head}: {elem} {word}: {v}")
                } else {
                    format!("{head}: {elem} {v} {word}")
                }
            }
        }
    }
}

/// Every semantic difference from `old` to `new`, section by section, ids in order.
pub fn diff(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut out = Out::default();
    sections::all(&mut out, old, new);
    residual::add_unreported(&mut out, old, new);
    out.changes
}

/// A table for people: one line per change, its effect and DOMAIN rule ids, then a
/// count by effect.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no semantic changes: the policies are equivalent\n".to_string();
    }
    let rows: Vec<[String; 3]> = changes
        .iter()
        .map(|c| {
            [
                c.message_with(48),
                c.effect.as_str().to_string(),
                c.rules.join(", "),
            ]
        })
        .collect();
    let header = [
        "CHANGE".to_string(),
        "EFFECT".to_string(),
        "RULES".to_string(),
    ];
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    for c in changes {
        if let Some(d) = &c.text_diff {
            text.push_str(&format!(
                "\n{} {} {}:\n",
                c.section,
                c.id,
                c.field.as_deref().unwrap_or("")
            ));
            for line in d.lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    let count = |e: Effect| changes.iter().filter(|c| c.effect == e).count();
    text.push_str(&format!(
        "\n{} change(s): {} stricter, {} looser, {} neutral, {} unknown\n",
        changes.len(),
        count(Effect::Stricter),
        count(Effect::Looser),
        count(Effect::Neutral),
        count(Effect::Unknown),
    ));
    text
}

use crate::width::width;

/// Whitespace collapsed (conditions span lines) and cut to `max` columns.
fn shorten(s: &str, max: usize) -> String {
    crate::width::one_line(s, max)
}

/// The rule a change belongs to.
struct At {
    section: &'static str,
    id: String,
    label: Option<String>,
    rules: Vec<String>,
}

impl At {
    fn new(section: &'static str, id: &str) -> At {
        At {
            section,
            id: id.to_string(),
            label: None,
            rules: Vec::new(),
        }
    }

    fn label(mut self, label: &str) -> At {
        self.label = Some(label.to_string());
        self
    }

    fn rules<'a>(mut self, rules: impl IntoIterator<Item = &'a String>) -> At {
        for r in rules {
            if !self.rules.contains(r) {
                self.rules.push(r.clone());
            }
        }
        self
    }
}

#[derive(Default)]
struct Out {
    changes: Vec<Change>,
}

impl Out {
    fn push(
        &mut self,
        at: &At,
        change: ChangeKind,
        field: Option<&str>,
        old: Option<String>,
        new: Option<String>,
        effect: Effect,
    ) {
        self.changes.push(Change {
            section: at.section,
            id: at.id.clone(),
            label: at.label.clone(),
            change,
            field: field.map(str::to_string),
            old,
            new,
            effect,
            rules: at.rules.clone(),
            text_diff: None,
        });
    }

    fn added(&mut self, at: &At, summary: String, effect: Effect) {
        self.push(at, ChangeKind::Added, None, None, Some(summary), effect);
    }

    fn removed(&mut self, at: &At, summary: String, effect: Effect) {
        self.push(at, ChangeKind::Removed, None, Some(summary), None, effect);
    }

    /// A field whose value changed; nothing when the texts are equal.
    fn field(&mut self, at: &At, field: &str, old: String, new: String, effect: Effect) {
        if old != new {
            self.push(
                at,
                ChangeKind::Changed,
                Some(field),
                Some(old),
                Some(new),
                effect,
            );
        }
    }

    /// One element added to (`added`) or removed from a list field.
    fn elem(&mut self, at: &At, field: &str, value: String, added: bool, effect: Effect) {
        if added {
            self.push(
                at,
                ChangeKind::Added,
                Some(field),
                None,
                Some(value),
                effect,
            );
        } else {
            self.push(
                at,
                ChangeKind::Removed,
                Some(field),
                Some(value),
                None,
                effect,
            );
        }
    }
}

#[cfg(test)]
mod tests;
