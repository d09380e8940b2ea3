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

/// Columns padded to the widest cell (by characters, so Chinese text lines up
/// well enough in a terminal that renders it double-width; exactness is not needed).
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
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}
