//! The stored things that are not projections of tickets: policy texts and
//! plug-in modules against their digests, the active-policy settings against
//! the log's `policy_applied` events, and the schema against the one this
//! steward creates (a dropped append-only trigger is a finding).

use std::collections::BTreeMap;

use crate::digest::sha256_hex;
use crate::policy::{self, Policy};
use crate::store::{ChainReport, StoreError, Tx, active_setting_key};

use super::Finding;

pub(super) fn check(
    tx: &Tx<'_>,
    chain: &ChainReport,
    findings: &mut Vec<Finding>,
) -> Result<(), StoreError> {
    let modules: BTreeMap<String, String> = tx.blob_digests()?.into_iter().collect();
    for (key, digest) in &modules {
        if key != digest {
            findings.push(Finding::new(
                "module",
                format!("sha256:{key}"),
                format!("the stored bytes hash to {digest}: the module was swapped or edited"),
            ));
        }
    }
    let stored = tx.stored_policies()?;
    for p in &stored {
        policy_text(&p.fingerprint, &p.canonical, &modules, findings);
    }
    for fp in &chain.fingerprints {
        if !stored.iter().any(|s| &s.fingerprint == fp) {
            findings.push(Finding::new(
                "policy",
                fp.clone(),
                "events were decided under this policy but it is not stored",
            ));
        }
    }
    settings(tx, findings)?;
    schema(tx, findings)
}

fn policy_text(
    fp: &str,
    text: &str,
    modules: &BTreeMap<String, String>,
    findings: &mut Vec<Finding>,
) {
    let digest = sha256_hex(text.as_bytes());
    if digest != fp {
        findings.push(Finding::new(
            "policy",
            fp,
            format!("the stored text hashes to {digest}: it was edited after it was applied"),
        ));
        return;
    }
    let parsed: Policy = match serde_json::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            findings.push(Finding::new(
                "policy",
                fp,
                format!("the stored text is unreadable: {e}"),
            ));
            return;
        }
    };
    let again = policy::fingerprint(&parsed);
    if again != fp {
        findings.push(Finding::new(
            "policy",
            fp,
            format!("the stored text reads back as policy {again}"),
        ));
    }
    for (id, plugin) in &parsed.plugins {
        if !modules.contains_key(&plugin.sha256) {
            findings.push(Finding::new(
                "module",
                format!("sha256:{}", plugin.sha256),
                format!("plug-in `{id}` of policy {fp} is not stored"),
            ));
        }
    }
}

/// `active_policy` and `active_policy:ESTATE` must be exactly the latest
/// application of each scope.
fn settings(tx: &Tx<'_>, findings: &mut Vec<Finding>) -> Result<(), StoreError> {
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for a in tx.applications()? {
        expected.insert(active_setting_key(a.estate.as_deref()), a.fingerprint);
    }
    let actual: BTreeMap<String, String> = tx.settings()?.into_iter().collect();
    for (key, want) in &expected {
        match actual.get(key) {
            Some(have) if have == want => {}
            Some(have) => findings.push(Finding::new(
                "setting",
                key.clone(),
                format!("is {have} but the log's last application is {want}"),
            )),
            None => findings.push(Finding::new(
                "setting",
                key.clone(),
                format!("is missing; the log's last application is {want}"),
            )),
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        findings.push(Finding::new(
            "setting",
            key.clone(),
            "is set, but the log records no policy applied to that scope",
        ));
    }
    Ok(())
}

fn schema(tx: &Tx<'_>, findings: &mut Vec<Finding>) -> Result<(), StoreError> {
    let key = |(kind, name, sql): (String, String, Option<String>)| ((kind, name), sql);
    let want: BTreeMap<_, _> = tx.expected_schema()?.into_iter().map(key).collect();
    let have: BTreeMap<_, _> = tx.schema_objects()?.into_iter().map(key).collect();
    for ((kind, name), sql) in &want {
        match have.get(&(kind.clone(), name.clone())) {
            None => findings.push(Finding::new(
                "schema",
                format!("{kind} {name}"),
                "is missing (dropped)",
            )),
            Some(s) if s != sql => findings.push(Finding::new(
                "schema",
                format!("{kind} {name}"),
                "differs from steward's definition",
            )),
            Some(_) => {}
        }
    }
    for (kind, name) in have.keys().filter(|k| !want.contains_key(*k)) {
        findings.push(Finding::new(
            "schema",
            format!("{kind} {name}"),
            "is not part of steward's schema (added by hand)",
        ));
    }
    Ok(())
}
