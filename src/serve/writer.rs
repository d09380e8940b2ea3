//! The one writer: a thread that owns the read-write [`Service`] and commits
//! the commands that arrive while it works in one transaction (group commit).
//! SQLite takes one writer at a time anyway; a commit per command would spend
//! the server's time in fsync-free but still costly WAL commits and lock
//! hand-overs, while one `Service::batch` for everything queued costs one.
//!
//! A command refused by the engine (an illegal transition, an unknown ticket)
//! writes nothing of its own, so it is answered and the group goes on. A store
//! error rolls the whole group back; its commands are then run one by one, so
//! each gets its own answer.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::cli::ticket_json;
use crate::engine::{Command, Decision, OpenTicket, Ticket};
use crate::service::{AppError, Batch, Ran, Service};
use crate::store::{NewEvent, Remembered, StoreError, Tx};

use super::auth::Actor;
use super::clock::Clock;
use super::problem::Problem;

/// What a POST asks the writer to do.
#[derive(Debug, Clone)]
pub enum Op {
    Open(OpenTicket),
    Execute { id: String, command: Command },
    Event { estate: String, kind: String },
    Feed { plugin: String, input: String },
}

impl Op {
    fn name(&self) -> String {
        match self {
            Op::Open(_) => "open".into(),
            Op::Execute { command, .. } => command_name(command),
            Op::Event { kind, .. } => format!("event {kind}"),
            Op::Feed { plugin, .. } => format!("event feed {plugin}"),
        }
    }
}

fn command_name(c: &Command) -> String {
    match c {
        Command::Compensation { .. } => "compensation".into(),
        other => other.name().to_owned(),
    }
}

/// The response to a POST, as sent and as remembered for its Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// JSON text: the outcome, or a problem.
    pub body: String,
    /// Answered from the idempotency record: nothing was written.
    pub replayed: bool,
}

impl Answer {
    pub fn problem(p: &Problem) -> Answer {
        Answer {
            status: p.status,
            body: p.to_json(),
            replayed: false,
        }
    }
}

struct Job {
    op: Op,
    actor: Actor,
    key: Option<String>,
    /// Digest of method, path and body, compared when a key comes again.
    request: String,
    reply: oneshot::Sender<Answer>,
}

type Task = Box<dyn FnOnce(&mut Service) + Send>;

enum Msg {
    Job(Box<Job>),
    Run(Task),
}

/// The sending side, cloned into every handler.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Msg>,
}

/// Wakes the scheduler and the dispatcher after a commit.
#[derive(Clone, Default)]
pub struct Wakers {
    pub timers: Arc<Notify>,
    pub outbox: Arc<Notify>,
}

/// The most commands one transaction takes: bounds how long the lock is held.
const GROUP: usize = 256;

impl Writer {
    /// Starts the writer thread; it ends when every [`Writer`] is dropped and
    /// the queue is drained, which is how shutdown commits in-flight work.
    pub fn start(
        svc: Service,
        clock: Arc<dyn Clock>,
        wakers: Wakers,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = std::thread::Builder::new()
            .name("steward-writer".into())
            .spawn(move || run(svc, rx, clock, wakers))?;
        Ok((Writer { tx }, handle))
    }

    /// Queues a command and waits for its answer.
    pub async fn submit(
        &self,
        op: Op,
        actor: Actor,
        key: Option<String>,
        request: String,
    ) -> Answer {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            op,
            actor,
            key,
            request,
            reply,
        };
        if self.tx.send(Msg::Job(Box::new(job))).is_err() {
            return Answer::problem(&Problem::unavailable("the server is shutting down"));
        }
        rx.await.unwrap_or_else(|_| {
            Answer::problem(&Problem::internal("the writer stopped before answering"))
        })
    }

    /// Runs `f` on the writer's service, between groups.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Service) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        let task: Task = Box::new(move |svc| {
            let _ = reply.send(f(svc));
        });
        self.tx.send(Msg::Run(task)).ok()?;
        rx.await.ok()
    }
}

fn run(
    mut svc: Service,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    clock: Arc<dyn Clock>,
    wakers: Wakers,
) {
    let mut zones = Zones::default();
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = Vec::new();
        let mut tasks = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Job(j) => jobs.push(*j),
                Msg::Run(t) => tasks.push(t),
            }
            if jobs.len() < GROUP {
                next = rx.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            let now = clock.now();
            let answers = commit_group(&mut svc, &jobs, now, &mut zones);
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
            wakers.timers.notify_one();
            wakers.outbox.notify_one();
        }
        for t in tasks {
            t(&mut svc);
        }
    }
}

