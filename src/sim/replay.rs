//! Replay: a history streamed through the pure engine under one or two policies.
//! Tickets live in memory only while open (closed ones are summarised and dropped;
//! one with no line for `idle_days` is finished as it stands), so memory is bounded
//! by the tickets open at once, not by the length of the history.
//!
//! The reading thread parses lines and deals records to workers by a hash of the
//! ticket id; estate events (rain) go to every worker. Each worker keeps its own
//! tickets under every policy side by side, so a ticket's two outcomes are compared
//! the moment both are final. Workers' figures are sums merged at the end, and
//! differences are ordered by history line, so the report does not depend on the
//! number of threads. Timers need no clock: the engine fires what fell due before
//! each command at the timer's own instant, and a final tick finishes what is left.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use chrono::{DateTime, Duration, Utc};

use crate::engine::{self, Command, Decision, SlotState, Status, Ticket};
use crate::policy::CompiledPolicy;

use super::history::{LineError, Op, Record};
use super::outcome::{Acc, Difference, Summary};
use super::report::{EstateStats, Partial, PolicyInfo, Report};

/// One side of a replay: the company-wide policy and the estates' own, chosen at
/// intake by the ticket's estate as `policy apply --estate` makes live use do.
pub struct SidePolicies<'p> {
    pub base: &'p CompiledPolicy,
    pub estates: HashMap<String, &'p CompiledPolicy>,
}

impl<'p> SidePolicies<'p> {
    fn for_estate(&self, estate: &str) -> &'p CompiledPolicy {
        self.estates.get(estate).copied().unwrap_or(self.base)
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Ignore recorded categories; each policy classifies by its own conditions.
    pub reclassify: bool,
    /// A ticket with no line for this long is finished as it stands.
    pub idle_days: u32,
    /// At most this many differing tickets are listed.
    pub max_diffs: usize,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Replay only this estate's tickets and events.
    pub estate: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reclassify: false,
            idle_days: 60,
            max_diffs: 1000,
            threads: 1,
            estate: None,
        }
    }
}

const BATCH: usize = 512;
const MALFORMED_SAMPLE: usize = 50;

enum Msg {
    Batch(Vec<Record>),
    End(DateTime<Utc>),
}

/// Replay `records` under `policies` (one, or two to compare). `tick` is called every
/// few thousand records (for a progress bar).
pub fn replay(
    history: &str,
    records: impl Iterator<Item = Result<Record, LineError>>,
    policies: &[(PolicyInfo, CompiledPolicy)],
    opts: &Options,
    tick: &dyn Fn(u64),
) -> Report {
    let sides: Vec<SidePolicies<'_>> = policies
        .iter()
        .map(|(_, c)| SidePolicies {
            base: c,
            estates: HashMap::new(),
        })
        .collect();
    let infos: Vec<PolicyInfo> = policies.iter().map(|(i, _)| i.clone()).collect();
    replay_sides(history, records, &infos, &sides, opts, tick)
}

