//! Shared printing: diagnostics, JSON, and simple aligned tables.

use crate::diagnostic::{Diagnostic, SourceMap};

use super::args::Format;

pub fn diagnostics(format: Format, sources: &SourceMap, diags: &[Diagnostic]) {
    match format {
        Format::Json => {
            let items: Vec<_> = diags.iter().map(|d| d.to_json(sources)).collect();
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
        }
    }
}

pub fn json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Columns padded to the widest cell (by characters, so Chinese text lines up
/// well enough in a terminal that renders it double-width; exactness is not needed).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(cell));
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut parts = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(display_width(c));
            if i + 1 == cells.len() {
                parts.push(c.to_string());
            } else {
                parts.push(format!("{c}{}", " ".repeat(pad)));
            }
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// East Asian wide characters take two terminal columns.
pub fn display_width(s: &str) -> usize {
    crate::report::render::display_width(s)
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
