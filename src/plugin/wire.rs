//! The text that crosses the ABI, both ways: the flat config lines, the ticket record
//! handed to `steward_classify`, and the record lines plug-ins answer with. Everything
//! a plug-in returns is parsed strictly here, so garbage ends as a `bad result` error
//! and never reaches the engine. Called by [`super::loaded`].

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::script::facts::TicketFacts;

/// One record: `key=value` fields, in the order written.
pub type Record<'a> = Vec<(&'a str, &'a str)>;

/// Format of an event's hour, local time of the policy's time zone.
pub const HOUR_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// Why a config could not cross the ABI or a plug-in's answer was refused. The
/// messages quote at most 40 characters of guest text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("config key `{0}` must be non-empty without `.`, `=`, tabs or line breaks")]
    ConfigKey(String),
    #[error("config value `{0}` may not contain tabs or line breaks")]
    ConfigValue(String),
    #[error("line {line}: more than {MAX_FIELDS} fields in one record")]
    TooManyFields { line: usize },
    #[error("line {line}: field `{field}` is not key=value")]
    NotKeyValue { line: usize, field: String },
    #[error("line {line}: bad key `{key}`")]
    BadKey { line: usize, key: String },
    #[error("line {line}: key `{key}` repeats")]
    RepeatedKey { line: usize, key: String },
    #[error("expected one record, got {0}")]
    RecordCount(usize),
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("bad `{key}` value `{value}`")]
    BadValue { key: String, value: String },
    #[error("`{key}` must be {expected}, got `{value}`")]
    Expected {
        key: String,
        expected: &'static str,
        value: String,
    },
    #[error("{0}")]
    Missing(&'static str),
    #[error("record {record}: {error}")]
    InRecord {
        record: usize,
        error: Box<WireError>,
    },
}

/// The policy's `[plugin.config]` as `path=value` lines: keys joined by `.`, array
/// items by their index, strings as written, numbers and booleans as JSON text.
/// Lines come in key order, depth first, so the items of one array entry are
/// contiguous and entries follow in array order.
pub fn flatten_config(config: &BTreeMap<String, Value>) -> Result<String, WireError> {
    let mut out = String::new();
    for (key, value) in config {
        check_key(key)?;
        flatten(key, value, &mut out)?;
    }
    Ok(out)
}

fn check_key(key: &str) -> Result<(), WireError> {
    if key.is_empty() || key.contains(['.', '=', '\t', '\n', '\r']) {
        return Err(WireError::ConfigKey(key.to_string()));
    }
    Ok(())
}

fn flatten(path: &str, value: &Value, out: &mut String) -> Result<(), WireError> {
    match value {
        Value::Null => Ok(()),
        Value::Bool(b) => {
            line(out, path, if *b { "true" } else { "false" });
            Ok(())
        }
        Value::Number(n) => {
            line(out, path, &n.to_string());
            Ok(())
        }
        Value::String(s) => {
            if s.contains(['\t', '\n', '\r']) {
                return Err(WireError::ConfigValue(path.to_string()));
            }
            line(out, path, s);
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| flatten(&format!("{path}.{i}"), v, out)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_key(k)?;
            flatten(&format!("{path}.{k}"), v, out)
        }),
    }
}

fn line(out: &mut String, path: &str, value: &str) {
    out.push_str(path);
    out.push('=');
    out.push_str(value);
    out.push('\n');
}

/// The ticket as `steward_classify` receives it: one record line of the short
/// fields, then the owner's text, raw, to the end.
pub fn encode_facts(f: &TicketFacts, out: &mut String) {
    out.clear();
    let fields: [(&str, &str); 11] = [
        ("kind", &f.kind),
        ("category", &f.category),
        ("estate", &f.estate),
        ("unit", &f.unit),
        ("channel", &f.channel),
        ("urgency", &f.urgency),
        ("major", if f.major { "true" } else { "false" }),
        ("emergency", if f.emergency { "true" } else { "false" }),
        ("phase", &f.phase),
        ("weekday", &f.weekday),
        ("department", &f.department),
    ];
    for (k, v) in fields {
        field(out, k, v);
    }
    field(out, "class", &f.class.to_string());
    field(out, "hour", &f.hour.to_string());
    field(out, "revisits", &f.revisits.to_string());
    field(out, "tags", &f.tags.join(","));
    out.pop();
    out.push('\n');
    out.push_str(&f.text);
}

fn field(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push('=');
    // Short fields are single-line by construction; a stray control character
    // would break the record, so it becomes a space.
    out.extend(value.chars().map(|c| {
        if matches!(c, '\t' | '\n' | '\r') {
            ' '
        } else {
            c
        }
    }));
    out.push('\t');
}

