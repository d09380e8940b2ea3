//! The mapping file: which register column holds which field, how its dates are
//! written, what its words mean, and the time zone its times are in. Every
//! mistake is reported with the mapping file's line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::dates::{DateReader, DateStyle};

/// A field of steward's intake or a time of an action the register records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Ticket,
    Opened,
    Estate,
    Unit,
    Owner,
    Channel,
    Kind,
    Category,
    Class,
    Urgency,
    Text,
    Handler,
    Responded,
    Planned,
    Reported,
    Resolved,
    Revisited,
    RevisitResult,
    RevisitChannel,
    Closed,
    Invalid,
    Compensation,
    CompensationAt,
}

impl Field {
    pub const ALL: [Field; 23] = [
        Field::Ticket,
        Field::Opened,
        Field::Estate,
        Field::Unit,
        Field::Owner,
        Field::Channel,
        Field::Kind,
        Field::Category,
        Field::Class,
        Field::Urgency,
        Field::Text,
        Field::Handler,
        Field::Responded,
        Field::Planned,
        Field::Reported,
        Field::Resolved,
        Field::Revisited,
        Field::RevisitResult,
        Field::RevisitChannel,
        Field::Closed,
        Field::Invalid,
        Field::Compensation,
        Field::CompensationAt,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Field::Ticket => "ticket",
            Field::Opened => "opened",
            Field::Estate => "estate",
            Field::Unit => "unit",
            Field::Owner => "owner",
            Field::Channel => "channel",
            Field::Kind => "kind",
            Field::Category => "category",
            Field::Class => "class",
            Field::Urgency => "urgency",
            Field::Text => "text",
            Field::Handler => "handler",
            Field::Responded => "responded",
            Field::Planned => "planned",
            Field::Reported => "reported",
            Field::Resolved => "resolved",
            Field::Revisited => "revisited",
            Field::RevisitResult => "revisit_result",
            Field::RevisitChannel => "revisit_channel",
            Field::Closed => "closed",
            Field::Invalid => "invalid",
            Field::Compensation => "compensation",
            Field::CompensationAt => "compensation_at",
        }
    }

    pub fn parse(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// Columns that hold a time.
    pub fn is_time(self) -> bool {
        matches!(
            self,
            Field::Opened
                | Field::Responded
                | Field::Planned
                | Field::Reported
                | Field::Resolved
                | Field::Revisited
                | Field::Closed
                | Field::CompensationAt
        )
    }
}

/// A mistake in the mapping file, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    register: RawRegister,
    columns: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, BTreeMap<String, String>>,
    #[serde(default)]
    defaults: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    form: Option<String>,
    sheet: Option<String>,
    header_row: Option<Spanned<u32>>,
    time_zone: Option<Spanned<String>>,
    date_formats: Option<Vec<Spanned<String>>>,
    encoding: Option<Spanned<String>>,
}

