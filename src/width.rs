//! Terminal display width, the one measure for every aligned table and every
//! caret: CJK and other East Asian wide characters take two columns, combining
//! marks none, arrows and dashes one (Unicode UAX #11 via `unicode-width`).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes in a terminal.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Columns the first `chars` characters of `s` take: where a caret under
/// character `chars + 1` goes.
pub fn width_of_chars(s: &str, chars: usize) -> usize {
    s.chars()
        .take(chars)
        .map(|c| UnicodeWidthChar::width(c).unwrap_or(0))
        .sum()
}

/// `s` padded with spaces to `cols` columns (unchanged when it is as wide or wider).
pub fn pad(s: &str, cols: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(width(s))));
    out
}

/// `s` on one line (runs of whitespace, line breaks included, become one space)
/// and cut to at most `cols` columns: conditions and scripts in a table cell.
pub fn one_line(s: &str, cols: usize) -> String {
    clip(&s.split_whitespace().collect::<Vec<_>>().join(" "), cols)
}

/// `s` cut to at most `cols` columns, ending in `…` when cut.
pub fn clip(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > cols {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns_arrows_one() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("急修"), 4);
        assert_eq!(width("2h → 4h"), 7);
        assert_eq!(width("上海 · 花园"), 11);
        assert_eq!(width("—…"), 2);
        assert_eq!(width_of_chars("label = \"急修\"", 10), 11);
    }

    #[test]
    fn pad_and_clip_count_columns() {
        assert_eq!(pad("急修", 6), "急修  ");
        assert_eq!(pad("toolong", 3), "toolong");
        assert_eq!(clip("客厅灯具不亮", 7), "客厅灯…");
        assert_eq!(width(&clip("客厅灯具不亮", 7)), 7);
        assert_eq!(clip("short", 7), "short");
        assert_eq!(
            one_line("text.contains(\"渗水\")\n    || urgent", 20),
            "text.contains(\"渗水…"
        );
        assert_eq!(one_line("a\n  b", 9), "a b");
    }
}
