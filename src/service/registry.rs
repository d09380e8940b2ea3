//! The estate registry: each estate's id, name, households (the K4 denominator)
//! and phase dates (delivery, occupancy, ...), declared by `estate_declared`
//! events of the log. The latest declaration of an estate is in force, so a change
//! is evidence like any other, and `audit verify` covers it with the chain.
//!
//! Once any estate is declared, every command that names an estate refuses one
//! that is not (with a "did you mean"): a typo would otherwise open tickets under
//! no estate's policy. A database that declares none accepts any estate, as
//! databases did before the registry existed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::diagnostic::did_you_mean;
use crate::store::{ESTATE_DECLARED, NewEvent, Tx};

use super::{AppError, Service};

/// One estate as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estate {
    #[serde(rename = "estate")]
    pub id: String,
    pub name: String,
    pub households: u64,
    /// Phase name → the date it begins (`delivery`, `occupancy`, ...), 000 §5.2.1.
    #[serde(default)]
    pub phases: BTreeMap<String, NaiveDate>,
    /// Who declared it (or made the latest change), recorded in the log.
    #[serde(default)]
    pub by: String,
    /// When the latest declaration was recorded.
    #[serde(skip_deserializing, default = "epoch")]
    pub declared_at: DateTime<Utc>,
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// What `estate set` changes; `None` keeps the declared value.
#[derive(Debug, Clone, Default)]
pub struct EstateChange {
    pub name: Option<String>,
    pub households: Option<u64>,
    pub phases: BTreeMap<String, NaiveDate>,
    pub by: String,
}

impl Estate {
    /// The phase the estate is in on `day`: the latest phase begun by then.
    pub fn phase_on(&self, day: NaiveDate) -> Option<&str> {
        self.phases
            .iter()
            .filter(|(_, d)| **d <= day)
            .max_by_key(|(_, d)| **d)
            .map(|(p, _)| p.as_str())
    }
}

/// The estates in force, by id.
pub fn registry(tx: &Tx<'_>) -> Result<BTreeMap<String, Estate>, AppError> {
    let mut out = BTreeMap::new();
    for m in tx.estate_declarations()? {
        let mut e: Estate = serde_json::from_str(&m.payload).map_err(|e| {
            AppError::Corrupt(
                format!("event {}", m.seq),
                format!("estate declaration: {e}"),
            )
        })?;
        e.declared_at = m.at;
        out.insert(e.id.clone(), e);
    }
    Ok(out)
}

/// Refuse an estate the registry does not declare, once it declares any.
pub fn check_known(tx: &Tx<'_>, estate: &str) -> Result<(), AppError> {
    // An empty estate is the engine's to refuse, with its own message.
    if estate.is_empty() || !tx.has_estates()? {
        return Ok(());
    }
    let known = registry(tx)?;
    if known.contains_key(estate) {
        return Ok(());
    }
    Err(AppError::UnknownEstate(unknown_message(estate, &known)))
}

fn unknown_message(estate: &str, known: &BTreeMap<String, Estate>) -> String {
    let hint = match did_you_mean(estate, known.keys().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "declared: {}",
            known.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    format!("unknown estate `{estate}`: {hint} (declare it with `steward estate add`)")
}

fn check_fields(e: &Estate) -> Result<(), AppError> {
    let bad = |why: String| Err(AppError::Invalid(why));
    if e.id.is_empty()
        || !e
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return bad(format!(
            "bad estate id `{}`: use letters, digits, `-` and `_`",
            e.id
        ));
    }
    if e.name.trim().is_empty() {
        return bad(format!("estate `{}` needs a name", e.id));
    }
    if e.households == 0 {
        return bad(format!(
            "estate `{}` needs its number of households (at least 1): the valid-complaint rate (K4) is per household",
            e.id
        ));
    }
    for p in e.phases.keys() {
        if !crate::policy::is_event_name(p) {
            return bad(format!(
                "bad phase name `{p}`: use lowercase letters, digits and `_` (e.g. delivery, occupancy)"
            ));
        }
    }
    Ok(())
}

fn append(tx: &mut Tx<'_>, e: &Estate, now: DateTime<Utc>) -> Result<(), AppError> {
    let payload = serde_json::to_string(e)
        .map_err(|err| AppError::System(format!("cannot record estate `{}`: {err}", e.id)))?;
    let fp = tx.applied_policy(None)?.unwrap_or_default();
    tx.append_event(&NewEvent {
        ticket: None,
        at: now,
        kind: ESTATE_DECLARED,
        payload: &payload,
        fingerprint: &fp,
        rule: None,
    })?;
    Ok(())
}

impl Service {
    /// Declare a new estate.
    pub fn add_estate(&mut self, estate: Estate, now: DateTime<Utc>) -> Result<Estate, AppError> {
        check_fields(&estate)?;
        self.store.write(|tx| {
            if registry(tx)?.contains_key(&estate.id) {
                return Err(AppError::Invalid(format!(
                    "estate `{}` is already declared; change it with `steward estate set {}`",
                    estate.id, estate.id
                )));
            }
            let mut e = estate.clone();
            append(tx, &e, now)?;
            e.declared_at = now;
            Ok(e)
        })
    }

    /// Change a declared estate: the fields given replace the declared ones,
    /// phases are merged by name.
    pub fn set_estate(
        &mut self,
        id: &str,
        change: EstateChange,
        now: DateTime<Utc>,
    ) -> Result<Estate, AppError> {
        self.store.write(|tx| {
            let known = registry(tx)?;
            let Some(old) = known.get(id) else {
                return Err(AppError::UnknownEstate(unknown_message(id, &known)));
            };
            let mut e = old.clone();
            if let Some(n) = change.name {
                e.name = n;
            }
            if let Some(h) = change.households {
                e.households = h;
            }
            e.phases.extend(change.phases);
            e.by = change.by;
            check_fields(&e)?;
            if e.name == old.name && e.households == old.households && e.phases == old.phases {
                return Ok(old.clone());
            }
            append(tx, &e, now)?;
            e.declared_at = now;
            Ok(e)
        })
    }

    /// The estates in force, by id.
    pub fn estates(&self) -> Result<BTreeMap<String, Estate>, AppError> {
        self.store.read(registry)
    }

    /// [`check_known`] in a read transaction, for commands that only read.
    pub fn check_estate(&self, estate: &str) -> Result<(), AppError> {
        self.store.read(|tx| check_known(tx, estate))
    }
}