fn commit_group(
    svc: &mut Service,
    jobs: &[Job],
    now: DateTime<Utc>,
    zones: &mut Zones,
) -> Vec<Answer> {
    let together = svc.batch(|b| {
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            answers.push(one(b, job, now, zones)?);
        }
        Ok::<_, AppError>(answers)
    });
    match together {
        Ok(answers) => answers,
        Err(e) if jobs.len() == 1 => vec![Answer::problem(&Problem::from_app(&e))],
        Err(_) => jobs
            .iter()
            .map(|job| {
                svc.batch(|b| one(b, job, now, zones))
                    .unwrap_or_else(|e| Answer::problem(&Problem::from_app(&e)))
            })
            .collect(),
    }
}

/// One job inside the group's transaction. `Err` only for errors that may
/// have written part of the job (the store's); refusals are answers.
fn one(
    b: &mut Batch<'_, '_>,
    job: &Job,
    now: DateTime<Utc>,
    zones: &mut Zones,
) -> Result<Answer, AppError> {
    if let Some(refused) = checks(b, job)? {
        return Ok(refused);
    }
    if let Some(key) = &job.key
        && let Some(r) = b.tx().remembered(&job.actor.name, key)?
    {
        if r.request != job.request {
            return Ok(Answer::problem(&Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                format!(
                    "Idempotency-Key `{key}` was used for a different request; use a new key for a new request"
                ),
            )));
        }
        return Ok(Answer {
            status: r.status,
            body: r.body,
            replayed: true,
        });
    }
    let outcome = match &job.op {
        Op::Open(intake) => b
            .open_ticket(intake.clone(), now)
            .map(|(t, d)| (201, Done::Ticket(Box::new(t), d))),
        Op::Execute { id, command } => b
            .execute(id, command, now)
            .map(|(t, d)| (200, Done::Ticket(Box::new(t), d))),
        Op::Event { estate, kind } => b.event(estate, kind, now).map(|r| (200, Done::Event(r))),
        Op::Feed { plugin, input } => feed(b, plugin, input, now).map(|r| (200, Done::Feed(r))),
    };
    let (status, done) = match outcome {
        Ok(x) => x,
        Err(AppError::Store(e)) => return Err(AppError::Store(e)),
        Err(e) => return Ok(Answer::problem(&Problem::from_app(&e))),
    };
    let (body, ticket, fp) = match &done {
        Done::Ticket(t, d) => {
            let tz = zones.of(b.tx(), &t.fingerprint);
            (
                ticket_json::outcome(t, d, tz),
                Some(t.id().to_owned()),
                t.fingerprint.clone(),
            )
        }
        Done::Event(ran) => {
            let fp = b.tx().active_policy(None)?.unwrap_or_default();
            let tz = zones.of(b.tx(), &fp);
            (event_json(ran, tz), None, fp)
        }
        Done::Feed(fed) => {
            let fp = b.tx().active_policy(None)?.unwrap_or_default();
            let tz = zones.of(b.tx(), &fp);
            (feed_json(fed, tz), None, fp)
        }
    };
    let body = body.to_string();
    // The actor of every command, in the log beside its facts.
    let request = serde_json::json!({
        "actor": job.actor.name,
        "role": job.actor.role.as_str(),
        "command": job.op.name(),
        "ticket": ticket,
        "idempotency_key": job.key,
    })
    .to_string();
    if !fp.is_empty() {
        b.tx().append_event(&NewEvent {
            ticket: None,
            at: now,
            kind: "request",
            payload: &request,
            fingerprint: &fp,
            rule: None,
        })?;
    }
    if let Some(key) = &job.key {
        let remembered = Remembered {
            request: job.request.clone(),
            status,
            body: body.clone(),
        };
        b.tx().remember(&job.actor.name, key, &remembered, now)?;
    }
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}

enum Done {
    Ticket(Box<Ticket>, Vec<Decision>),
    Event(Ran),
    Feed(Vec<Fed>),
}

