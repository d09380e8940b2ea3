//! The owner-visit log (K5: the customer-service department visits owners three
//! times a month, 004): one `owner_visited` event per visit, ticket-less, in the
//! hash-chained log like the estate registry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{NewEvent, OWNER_VISITED};

use super::{AppError, Service, registry};

/// One visit to the owners of an estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub estate: String,
    /// The unit visited; empty for a visit to the estate's owners at large.
    #[serde(default)]
    pub unit: String,
    /// Who made the visit.
    pub by: String,
    /// What the owners said (004: listen to their opinions and suggestions).
    #[serde(default)]
    pub note: String,
}

/// A visit as the log holds it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedVisit {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub visit: Visit,
}

impl Service {
    /// Record a visit at `at`; the estate must be declared once any is.
    pub fn record_visit(
        &mut self,
        visit: &Visit,
        at: DateTime<Utc>,
    ) -> Result<RecordedVisit, AppError> {
        if visit.estate.trim().is_empty() {
            return Err(AppError::Invalid("a visit needs an estate".into()));
        }
        if visit.by.trim().is_empty() {
            return Err(AppError::Invalid(
                "a visit needs who made it (--by): the K5 log names the visitor".into(),
            ));
        }
        let payload = serde_json::to_string(visit)
            .map_err(|e| AppError::System(format!("cannot record the visit: {e}")))?;
        self.store.write(|tx| {
            registry::check_known(tx, &visit.estate)?;
            let fp = tx.applied_policy(None)?.unwrap_or_default();
            let row = tx.append_event(&NewEvent {
                ticket: None,
                at,
                kind: OWNER_VISITED,
                payload: &payload,
                fingerprint: &fp,
                rule: Some("K5"),
            })?;
            Ok(RecordedVisit {
                seq: row.seq,
                at: row.at,
                visit: visit.clone(),
            })
        })
    }

    /// Visits with `from <= at < to`, in time order.
    pub fn visits(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RecordedVisit>, AppError> {
        self.store.read(|tx| -> Result<_, AppError> {
            let mut out = Vec::new();
            for m in tx.visits(from, to)? {
                let visit: Visit = serde_json::from_str(&m.payload).map_err(|e| {
                    AppError::Corrupt(format!("event {}", m.seq), format!("owner visit: {e}"))
                })?;
                out.push(RecordedVisit {
                    seq: m.seq,
                    at: m.at,
                    visit,
                });
            }
            Ok(out)
        })
    }
}