/// [`replay`] with estate overlays on either side.
pub fn replay_sides(
    history: &str,
    records: impl Iterator<Item = Result<Record, LineError>>,
    infos: &[PolicyInfo],
    sides: &[SidePolicies<'_>],
    opts: &Options,
    tick: &dyn Fn(u64),
) -> Report {
    let compiled = sides;
    let threads = opts.threads.max(1);
    let mut filtered_lines = 0;
    // Tickets of other estates under `--estate`, until their close line.
    let mut elsewhere: HashSet<String> = HashSet::new();
    let mut malformed = 0;
    let mut malformed_sample = Vec::new();
    let mut total = Partial::new(sides.len());
    std::thread::scope(|s| {
        let mut senders: Vec<SyncSender<Msg>> = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = sync_channel::<Msg>(8);
            senders.push(tx);
            let compiled = &compiled;
            handles.push(s.spawn(move || work(rx, compiled, opts)));
        }
        let mut batches: Vec<Vec<Record>> =
            (0..threads).map(|_| Vec::with_capacity(BATCH)).collect();
        let mut last: Option<DateTime<Utc>> = None;
        let mut n: u64 = 0;
        let send = |w: usize, batches: &mut Vec<Vec<Record>>| {
            let batch = std::mem::replace(&mut batches[w], Vec::with_capacity(BATCH));
            // A worker only stops early by panicking; its join below reports that.
            let _ = senders[w].send(Msg::Batch(batch));
        };
        for item in records {
            let r = match item {
                Ok(r) => r,
                Err(e) => {
                    malformed += 1;
                    if malformed_sample.len() < MALFORMED_SAMPLE {
                        malformed_sample.push(e);
                    }
                    continue;
                }
            };
            if let Some(only) = &opts.estate {
                let skip = match &r.op {
                    Op::Open { .. } if r.estate != *only => {
                        elsewhere.insert(r.ticket.clone());
                        true
                    }
                    Op::Event { .. } => r.estate != *only,
                    Op::Command(Command::Close { .. }) => elsewhere.remove(&r.ticket),
                    _ => elsewhere.contains(&r.ticket),
                };
                if skip {
                    filtered_lines += 1;
                    continue;
                }
            }
            n += 1;
            if n.is_multiple_of(4096) {
                tick(n);
            }
            last = Some(r.at);
            if matches!(r.op, Op::Event { .. }) {
                for w in 0..threads {
                    batches[w].push(r.clone());
                    if batches[w].len() >= BATCH {
                        send(w, &mut batches);
                    }
                }
            } else {
                let w = shard(&r.ticket, threads);
                batches[w].push(r);
                if batches[w].len() >= BATCH {
                    send(w, &mut batches);
                }
            }
        }
        tick(n);
        total.records = n;
        for w in 0..threads {
            send(w, &mut batches);
        }
        if let Some(at) = last {
            for tx in &senders {
                let _ = tx.send(Msg::End(at));
            }
        }
        drop(senders);
        for h in handles {
            match h.join() {
                Ok(part) => total.merge(part, opts.max_diffs),
                Err(_) => malformed_sample.push(LineError {
                    file: history.to_string(),
                    line: 0,
                    message: "a replay worker stopped unexpectedly; the report is incomplete"
                        .into(),
                }),
            }
        }
    });
    Report {
        history: history.to_string(),
        records: total.records,
        policies: infos.to_vec(),
        estate: opts.estate.clone(),
        filtered_lines,
        stats: total.stats,
        estates: total.estates,
        differing: total.differing.into_values().collect(),
        differing_total: total.differing_total,
        orphan_lines: total.orphan_lines,
        orphan_sample: total.orphan_sample,
        duplicate_opens: total.duplicate_opens,
        malformed,
        malformed_sample,
    }
}

/// FNV-1a: a stable shard for a ticket id.
fn shard(id: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % n as u64) as usize
}

fn work(rx: Receiver<Msg>, policies: &[SidePolicies<'_>], opts: &Options) -> Partial {
    let mut w = Worker {
        pols: policies,
        opts,
        slots: HashMap::new(),
        idle: BTreeSet::new(),
        waiting: vec![HashMap::new(); policies.len()],
        part: Partial::new(policies.len()),
    };
    for msg in rx {
        match msg {
            Msg::Batch(records) => {
                for r in records {
                    w.handle(r);
                }
            }
            Msg::End(at) => w.finish_all(at),
        }
    }
    w.part
}

/// One ticket under one policy.
struct Side<'a> {
    /// The policy it opened under (its estate's own, or the side's base).
    pol: &'a CompiledPolicy,
    ticket: Option<Ticket>,
    acc: Acc,
    done: Option<Summary>,
}

struct Slot<'a> {
    line: u64,
    estate: String,
    last: DateTime<Utc>,
    sides: Vec<Side<'a>>,
}

struct Worker<'a> {
    pols: &'a [SidePolicies<'a>],
    opts: &'a Options,
    slots: HashMap<String, Slot<'a>>,
    /// (last line's time, ticket): the order tickets go idle in.
    idle: BTreeSet<(DateTime<Utc>, String)>,
    /// Per policy: estate → tickets waiting for an event there.
    waiting: Vec<HashMap<String, HashSet<String>>>,
    part: Partial,
}

impl<'a> Worker<'a> {
    fn idle_after(&self) -> Duration {
        Duration::days(i64::from(self.opts.idle_days.max(1)))
    }

