//! A ticket's current state, and how each fact changes it. The store keeps this as
//! a projection; `audit verify` rebuilds it from the log with [`Ticket::apply`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::clock::{Clock, ClockState};
use super::command::OpenTicket;
use super::fact::{Decision, Fact};
use super::revisit::{RevisitSlot, SlotState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Resolved,
    Closed,
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Shared, not copied, when the ticket is: no fact changes the intake, and
    /// every decision starts from a copy of the ticket.
    #[serde(with = "shared")]
    pub intake: Arc<OpenTicket>,
    pub fingerprint: String,
    pub status: Status,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub category: Option<String>,
    pub class: Option<u8>,
    pub emergency: bool,
    pub major: bool,
    pub department: Option<String>,
    pub tier: Option<String>,
    pub lead: Option<String>,
    /// Index into the policy's escalation ladder.
    pub ladder_step: usize,
    pub ladder_id: Option<String>,
    /// When the ticket last moved up the ladder.
    #[serde(default)]
    pub escalated_at: Option<DateTime<Utc>>,
    pub clocks: BTreeMap<String, Clock>,
    pub milestones: BTreeMap<String, DateTime<Utc>>,
    pub revisits: Vec<RevisitSlot>,
    pub callbacks: u32,
    pub pause: Option<(String, DateTime<Utc>)>,
    /// Paused minutes per reason.
    pub paused_minutes: BTreeMap<String, i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopened: u32,
    pub compensation_claims: u32,
    pub breaches: u32,
}

/// The intake as stored: the same JSON as a plain `OpenTicket`.
pub(crate) mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::OpenTicket;

    pub fn serialize<S: Serializer>(v: &Arc<OpenTicket>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<OpenTicket>, D::Error> {
        OpenTicket::deserialize(d).map(Arc::new)
    }
}

impl Ticket {
    pub fn id(&self) -> &str {
        &self.intake.id
    }

