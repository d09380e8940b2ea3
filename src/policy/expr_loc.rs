//! Maps a line and column inside a TOML string value (a rhai condition) to a location
//! in the file, so an error underlines the offending token rather than the whole string.

use crate::diagnostic::{Loc, SourceMap};

/// `value` is the location of the string value including its quotes.
pub fn locate(sources: &SourceMap, value: Loc, line: usize, column: usize) -> Loc {
    let text = sources.text(value.file);
    let Some(raw) = text.get(value.start..value.end) else {
        return value;
    };
    let mut offset = if raw.starts_with("'''") || raw.starts_with("\"\"\"") { 3 } else { 1 };
    // A newline right after a multi-line opening delimiter is not part of the value.
    if offset == 3 && raw[3..].starts_with('\n') {
        offset += 1;
    }
    let body = &raw[offset.min(raw.len())..];
    let mut pos = 0;
    for _ in 1..line {
        match body[pos..].find('\n') {
            Some(i) => pos += i + 1,
            None => return value,
        }
    }
    let col_bytes: usize = body[pos..].chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
    let start = value.start + offset + pos + col_bytes;
    let end = body[pos + col_bytes..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map(|(i, _)| i.max(1))
        .unwrap_or(1);
    Loc { file: value.file, start, end: (start + end).min(value.end) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn points_inside_a_literal_string() {
        let mut map = SourceMap::default();
        let text = "when = 'kind == \"x\" && colour == 1'\n";
        let f = map.add(Path::new("p.toml"), text.into());
        let value = Loc { file: f, start: 7, end: text.len() - 1 };
        let loc = locate(&map, value, 1, 16);
        assert_eq!(&text[loc.start..loc.end], "colour");
    }
}
