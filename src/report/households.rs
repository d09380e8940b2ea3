//! Households per estate, the denominator of the valid-complaint rate (K4).
//! steward has no estate registry yet, so the numbers come from the user:
//! `--households E=N` (repeatable) and/or an estates file
//!
//! ```toml
//! [[estate]]
//! id = "riverside"
//! households = 1200
//! ```
//!
//! An estate without a number gets no rate; the report says so instead of guessing.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ReportError;

/// Estate id → number of households.
pub type Households = BTreeMap<String, u64>;

/// Parses one `E=N` flag into `into`; a later flag for the same estate wins.
pub fn parse_flag(text: &str, into: &mut Households) -> Result<(), ReportError> {
    let bad = |why: &str| {
        ReportError::Households(format!(
            "bad --households `{text}`: {why} (expected ESTATE=N, e.g. riverside=1200)"
        ))
    };
    let (estate, n) = text.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let estate = estate.trim();
    if estate.is_empty() {
        return Err(bad("the estate is empty"));
    }
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| bad("the number of households is not a whole number"))?;
    if n == 0 {
        return Err(bad("an estate has at least one household"));
    }
    into.insert(estate.to_owned(), n);
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EstatesFile {
    #[serde(default)]
    estate: Vec<EstateEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EstateEntry {
    id: String,
    households: u64,
}

/// Parses the text of an estates file named `name` into `into`.
pub fn parse_file(name: &str, text: &str, into: &mut Households) -> Result<(), ReportError> {
    let file: EstatesFile = toml::from_str(text)
        .map_err(|e| ReportError::Households(format!("estates file `{name}`: {e}")))?;
    for e in file.estate {
        if e.households == 0 {
            return Err(ReportError::Households(format!(
                "estates file `{name}`: estate `{}` has 0 households",
                e.id
            )));
        }
        if into.insert(e.id.clone(), e.households).is_some() {
            return Err(ReportError::Households(format!(
                "estates file `{name}`: estate `{}` is listed twice",
                e.id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_bad_ones_say_why() {
        let mut h = Households::new();
        parse_flag("riverside=1200", &mut h).unwrap();
        parse_flag(" gardens = 800 ", &mut h).unwrap();
        assert_eq!(h["riverside"], 1200);
        assert_eq!(h["gardens"], 800);
        for bad in ["riverside", "=5", "x=abc", "x=0", "x=-3"] {
            let err = parse_flag(bad, &mut h).unwrap_err().to_string();
            assert!(err.contains("expected ESTATE=N"), "{err}");
        }
    }

    #[test]
    fn estates_file_parses() {
        let mut h = Households::new();
        let text =
            "[[estate]]\nid = \"a\"\nhouseholds = 10\n[[estate]]\nid = \"b\"\nhouseholds = 20\n";
        parse_file("e.toml", text, &mut h).unwrap();
        assert_eq!(h.len(), 2);
        let dup = "[[estate]]\nid = \"a\"\nhouseholds = 10\n";
        assert!(
            parse_file("e.toml", dup, &mut h)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let mut h = Households::new();
        assert!(parse_file("e.toml", "[[estate]]\nid = 3\n", &mut h).is_err());
    }
}
