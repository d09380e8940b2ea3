//! A spanned, owned TOML tree. Every value remembers the file and byte range it came
//! from, so that after files are merged and overlays applied, a mistake is still
//! reported where the user wrote it.

use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, FileId, Loc};

#[derive(Debug, Clone)]
pub struct Node {
    pub val: Val,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_loc: Loc,
    pub node: Node,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }

    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        Some(self.entries.remove(i))
    }
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a float",
            Val::Bool(_) => "a boolean",
            Val::Datetime(_) => "a datetime",
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
        }
    }
}

/// Parse one file into a spanned table; a syntax error becomes a diagnostic.
pub fn parse(file: FileId, text: &str) -> Result<(Table, Loc), Diagnostic> {
    match DeTable::parse(text) {
        Ok(spanned) => {
            let loc = Loc::new(file, spanned.span());
            Ok((convert_table(file, spanned.get_ref()), loc))
        }
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().trim_end_matches('.').to_string();
            Err(Diagnostic::error(
                Loc::new(file, span),
                format!("invalid TOML: {message}"),
            ))
        }
    }
}

fn convert_table(file: FileId, table: &DeTable<'_>) -> Table {
    let entries = table
        .iter()
        .map(|(k, v)| Entry {
            key: k.get_ref().to_string(),
            key_loc: Loc::new(file, k.span()),
            node: convert(file, v.get_ref(), v.span()),
        })
        .collect();
    Table { entries }
}

fn convert(file: FileId, value: &DeValue<'_>, span: std::ops::Range<usize>) -> Node {
    let val = match value {
        DeValue::String(s) => Val::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(n) => Val::Int(n),
            // Out-of-range integers are kept as text so the schema can report them.
            Err(_) => Val::Str(i.as_str().to_string()),
        },
        DeValue::Float(f) => Val::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Val::Bool(*b),
        DeValue::Datetime(d) => Val::Datetime(d.to_string()),
        DeValue::Array(items) => Val::Array(
            items
                .iter()
                .map(|item| convert(file, item.get_ref(), item.span()))
                .collect(),
        ),
        DeValue::Table(t) => Val::Table(convert_table(file, t)),
    };
    Node {
        val,
        loc: Loc::new(file, span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_nested_values() {
        let text = "[policy]\nid = \"x\"\n[[limit]]\nid = \"L4\"\nwithin = \"2h\"\n";
        let (table, _) = parse(FileId(0), text).unwrap();
        let Val::Array(limits) = &table.get("limit").unwrap().node.val else {
            panic!("limit is not an array")
        };
        let Val::Table(limit) = &limits[0].val else {
            panic!("limit[0] is not a table")
        };
        let within = limit.get("within").unwrap();
        assert_eq!(&text[within.node.loc.start..within.node.loc.end], "\"2h\"");
        assert_eq!(&text[within.key_loc.start..within.key_loc.end], "within");
    }

    #[test]
    fn syntax_error_has_location() {
        let err = parse(FileId(0), "a = \n").unwrap_err();
        assert!(err.message.starts_with("invalid TOML"), "{}", err.message);
        assert!(err.loc.is_some());
    }
}
