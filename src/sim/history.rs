//! Ticket histories: what happened to each ticket, one action per line, sorted by
//! time, as CSV (with a header) or JSON lines. Read as a stream, so a year of a
//! million tickets never sits in memory; every malformed line is reported with its
//! file and line number and skipped.
//!
//! # Format
//!
//! Columns (CSV header names, or JSON keys); only `ticket`, `at` and `action` are
//! always needed, and column order is free:
//!
//! | column | meaning |
//! |---|---|
//! | `ticket` | ticket id (empty for an estate event such as `rain`) |
//! | `at` | RFC 3339 time, e.g. `2026-07-01T09:12:00+08:00`; lines are sorted by it |
//! | `action` | see below |
//! | `estate` | the estate (for `open` and `rain`) |
//! | `kind` | `inquiry`, `repair`, `complaint` or `suggestion` (for `open`) |
//! | `channel` | intake channel for `open` (default `hotline`); callback channel for `revisit` (default `phone`) |
//! | `category` | the category the source system recorded (optional; `open`, `classify`) |
//! | `detail` | per action, below |
//! | `text` | the owner's words for `open`; a note, explanation or reason otherwise |
//!
//! | action | `detail` |
//! |---|---|
//! | `open` | flags separated by `;`: `major`, `class=2`, `urgency=high`, `unit=3-1201`, `owner=..`, `phase=..`, `tag=..` (repeatable) |
//! | `classify` | flags `major`, `minor`, `class=N`; the category column sets the category |
//! | `respond` `plan` `report` `expert_reply` `update` `notice` | who did it |
//! | `assign` | `department[/tier[/lead]]`, e.g. `engineering/L2`, `engineering/L3/cleaning` |
//! | `pause` | the pause reason, e.g. `waiting_owner` |
//! | `resume`, `resolve`, `reopen` | — (`text` is the note or reason) |
//! | `revisit` | `ok` (default) or `problem` |
//! | `close` | empty, or `invalid` (then `text` is the explanation to the owner) |
//! | `compensation` | the amount claimed |
//! | `rain` | — (`estate` names where it rained) |
//! | `event` | the event kind (`estate` names where) |
//!
//! ```text
//! ticket,at,action,estate,kind,channel,category,detail,text
//! T0000001,2026-07-01T09:12:00+08:00,open,gardens,repair,app,repair.leak,unit=3-1201,卫生间天花板渗水
//! T0000001,2026-07-01T09:40:00+08:00,respond,,,,,客服,
//! ,2026-07-02T15:00:00+08:00,rain,gardens,,,,,
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{Command, OpenTicket};
use crate::policy::model::{Action, Kind};

/// One line of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: u64,
    pub at: DateTime<Utc>,
    pub ticket: String,
    pub estate: String,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Open {
        intake: OpenTicket,
        category: Option<String>,
    },
    Classify {
        category: Option<String>,
        class: Option<u8>,
        major: Option<bool>,
    },
    Command(Command),
    /// An estate event (`rain`) for every ticket there that waits for it.
    Event {
        kind: String,
    },
}

/// A malformed line: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The columns of one line, as read from CSV or JSON.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Row {
    pub ticket: String,
    pub at: String,
    pub action: String,
    pub estate: String,
    pub kind: String,
    pub channel: String,
    pub category: String,
    pub detail: String,
    pub text: String,
}

pub const COLUMNS: [&str; 9] = [
    "ticket", "at", "action", "estate", "kind", "channel", "category", "detail", "text",
];

impl Row {
    pub fn fields(&self) -> [&str; 9] {
        [
            &self.ticket,
            &self.at,
            &self.action,
            &self.estate,
            &self.kind,
            &self.channel,
            &self.category,
            &self.detail,
            &self.text,
        ]
    }