/// Most fields a record may have: more than any record of the ABI needs, and few
/// enough that checking a record for repeated keys stays cheap, so parsing a result
/// is linear in its length (which [`super::abi::MAX_RESULT`] caps).
pub const MAX_FIELDS: usize = 16;

/// Parse record lines. Blank lines are skipped; every field must be `key=value`
/// with a lowercase key, and no key may repeat within a record.
pub fn parse_records(text: &str) -> Result<Vec<Record<'_>>, WireError> {
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut record: Record = Vec::new();
        for f in line.split('\t') {
            if record.len() == MAX_FIELDS {
                return Err(WireError::TooManyFields { line: n + 1 });
            }
            let Some((k, v)) = f.split_once('=') else {
                return Err(WireError::NotKeyValue {
                    line: n + 1,
                    field: clip(f),
                });
            };
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(WireError::BadKey {
                    line: n + 1,
                    key: clip(k),
                });
            }
            if record.iter().any(|(seen, _)| *seen == k) {
                return Err(WireError::RepeatedKey {
                    line: n + 1,
                    key: k.to_string(),
                });
            }
            record.push((k, v));
        }
        records.push(record);
    }
    Ok(records)
}

/// The message of an `error=` record, the plug-in's way to reject its input.
pub fn rejection(records: &[Record<'_>]) -> Option<String> {
    match records {
        [r] => r
            .iter()
            .find(|(k, _)| *k == "error")
            .map(|(_, v)| v.to_string()),
        _ => None,
    }
}

/// What a classify plug-in decided. `category: None` means it has no opinion and
/// the policy's own conditions decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginClassification {
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub major: bool,
    pub emergency: bool,
    /// Complaint class 1..=3 (D4).
    pub class: Option<u8>,
}

pub fn classification(records: &[Record<'_>]) -> Result<PluginClassification, WireError> {
    let record = match records {
        [] => return Ok(PluginClassification::default()),
        [r] => r,
        _ => return Err(WireError::RecordCount(records.len())),
    };
    let mut out = PluginClassification::default();
    for (k, v) in record {
        match *k {
            "category" => out.category = Some(identifier(k, v, true)?.to_string()),
            "urgency" if v.is_empty() => {}
            "urgency" => out.urgency = Some(identifier(k, v, false)?.to_string()),
            "major" => out.major = boolean(k, v)?,
            "emergency" => out.emergency = boolean(k, v)?,
            "class" => {
                out.class = match *v {
                    "" | "0" => None,
                    "1" => Some(1),
                    "2" => Some(2),
                    "3" => Some(3),
                    _ => return Err(expected(k, "0..3", v)),
                }
            }
            other => return Err(WireError::UnknownKey(other.to_string())),
        }
    }
    if out.category.is_none() {
        return Err(WireError::Missing("a classification needs `category`"));
    }
    Ok(out)
}

/// An event an event-source plug-in emitted, e.g. rain at an estate in an hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginEvent {
    pub kind: String,
    pub estate: String,
    /// Local time of the policy's time zone.
    pub hour: NaiveDateTime,
}

impl PluginEvent {
    /// The instant of the event's local hour in `tz` (the earlier one in a
    /// fold; none for an hour a DST gap skips), unless it is later than `now`:
    /// a feed never records the future.
    pub fn instant(
        &self,
        tz: chrono_tz::Tz,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.hour
            .and_local_timezone(tz)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .filter(|at| *at <= now)
    }
}

pub fn events(records: &[Record<'_>]) -> Result<Vec<PluginEvent>, WireError> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            event(r).map_err(|e| WireError::InRecord {
                record: i + 1,
                error: Box::new(e),
            })
        })
        .collect()
}

fn event(record: &Record<'_>) -> Result<PluginEvent, WireError> {
    let (mut kind, mut estate, mut hour) = (None, None, None);
    for (k, v) in record {
        match *k {
            "event" => kind = Some(identifier(k, v, false)?.to_string()),
            "estate" if v.trim().is_empty() => return Err(WireError::Missing("empty `estate`")),
            "estate" => estate = Some(v.to_string()),
            "hour" => {
                hour = Some(
                    NaiveDateTime::parse_from_str(v, HOUR_FORMAT)
                        .map_err(|_| expected(k, "like 2026-11-20T14:00", v))?,
                )
            }
            other => return Err(WireError::UnknownKey(other.to_string())),
        }
    }
    match (kind, estate, hour) {
        (Some(kind), Some(estate), Some(hour)) => Ok(PluginEvent { kind, estate, hour }),
        _ => Err(WireError::Missing(
            "an event needs `event`, `estate` and `hour`",
        )),
    }
}

