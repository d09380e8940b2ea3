//! A register's header found and matched to the mapping, and each row read into
//! one ticket: its intake and the actions the register recorded, with their times.
//!
//! The order a row's times must follow (an action before the ticket was opened,
//! or a revisit before the work was resolved, is a bad row):
//! opened ≤ responded, planned, reported, compensation ≤ resolved ≤ revisited ≤ closed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::engine::{Command, OpenTicket};
use crate::policy::model::{Action, Kind};

use super::BadRow;
use super::mapping::{Field, Mapping};
use super::source::{Cell, Line, column_name};

/// Where each mapped field is: its column and the header text it was found under.
#[derive(Debug, Clone)]
pub struct Header {
    /// The last header row; data starts below it.
    pub last_row: u64,
    pub columns: BTreeMap<Field, (usize, String)>,
}

const HEADER_SEARCH: usize = 30;

impl Header {
    /// Find the header among the first rows: the row holding the ticket column's
    /// name (or `header_row`), read as one row or, for grouped headers such as a
    /// merged `处理情况` over `首次答复时间 | 完成时间`, as two (`组/子`).
    pub fn find(
        lines: &[Line],
        mapping: &Mapping,
        merges: &[(u64, usize, u64, usize)],
    ) -> Result<Header, String> {
        let ticket = mapping
            .columns
            .get(&Field::Ticket)
            .cloned()
            .unwrap_or_default();
        let ticket_top = ticket.split('/').next().unwrap_or("").to_string();
        let at = match mapping.header_row {
            Some(r) => lines
                .iter()
                .position(|l| l.row == u64::from(r))
                .ok_or_else(|| format!("the file has no row {r} (header_row)"))?,
            None => lines
                .iter()
                .take(HEADER_SEARCH)
                .position(|l| {
                    l.cells
                        .iter()
                        .any(|c| matches!(c, Cell::Text(t) if t.trim() == ticket || t.trim() == ticket_top))
                })
                .ok_or_else(|| {
                    format!(
                        "no header row: none of the first {HEADER_SEARCH} rows has a cell `{ticket}` (the ticket column of the mapping)"
                    )
                })?,
        };
        let top = &lines[at];
        let one = resolve(mapping, &labels(top, None), merges, top.row, None);
        if let Ok(columns) = one {
            return Ok(Header {
                last_row: top.row,
                columns,
            });
        }
        let two = lines.get(at + 1).map(|below| {
            resolve(
                mapping,
                &labels(top, Some(below)),
                merges,
                top.row,
                Some(below.row),
            )
            .map(|columns| Header {
                last_row: below.row,
                columns,
            })
        });
        match (one, two) {
            (_, Some(Ok(h))) => Ok(h),
            (Err(e), _) => Err(e),
            (Ok(_), _) => Err("no header".into()),
        }
    }
}

/// Each column's header text: its own, or `top/bottom` for a two-row header
/// where the bottom row says something else than the (merged) top.
fn labels(top: &Line, below: Option<&Line>) -> Vec<Vec<String>> {
    let width = top.cells.len().max(below.map_or(0, |b| b.cells.len()));
    (0..width)
        .map(|c| {
            let t = top.cells.get(c).map(Cell::text).unwrap_or_default();
            let b = below
                .and_then(|b| b.cells.get(c))
                .map(Cell::text)
                .unwrap_or_default();
            if below.is_none() || b.is_empty() || b == t {
                vec![t]
            } else {
                vec![format!("{t}/{b}"), b]
            }
        })
        .collect()
}

