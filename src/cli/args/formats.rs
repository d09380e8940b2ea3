//! `--format`, one value enum per set of formats a command prints, so `--help`,
//! the completions and clap's own errors offer only the formats that work there.
//! The commands read the chosen one as the common [`Format`] on `Global`.

use clap::ValueEnum;

/// What a command prints; set on `Global` from the command's own `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Toml,
    Csv,
    Html,
}

/// Most commands: a table (or text) for people, JSON for scripts.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableJson {
    #[default]
    Table,
    Json,
}

/// `policy show`: the resolved policy as TOML (`table` is the same TOML) or JSON.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowFormat {
    /// The resolved policy as TOML, with its fingerprint
    #[default]
    Table,
    /// The same as `table`
    Toml,
    Json,
}

/// `sim replay`: also comma-separated values, one row per day or week.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplayFormat {
    #[default]
    Table,
    Json,
    /// Comma-separated values
    Csv,
}

/// `report`: also CSV and one self-contained HTML file with SVG charts.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Table,
    Json,
    /// Comma-separated values: one long table of sections
    Csv,
    /// One self-contained file with SVG charts
    Html,
}

impl From<TableJson> for Format {
    fn from(f: TableJson) -> Format {
        match f {
            TableJson::Table => Format::Table,
            TableJson::Json => Format::Json,
        }
    }
}

impl From<ShowFormat> for Format {
    fn from(f: ShowFormat) -> Format {
        match f {
            ShowFormat::Table => Format::Table,
            ShowFormat::Toml => Format::Toml,
            ShowFormat::Json => Format::Json,
        }
    }
}

impl From<ReplayFormat> for Format {
    fn from(f: ReplayFormat) -> Format {
        match f {
            ReplayFormat::Table => Format::Table,
            ReplayFormat::Json => Format::Json,
            ReplayFormat::Csv => Format::Csv,
        }
    }
}

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Format {
        match f {
            ReportFormat::Table => Format::Table,
            ReportFormat::Json => Format::Json,
            ReportFormat::Csv => Format::Csv,
            ReportFormat::Html => Format::Html,
        }
    }
}

/// `--format V` (or `--format=V`) written before the command, as in
/// `steward --format json ticket list`, moved after it, where the command's own
/// `--format` reads it. Other global flags before the command stay where they are.
pub fn hoist_format(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut moved = Vec::new();
    let mut it = args.into_iter();
    out.extend(it.next());
    while let Some(arg) = it.next() {
        let text = arg.to_str().unwrap_or("");
        if text == "--format" {
            moved.push(arg);
            moved.extend(it.next());
        } else if text.starts_with("--format=") {
            moved.push(arg);
        } else if matches!(text, "--db" | "--now" | "--color") {
            out.push(arg);
            out.extend(it.next());
        } else if text.starts_with('-') && text != "--" {
            out.push(arg);
        } else {
            // The command: the rest is its own; `--format` goes before any `--`.
            out.push(arg);
            let rest: Vec<_> = it.by_ref().collect();
            let at = rest.iter().position(|a| a == "--").unwrap_or(rest.len());
            let (before, after) = rest.split_at(at);
            out.extend_from_slice(before);
            out.append(&mut moved);
            out.extend_from_slice(after);
            return out;
        }
    }
    out.append(&mut moved);
    out
}

#[cfg(test)]
mod tests {
    use super::hoist_format;

    fn hoist(line: &str) -> String {
        let args = line.split(' ').map(Into::into).collect();
        let out: Vec<String> = hoist_format(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        out.join(" ")
    }

    #[test]
    fn format_before_the_command_moves_after_it() {
        assert_eq!(
            hoist("steward --format json ticket list --breached"),
            "steward ticket list --breached --format json"
        );
        assert_eq!(
            hoist("steward --db x.db --format=csv --now 2026-07-06T09:00 report weekly"),
            "steward --db x.db --now 2026-07-06T09:00 report weekly --format=csv"
        );
        assert_eq!(
            hoist("steward --format json sim run -- a.toml"),
            "steward sim run --format json -- a.toml"
        );
        // `--db` takes `--format` as its value only when written so: left alone.
        assert_eq!(
            hoist("steward ticket show T1 --format json"),
            "steward ticket show T1 --format json"
        );
    }
}