    /// Turn the columns into a record; the message says what is wrong.
    pub fn parse(&self, line: u64) -> Result<Record, String> {
        let at = DateTime::parse_from_rfc3339(self.at.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                format!(
                    "bad time `{}`: expected RFC 3339 like 2026-07-01T09:00:00+08:00",
                    self.at
                )
            })?;
        let action = self.action.trim();
        let needs_ticket = !matches!(action, "rain" | "event");
        if needs_ticket && self.ticket.trim().is_empty() {
            return Err(format!("`{action}` needs a ticket id"));
        }
        let text = self.text.clone();
        let detail = self.detail.trim();
        let op = match action {
            "open" => Op::Open {
                intake: self.intake()?,
                category: non_empty(&self.category),
            },
            "classify" => {
                let (mut class, mut major) = (None, None);
                for flag in flags(detail) {
                    match flag {
                        ("major", None) => major = Some(true),
                        ("minor", None) => major = Some(false),
                        ("class", Some(v)) => class = Some(class_of(v)?),
                        (k, _) => return Err(format!("unknown classify flag `{k}`")),
                    }
                }
                Op::Classify {
                    category: non_empty(&self.category),
                    class,
                    major,
                }
            }
            "respond" | "plan" | "report" | "expert_reply" | "update" | "notice" => {
                Op::Command(Command::Act {
                    action: Action::parse(action).ok_or("unknown action")?,
                    by: detail.to_string(),
                    note: text,
                })
            }
            "assign" => {
                let mut parts = detail.split('/').map(str::trim);
                let department = parts
                    .next()
                    .filter(|d| !d.is_empty())
                    .ok_or("`assign` needs a department in `detail`, e.g. `engineering/L2`")?;
                Op::Command(Command::Assign {
                    department: department.to_string(),
                    tier: parts.next().unwrap_or("L2").to_string(),
                    lead: parts.next().map(str::to_string),
                })
            }
            "pause" => {
                if detail.is_empty() {
                    return Err("`pause` needs a reason in `detail`, e.g. `waiting_owner`".into());
                }
                Op::Command(Command::Pause {
                    reason: detail.to_string(),
                })
            }
            "resume" => Op::Command(Command::Resume),
            "resolve" => Op::Command(Command::Resolve { note: text }),
            "reopen" => Op::Command(Command::Reopen { reason: text }),
            "revisit" => {
                let ok = match detail {
                    "" | "ok" => true,
                    "problem" => false,
                    other => {
                        return Err(format!(
                            "`revisit` detail must be `ok` or `problem`, found `{other}`"
                        ));
                    }
                };
                Op::Command(Command::Revisit {
                    ok,
                    channel: non_empty(&self.channel).unwrap_or_else(|| "phone".into()),
                    note: text,
                })
            }
            "close" => match detail {
                "" => Op::Command(Command::Close { invalid: None }),
                "invalid" => Op::Command(Command::Close {
                    invalid: Some(text),
                }),
                other => {
                    return Err(format!(
                        "`close` detail must be empty or `invalid`, found `{other}`"
                    ));
                }
            },
            "compensation" => Op::Command(Command::Compensation {
                amount: detail.to_string(),
                note: text,
            }),
            "rain" | "event" => {
                if self.estate.trim().is_empty() {
                    return Err(format!("`{action}` needs an estate"));
                }
                let kind = if action == "rain" { "rain" } else { detail };
                if kind.is_empty() {
                    return Err("`event` needs its kind in `detail`, e.g. `rain`".into());
                }
                Op::Event {
                    kind: kind.to_string(),
                }
            }
            "" => return Err("missing action".into()),
            other => {
                return Err(format!(
                    "unknown action `{other}`; expected one of: open, classify, respond, plan, report, expert_reply, update, notice, assign, pause, resume, resolve, revisit, close, reopen, compensation, rain, event"
                ));
            }
        };
        Ok(Record {
            line,
            at,
            ticket: self.ticket.trim().to_string(),
            estate: self.estate.trim().to_string(),
            op,
        })
    }

    fn intake(&self) -> Result<OpenTicket, String> {
        let kind = self.kind.trim();
        if Kind::parse(kind).is_none() {
            return Err(format!(
                "unknown kind `{kind}`: expected inquiry, repair, complaint or suggestion"
            ));
        }
        if self.estate.trim().is_empty() {
            return Err("`open` needs an estate".into());
        }
        let mut o = OpenTicket {
            id: self.ticket.trim().to_string(),
            estate: self.estate.trim().to_string(),
            channel: non_empty(&self.channel).unwrap_or_else(|| "hotline".into()),
            kind: kind.to_string(),
            text: self.text.clone(),
            ..OpenTicket::default()
        };
        for flag in flags(self.detail.trim()) {
            match flag {
                ("major", None) => o.major = true,
                ("class", Some(v)) => o.class = class_of(v)?,
                ("urgency", Some(v)) => o.urgency = v.to_string(),
                ("unit", Some(v)) => o.unit = v.to_string(),
                ("owner", Some(v)) => o.owner = v.to_string(),
                ("phase", Some(v)) => o.phase = v.to_string(),
                ("tag", Some(v)) => o.tags.push(v.to_string()),
                (k, _) => return Err(format!("unknown open flag `{k}` in `detail`")),
            }
        }
        Ok(o)
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn flags(detail: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    detail
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| match f.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (f, None),
        })
}

