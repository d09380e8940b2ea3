//! An SLA clock: one limit running against one ticket. Time used is counted in the
//! limit's own measure (wall or working minutes), so a pause resumes exactly where
//! it stopped, and a business-hour limit paused overnight loses nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::limit_duration::LimitDuration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Breached,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub limit: String,
    pub milestone: String,
    pub within: LimitDuration,
    pub started_at: DateTime<Utc>,
    /// Start of the current running stretch (after the last resume).
    pub segment_start: DateTime<Utc>,
    pub total_minutes: i64,
    /// Minutes used before the current stretch.
    pub used_minutes: i64,
    pub deadline: DateTime<Utc>,
    pub warn_at: Option<DateTime<Utc>>,
    pub warned: bool,
    pub state: ClockState,
    pub met_at: Option<DateTime<Utc>>,
    /// Who set the deadline by hand (`ticket deadline`), when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

impl Clock {
    pub fn is_live(&self) -> bool {
        matches!(self.state, ClockState::Running | ClockState::Paused)
    }
}

/// A started clock's deadline, warning instant and total minutes of its measure.
pub type Started = (DateTime<Utc>, Option<DateTime<Utc>>, i64);

/// Deadline and warning instant for a limit started at `start`.
pub fn start(
    cal: &Calendar,
    within: &LimitDuration,
    warn_pct: Option<u8>,
    start: DateTime<Utc>,
) -> Result<Started, CalendarError> {
    let deadline = cal.deadline(within, start)?;
    let total = cal.span_minutes(within, start)?;
    let warn = match warn_pct {
        Some(p) => Some(cal.advance(within, start, total * i64::from(p) / 100)?),
        None => None,
    };
    Ok((deadline, warn, total))
}

/// Minutes of the limit used so far, counting the current stretch up to `now`.
pub fn used(cal: &Calendar, within: &LimitDuration, clock: &Clock, now: DateTime<Utc>) -> i64 {
    match clock.state {
        ClockState::Running => clock.used_minutes + cal.elapsed(within, clock.segment_start, now),
        _ => clock.used_minutes,
    }
}

/// New deadline and warning when a paused clock resumes at `now`.
pub fn resume(
    cal: &Calendar,
    within: &LimitDuration,
    warn_pct: Option<u8>,
    clock: &Clock,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), CalendarError> {
    let remaining = (clock.total_minutes - clock.used_minutes).max(0);
    let deadline = cal.advance(within, now, remaining)?;
    let warn = match warn_pct {
        Some(p) if !clock.warned => {
            let warn_used = clock.total_minutes * i64::from(p) / 100;
            let left = warn_used - clock.used_minutes;
            if left > 0 {
                Some(cal.advance(within, now, left)?)
            } else {
                None
            }
        }
        _ => None,
    };
    Ok((deadline, warn))
}
