//! Complaint registers (投诉登记台账, the 客户投诉及建议跟进处理表 of 002, a
//! helpdesk's export) read as ticket history: a CSV or XLSX file, one ticket a
//! row, turned by a mapping file into steward's intake and the actions the
//! register recorded, in time order across all tickets.
//!
//! The file is read twice. The first pass checks every row (dates, value maps,
//! the order of a row's times, duplicate ticket ids, times after `now`) and
//! collects the bad rows, so `--strict` can refuse the file before anything is
//! written; the second yields the good rows' actions as [`Record`]s, the same
//! records `sim replay` reads from a history, so a register replays directly
//! ([`records`]) or goes into a database through the engine ([`db`]).
//!
//! | module | owns |
//! |---|---|
//! | [`mapping`] | the mapping file: columns, date formats, value maps, defaults, time zone |
//! | [`dates`] | register times: ISO, `2026/7/6 9:00`, `2026年7月6日 9时`, Excel serials |
//! | [`source`] | CSV (UTF-8 or GBK) and XLSX rows, merged cells filled |
//! | [`register`] | the header matched to the mapping; a row read into a ticket |
//! | [`order`] | tickets' actions merged into one time-ordered stream |
//! | [`db`] | the stream into a database through the service, in batches that commit whole |
//! | [`history_out`] | the stream written as steward's history CSV |

pub mod dates;
pub mod db;
pub mod history_out;
pub mod mapping;
pub mod order;
pub mod register;
pub mod source;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::sim::history::{LineError, Record};

use mapping::Mapping;
use register::{Header, RegTicket, RowReader};
use source::{Line, Source};