/// What the handler checked from its cache, checked again where it counts:
/// the token is still live (not revoked since), the ticket is in the token's
/// estates, an event is one the estate's policy declares. A refusal writes
/// nothing.
fn checks(b: &mut Batch<'_, '_>, job: &Job) -> Result<Option<Answer>, AppError> {
    if b.tx().token_by_hash(&job.actor.sha256)?.is_none() {
        return Ok(Some(Answer::problem(&Problem::unauthorized(
            "the API token is not valid (unknown or revoked)",
        ))));
    }
    let refused = |e: AppError| match e {
        AppError::Store(e) => Err(AppError::Store(e)),
        e => Ok(Some(Answer::problem(&Problem::from_app(&e)))),
    };
    match &job.op {
        Op::Execute { id, .. } => {
            let estate = match b.estate_of(id) {
                Ok(e) => e,
                Err(e) => return refused(e),
            };
            if let Err(why) = job.actor.check_estate(&estate) {
                return Ok(Some(Answer::problem(&Problem::forbidden(why))));
            }
        }
        Op::Event { estate, kind } => {
            if estate.is_empty() || kind.is_empty() {
                return refused(AppError::Invalid(
                    "an event needs an estate and a kind, e.g. {\"estate\": \"riverside\", \"kind\": \"rain\"}".into(),
                ));
            }
        }
        Op::Open(_) | Op::Feed { .. } => {}
    }
    Ok(None)
}

/// One event a feed produced, and what it did.
pub struct Fed {
    estate: String,
    kind: String,
    at: DateTime<Utc>,
    ran: Ran,
}