    fn handle(&mut self, r: Record) {
        self.sweep(r.at);
        match &r.op {
            Op::Event { kind } => {
                for p in 0..self.pols.len() {
                    let ids: Vec<String> = self.waiting[p]
                        .get(&r.estate)
                        .map(|s| s.iter().cloned().collect())
                        .unwrap_or_default();
                    let cmd = Command::Event { kind: kind.clone() };
                    for id in ids {
                        self.step(p, &id, &cmd, r.at, r.line);
                        self.settle(&id);
                    }
                }
            }
            Op::Open { intake, category } => {
                if self.slots.contains_key(&r.ticket) {
                    self.part.duplicate_opens += 1;
                    return;
                }
                let mut sides = Vec::with_capacity(self.pols.len());
                for (p, side) in self.pols.iter().enumerate() {
                    let pol = side.for_estate(&r.estate);
                    let mut acc = Acc::default();
                    let stats = &mut self.part.stats[p];
                    let ticket =
                        match engine::decide(None, &Command::Open(intake.clone()), r.at, pol) {
                            Ok((t, ds)) => {
                                for d in &ds {
                                    stats.note(d, pol.tz, &mut acc);
                                }
                                Some(t)
                            }
                            Err(e) => {
                                acc.refused += 1;
                                stats.refusal(r.line, &r.ticket, e.to_string());
                                None
                            }
                        };
                    let done = ticket.is_none().then(|| Summary {
                        status: "not opened".into(),
                        category: String::new(),
                        breached: Vec::new(),
                        ladder: String::new(),
                        revisits_overdue: Vec::new(),
                        reopened: 0,
                        refused: acc.refused,
                    });
                    sides.push(Side {
                        pol,
                        ticket,
                        acc,
                        done,
                    });
                }
                self.slots.insert(
                    r.ticket.clone(),
                    Slot {
                        line: r.line,
                        estate: r.estate.clone(),
                        last: r.at,
                        sides,
                    },
                );
                self.idle.insert((r.at, r.ticket.clone()));
                if let Some(c) = category.as_ref().filter(|_| !self.opts.reclassify) {
                    for p in 0..self.pols.len() {
                        self.recorded_category(p, &r, c);
                    }
                }
                self.settle(&r.ticket);
            }
            Op::Classify {
                category,
                class,
                major,
            } => {
                if !self.touch(&r) {
                    return;
                }
                for p in 0..self.pols.len() {
                    let mut category = category.clone().filter(|_| !self.opts.reclassify);
                    if let Some(c) = &category
                        && !self
                            .side_policy(&r.ticket, p)
                            .is_some_and(|pol| pol.policy.categories.contains_key(c))
                    {
                        self.part.stats[p].unknown_category(c, r.line);
                        category = None;
                    }
                    let cmd = Command::Classify {
                        category,
                        class: *class,
                        major: *major,
                    };
                    self.step(p, &r.ticket, &cmd, r.at, r.line);
                }
                self.settle(&r.ticket);
            }
            Op::Command(cmd) => {
                if !self.touch(&r) {
                    return;
                }
                for p in 0..self.pols.len() {
                    self.step(p, &r.ticket, cmd, r.at, r.line);
                }
                self.settle(&r.ticket);
            }
        }
    }

    /// The history recorded a category at intake: use it when the policy knows it
    /// and classified otherwise; report it when the policy does not know it.
    fn recorded_category(&mut self, p: usize, r: &Record, category: &str) {
        if !self
            .side_policy(&r.ticket, p)
            .is_some_and(|pol| pol.policy.categories.contains_key(category))
        {
            self.part.stats[p].unknown_category(category, r.line);
            return;
        }
        let same = self
            .slots
            .get(&r.ticket)
            .and_then(|s| s.sides[p].ticket.as_ref())
            .is_none_or(|t| t.category.as_deref() == Some(category));
        if !same {
            let cmd = Command::Classify {
                category: Some(category.to_string()),
                class: None,
                major: None,
            };
            self.step(p, &r.ticket, &cmd, r.at, r.line);
        }
    }

