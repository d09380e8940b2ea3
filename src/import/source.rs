//! A register file as rows of cells: CSV (UTF-8 or GBK, detected or given) read
//! as a stream, or an XLSX sheet read with calamine, merged cells filled from
//! their top-left cell so a merged header or a merged estate cell reads the same
//! in every row it covers.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use encoding_rs::{Encoding, GBK, UTF_8};

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A number cell (or, in CSV, never: CSV cells are text).
    Number(f64),
    /// An XLSX cell formatted as a date: Excel's serial day number.
    Serial(f64),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as it would show in a spreadsheet.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) | Cell::Serial(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    n.to_string()
                }
            }
        }
    }
}

/// One row: its number as the file shows it (1-based) and its cells.
#[derive(Debug, Clone)]
pub struct Line {
    pub row: u64,
    pub cells: Vec<Cell>,
}

/// A row that could not be read at all (not a bad value: bad bytes or quoting).
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub row: u64,
    pub column: Option<usize>,
    pub message: String,
}

pub enum Source {
    Csv(CsvSource),
    Xlsx(XlsxSource),
}

impl Source {
    /// Open `path`: `.xlsx`/`.xlsm` as a workbook, anything else as CSV.
    /// `encoding` (`utf-8`, `gbk`) overrides detection for CSV.
    pub fn open(
        path: &Path,
        encoding: Option<&str>,
        sheet: Option<&str>,
    ) -> Result<Source, String> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("xlsx" | "xlsm") => XlsxSource::open(path, sheet).map(Source::Xlsx),
            Some("xls") => Err(
                "old-style .xls workbooks are not read: save the register as .xlsx or CSV".into(),
            ),
            _ => CsvSource::open(path, encoding).map(Source::Csv),
        }
    }

    pub fn lines(&self) -> Result<Box<dyn Iterator<Item = Result<Line, Unreadable>> + '_>, String> {
        match self {
            Source::Csv(c) => c.lines(),
            Source::Xlsx(x) => Ok(Box::new(x.rows.iter().cloned().map(Ok))),
        }
    }

    /// How the file was read, e.g. `GBK (detected)`, or the sheet name.
    pub fn note(&self) -> String {
        match self {
            Source::Csv(c) => c.note.clone(),
            Source::Xlsx(x) => format!("sheet {}", x.sheet),
        }
    }

    /// Merged ranges `(first row, first col, last row, last col)`, 1-based rows
    /// and 0-based columns; CSV has none.
    pub fn merges(&self) -> &[(u64, usize, u64, usize)] {
        match self {
            Source::Csv(_) => &[],
            Source::Xlsx(x) => &x.merges,
        }
    }
}

pub struct CsvSource {
    path: PathBuf,
    encoding: &'static Encoding,
    note: String,
}

const SAMPLE: usize = 64 * 1024;

impl CsvSource {
    fn open(path: &Path, encoding: Option<&str>) -> Result<CsvSource, String> {
        let mut sample = Vec::with_capacity(SAMPLE);
        File::open(path)
            .map_err(|e| format!("cannot open: {e}"))?
            .take(SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| format!("cannot read: {e}"))?;
        if sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]) {
            return Err("the file is UTF-16 text: save it as CSV UTF-8 (or GBK)".into());
        }
        let (encoding, note) = match encoding {
            Some("gbk") => (GBK, "GBK (--encoding)".to_string()),
            Some(_) => (UTF_8, "UTF-8".to_string()),
            None => detect(&sample)?,
        };
        Ok(CsvSource {
            path: path.to_path_buf(),
            encoding,
            note,
        })
    }

    fn lines(&self) -> Result<Box<dyn Iterator<Item = Result<Line, Unreadable>> + '_>, String> {
        let file = File::open(&self.path).map_err(|e| format!("cannot open: {e}"))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let encoding = self.encoding;
        let mut records = reader.into_byte_records();
        let mut first = true;
        Ok(Box::new(std::iter::from_fn(move || {
            let rec = records.next()?;
            let is_first = std::mem::replace(&mut first, false);
            Some(match rec {
                Ok(r) => {
                    let row = r.position().map_or(0, |p| p.line());
                    let mut cells = Vec::with_capacity(r.len());
                    for (i, field) in r.iter().enumerate() {
                        let field = if is_first && i == 0 {
                            field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
                        } else {
                            field
                        };
                        match decode(encoding, field) {
                            Some(t) if t.trim().is_empty() => cells.push(Cell::Empty),
                            Some(t) => cells.push(Cell::Text(t)),
                            None => {
                                return Some(Err(Unreadable {
                                    row,
                                    column: Some(i),
                                    message: format!(
                                        "the cell is not {} text{}",
                                        encoding.name(),
                                        if encoding == UTF_8 {
                                            " (a GBK file? try --encoding gbk)"
                                        } else {
                                            ""
                                        }
                                    ),
                                }));
                            }
                        }
                    }
                    Ok(Line { row, cells })
                }
                Err(e) => Err(Unreadable {
                    row: e.position().map_or(0, |p| p.line()),
                    column: None,
                    message: format!("malformed CSV: {e}"),
                }),
            })
        })))
    }
}