fn class_of(v: &str) -> Result<u8, String> {
    match v {
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        _ => Err(format!("complaint class must be 1, 2 or 3, found `{v}`")),
    }
}

/// Counts the bytes read, for a progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

enum Source {
    Csv(
        csv::StringRecordsIntoIter<Counting<Box<dyn Read + Send>>>,
        Vec<Option<usize>>,
    ),
    Json(io::Lines<BufReader<Counting<Box<dyn Read + Send>>>>, u64),
}

/// A history as a stream of records in file order. Malformed lines come out as
/// errors and reading goes on; times must not go backwards.
pub struct HistoryReader {
    name: String,
    source: Source,
    last: Option<DateTime<Utc>>,
    /// `last` as the file wrote it, for messages.
    last_written: String,
    /// Bytes read so far.
    pub progress: Arc<AtomicU64>,
    /// Total bytes, when known.
    pub size: Option<u64>,
}

impl HistoryReader {
    /// Open a file (`-` reads standard input). `.jsonl`, `.ndjson` and `.json` are
    /// JSON lines; anything else is CSV with a header line.
    pub fn open(path: &Path) -> Result<HistoryReader, LineError> {
        let name = path.display().to_string();
        let err = |message: String| LineError {
            file: name.clone(),
            line: 0,
            message,
        };
        let (reader, size): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
            (Box::new(io::stdin()), None)
        } else {
            let f = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        };
        let json = path
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson" || e == "json");
        HistoryReader::from_reader(&name, reader, json, size)
    }

    pub fn from_reader(
        name: &str,
        reader: Box<dyn Read + Send>,
        json: bool,
        size: Option<u64>,
    ) -> Result<HistoryReader, LineError> {
        let progress = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: reader,
            read: progress.clone(),
        };
        let source = if json {
            Source::Json(BufReader::with_capacity(1 << 16, counting).lines(), 0)
        } else {
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(true)
                .buffer_capacity(1 << 16)
                .from_reader(counting);
            let header = rdr.headers().map_err(|e| LineError {
                file: name.to_string(),
                line: 1,
                message: format!("cannot read the header: {e}"),
            })?;
            let mut index = vec![None; COLUMNS.len()];
            for (i, h) in header.iter().enumerate() {
                match COLUMNS.iter().position(|c| *c == h.trim()) {
                    Some(c) => index[c] = Some(i),
                    None => {
                        return Err(LineError {
                            file: name.to_string(),
                            line: 1,
                            message: format!(
                                "unknown column `{h}`; expected: {}",
                                COLUMNS.join(",")
                            ),
                        });
                    }
                }
            }
            for required in 0..3 {
                if index[required].is_none() {
                    return Err(LineError {
                        file: name.to_string(),
                        line: 1,
                        message: format!(
                            "the header has no `{}` column; expected: {}",
                            COLUMNS[required],
                            COLUMNS.join(",")
                        ),
                    });
                }
            }
            Source::Csv(rdr.into_records(), index)
        };
        Ok(HistoryReader {
            name: name.to_string(),
            source,
            last: None,
            last_written: String::new(),
            progress,
            size,
        })
    }

    fn error(&self, line: u64, message: String) -> LineError {
        LineError {
            file: self.name.clone(),
            line,
            message,
        }
    }

    /// The next line's row, or `None` at the end.
    fn next_row(&mut self) -> Option<Result<(u64, Row), LineError>> {
        let name = self.name.clone();
        let error = |line: u64, message: String| LineError {
            file: name.clone(),
            line,
            message,
        };
        match &mut self.source {
            Source::Csv(records, index) => {
                let rec = records.next()?;
                Some(match rec {
                    Ok(r) => {
                        let line = r.position().map(|p| p.line()).unwrap_or(0);
                        let get =
                            |c: usize| index[c].and_then(|i| r.get(i)).unwrap_or("").to_string();
                        if r.len() > index.iter().flatten().count() {
                            return Some(Err(error(
                                line,
                                format!(
                                    "{} fields, but the header has {}",
                                    r.len(),
                                    index.iter().flatten().count()
                                ),
                            )));
                        }
                        Ok((
                            line,
                            Row {
                                ticket: get(0),
                                at: get(1),
                                action: get(2),
                                estate: get(3),
                                kind: get(4),
                                channel: get(5),
                                category: get(6),
                                detail: get(7),
                                text: get(8),
                            },
                        ))
                    }
                    Err(e) => {
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        let message = match e.kind() {
                            csv::ErrorKind::Utf8 { .. } => "the line is not UTF-8 text".to_string(),
                            _ => format!("malformed CSV: {e}"),
                        };
                        Err(error(line, message))
                    }
                })
            }
            Source::Json(lines, n) => loop {
                *n += 1;
                let line = *n;
                let text = match lines.next()? {
                    Ok(t) => t,
                    Err(e) => return Some(Err(error(line, format!("cannot read: {e}")))),
                };
                if text.trim().is_empty() {
                    continue;
                }
                return Some(
                    serde_json::from_str::<Row>(&text)
                        .map(|r| (line, r))
                        .map_err(|e| error(line, format!("malformed JSON: {e}"))),
                );
            },
        }
    }
}

