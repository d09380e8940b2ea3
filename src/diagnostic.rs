//! Diagnostics for everything a user writes: a message, where it is (file, line,
//! column and a caret excerpt) and what was expected. The policy loader collects
//! them all before reporting, so one `policy check` shows every mistake at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Loc {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Loc {
        Loc {
            file,
            start: range.start,
            end: range.end,
        }
    }
}

/// The text of every file read while loading, so locations can be rendered.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<(PathBuf, String)>,
}

impl SourceMap {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push((path.to_path_buf(), text));
        id
    }

    pub fn path(&self, file: FileId) -> &Path {
        self.files
            .get(file.0 as usize)
            .map(|(p, _)| p.as_path())
            .unwrap_or(Path::new("<unknown>"))
    }

    pub fn text(&self, file: FileId) -> &str {
        self.files
            .get(file.0 as usize)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = self.text(file);
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    fn line_text(&self, file: FileId, line: usize) -> &str {
        self.text(file)
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in user input.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub loc: Option<Loc>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(loc: impl Into<Option<Loc>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            loc: loc.into(),
            help: None,
        }
    }

    pub fn warning(loc: impl Into<Option<Loc>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(loc, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` or just the message's subject when there is no location.
    pub fn position(&self, sources: &SourceMap) -> Option<(String, usize, usize)> {
        let loc = self.loc?;
        let (line, col) = sources.line_col(loc.file, loc.start);
        Some((sources.path(loc.file).display().to_string(), line, col))
    }

    /// Human form: header, location arrow, the source line with a caret underline, help.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", self.message);
        if let Some(loc) = self.loc {
            let (line, col) = sources.line_col(loc.file, loc.start);
            let _ = writeln!(
                out,
                "  --> {}:{line}:{col}",
                sources.path(loc.file).display()
            );
            let text = sources.line_text(loc.file, line);
            let gutter = line.to_string().len();
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{line} | {text}");
            // Carets go by terminal columns: a Chinese character before or under
            // the span takes two.
            let chars = caret_width(sources, loc, line, col, text);
            let before = crate::width::width_of_chars(text, col - 1);
            let under = crate::width::width_of_chars(text, col - 1 + chars) - before;
            let _ = writeln!(
                out,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(before),
                "^".repeat(under.max(1))
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }

    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let pos = self.position(sources);
        serde_json::json!({
            "severity": self.severity,
            "message": self.message,
            "file": pos.as_ref().map(|p| p.0.clone()),
            "line": pos.as_ref().map(|p| p.1),
            "column": pos.as_ref().map(|p| p.2),
            "help": self.help,
        })
    }
}

fn caret_width(sources: &SourceMap, loc: Loc, line: usize, col: usize, text: &str) -> usize {
    let (end_line, end_col) = sources.line_col(loc.file, loc.end);
    let line_len = text.chars().count();
    let width = if end_line == line && end_col > col {
        end_col - col
    } else {
        line_len.saturating_sub(col - 1)
    };
    width.max(1)
}

/// The closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_caret() {
        let mut map = SourceMap::default();
        let f = map.add(Path::new("p.toml"), "a = 1\nwithn = \"2h\"\n".into());
        let d = Diagnostic::error(Loc::new(f, 6..11), "unknown key `withn`")
            .with_help("did you mean `within`?");
        let text = d.render(&map);
        assert!(text.contains("--> p.toml:2:1"), "{text}");
        assert!(text.contains("2 | withn = \"2h\""), "{text}");
        assert!(text.contains("  | ^^^^^\n"), "{text}");
        assert!(text.contains("help: did you mean `within`?"), "{text}");
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("withn", ["within", "applies"]), Some("within"));
        assert_eq!(did_you_mean("zzzzzz", ["within", "applies"]), None);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let mut map = SourceMap::default();
        let f = map.add(Path::new("p.toml"), "label = \"急修\" x".into());
        let off = "label = \"急修\" ".len();
        assert_eq!(map.line_col(f, off), (1, 14));
    }

    #[test]
    fn carets_under_chinese_text_go_by_terminal_columns() {
        let mut map = SourceMap::default();
        let src = "label = \"急修\" within = \"2x\"\n";
        let f = map.add(Path::new("p.toml"), src.into());
        let start = src.find("\"2x\"").unwrap();
        let d = Diagnostic::error(Loc::new(f, start..start + 4), "bad duration");
        let text = d.render(&map);
        // The line has two double-width characters before the span: the carets
        // stand two columns further right than the character count says.
        let line = text.lines().find(|l| l.contains('^')).unwrap();
        assert_eq!(line, format!("  | {}^^^^", " ".repeat(24)), "{text}");
        let under = map.add(Path::new("q.toml"), "label = \"急修\"\n".into());
        let d = Diagnostic::error(Loc::new(under, 9..15), "x");
        let text = d.render(&map);
        let line = text.lines().find(|l| l.contains('^')).unwrap();
        assert_eq!(line, format!("  | {}^^^^", " ".repeat(9)), "{text}");
    }
}