/// UTF-8 when the sample is UTF-8 (a cut last character allowed), else GBK when
/// it decodes as GBK without a replacement; else refuse, naming both.
fn detect(sample: &[u8]) -> Result<(&'static Encoding, String), String> {
    match std::str::from_utf8(sample) {
        Ok(_) => return Ok((UTF_8, "UTF-8".into())),
        Err(e) if e.error_len().is_none() => return Ok((UTF_8, "UTF-8".into())),
        Err(_) => {}
    }
    // A sample cut inside a two-byte character leaves one lead byte at the end.
    let cut = match sample.last() {
        Some(b) if *b >= 0x81 && sample.len() == SAMPLE => &sample[..sample.len() - 1],
        _ => sample,
    };
    let (_, had_errors) = GBK.decode_without_bom_handling(cut);
    if !had_errors {
        return Ok((GBK, "GBK (detected)".into()));
    }
    Err("the file is neither UTF-8 nor GBK text: give --encoding, or save it as CSV UTF-8".into())
}

fn decode(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    if encoding == UTF_8 {
        return std::str::from_utf8(bytes).ok().map(str::to_string);
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    (!had_errors).then(|| text.into_owned())
}

pub struct XlsxSource {
    sheet: String,
    rows: Vec<Line>,
    merges: Vec<(u64, usize, u64, usize)>,
}

impl XlsxSource {
    fn open(path: &Path, sheet: Option<&str>) -> Result<XlsxSource, String> {
        let mut book: Xlsx<BufReader<File>> =
            open_workbook(path).map_err(|e| format!("cannot read the workbook: {e}"))?;
        let names = book.sheet_names();
        let name = match sheet {
            Some(s) => names
                .iter()
                .find(|n| n.as_str() == s)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the workbook has no sheet `{s}`; it has: {}",
                        names.join(", ")
                    )
                })?,
            None => names.first().cloned().ok_or("the workbook has no sheets")?,
        };
        let range = book
            .worksheet_range(&name)
            .map_err(|e| format!("cannot read sheet `{name}`: {e}"))?;
        book.load_merged_regions()
            .map_err(|e| format!("cannot read the merged cells of `{name}`: {e}"))?;
        let merges: Vec<(u64, usize, u64, usize)> = book
            .merged_regions_by_sheet(&name)
            .iter()
            .map(|(_, _, d)| {
                (
                    u64::from(d.start.0) + 1,
                    d.start.1 as usize,
                    u64::from(d.end.0) + 1,
                    d.end.1 as usize,
                )
            })
            .collect();
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let mut rows: Vec<Line> = Vec::new();
        for (i, r) in range.rows().enumerate() {
            let mut cells = vec![Cell::Empty; col0 as usize];
            cells.extend(r.iter().map(cell));
            rows.push(Line {
                row: u64::from(row0) + i as u64 + 1,
                cells,
            });
        }
        // Fill every merged cell with its top-left value.
        for &(r1, c1, r2, c2) in &merges {
            let first = u64::from(row0) + 1;
            let Some(value) = r1
                .checked_sub(first)
                .and_then(|i| rows.get(i as usize))
                .and_then(|l| l.cells.get(c1))
                .cloned()
            else {
                continue;
            };
            for r in r1..=r2 {
                let Some(line) = r.checked_sub(first).and_then(|i| rows.get_mut(i as usize)) else {
                    continue;
                };
                if line.cells.len() <= c2 {
                    line.cells.resize(c2 + 1, Cell::Empty);
                }
                for c in line.cells.iter_mut().take(c2 + 1).skip(c1) {
                    *c = value.clone();
                }
            }
        }
        Ok(XlsxSource {
            sheet: name,
            rows,
            merges,
        })
    }
}

fn cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(t) if t.is_duration() => Cell::Number(t.as_f64()),
        Data::DateTime(t) => Cell::Serial(t.as_f64()),
        Data::Error(e) => Cell::Text(format!("#{e}")),
    }
}

/// `A`, `B`, ... `Z`, `AA`: a spreadsheet's name for a 0-based column.
pub fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_run_like_a_spreadsheet() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn gbk_is_detected_and_utf8_preferred() {
        let (text, _, _) = GBK.encode("编号,受理时间\nC-1,2026/7/6 9:00\n");
        assert_eq!(detect(&text).unwrap().0, GBK);
        assert_eq!(detect("编号,受理时间".as_bytes()).unwrap().0, UTF_8);
        assert!(detect(&[0x66, 0xFF, 0xFF, 0x20]).is_err());
    }
}