    /// The policy a ticket's side opened under.
    fn side_policy(&self, id: &str, p: usize) -> Option<&'a CompiledPolicy> {
        self.slots.get(id).map(|s| s.sides[p].pol)
    }

    /// Mark a ticket's line; false (and an orphan) when the ticket is not open here.
    fn touch(&mut self, r: &Record) -> bool {
        let Some(slot) = self.slots.get_mut(&r.ticket) else {
            self.part.orphan(r.line, &r.ticket);
            return false;
        };
        self.idle.remove(&(slot.last, r.ticket.clone()));
        slot.last = r.at;
        self.idle.insert((r.at, r.ticket.clone()));
        true
    }

    /// Run one command on one side of a ticket and account what it decided.
    fn step(&mut self, p: usize, id: &str, cmd: &Command, at: DateTime<Utc>, line: u64) {
        let Some(side) = self.slots.get_mut(id).map(|s| &mut s.sides[p]) else {
            return;
        };
        let pol = side.pol;
        let Some(t) = side.ticket.as_ref() else {
            return;
        };
        let stats = &mut self.part.stats[p];
        match engine::decide(Some(t), cmd, at.max(t.updated_at), pol) {
            Ok((t, ds)) => {
                account(stats, pol, &ds, &mut side.acc);
                let waits = t.revisits.iter().any(|s| s.state == SlotState::Waiting);
                let index = &mut self.waiting[p];
                if waits {
                    index
                        .entry(t.intake.estate.clone())
                        .or_default()
                        .insert(id.to_string());
                } else if let Some(set) = index.get_mut(&t.intake.estate) {
                    set.remove(id);
                }
                side.ticket = Some(t);
            }
            Err(e) => {
                side.acc.refused += 1;
                stats.refusal(line, id, e.to_string());
            }
        }
    }

    /// Summarise sides that closed; drop the ticket once every side is final.
    fn settle(&mut self, id: &str) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        for (p, side) in slot.sides.iter_mut().enumerate() {
            if let Some(t) = &side.ticket
                && matches!(t.status, Status::Closed | Status::Invalid)
            {
                side.done = Some(Summary::of(t, &side.acc));
                if let Some(set) = self.waiting[p].get_mut(&t.intake.estate) {
                    set.remove(id);
                }
                side.ticket = None;
            }
        }
        if slot.sides.iter().all(|s| s.done.is_some()) {
            self.drop_slot(id);
        }
    }

    fn drop_slot(&mut self, id: &str) {
        let Some(slot) = self.slots.remove(id) else {
            return;
        };
        self.idle.remove(&(slot.last, id.to_string()));
        let row = self.part.estates.entry(slot.estate.clone()).or_default();
        if row.sides.len() < slot.sides.len() {
            row.sides.resize(slot.sides.len(), EstateStats::default());
        }
        for (stats, side) in row.sides.iter_mut().zip(&slot.sides) {
            if let Some(done) = &side.done {
                stats.tickets += 1;
                match done.status.as_str() {
                    "closed" => stats.closed += 1,
                    "invalid" => stats.closed_invalid += 1,
                    "not opened" => {}
                    _ => stats.unfinished += 1,
                }
                stats.breached += u64::from(!done.breached.is_empty());
                stats.escalations += u64::from(side.acc.escalations);
                stats.revisits_overdue += done.revisits_overdue.len() as u64;
                stats.reopened += u64::from(done.reopened);
                stats.refused += u64::from(done.refused);
            }
        }
        if let [a, b] = slot.sides.as_slice()
            && let (Some(a), Some(b)) = (&a.done, &b.done)
        {
            let fields = a.differences(b);
            if !fields.is_empty() {
                row.differing += 1;
                self.part.differ(
                    Difference {
                        ticket: id.to_string(),
                        estate: slot.estate.clone(),
                        line: slot.line,
                        fields: fields.into_iter().map(str::to_string).collect(),
                        a: a.clone(),
                        b: b.clone(),
                    },
                    self.opts.max_diffs,
                );
            }
        }
    }

    /// Finish a ticket as it stands at `at`: fire its due timers, summarise every side.
    fn finish(&mut self, id: &str, at: DateTime<Utc>) {
        for p in 0..self.pols.len() {
            let live = self
                .slots
                .get(id)
                .is_some_and(|s| s.sides[p].ticket.is_some());
            if !live {
                continue;
            }
            self.step(p, id, &Command::Tick, at, 0);
            if let Some(side) = self.slots.get_mut(id).map(|s| &mut s.sides[p])
                && let Some(t) = side.ticket.take()
            {
                self.part.stats[p].unfinished += 1;
                side.done = Some(Summary::of(&t, &side.acc));
                if let Some(set) = self.waiting[p].get_mut(&t.intake.estate) {
                    set.remove(id);
                }
            }
        }
        self.drop_slot(id);
    }

    /// Finish tickets idle for longer than `idle_days` before `now`.
    fn sweep(&mut self, now: DateTime<Utc>) {
        let idle = self.idle_after();
        while let Some((last, id)) = self.idle.first().cloned() {
            if last + idle >= now {
                break;
            }
            self.finish(&id, last + idle);
        }
    }

    fn finish_all(&mut self, at: DateTime<Utc>) {
        let mut ids: Vec<String> = self.slots.keys().cloned().collect();
        ids.sort();
        for id in ids {
            self.finish(&id, at);
        }
    }
}

fn account(stats: &mut super::report::Stats, pol: &CompiledPolicy, ds: &[Decision], acc: &mut Acc) {
    for d in ds {
        stats.note(d, pol.tz, acc);
    }
}