/// A row that cannot be imported: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    pub file: String,
    pub row: u64,
    /// The spreadsheet column (`F`), when one cell is at fault.
    pub column: Option<String>,
    /// That column's header text.
    pub header: Option<String>,
    /// The mapping field it holds (`resolved`).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: row {}", self.file, self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
            if let Some(h) = &self.header {
                write!(f, " ({h})")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl BadRow {
    pub fn to_line_error(&self) -> LineError {
        let mut message = String::new();
        if let Some(c) = &self.column {
            message.push_str(&format!("column {c}"));
            if let Some(h) = &self.header {
                message.push_str(&format!(" ({h})"));
            }
            message.push_str(": ");
        }
        message.push_str(&self.message);
        LineError {
            file: self.file.clone(),
            line: self.row,
            message,
        }
    }
}

/// How to read a register.
#[derive(Debug, Clone)]
pub struct Options {
    /// Times after this are bad rows (the CLI passes `--now` or the clock).
    pub now: DateTime<Utc>,
    /// `utf-8` or `gbk`, overriding the mapping and detection (CSV).
    pub encoding: Option<String>,
}

/// A register, checked: everything the first pass found.
pub struct Register {
    pub name: String,
    pub mapping: Mapping,
    source: Source,
    header: Header,
    /// The time rows were checked against.
    pub now: DateTime<Utc>,
    /// Every bad row, in file order (a row can have several).
    pub bad: Vec<BadRow>,
    bad_rows: HashSet<u64>,
    /// Rows below the header, empty rows included.
    pub rows: u64,
    pub empty_rows: u64,
    /// Good rows, i.e. tickets.
    pub tickets: u64,
    /// Actions after the openings, over all good rows.
    pub actions: u64,
    /// Good rows are in intake order (then the second pass streams).
    pub sorted: bool,
    pub first_opened: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    /// SHA-256 of the file's bytes.
    pub file_digest: String,
    /// SHA-256 of the file's and the mapping's digests: an import's identity.
    pub identity: String,
}

impl Register {
    /// Read and check the whole register (the first pass).
    pub fn open(path: &Path, mapping: Mapping, opts: &Options) -> Result<Register, String> {
        let name = path.display().to_string();
        let fail = |m: String| format!("{name}: {m}");
        let encoding = opts.encoding.clone().or_else(|| mapping.encoding.clone());
        let source =
            Source::open(path, encoding.as_deref(), mapping.sheet.as_deref()).map_err(fail)?;
        let file_digest = file_sha256(path).map_err(fail)?;
        let identity = crate::digest::sha256_hex(
            format!(
                "steward import 1\n{file_digest}\n{}",
                crate::digest::sha256_hex(mapping.text.as_bytes())
            )
            .as_bytes(),
        );
        let mut head: Vec<Line> = Vec::new();
        for line in source.lines().map_err(fail)?.take(40) {
            match line {
                Ok(l) => head.push(l),
                Err(u) => return Err(fail(format!("row {}: {}", u.row, u.message))),
            }
        }
        let header = Header::find(&head, &mapping, source.merges()).map_err(fail)?;
        let mut reg = Register {
            name,
            mapping,
            source,
            header,
            now: opts.now,
            bad: Vec::new(),
            bad_rows: HashSet::new(),
            rows: 0,
            empty_rows: 0,
            tickets: 0,
            actions: 0,
            sorted: true,
            first_opened: None,
            last_time: None,
            file_digest,
            identity,
        };
        reg.check()?;
        Ok(reg)
    }

    fn reader(&self) -> RowReader<'_> {
        RowReader {
            file: &self.name,
            mapping: &self.mapping,
            header: &self.header,
            now: self.now,
        }
    }

    fn check(&mut self) -> Result<(), String> {
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut bad = Vec::new();
        let mut last_opened: Option<DateTime<Utc>> = None;
        let (mut rows, mut empty, mut tickets, mut actions) = (0, 0, 0, 0);
        let mut sorted = true;
        let (mut first, mut last) = (None, None);
        {
            let reader = self.reader();
            let lines = self
                .source
                .lines()
                .map_err(|m| format!("{}: {m}", self.name))?;
            for line in lines {
                let line = match line {
                    Ok(l) if l.row <= self.header.last_row => continue,
                    Ok(l) => l,
                    Err(u) => {
                        rows += 1;
                        bad.push(BadRow {
                            file: self.name.clone(),
                            row: u.row,
                            column: u.column.map(source::column_name),
                            header: None,
                            field: None,
                            message: u.message,
                        });
                        continue;
                    }
                };
                rows += 1;
                match reader.read(&line) {
                    Ok(None) => empty += 1,
                    Ok(Some(t)) => {
                        if let Some(first_row) = seen.get(&t.intake.id) {
                            bad.push(reader_bad(
                                &reader,
                                line.row,
                                format!(
                                    "duplicate ticket id `{}`: row {first_row} has it already",
                                    t.intake.id
                                ),
                            ));
                            continue;
                        }
                        seen.insert(t.intake.id.clone(), line.row);
                        if last_opened.is_some_and(|l| t.opened < l) {
                            sorted = false;
                        }
                        last_opened =
                            Some(last_opened.map_or(t.opened, |l: DateTime<Utc>| l.max(t.opened)));
                        first = Some(first.map_or(t.opened, |f: DateTime<Utc>| f.min(t.opened)));
                        let end = t.actions.last().map_or(t.opened, |a| a.0);
                        last = Some(last.map_or(end, |l: DateTime<Utc>| l.max(end)));
                        tickets += 1;
                        actions += t.actions.len() as u64;
                    }
                    Err(b) => bad.extend(b),
                }
            }
        }
        self.bad_rows = bad.iter().map(|b| b.row).collect();
        self.bad = bad;
        self.rows = rows;
        self.empty_rows = empty;
        self.tickets = tickets;
        self.actions = actions;
        self.sorted = sorted;
        self.first_opened = first;
        self.last_time = last;
        Ok(())
    }

    /// Bad rows (not bad cells).
    pub fn bad_row_count(&self) -> usize {
        self.bad_rows.len()
    }

    /// How the file was read, for the report.
    pub fn note(&self) -> String {
        self.source.note()
    }

    /// The good rows as tickets, in file order (the second pass).
    pub fn tickets(&self) -> Result<impl Iterator<Item = RegTicket> + '_, String> {
        let reader = self.reader();
        let last_header = self.header.last_row;
        let lines = self
            .source
            .lines()
            .map_err(|m| format!("{}: {m}", self.name))?;
        Ok(lines.filter_map(move |line| {
            let line = line.ok()?;
            if line.row <= last_header || self.bad_rows.contains(&line.row) {
                return None;
            }
            reader.read(&line).ok().flatten()
        }))
    }

    /// Every good row's actions as history records, in time order: streamed
    /// when the register is in intake order, sorted in memory otherwise.
    pub fn records(&self) -> Result<Box<dyn Iterator<Item = Record> + '_>, String> {
        let tickets = self.tickets()?;
        if self.sorted {
            Ok(Box::new(order::TimeOrder::new(tickets)))
        } else {
            let mut all: Vec<RegTicket> = tickets.collect();
            all.sort_by_key(|t| (t.opened, t.row));
            Ok(Box::new(order::TimeOrder::new(all.into_iter())))
        }
    }
}

fn reader_bad(reader: &RowReader<'_>, row: u64, message: String) -> BadRow {
    let col = reader.header.columns.get(&mapping::Field::Ticket);
    BadRow {
        file: reader.file.to_string(),
        row,
        column: col.map(|(c, _)| source::column_name(*c)),
        header: col.map(|(_, h)| h.clone()),
        field: Some("ticket".into()),
        message,
    }
}

fn file_sha256(path: &Path) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    crate::digest::sha256_hex_of_reader(f).map_err(|e| format!("cannot read: {e}"))
}
