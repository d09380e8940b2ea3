//! The outbox rebuilt from the log: one row per `notified` or `escalated`
//! event of a ticket and recipient (each recipient once), with the event's
//! ticket, kind and time. A row missing, added by hand or changed is a finding.
//! The routing and delivery columns are the dispatcher's working state, not
//! evidence, and are not compared.

use std::collections::BTreeMap;

use crate::store::{StoreError, Tx};

use super::Finding;

pub(super) fn check(tx: &Tx<'_>, findings: &mut Vec<Finding>) -> Result<(), StoreError> {
    let mut want: BTreeMap<(i64, String), (String, String, String)> = BTreeMap::new();
    for (seq, ticket, kind, at, payload) in tx.notification_events()? {
        let field = if kind == "notified" { "to" } else { "notify" };
        let recipients: Vec<String> = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v.get("fact")?.get(field).cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        for r in recipients {
            want.insert((seq, r), (ticket.clone(), kind.clone(), at.clone()));
        }
    }
    for (seq, recipient, ticket, kind, at) in tx.outbox_rows()? {
        let subject = format!("event {seq} to {recipient}");
        match want.remove(&(seq, recipient)) {
            None => findings.push(Finding::new(
                "outbox",
                subject,
                "is in the outbox but the log has no such notification (inserted by hand)",
            )),
            Some(w) => {
                if (ticket.as_str(), kind.as_str(), at.as_str())
                    != (w.0.as_str(), w.1.as_str(), w.2.as_str())
                {
                    findings.push(Finding::new(
                        "outbox",
                        subject,
                        format!(
                            "is `{ticket}` `{kind}` at {at} but the log says `{}` `{}` at {}",
                            w.0, w.1, w.2
                        ),
                    ));
                }
            }
        }
    }
    for (seq, recipient) in want.keys() {
        findings.push(Finding::new(
            "outbox",
            format!("event {seq} to {recipient}"),
            "is a notification in the log but missing from the outbox (deleted)",
        ));
    }
    Ok(())
}