    /// Rebuild from logged decisions, in order.
    pub fn replay<'a>(decisions: impl IntoIterator<Item = &'a Decision>) -> Option<Ticket> {
        let mut ticket: Option<Ticket> = None;
        for d in decisions {
            match (&mut ticket, &d.fact) {
                (
                    None,
                    Fact::Opened {
                        intake,
                        fingerprint,
                    },
                ) => {
                    ticket = Some(Ticket::new(Arc::clone(intake), fingerprint.clone(), d.at));
                }
                (Some(t), _) => t.apply(d),
                (None, _) => return None,
            }
        }
        ticket
    }

    pub fn new(intake: Arc<OpenTicket>, fingerprint: String, at: DateTime<Utc>) -> Ticket {
        Ticket {
            class: (intake.class > 0).then_some(intake.class),
            major: intake.major,
            intake,
            fingerprint,
            status: Status::Open,
            opened_at: at,
            updated_at: at,
            category: None,
            emergency: false,
            department: None,
            tier: None,
            lead: None,
            ladder_step: 0,
            ladder_id: None,
            escalated_at: None,
            clocks: BTreeMap::new(),
            milestones: BTreeMap::new(),
            revisits: Vec::new(),
            callbacks: 0,
            pause: None,
            paused_minutes: BTreeMap::new(),
            resolved_at: None,
            reopened: 0,
            compensation_claims: 0,
            breaches: 0,
        }
    }

    pub fn apply(&mut self, d: &Decision) {
        let at = d.at;
        if at > self.updated_at {
            self.updated_at = at;
        }
        match &d.fact {
            Fact::Opened { .. }
            | Fact::ActionRecorded { .. }
            | Fact::ConditionFailed { .. }
            | Fact::HookFailed { .. }
            | Fact::Notified { .. } => {}
            Fact::Classified {
                category,
                class,
                emergency,
                major,
                route,
                ..
            } => {
                self.category = Some(category.clone());
                self.class = *class;
                self.emergency = *emergency;
                self.major = *major;
                if self.department.is_none() {
                    self.department = route.clone();
                }
            }
            Fact::MilestoneReached { milestone } => {
                self.milestones.entry(milestone.clone()).or_insert(at);
            }
            Fact::ClockStarted {
                limit,
                milestone,
                within,
                start,
                deadline,
                warn_at,
                total_minutes,
            } => {
                self.clocks.insert(
                    limit.clone(),
                    Clock {
                        limit: limit.clone(),
                        milestone: milestone.clone(),
                        within: *within,
                        started_at: *start,
                        segment_start: *start,
                        total_minutes: *total_minutes,
                        used_minutes: 0,
                        deadline: *deadline,
                        warn_at: *warn_at,
                        warned: false,
                        state: ClockState::Running,
                        met_at: None,
                        set_by: None,
                    },
                );
            }
            Fact::ClockMet { limit, .. } => self.set_clock(limit, ClockState::Met, Some(at)),
            Fact::ClockCancelled { limit, .. } => {
                self.set_clock(limit, ClockState::Cancelled, None)
            }
            Fact::ClockPaused {
                limit,
                used_minutes,
            } => {
                if let Some(c) = self.clocks.get_mut(limit) {
                    c.state = ClockState::Paused;
                    c.used_minutes = *used_minutes;
                }
            }
            Fact::ClockResumed {
                limit,
                deadline,
                warn_at,
            } => {
                if let Some(c) = self.clocks.get_mut(limit) {
                    c.state = ClockState::Running;
                    c.segment_start = at;
                    c.deadline = *deadline;
                    c.warn_at = *warn_at;
                }
            }
            Fact::DeadlineSet { limit, by, .. } => {
                if let Some(c) = self.clocks.get_mut(limit) {
                    c.set_by = Some(by.clone());
                }
            }
            Fact::Warned { limit, .. } => {
                if let Some(c) = self.clocks.get_mut(limit) {
                    c.warned = true;
                }
            }
            Fact::Breached { limit, .. } => {
                self.breaches += 1;
                self.set_clock(limit, ClockState::Breached, None);
            }
            Fact::Escalated { to, .. } => {
                self.ladder_id = Some(to.clone());
                self.ladder_step += 1;
                self.escalated_at = Some(at);
            }
            Fact::Assigned {
                department,
                tier,
                lead,
            } => {
                self.department = Some(department.clone());
                self.tier = Some(tier.clone());
                self.lead = lead.clone();
            }
            Fact::Paused { reason } => self.pause = Some((reason.clone(), at)),
            Fact::Resumed { reason, minutes } => {
                self.pause = None;
                *self.paused_minutes.entry(reason.clone()).or_insert(0) += minutes;
            }
            Fact::Resolved { .. } => {
                self.status = Status::Resolved;
                self.resolved_at = Some(at);
            }
            Fact::RevisitScheduled {
                slot,
                key,
                due,
                event,
            } => {
                let (rule, step) = split_key(key);
                let state = match (due, event) {
                    (Some(_), _) => SlotState::Scheduled,
                    (None, Some(_)) => SlotState::Waiting,
                    (None, None) => SlotState::Blocked,
                };
                let s = RevisitSlot {
                    key: key.clone(),
                    rule,
                    step,
                    state,
                    due: *due,
                    event: event.clone(),
                    done_at: None,
                    waived: None,
                };
                if *slot < self.revisits.len() {
                    self.revisits[*slot] = s;
                } else {
                    self.revisits.push(s);
                }
            }
            Fact::RevisitDue { slot, .. } => self.set_slot(*slot, SlotState::Due),
            Fact::RevisitOverdue { slot, .. } => self.set_slot(*slot, SlotState::Overdue),
            Fact::RevisitCancelled { slot, .. } => self.set_slot(*slot, SlotState::Cancelled),
            Fact::RevisitWaived { slot, reason, .. } => {
                self.set_slot(*slot, SlotState::Waived);
                if let Some(s) = self.revisits.get_mut(*slot) {
                    s.waived = Some(reason.clone());
                }
            }
            Fact::RevisitDone { slot, ok, .. } => {
                self.callbacks += 1;
                if let Some(i) = slot {
                    self.set_slot(
                        *i,
                        if *ok {
                            SlotState::Done
                        } else {
                            SlotState::Failed
                        },
                    );
                    if let Some(s) = self.revisits.get_mut(*i) {
                        s.done_at = Some(at);
                    }
                }
            }
            Fact::Reopened { .. } => {
                self.status = Status::Open;
                self.resolved_at = None;
                self.reopened += 1;
                self.milestones.remove("resolution");
            }
            Fact::Closed { invalid } => {
                self.status = if invalid.is_some() {
                    Status::Invalid
                } else {
                    Status::Closed
                };
            }
            Fact::CompensationClaimed { .. } => self.compensation_claims += 1,
            Fact::PolicyMoved { to, .. } => self.fingerprint = to.clone(),
        }
    }

    fn set_clock(&mut self, limit: &str, state: ClockState, met_at: Option<DateTime<Utc>>) {
        if let Some(c) = self.clocks.get_mut(limit) {
            c.state = state;
            if met_at.is_some() {
                c.met_at = met_at;
            }
        }
    }

    fn set_slot(&mut self, slot: usize, state: SlotState) {
        if let Some(s) = self.revisits.get_mut(slot) {
            s.state = state;
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.status, Status::Open | Status::Resolved)
    }
}

fn split_key(key: &str) -> (String, usize) {
    match key.rsplit_once('#') {
        // `V4#2.r3`: step 2 of the third round.
        Some((rule, n)) => (
            rule.to_string(),
            n.split('.').next().unwrap_or(n).parse().unwrap_or(0),
        ),
        None => (key.to_string(), 0),
    }
}
