//! Tickets in intake order become one stream of records in time order. A
//! ticket's actions all come at or after its intake, so once a ticket opened at
//! `T` is read, every pending action up to `T` is final: memory holds only the
//! actions of tickets opened but not yet finished, not the whole register.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

use crate::sim::history::{Op, Record};

use super::register::RegTicket;

/// Orders by (time, ticket's place in intake order, action's place in its row).
struct Pending {
    key: (DateTime<Utc>, u64, u32),
    /// Boxed: the heap moves its entries on every push and pop.
    record: Box<Record>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

pub struct TimeOrder<I: Iterator> {
    tickets: std::iter::Peekable<I>,
    heap: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

impl<I: Iterator<Item = RegTicket>> TimeOrder<I> {
    /// `tickets` must come in intake order.
    pub fn new(tickets: I) -> TimeOrder<I> {
        TimeOrder {
            tickets: tickets.peekable(),
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    fn push(&mut self, t: RegTicket) {
        self.seq += 1;
        let estate = t.intake.estate.clone();
        let id = t.intake.id.clone();
        let rec = |at, op| {
            Box::new(Record {
                line: t.row,
                at,
                ticket: id.clone(),
                estate: estate.clone(),
                op,
            })
        };
        self.heap.push(Reverse(Pending {
            key: (t.opened, self.seq, 0),
            record: rec(
                t.opened,
                Op::Open {
                    intake: t.intake.clone(),
                    category: t.category.clone(),
                },
            ),
        }));
        for (i, (at, _, cmd)) in t.actions.into_iter().enumerate() {
            self.heap.push(Reverse(Pending {
                key: (at, self.seq, i as u32 + 1),
                record: rec(at, Op::Command(cmd)),
            }));
        }
    }
}

impl<I: Iterator<Item = RegTicket>> Iterator for TimeOrder<I> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            let ready = match (self.heap.peek(), self.tickets.peek()) {
                (Some(Reverse(p)), Some(t)) => p.key.0 <= t.opened,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return None,
            };
            if ready {
                return self.heap.pop().map(|Reverse(p)| *p.record);
            }
            let t = self.tickets.next()?;
            self.push(t);
        }
    }
}