fn resolve(
    mapping: &Mapping,
    labels: &[Vec<String>],
    merges: &[(u64, usize, u64, usize)],
    row: u64,
    below: Option<u64>,
) -> Result<BTreeMap<Field, (usize, String)>, String> {
    let rows = match below {
        Some(b) => format!("rows {row}-{b}"),
        None => format!("row {row}"),
    };
    let mut out = BTreeMap::new();
    for (field, name) in &mapping.columns {
        let hits: Vec<usize> = labels
            .iter()
            .enumerate()
            .filter(|(_, ls)| ls.iter().any(|l| l == name))
            .map(|(c, _)| c)
            .collect();
        match hits.as_slice() {
            [c] => {
                out.insert(*field, (*c, labels[*c][0].clone()));
            }
            [] => {
                let have: Vec<&str> = labels
                    .iter()
                    .map(|ls| ls[0].as_str())
                    .filter(|l| !l.is_empty())
                    .collect();
                return Err(format!(
                    "the header ({rows}) has no column `{name}` for `{}`; it has: {}",
                    field.key(),
                    have.join(", ")
                ));
            }
            many => {
                let first = many[0];
                let merged = merges.iter().find(|m| {
                    m.0 <= row && row <= m.2 && m.1 <= first && first <= m.3 && m.3 > m.1
                });
                let cols: Vec<String> = many.iter().map(|c| column_name(*c)).collect();
                return Err(match merged {
                    Some(m) => format!(
                        "header `{name}` for `{}` is a merged cell over columns {}:{} ({rows}); name one of the columns under it, e.g. `{name}/{}`",
                        field.key(),
                        column_name(m.1),
                        column_name(m.3),
                        labels
                            .get(first)
                            .and_then(|l| l.get(1))
                            .cloned()
                            .unwrap_or_else(|| "...".into())
                    ),
                    None => format!(
                        "header `{name}` for `{}` is on several columns ({}) of {rows}",
                        field.key(),
                        cols.join(", ")
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// One ticket as the register has it.
#[derive(Debug, Clone)]
pub struct RegTicket {
    pub row: u64,
    pub intake: OpenTicket,
    pub category: Option<String>,
    pub opened: DateTime<Utc>,
    /// After the opening, in order: time, the column it came from, the command.
    pub actions: Vec<(DateTime<Utc>, Field, Command)>,
}

/// Reads rows with one header and one mapping.
pub struct RowReader<'a> {
    pub file: &'a str,
    pub mapping: &'a Mapping,
    pub header: &'a Header,
    pub now: DateTime<Utc>,
}

impl RowReader<'_> {
    fn bad(&self, row: u64, field: Option<Field>, message: String) -> BadRow {
        let (column, header) = match field.and_then(|f| self.header.columns.get(&f)) {
            Some((c, h)) => (Some(column_name(*c)), Some(h.clone())),
            None => (None, None),
        };
        BadRow {
            file: self.file.to_string(),
            row,
            column,
            header,
            field: field.map(|f| f.key().to_string()),
            message,
        }
    }

    fn cell<'l>(&self, line: &'l Line, f: Field) -> Option<&'l Cell> {
        let (c, _) = self.header.columns.get(&f)?;
        line.cells.get(*c).filter(|c| !c.is_empty())
    }

    /// The field's text through its value map; the default when empty.
    fn value(&self, line: &Line, f: Field) -> Result<Option<String>, String> {
        let Some(cell) = self.cell(line, f) else {
            return Ok(self.mapping.defaults.get(&f).cloned());
        };
        let text = cell.text();
        let Some(map) = self.mapping.values.get(&f) else {
            return Ok(Some(text));
        };
        if let Some(v) = map.get(&text) {
            return Ok(Some(v.clone()));
        }
        if map.values().any(|v| *v == text) {
            return Ok(Some(text));
        }
        let known: Vec<&str> = map.keys().map(String::as_str).collect();
        Err(format!(
            "`{text}` is not in [values.{}] of the mapping (it has: {})",
            f.key(),
            known.join(", ")
        ))
    }

    fn time(&self, line: &Line, f: Field) -> Result<Option<DateTime<Utc>>, String> {
        let Some(cell) = self.cell(line, f) else {
            return Ok(None);
        };
        let t = self.mapping.dates.read(cell)?;
        if t > self.now {
            return Err(format!(
                "{} is in the future (now is {})",
                local(t, self.mapping.dates.tz),
                local(self.now, self.mapping.dates.tz)
            ));
        }
        Ok(Some(t))
    }

    /// `Ok(None)` for an empty row.
    pub fn read(&self, line: &Line) -> Result<Option<RegTicket>, Vec<BadRow>> {
        if line.cells.iter().all(Cell::is_empty) {
            return Ok(None);
        }
        let row = line.row;
        let mut bad = Vec::new();
        let mut value = |f: Field| match self.value(line, f) {
            Ok(v) => v.unwrap_or_default(),
            Err(m) => {
                bad.push(self.bad(row, Some(f), m));
                String::new()
            }
        };
        let id = value(Field::Ticket);
        let estate = value(Field::Estate);
        let kind = value(Field::Kind);
        let mut intake = OpenTicket {
            id: id.clone(),
            estate,
            unit: value(Field::Unit),
            owner: value(Field::Owner),
            channel: value(Field::Channel),
            kind,
            text: value(Field::Text),
            urgency: value(Field::Urgency),
            ..OpenTicket::default()
        };
        let category = Some(value(Field::Category)).filter(|c| !c.is_empty());
        let class = value(Field::Class);
        let handler = value(Field::Handler);
        let result = value(Field::RevisitResult);
        let revisit_channel = value(Field::RevisitChannel);
        let invalid = value(Field::Invalid);
        let compensation = value(Field::Compensation);
        if id.is_empty() {
            bad.push(self.bad(row, Some(Field::Ticket), "no ticket id".into()));
        }
        if intake.estate.is_empty() {
            bad.push(self.bad(
                row,
                Some(Field::Estate),
                "no estate (map an estate column or give [defaults] estate)".into(),
            ));
        }
        if Kind::parse(&intake.kind).is_none() {
            bad.push(self.bad(
                row,
                Some(Field::Kind),
                format!(
                    "kind `{}` is none of inquiry, repair, complaint, suggestion (map the register's words in [values.kind])",
                    intake.kind
                ),
            ));
        }
        if intake.channel.is_empty() {
            intake.channel = "hotline".into();
        }
        match class.as_str() {
            "" => {}
            "1" | "2" | "3" => intake.class = class.parse().unwrap_or(0),
            other => bad.push(self.bad(
                row,
                Some(Field::Class),
                format!("complaint class must be 1, 2 or 3 (D4), found `{other}`"),
            )),
        }
        let mut times: BTreeMap<Field, DateTime<Utc>> = BTreeMap::new();
        for f in Field::ALL.into_iter().filter(|f| f.is_time()) {
            match self.time(line, f) {
                Ok(Some(t)) => {
                    times.insert(f, t);
                }
                Ok(None) => {}
                Err(m) => bad.push(self.bad(row, Some(f), m)),
            }
        }
        let Some(opened) = times.get(&Field::Opened).copied() else {
            if !bad.iter().any(|b| b.field.as_deref() == Some("opened")) {
                bad.push(self.bad(row, Some(Field::Opened), "no intake time".into()));
            }
            return Err(bad);
        };
        let revisit_ok = match result.as_str() {
            "" | "ok" => true,
            "problem" => false,
            other => {
                bad.push(self.bad(
                    row,
                    Some(Field::RevisitResult),
                    format!(
                        "revisit result `{other}` is neither ok nor problem (map the register's words in [values.revisit_result])"
                    ),
                ));
                true
            }
        };
        if !result.is_empty() && !times.contains_key(&Field::Revisited) {
            bad.push(self.bad(
                row,
                Some(Field::RevisitResult),
                "a revisit result without the revisit's time".into(),
            ));
        }
        if !invalid.is_empty() && !times.contains_key(&Field::Closed) {
            bad.push(self.bad(
                row,
                Some(Field::Invalid),
                "an invalid complaint (D5) needs the time it was closed".into(),
            ));
        }
        self.check_order(row, &times, &mut bad);
        if !bad.is_empty() {
            return Err(bad);
        }
        let act = |action: Action| Command::Act {
            action,
            by: handler.clone(),
            note: String::new(),
        };
        let mut actions: Vec<(DateTime<Utc>, Field, Command)> = Vec::new();
        for (f, cmd) in [
            (Field::Responded, Some(act(Action::Respond))),
            (Field::Planned, Some(act(Action::Plan))),
            (Field::Reported, Some(act(Action::Report))),
            (
                Field::CompensationAt,
                (!compensation.is_empty()).then(|| Command::Compensation {
                    amount: compensation.clone(),
                    note: String::new(),
                }),
            ),
            (
                Field::Resolved,
                Some(Command::Resolve {
                    note: String::new(),
                }),
            ),
            (
                Field::Revisited,
                Some(Command::Revisit {
                    ok: revisit_ok,
                    channel: if revisit_channel.is_empty() {
                        "phone".into()
                    } else {
                        revisit_channel.clone()
                    },
                    note: String::new(),
                }),
            ),
            (
                Field::Closed,
                Some(Command::Close {
                    invalid: (!invalid.is_empty()).then(|| invalid.clone()),
                }),
            ),
        ] {
            let Some(cmd) = cmd else { continue };
            // A claim without its own time was made when the complaint came in (D6).
            let at = match (f, times.get(&f)) {
                (_, Some(t)) => *t,
                (Field::CompensationAt, None) => opened,
                _ => continue,
            };
            actions.push((at, f, cmd));
        }
        // Same-instant actions keep the order above (stable sort).
        actions.sort_by_key(|(t, _, _)| *t);
        Ok(Some(RegTicket {
            row,
            intake,
            category,
            opened,
            actions,
        }))
    }

    fn check_order(&self, row: u64, times: &BTreeMap<Field, DateTime<Utc>>, bad: &mut Vec<BadRow>) {
        use Field::*;
        let tz = self.mapping.dates.tz;
        // (later, earlier): `later` must not come before `earlier`.
        let pairs = [
            (Responded, Opened),
            (Planned, Opened),
            (Reported, Opened),
            (CompensationAt, Opened),
            (Resolved, Opened),
            (Resolved, Responded),
            (Resolved, Planned),
            (Resolved, Reported),
            (Revisited, Opened),
            (Revisited, Resolved),
            (Closed, Opened),
            (Closed, Resolved),
            (Closed, Revisited),
        ];
        let mut flagged = std::collections::BTreeSet::new();
        for (later, earlier) in pairs {
            if flagged.contains(&later) {
                continue;
            }
            if let (Some(l), Some(e)) = (times.get(&later), times.get(&earlier))
                && l < e
            {
                flagged.insert(later);
                let what = self
                    .header
                    .columns
                    .get(&earlier)
                    .map(|(c, h)| format!("{} in column {} ({h})", earlier.key(), column_name(*c)))
                    .unwrap_or_else(|| earlier.key().to_string());
                bad.push(self.bad(
                    row,
                    Some(later),
                    format!(
                        "out of order: {} at {} is before {what} at {}",
                        later.key(),
                        local(*l, tz),
                        local(*e, tz)
                    ),
                ));
            }
        }
    }
}

fn local(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}
