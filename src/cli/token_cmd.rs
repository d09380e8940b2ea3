//! `steward token create | list | revoke`: API tokens for `steward serve`.

use clap::Subcommand;

use crate::serve::auth;

use super::args::{Format, Global, TableJson};
use super::context::{fail, now, open, open_read_only};
use super::{EXIT_OK, output};

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Make a token; it is printed once and only its SHA-256 is stored
    #[command(after_help = "Examples:
  steward token create --name desk-riverside --role front-desk --estate riverside
  steward token create --name hq --role service-center
Roles: front-desk (open and act, its estates), specialist (act, its estates),
service-center (all ticket work, events, outbox), auditor (read-only, audit), admin.")]
    Create {
        /// A name for the token, recorded as the actor of every command made with it
        #[arg(long)]
        name: String,
        /// front-desk, specialist, service-center, auditor or admin
        #[arg(long)]
        role: String,
        /// An estate the token works in; repeatable; none: all estates
        #[arg(long = "estate", value_name = "ESTATE")]
        estates: Vec<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Every token: name, role, estates, created, revoked
    #[command(after_help = "Example:\n  steward --db /srv/steward.db token list")]
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
    /// Revoke a token by name; requests with it get 401 from then on
    #[command(after_help = "Example:\n  steward token revoke bootstrap")]
    Revoke {
        /// The token's name
        name: String,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}

pub fn run(cmd: TokenCmd, g: &Global) -> i32 {
    match go(cmd, g) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn go(cmd: TokenCmd, g: &Global) -> Result<i32, String> {
    match cmd {
        TokenCmd::Create {
            name,
            role,
            estates,
            ..
        } => {
            let at = now(g)?;
            let mut svc = open(g).map_err(|e| e.to_string())?;
            let c =
                auth::create(&mut svc, &name, &role, &estates, at).map_err(|e| e.to_string())?;
            if g.format == Format::Json {
                output::json(&serde_json::to_value(&c).unwrap_or_default());
            } else {
                println!("{}", c.token);
                eprintln!(
                    "token `{}` ({}, {}): shown once, keep it now",
                    c.row.name,
                    c.row.role,
                    estates_text(&c.row.estates)
                );
            }
        }
        TokenCmd::List { .. } => {
            let svc = open_read_only(g).map_err(|e| e.to_string())?;
            let rows = svc
                .store()
                .read(|tx| tx.tokens())
                .map_err(|e| e.to_string())?;
            if g.format == Format::Json {
                output::json(&serde_json::to_value(&rows).unwrap_or_default());
            } else if rows.is_empty() {
                println!("no tokens");
            } else {
                let tz = super::context::active_tz(&g.db).unwrap_or(chrono_tz::UTC);
                let local = |t| super::timeline::local(t, tz);
                let table: Vec<Vec<String>> = rows
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.role.clone(),
                            estates_text(&t.estates),
                            local(t.created_at),
                            t.revoked_at.map_or_else(|| "-".into(), local),
                        ]
                    })
                    .collect();
                output::print(&output::table(
                    &["name", "role", "estates", "created", "revoked"],
                    &table,
                ));
            }
        }
        TokenCmd::Revoke { name, .. } => {
            let at = now(g)?;
            let mut svc = open(g).map_err(|e| e.to_string())?;
            let done = svc
                .batch(|b| {
                    b.tx()
                        .revoke_token(&name, at)
                        .map_err(crate::service::AppError::from)
                })
                .map_err(|e| e.to_string())?;
            if !done {
                return Err(format!(
                    "no live token named `{name}` (see `steward token list`)"
                ));
            }
            println!("revoked token `{name}`");
        }
    }
    Ok(EXIT_OK)
}

fn estates_text(e: &[String]) -> String {
    if e.is_empty() {
        "all estates".into()
    } else {
        e.join(", ")
    }
}