/// [`Service::feed`] inside the group's transaction: the active policy's
/// event-source plug-in turns `input` into events, and each one not later
/// than `now` is applied at its own hour, in order.
fn feed(
    b: &mut Batch<'_, '_>,
    plugin: &str,
    input: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Fed>, AppError> {
    let policy = b.active_policy(None)?;
    let tz = policy.tz;
    let mut events = policy
        .plugin_events(plugin, input)
        .map_err(AppError::Invalid)?;
    events.sort_by_key(|e| e.hour);
    let mut out = Vec::new();
    for e in events {
        let Some(at) = e.instant(tz, now) else {
            continue;
        };
        let ran = b.event(&e.estate, &e.kind, at)?;
        out.push(Fed {
            estate: e.estate,
            kind: e.kind,
            at,
            ran,
        });
    }
    Ok(out)
}

fn feed_json(fed: &[Fed], tz: Tz) -> serde_json::Value {
    let v: Vec<_> = fed
        .iter()
        .map(|f| {
            let mut one = event_json(&f.ran, tz);
            if let Some(m) = one.as_object_mut() {
                m.insert("estate".into(), f.estate.clone().into());
                m.insert("event".into(), f.kind.clone().into());
                m.insert("time".into(), ticket_json::time(f.at, tz).into());
            }
            one
        })
        .collect();
    serde_json::json!({ "events": v })
}

pub fn event_json(ran: &Ran, tz: Tz) -> serde_json::Value {
    let fired: Vec<_> = ran
        .fired
        .iter()
        .map(|(id, d)| serde_json::json!({"ticket": id, "events": ticket_json::events(id, d, tz)}))
        .collect();
    let failed: Vec<_> = ran
        .failed
        .iter()
        .map(|(id, why)| serde_json::json!({"ticket": id, "error": why}))
        .collect();
    let mut v = serde_json::json!({"fired": fired, "failed": failed});
    if let Some(e) = ran.event {
        v["seq"] = e.seq.into();
        v["duplicate"] = e.duplicate.into();
    }
    v
}

/// Time zones of stored policies, by fingerprint, read once.
#[derive(Default)]
pub struct Zones(HashMap<String, Tz>);

impl Zones {
    pub fn of(&mut self, tx: &Tx<'_>, fp: &str) -> Tz {
        if let Some(tz) = self.0.get(fp) {
            return *tz;
        }
        let tz = policy_tz(tx, fp);
        self.0.insert(fp.to_owned(), tz);
        tz
    }
}

/// The time zone of the policy stored under `fp` (UTC if unreadable).
pub fn policy_tz(tx: &Tx<'_>, fp: &str) -> Tz {
    #[derive(serde::Deserialize)]
    struct Head {
        timezone: String,
    }
    let text: Result<Option<String>, StoreError> = tx.policy(fp);
    text.ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<Head>(&t).ok())
        .and_then(|h| h.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::auth;
    use crate::serve::bodies;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-06T09:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    fn job(op: Op, actor: &Actor, key: &str) -> (Job, oneshot::Receiver<Answer>) {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            op,
            actor: actor.clone(),
            key: Some(key.to_owned()),
            request: key.to_owned(),
            reply,
        };
        (job, rx)
    }

    /// The rain of a group reaches a ticket that an earlier command of the
    /// same group made wait for it, although the ticket's stored timers are
    /// written only when the group ends.
    #[test]
    fn an_event_sees_the_tickets_its_group_made_wait() {
        let mut svc = Service::in_memory().unwrap();
        let company = crate::policy::embedded::load("vk-shanghai").ok().unwrap();
        svc.apply_policy(&company.policy, None, None, t(0)).unwrap();
        let secret = auth::create(&mut svc, "center", "service-center", &[], t(0))
            .unwrap()
            .token;
        let actor = auth::lookup(&svc, &secret).unwrap().unwrap();
        let leak = bodies::open(
            r#"{"id":"LK","estate":"riverside","kind":"repair","text":"卫生间天花板渗水"}"#
                .as_bytes(),
        )
        .unwrap();
        let ops = vec![
            Op::Open(leak),
            Op::Execute {
                id: "LK".into(),
                command: bodies::action("respond", b"{}").unwrap(),
            },
            Op::Execute {
                id: "LK".into(),
                command: bodies::action("resolve", b"{}").unwrap(),
            },
            Op::Event {
                estate: "riverside".into(),
                kind: "rain".into(),
            },
        ];
        let (jobs, _replies): (Vec<Job>, Vec<_>) = ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| job(op, &actor, &format!("k{i}")))
            .unzip();
        let answers = commit_group(&mut svc, &jobs, t(5), &mut Zones::default());
        for a in &answers {
            assert!(a.status < 300, "{}", a.body);
        }
        let rain: serde_json::Value = serde_json::from_str(&answers[3].body).unwrap();
        assert_eq!(rain["fired"][0]["ticket"], "LK", "{rain}");
        // As the same commands one at a time would have it.
        let (ticket, _) = svc.ticket("LK").unwrap();
        let mut reference = Service::in_memory().unwrap();
        reference
            .apply_policy(&company.policy, None, None, t(0))
            .unwrap();
        let leak = bodies::open(
            r#"{"id":"LK","estate":"riverside","kind":"repair","text":"卫生间天花板渗水"}"#
                .as_bytes(),
        )
        .unwrap();
        reference.open_ticket(leak, t(5)).unwrap();
        for a in ["respond", "resolve"] {
            reference
                .execute("LK", &bodies::action(a, b"{}").unwrap(), t(5))
                .unwrap();
        }
        let fired = reference.event("riverside", "rain", t(5)).unwrap();
        assert_eq!(fired.len(), 1);
        assert_eq!(ticket, reference.ticket("LK").unwrap().0);
    }

    /// A refused open in a group leaves the ticket sequence as it was, as the
    /// rolled-back transaction of `steward ticket open` does.
    #[test]
    fn a_refused_open_in_a_group_uses_no_number() {
        let mut svc = Service::in_memory().unwrap();
        let company = crate::policy::embedded::load("vk-shanghai").ok().unwrap();
        svc.apply_policy(&company.policy, None, None, t(0)).unwrap();
        let secret = auth::create(&mut svc, "desk", "front-desk", &["riverside".into()], t(0))
            .unwrap()
            .token;
        let actor = auth::lookup(&svc, &secret).unwrap().unwrap();
        let bad = bodies::open(br#"{"estate":"riverside","kind":"pizza","text":"x"}"#).unwrap();
        let good = bodies::open(br#"{"estate":"riverside","kind":"repair","text":"x"}"#).unwrap();
        let (jobs, _r): (Vec<Job>, Vec<_>) =
            [Op::Open(bad), Op::Open(good.clone()), Op::Open(good)]
                .into_iter()
                .enumerate()
                .map(|(i, op)| job(op, &actor, &format!("k{i}")))
                .unzip();
        let answers = commit_group(&mut svc, &jobs, t(1), &mut Zones::default());
        assert_eq!(answers[0].status, 422, "{}", answers[0].body);
        let ids: Vec<String> = answers[1..]
            .iter()
            .map(|a| {
                serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["ticket"].to_string()
            })
            .collect();
        assert_eq!(ids, ["\"T00001\"", "\"T00002\""]);
    }
}
