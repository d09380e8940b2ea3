//! [`Batch`]: several commands in one transaction of [`Service::batch`] (imports,
//! the server's group commit), each ticket read and parsed once and its
//! projections written once, when the batch ends.

use super::*;

/// Commands inside one transaction of [`Service::batch`].
pub struct Batch<'a, 'c> {
    pub(super) tx: &'a mut Tx<'c>,
    pub(super) policies: &'a mut HashMap<String, CompiledPolicy>,
    /// Tickets this batch touched, as they stand now. The transaction is ours
    /// alone (BEGIN IMMEDIATE), so a ticket is read and parsed once per batch, and
    /// its projections are written once, when the batch ends.
    pub(super) written: HashMap<String, Touched>,
    /// The active policy of each estate a ticket was opened in, read once per
    /// batch: the batch holds the write lock and applies no policy itself, so
    /// the log's answer cannot change under it.
    pub(super) active: HashMap<String, String>,
}

pub(super) struct Touched {
    pub(super) ticket: Ticket,
    /// The timers stored for it before the batch; `None` for a ticket it opened.
    pub(super) stored_timers: Option<Vec<Timer>>,
    pub(super) dirty: bool,
}

impl<'c> Batch<'_, 'c> {
    /// [`Service::open_ticket`] inside the batch.
    pub fn open_ticket(
        &mut self,
        intake: engine::OpenTicket,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        // Read in the writing transaction, so an `apply_policy` by another process
        // cannot slip in between choosing the policy and opening under it.
        let fp = match self.active.get(&intake.estate) {
            Some(fp) => fp.clone(),
            None => {
                registry::check_known(self.tx, &intake.estate)?;
                let fp = active_fingerprint(self.tx, Some(&intake.estate))?;
                self.active.insert(intake.estate.clone(), fp.clone());
                fp
            }
        };
        let policy = compiled(self.policies, self.tx, &fp)?;
        let mut intake = intake;
        let mut numbered = None;
        if intake.id.is_empty() {
            let (id, n) = next_ticket_id(self.tx)?;
            intake.id = id;
            numbered = Some(n);
        }
        if self.written.contains_key(&intake.id) || self.tx.ticket(&intake.id)?.is_some() {
            return Err(EngineError::Exists(intake.id).into());
        }
        let (ticket, decisions) = match engine::decide(None, &Command::Open(intake), now, policy) {
            Ok(x) => x,
            Err(e) => {
                // A refused open keeps nothing, its number included, also
                // when the batch goes on with other commands (the server's
                // group commit), as a rolled-back CLI transaction would.
                if let Some(n) = numbered {
                    self.tx.give_back_ticket_number(n)?;
                }
                return Err(e.into());
            }
        };
        append(self.tx, ticket.id(), &decisions, &fp)?;
        let touched = Touched {
            ticket: ticket.clone(),
            stored_timers: None,
            dirty: true,
        };
        self.written.insert(ticket.id().to_string(), touched);
        Ok((ticket, decisions))
    }

    /// [`Service::execute`] inside the batch; sees what earlier commands of the batch wrote.
    pub fn execute(
        &mut self,
        id: &str,
        cmd: &Command,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<Decision>), AppError> {
        self.touch(id)?;
        let Some(touched) = self.written.get_mut(id) else {
            return Err(AppError::UnknownTicket(id.to_string()));
        };
        let fp = touched.ticket.fingerprint.clone();
        let policy = compiled(self.policies, self.tx, &fp)?;
        let (ticket, decisions) = engine::decide(Some(&touched.ticket), cmd, now, policy)?;
        if !decisions.is_empty() {
            append(self.tx, id, &decisions, &fp)?;
            touched.ticket = ticket.clone();
            touched.dirty = true;
        }
        Ok((ticket, decisions))
    }

    /// Reads ticket `id` into the batch unless it is there already.
    fn touch(&mut self, id: &str) -> Result<(), AppError> {
        if !self.written.contains_key(id) {
            let row = self
                .tx
                .ticket(id)?
                .ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
            let ticket = parse_ticket(&row)?;
            let stored_timers = Some(timers_of(&ticket));
            self.written.insert(
                id.to_string(),
                Touched {
                    ticket,
                    stored_timers,
                    dirty: false,
                },
            );
        }
        Ok(())
    }

    /// The estate of ticket `id` (it never changes), read once per batch.
    pub fn estate_of(&mut self, id: &str) -> Result<String, AppError> {
        self.touch(id)?;
        self.written
            .get(id)
            .map(|t| t.ticket.intake.estate.clone())
            .ok_or_else(|| AppError::UnknownTicket(id.to_string()))
    }

    /// [`Tx::tickets_waiting_for`] as the batch stands: the timers of the
    /// tickets it touched are written only when it ends, so for those the
    /// decided state answers, not the stored rows.
    pub fn tickets_waiting_for(
        &mut self,
        estate: &str,
        kind: &str,
    ) -> Result<Vec<String>, AppError> {
        let mut ids: Vec<String> = self
            .tx
            .tickets_waiting_for(estate, kind)?
            .into_iter()
            .filter(|id| !self.written.contains_key(id))
            .collect();
        for (id, t) in &self.written {
            let waits = t.ticket.intake.estate == estate
                && timers_of(&t.ticket)
                    .iter()
                    .any(|timer| timer.event.as_deref() == Some(kind));
            if waits {
                ids.push(id.clone());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The compiled active policy of `estate` (its own, else the company-wide one).
    pub fn active_policy(&mut self, estate: Option<&str>) -> Result<&CompiledPolicy, AppError> {
        let fp = active_fingerprint(self.tx, estate)?;
        compiled(self.policies, self.tx, &fp)
    }

    /// When ticket `id` last changed, as the batch stands.
    pub fn last_event_at(&mut self, id: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        self.touch(id)?;
        Ok(self.written.get(id).map(|t| t.ticket.updated_at))
    }

    /// A ticket-less event in the batch's transaction (an import's progress),
    /// stamped with the company-wide active policy like other such events.
    pub fn mark(&mut self, kind: &str, payload: &str, at: DateTime<Utc>) -> Result<(), AppError> {
        let fp = self.tx.applied_policy(None)?.unwrap_or_default();
        self.tx.append_event(&NewEvent {
            ticket: None,
            at,
            kind,
            payload,
            fingerprint: &fp,
            rule: None,
        })?;
        Ok(())
    }

    /// The transaction under the batch, for records that must commit with the
    /// commands' facts or not at all (the server's idempotency records, tokens).
    pub fn tx(&mut self) -> &mut Tx<'c> {
        self.tx
    }

    /// Write the projections of every ticket the batch changed.
    pub(super) fn flush(&mut self) -> Result<(), AppError> {
        for touched in self.written.values().filter(|t| t.dirty) {
            project(self.tx, touched.stored_timers.as_deref(), &touched.ticket)?;
        }
        Ok(())
    }
}