/// The categories a classify plug-in declares it can return, one per line.
pub fn category_list(text: &str) -> Result<Vec<String>, WireError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| identifier("category", l.trim(), true).map(str::to_string))
        .collect()
}

/// Lowercase ASCII letters, digits, `_`, and (for category ids) `.` and `-`.
fn identifier<'a>(key: &str, v: &'a str, dotted: bool) -> Result<&'a str, WireError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'_'
                || (dotted && (b == b'.' || b == b'-'))
        });
    if ok {
        Ok(v)
    } else {
        Err(WireError::BadValue {
            key: key.to_string(),
            value: clip(v),
        })
    }
}

fn boolean(key: &str, v: &str) -> Result<bool, WireError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(expected(key, "true or false", v)),
    }
}

fn expected(key: &str, expected: &'static str, value: &str) -> WireError {
    WireError::Expected {
        key: key.to_string(),
        expected,
        value: clip(value),
    }
}

/// Guest text quoted in a message, cut to a readable length.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_flattens_depth_first() {
        let config: BTreeMap<String, Value> = serde_json::from_str(
            r#"{"threshold_mm": 10.5, "rule": [{"category": "a", "keywords": ["x", "y"]}, {"category": "b"}]}"#,
        )
        .unwrap_or_default();
        let text = flatten_config(&config).unwrap_or_default();
        assert_eq!(
            text,
            "rule.0.category=a\nrule.0.keywords.0=x\nrule.0.keywords.1=y\nrule.1.category=b\nthreshold_mm=10.5\n"
        );
    }

    #[test]
    fn config_rejects_line_breaks() {
        let config = BTreeMap::from([("k".to_string(), Value::from("a\nb"))]);
        assert!(flatten_config(&config).is_err());
    }

    #[test]
    fn facts_are_one_record_then_text() {
        let f = TicketFacts {
            kind: "repair".into(),
            text: "电梯困人\n快来".into(),
            tags: vec!["a".into(), "b".into()],
            ..TicketFacts::default()
        };
        let mut s = String::new();
        encode_facts(&f, &mut s);
        let (head, text) = s.split_once('\n').unwrap_or_default();
        assert!(head.starts_with("kind=repair\t"));
        assert!(head.ends_with("\ttags=a,b"));
        assert_eq!(text, "电梯困人\n快来");
    }

    #[test]
    fn classification_is_strict() {
        let ok = parse_records("category=repair.emergency\temergency=true\tclass=0\n");
        let c = classification(&ok.unwrap_or_default());
        assert_eq!(
            c.ok().and_then(|c| c.category),
            Some("repair.emergency".into())
        );
        for bad in [
            "category=x\tcategory=y",
            "category=x\tcolour=red",
            "category=x\tmajor=yes",
            "nonsense",
            "category=Repair",
        ] {
            let r = parse_records(bad).and_then(|r| classification(&r));
            assert!(r.is_err(), "{bad}");
        }
        assert_eq!(
            classification(&[]).ok(),
            Some(PluginClassification::default())
        );
    }

    #[test]
    fn a_megabyte_of_distinct_keys_is_refused_quickly() {
        let mut text = String::new();
        let mut i = 0u64;
        while text.len() < 1 << 20 {
            let (mut n, mut key) = (i, String::new());
            loop {
                key.push((b'a' + (n % 26) as u8) as char);
                n /= 26;
                if n == 0 {
                    break;
                }
            }
            text.push_str(&format!("k{key}=1\t"));
            i += 1;
        }
        let started = std::time::Instant::now();
        let err = parse_records(&text).unwrap_err();
        assert_eq!(err, WireError::TooManyFields { line: 1 }, "{err}");
        // Many records of the most fields each still parse in linear time.
        let line: Vec<String> = (0..MAX_FIELDS)
            .map(|f| format!("{}=v", (b'a' + f as u8) as char))
            .collect();
        let many = format!("{}\n", line.join("\t")).repeat((1 << 20) / 64);
        assert_eq!(
            parse_records(&many).map(|r| r.len()).ok(),
            Some((1 << 20) / 64)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn events_parse_hours() {
        let r = parse_records("event=rain\testate=静安花园\thour=2026-11-20T14:00\n")
            .and_then(|r| events(&r))
            .unwrap_or_default();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].estate, "静安花园");
        let bad = parse_records("event=rain\testate=x\thour=14h").and_then(|r| events(&r));
        assert!(bad.is_err());
    }
}
