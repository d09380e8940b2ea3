//! `steward serve`: the host runtime. An HTTP API over the same [`Service`]
//! the CLI uses, a scheduler that fires timers at their minute, and a
//! dispatcher that delivers the outbox.
//!
//! Built on axum over tokio: tokio is the runtime reqwest and lettre (the
//! delivery side) need anyway, and axum is a thin, widely used router on hyper
//! with typed extractors and tower middleware, without macros of its own.
//!
//! The threads: one writer (see [`writer`]) owns the read-write connection
//! and commits concurrent commands together; GET requests and token checks
//! run on read-only connections on tokio's blocking pool; the scheduler and
//! the dispatcher are tasks that hand their writes to the writer.

mod api;
pub mod auth;
mod bodies;
mod checkpoint;
pub mod clock;
mod dispatch;
mod metrics;
mod page;
pub mod problem;
mod readers;
pub mod routes;
mod scheduler;
mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::outbox::Deployment;
use crate::service::{AppError, Service};

pub use clock::{Clock, ManualClock, SystemClock};

/// How the server is started.
pub struct Config {
    pub db: PathBuf,
    pub deployment: Option<Deployment>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before it is answered 503 (its command, if
    /// it reached the writer, still commits: retry with the same Idempotency-Key).
    pub request_timeout: Duration,
    pub clock: Arc<dyn Clock>,
    /// `/metrics` without a token (for a scraper on a private network);
    /// otherwise it takes an auditor, service-center or admin token.
    pub metrics_public: bool,
}

impl Config {
    pub fn new(db: PathBuf) -> Config {
        Config {
            db,
            deployment: None,
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock::new()),
            metrics_public: false,
        }
    }
}

/// What every handler and task shares.
#[derive(Clone)]
pub struct State(Arc<Inner>);

pub struct Inner {
    writer: writer::Writer,
    readers: readers::Readers,
    clock: Arc<dyn Clock>,
    metrics: metrics::Metrics,
    wakers: writer::Wakers,
    ready: AtomicBool,
    body_limit: usize,
    request_timeout: Duration,
    tokens: auth::Cache,
    metrics_public: bool,
}

impl std::ops::Deref for State {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A running server: its address, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<Result<(), String>>,
}

impl Running {
    /// Stops accepting, finishes the requests in flight, commits what reached
    /// the writer, and returns when everything has ended.
    pub async fn shutdown(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.done.await.map_err(|e| e.to_string())?
    }

    /// Waits until the server ends by itself (SIGTERM, Ctrl-C).
    pub async fn wait(self) -> Result<(), String> {
        self.done.await.map_err(|e| e.to_string())?
    }
}

/// Opens the database, starts the writer, the scheduler and the dispatcher,
/// and serves on `listener` until shut down. With `signals`, SIGTERM and
/// Ctrl-C shut it down gracefully.
pub async fn start(
    config: Config,
    listener: TcpListener,
    signals: bool,
) -> Result<Running, String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let svc = Service::open(&config.db).map_err(|e: AppError| e.to_string())?;
    // A database that was never given a policy cannot open tickets; say so now.
    let has_policy = svc
        .store()
        .read(|tx| tx.active_policy(None))
        .map_err(|e| e.to_string())?
        .is_some();
    if !has_policy {
        return Err(AppError::NoPolicy.to_string());
    }
    svc.store()
        .no_automatic_checkpoints()
        .map_err(|e| e.to_string())?;
    let checkpointer = checkpoint::start(config.db.clone()).map_err(|e| e.to_string())?;
    let wakers = writer::Wakers::default();
    let (writer, writer_thread) = writer::Writer::start(svc, config.clock.clone(), wakers.clone())
        .map_err(|e| e.to_string())?;
    let state = State(Arc::new(Inner {
        writer,
        readers: readers::Readers::new(config.db.clone()),
        clock: config.clock.clone(),
        metrics: metrics::Metrics::default(),
        wakers: wakers.clone(),
        ready: AtomicBool::new(false),
        body_limit: config.body_limit,
        request_timeout: config.request_timeout,
        tokens: auth::Cache::default(),
        metrics_public: config.metrics_public,
    }));
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = tokio::spawn(scheduler::run(
        state.clone(),
        wakers.timers.clone(),
        stop_rx.clone(),
    ));
    let dispatcher = config
        .deployment
        .map(|d| tokio::spawn(dispatch::run(state.clone(), Arc::new(d), stop_rx.clone())));
    let app = routes::router(state.clone());
    state.ready.store(true, Ordering::Release);
    let mut stop_serve = stop_rx.clone();
    let signal_stop = stop_tx.clone();
    let done = tokio::spawn(async move {
        let shutdown = async move {
            if signals {
                tokio::select! {
                    _ = terminate() => { let _ = signal_stop.send(true); }
                    _ = stop_serve.wait_for(|s| *s) => {}
                }
            } else {
                let _ = stop_serve.wait_for(|s| *s).await;
            }
            tracing::info!("shutting down: no new connections, finishing requests in flight");
        };
        let served = axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| e.to_string());
        state.ready.store(false, Ordering::Release);
        let _ = scheduler.await;
        if let Some(d) = dispatcher {
            let _ = d.await;
        }
        // The last handle to the writer goes with `state`; the thread drains its
        // queue, commits, and ends, after the checkpointer, so that its
        // connection is the last and folds the WAL into the database.
        drop(state);
        let _ = tokio::task::spawn_blocking(move || {
            checkpointer.stop();
            writer_thread.join()
        })
        .await;
        served
    });
    Ok(Running {
        addr,
        stop: stop_tx,
        done,
    })
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    let _ = tokio::signal::ctrl_c().await;
}