impl Iterator for HistoryReader {
    type Item = Result<Record, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, row) = match self.next_row()? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let rec = match row.parse(line) {
            Ok(r) => r,
            Err(m) => return Some(Err(self.error(line, m))),
        };
        // The times as the file writes them (with their own offsets), not in UTC.
        let written = row.at.trim().to_string();
        if let Some(last) = self.last
            && rec.at < last
        {
            return Some(Err(self.error(
                line,
                format!(
                    "time {written} is before the previous line's {}: the history must be sorted by time",
                    self.last_written
                ),
            )));
        }
        self.last = Some(rec.at);
        self.last_written = written;
        Some(Ok(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, json: bool) -> Vec<Result<Record, LineError>> {
        HistoryReader::from_reader(
            "h.csv",
            Box::new(io::Cursor::new(text.to_string())),
            json,
            None,
        )
        .unwrap()
        .collect()
    }

    #[test]
    fn csv_lines_become_records_with_line_numbers() {
        let text = "ticket,at,action,estate,kind,channel,category,detail,text\n\
                    T1,2026-07-01T09:00:00+08:00,open,gardens,repair,app,repair.leak,unit=3-1201;major,渗水\n\
                    T1,2026-07-01T09:30:00+08:00,respond,,,,,客服,\n\
                    ,2026-07-02T09:00:00+08:00,rain,gardens,,,,,\n";
        let recs: Vec<_> = read(text, false).into_iter().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].line, 2);
        let Op::Open { intake, category } = &recs[0].op else {
            panic!("not open")
        };
        assert_eq!(intake.unit, "3-1201");
        assert!(intake.major);
        assert_eq!(category.as_deref(), Some("repair.leak"));
        assert_eq!(
            recs[2].op,
            Op::Event {
                kind: "rain".into()
            }
        );
        assert_eq!(recs[2].line, 4);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_line_and_reading_goes_on() {
        let text = "ticket,at,action\nT1,yesterday,open\nT1,2026-07-01T09:00:00+08:00,fly\nT1,2026-07-01T09:00:00+08:00,resume\n";
        let out = read(text, false);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.file.as_str()), (2, "h.csv"));
        assert!(e.message.contains("bad time"), "{e}");
        assert!(
            out[1]
                .as_ref()
                .unwrap_err()
                .message
                .contains("unknown action `fly`")
        );
        assert!(out[2].is_ok());
    }

    #[test]
    fn json_lines_and_time_order() {
        let text = "{\"ticket\":\"T1\",\"at\":\"2026-07-01T09:00:00+08:00\",\"action\":\"resume\"}\n\n\
                    {\"ticket\":\"T1\",\"at\":\"2026-07-01T08:00:00+08:00\",\"action\":\"resume\"}\n\
                    {\"ticket\":\"T1\",\"when\":\"x\"}\n";
        let out = read(text, true);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("sorted by time"), "{e}");
        let e = out[2].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("unknown field `when`"), "{e}");
    }
}