/// A mapping file, read and checked.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The form the register is (e.g. 客户投诉及建议跟进处理表), for the report.
    pub form: Option<String>,
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// 1-based row of the header; found by the ticket column's name when absent.
    pub header_row: Option<u32>,
    /// Field → the header text of its column (`组/子` for a grouped two-row header).
    pub columns: BTreeMap<Field, String>,
    /// Field → register word → steward value.
    pub values: BTreeMap<Field, BTreeMap<String, String>>,
    /// Field → value when the column is absent or the cell empty.
    pub defaults: BTreeMap<Field, String>,
    pub dates: DateReader,
    /// `utf-8`, `gbk`, or `None` to detect (CSV only).
    pub encoding: Option<String>,
    /// The mapping's text, part of an import's identity.
    pub text: String,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, MapError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MapError {
            file: name.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the mapping: {e}"),
        })?;
        Mapping::parse(&name, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Mapping, MapError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            MapError {
                file: file.to_string(),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span, e.message().trim().to_string())
        })?;
        let field_of = |key: &Spanned<String>, table: &str| {
            Field::parse(key.get_ref()).ok_or_else(|| {
                at(
                    key.span(),
                    format!(
                        "unknown field `{}` in [{table}]; expected one of: {}",
                        key.get_ref(),
                        Field::ALL.map(Field::key).join(", ")
                    ),
                )
            })
        };
        let mut columns = BTreeMap::new();
        for (k, v) in &raw.columns {
            let field = field_of(k, "columns")?;
            if v.get_ref().trim().is_empty() {
                return Err(at(v.span(), "a column name cannot be empty".into()));
            }
            columns.insert(field, v.get_ref().trim().to_string());
        }
        for required in [Field::Ticket, Field::Opened] {
            if !columns.contains_key(&required) {
                return Err(MapError {
                    file: file.to_string(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "[columns] must name the `{}` column (the register's header text)",
                        required.key()
                    ),
                });
            }
        }
        let mut values = BTreeMap::new();
        for (k, map) in &raw.values {
            let field = field_of(k, "values")?;
            if field.is_time() {
                return Err(at(
                    k.span(),
                    format!(
                        "`{}` is a time; times are read by date_formats, not by a value map",
                        k.get_ref()
                    ),
                ));
            }
            let map = map
                .iter()
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .collect();
            values.insert(field, map);
        }
        let mut defaults = BTreeMap::new();
        for (k, v) in &raw.defaults {
            let field = field_of(k, "defaults")?;
            if field == Field::Ticket || field.is_time() {
                return Err(at(
                    k.span(),
                    format!(
                        "`{}` cannot have a default: every row must give it",
                        k.get_ref()
                    ),
                ));
            }
            defaults.insert(field, v.get_ref().trim().to_string());
        }
        let reg = raw.register;
        let tz: Tz = match &reg.time_zone {
            None => chrono_tz::Asia::Shanghai,
            Some(z) => z.get_ref().parse().map_err(|_| {
                at(
                    z.span(),
                    format!(
                        "unknown time zone `{}`: use an IANA name like Asia/Shanghai",
                        z.get_ref()
                    ),
                )
            })?,
        };
        let styles = match &reg.date_formats {
            None => DateStyle::DEFAULTS.to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for f in list {
                    out.push(DateStyle::parse(f.get_ref()).map_err(|m| at(f.span(), m))?);
                }
                if out.is_empty() {
                    return Err(at(0..0, "date_formats cannot be empty".into()));
                }
                out
            }
        };
        let encoding = match &reg.encoding {
            None => None,
            Some(e) => match e.get_ref().to_ascii_lowercase().as_str() {
                "auto" => None,
                "utf-8" | "utf8" => Some("utf-8".to_string()),
                "gbk" | "gb2312" | "gb18030" => Some("gbk".to_string()),
                other => {
                    return Err(at(
                        e.span(),
                        format!("unknown encoding `{other}`: expected utf-8, gbk or auto"),
                    ));
                }
            },
        };
        let header_row = match reg.header_row {
            Some(r) if *r.get_ref() == 0 => {
                return Err(at(r.span(), "header_row counts from 1".into()));
            }
            r => r.map(|r| *r.get_ref()),
        };
        Ok(Mapping {
            form: reg.form,
            sheet: reg.sheet,
            header_row,
            columns,
            values,
            defaults,
            dates: DateReader { styles, tz },
            encoding,
            text: text.to_string(),
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_names_columns_values_and_formats() {
        let m = Mapping::parse(
            "m.toml",
            "[register]\ntime_zone = \"Asia/Shanghai\"\ndate_formats = [\"slash\", \"cjk\"]\n\
             [columns]\nticket = \"编号\"\nopened = \"受理时间\"\n\
             [values.channel]\n\"热线\" = \"hotline\"\n[defaults]\nkind = \"complaint\"\n",
        )
        .unwrap();
        assert_eq!(m.columns[&Field::Ticket], "编号");
        assert_eq!(m.values[&Field::Channel]["热线"], "hotline");
        assert_eq!(m.defaults[&Field::Kind], "complaint");
        assert_eq!(m.dates.styles, vec![DateStyle::Slash, DateStyle::Cjk]);
    }

    #[test]
    fn mistakes_name_line_and_column() {
        let e = Mapping::parse(
            "m.toml",
            "[columns]\nticket = \"编号\"\nopened = \"受理时间\"\nresponce = \"答复\"\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 1), "{e}");
        assert!(e.message.contains("unknown field `responce`"), "{e}");
        let e = Mapping::parse(
            "m.toml",
            "[register]\ntime_zone = \"Asia/Shanghia\"\n[columns]\nticket = \"a\"\nopened = \"b\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("unknown time zone"), "{e}");
        let e = Mapping::parse("m.toml", "[columns]\nticket = \"a\"\n").unwrap_err();
        assert!(e.message.contains("`opened`"), "{e}");
        let e = Mapping::parse(
            "m.toml",
            "[register]\ndate_formats = [\"%Q\"]\n[columns]\nticket = \"a\"\nopened = \"b\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
