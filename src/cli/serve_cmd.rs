//! `steward serve`: the host runtime on one database (see [`crate::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::outbox::Deployment;
use crate::policy::embedded;
use crate::serve::{self, SystemClock};
use crate::service::Service;

use super::EXIT_OK;
use super::args::Global;
use super::context::{fail, now};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Deployment file (TOML): channels and routes for notifications (docs/serve.md);
    /// without it notifications stay in the outbox, undelivered
    #[arg(long, value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// Largest request body, in bytes
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    pub body_limit: usize,
    /// Longest a request may take, in seconds, before it is answered 503
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub request_timeout: u64,
    /// Log lines as JSON objects instead of text
    #[arg(long)]
    pub log_json: bool,
    /// Serve /metrics without a token (for a scraper on a private network);
    /// otherwise it takes an auditor, service-center or admin token
    #[arg(long)]
    pub metrics_public: bool,
}

pub fn run(args: ServeArgs, g: &Global) -> i32 {
    match serve_blocking(args, g) {
        Ok(()) => EXIT_OK,
        Err(e) => fail(e),
    }
}

fn serve_blocking(args: ServeArgs, g: &Global) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second init (tests in one process) is harmless: the first one stays.
    let _ = if args.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    let clock: Arc<dyn serve::Clock> = match &g.now {
        Some(_) => Arc::new(SystemClock::starting_at(now(g)?)),
        None => Arc::new(SystemClock::new()),
    };
    bootstrap(g, clock.now())?;
    let deployment = args
        .deployment
        .as_deref()
        .map(Deployment::load)
        .transpose()?;
    if deployment.is_none() {
        eprintln!("no --deployment file: notifications are kept in the outbox, not delivered");
    }
    let mut config = serve::Config::new(g.db.clone());
    config.deployment = deployment;
    config.body_limit = args.body_limit;
    config.metrics_public = args.metrics_public;
    config.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    config.clock = clock;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let running = serve::start(config, listener, true).await?;
        eprintln!(
            "steward serve: listening on http://{} (database {})",
            running.addr,
            crate::store::display_name(&g.db)
        );
        running.wait().await
    })
}

/// A fresh database gets the embedded default policy, and a database without
/// tokens an admin token (printed once), so `steward serve` alone starts a
/// server that can be used.
fn bootstrap(g: &Global, at: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    let mut svc = Service::open(&g.db).map_err(|e| e.to_string())?;
    let has_policy = svc
        .store()
        .read(|tx| tx.active_policy(None))
        .map_err(|e| e.to_string())?
        .is_some();
    if !has_policy {
        let company = embedded::load("vk-shanghai")
            .map_err(|_| "the embedded policy vk-shanghai does not load".to_string())?;
        let applied = svc
            .apply_policy(&company.policy, Some("embedded:vk-shanghai"), None, at)
            .map_err(|e| e.to_string())?;
        eprintln!(
            "{} had no policy: applied the embedded default vk-shanghai ({})",
            g.db.display(),
            super::timeline::short(&applied.fingerprint)
        );
    }
    let tokens = svc
        .store()
        .read(|tx| tx.tokens())
        .map_err(|e| e.to_string())?;
    if tokens.is_empty() {
        let created = serve::auth::create(&mut svc, "bootstrap", "admin", &[], at)
            .map_err(|e| e.to_string())?;
        eprintln!(
            "no API token existed: created admin token `bootstrap` (shown once, revoke it with `steward token revoke bootstrap` once you have your own):\n{}",
            created.token
        );
    }
    Ok(())
}
