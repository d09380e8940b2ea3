//! Shared printing: diagnostics, JSON, and simple aligned tables.

use crate::diagnostic::{Diagnostic, SourceMap};

use super::args::Format;

/// Most diagnostics shown; the rest are counted. Locating each one in its file
/// costs a scan of the file, and nobody reads the 51st error before fixing the first.
pub const MAX_SHOWN: usize = 50;

pub fn diagnostics(format: Format, sources: &SourceMap, diags: &[Diagnostic]) {
    let more = diags.len().saturating_sub(MAX_SHOWN);
    let diags = &diags[..diags.len().min(MAX_SHOWN)];
    match format {
        Format::Json => {
            let mut items: Vec<_> = diags.iter().map(|d| d.to_json(sources)).collect();
            if more > 0 {
                items.push(serde_json::json!({
                    "severity": "error",
                    "message": format!("and {more} more"),
                }));
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
        _ => {
            for d in diags {
                eprint!("{}", d.render(sources));
                eprintln!();
            }
            if more > 0 {
                eprintln!("… and {more} more\n");
            }
        }
    }
}

pub fn json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// `s` made safe to print on a terminal: control characters (ESC, which starts
/// colour and OSC-8 hyperlink sequences, BEL, backspace, C1 controls, …) and
/// bidirectional overrides are shown as `\u{..}` escapes instead of acting on the
/// terminal. Line breaks stay when `keep_newlines`.
pub fn terminal_safe(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Columns padded to the widest cell, measured in terminal columns
/// ([`crate::width`]), so Chinese text lines up.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| terminal_safe(c, false).into_owned())
                .collect()
        })
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(cell));
            }
        }
    }
    let mut out = String::new();
    line(&widths, header, &mut out);
    for row in rows {
        line(&widths, row, &mut out);
    }
    out
}

/// One table line: every cell but the last padded to its column's width.
fn line<S: AsRef<str>>(widths: &[usize], cells: &[S], out: &mut String) {
    let start = out.len();
    for (i, c) in cells.iter().enumerate() {
        let c = c.as_ref();
        if i > 0 {
            out.push_str("  ");
        }
        out.push_str(c);
        if i + 1 < cells.len() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(display_width(c));
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    let end = out[start..].trim_end().len() + start;
    out.truncate(end);
    out.push('\n');
}

/// [`table`] for rows that arrive one at a time and may be many: the columns are
/// sized on the first [`TableStream::ALIGN`] rows, which are held; later rows are
/// written at once with those widths (a wider cell pushes the rest of its line),
/// so memory stays bounded however many rows there are. With up to `ALIGN` rows
/// the output is exactly [`table`]'s.
pub struct TableStream {
    header: Vec<&'static str>,
    held: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
    buf: String,
    rows: u64,
}

impl TableStream {
    pub const ALIGN: usize = 500;

    pub fn new(header: &[&'static str]) -> TableStream {
        TableStream {
            header: header.to_vec(),
            held: Vec::new(),
            widths: None,
            buf: String::new(),
            rows: 0,
        }
    }

    pub fn row(&mut self, row: Vec<String>) {
        self.rows += 1;
        match &self.widths {
            Some(w) => {
                line(w, &row, &mut self.buf);
                if self.buf.len() > 64 * 1024 {
                    print(&std::mem::take(&mut self.buf));
                }
            }
            None => {
                self.held.push(row);
                if self.held.len() >= Self::ALIGN {
                    self.align();
                }
            }
        }
    }

    fn align(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.buf.push_str(&table(&self.header, &held));
        let mut widths: Vec<usize> = self.header.iter().map(|h| display_width(h)).collect();
        for row in &held {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(display_width(cell));
            }
        }
        self.widths = Some(widths);
    }

    /// Prints what is left, then `footer`; with no row at all prints `empty` instead.
    pub fn finish(mut self, empty: &str, footer: &str) {
        if self.rows == 0 {
            println!("{empty}");
            return;
        }
        if self.widths.is_none() {
            self.align();
        }
        self.buf.push_str(footer);
        print(&self.buf);
    }
}

/// East Asian wide characters take two terminal columns.
pub fn display_width(s: &str) -> usize {
    crate::width::width(s)
}

/// Prints `text` to stdout with [`paint`]ed keywords; anstream drops the colour
/// when stdout is not a terminal, NO_COLOR is set or `--color never` was given.
pub fn print(text: &str) {
    anstream::print!("{}", paint(text));
}

/// [`print`] for stderr.
pub fn eprint(text: &str) {
    anstream::eprint!("{}", paint(text));
}

/// Words a reader must not miss, in colour: breaches and failures red, warnings yellow.
/// Applied to finished text, so the colour codes never disturb column widths.
pub fn paint(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let words: [(&str, Style); 7] = [
        ("BREACHED", red),
        ("FAILED", red),
        ("FAIL", red),
        ("BROKEN", red),
        ("MISMATCH", red),
        ("error:", red),
        ("warning:", yellow),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    'scan: while !rest.is_empty() {
        if prev.is_none_or(|c| !c.is_alphanumeric()) {
            for (word, style) in &words {
                if let Some(after) = rest.strip_prefix(word)
                    && after.chars().next().is_none_or(|c| !c.is_alphanumeric())
                {
                    out.push_str(&format!("{}{word}{}", style.render(), style.render_reset()));
                    rest = after;
                    prev = word.chars().next_back();
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
            prev = Some(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::paint;

    #[test]
    fn a_stream_of_few_rows_is_the_table() {
        let rows: Vec<Vec<String>> = (0..3)
            .map(|i| vec![format!("T{i}"), "工程部".repeat(i), "x".into()])
            .collect();
        let want = super::table(&["id", "dept", "text"], &rows);
        let mut buf = String::new();
        let mut s = super::TableStream::new(&["id", "dept", "text"]);
        for r in &rows {
            s.row(r.clone());
        }
        s.align();
        buf.push_str(&s.buf);
        assert_eq!(buf, want);
    }

    #[test]
    fn keywords_are_painted_whole_words_only() {
        let p = paint("T1 BREACHED (was due); FAILED x; FAILURE; warning: y");
        assert!(p.contains("\u{1b}[1m\u{1b}[31mBREACHED\u{1b}[0m"), "{p:?}");
        assert!(p.contains("\u{1b}[31mFAILED\u{1b}[0m"), "{p:?}");
        assert!(p.contains("FAILURE"), "FAILURE is not a keyword: {p:?}");
        assert!(!p.contains("mFAILURE"), "{p:?}");
        assert!(p.contains("\u{1b}[33mwarning:\u{1b}[0m"), "{p:?}");
        assert_eq!(paint("nothing to see"), "nothing to see");
    }
}
