//! The JSON body of each ticket action, read strictly: unknown fields and wrong
//! types are refused with serde's message (line and column), so nothing is
//! guessed. Each maps to the engine command the CLI builds for the same action.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::engine::{BUILTIN_STEPS, Command, Due, OpenTicket};
use crate::policy::model::Action;

use super::problem::Problem;

/// Every action route, with the OpenAPI summary of its body.
pub const ACTIONS: &[(&str, &str)] = &[
    ("classify", "Set category, class or major explicitly"),
    ("respond", "First response to the owner"),
    ("plan", "Initial handling plan"),
    ("report", "Handling form filed with the service center"),
    ("expert-reply", "The expert panel's reply"),
    ("update", "Progress update to the owner"),
    (
        "notice",
        "Written notice to maintenance after a failed revisit (V5)",
    ),
    ("assign", "Dispatch to a department at a tier (E1)"),
    ("pause", "Stop the clocks a pause rule names"),
    ("resume", "Restart paused clocks"),
    ("resolve", "The work is done: revisits are scheduled"),
    (
        "revisit",
        "Record a revisit; ok=false reopens the ticket (V5)",
    ),
    (
        "close",
        "Close, or close as invalid with an explanation (D5)",
    ),
    ("reopen", "Reopen a resolved or closed ticket"),
    ("compensation", "Record a compensation claim (D6)"),
    (
        "act",
        "Record a step: a built-in action or one the ticket's policy declares",
    ),
    (
        "deadline",
        "Set the deadline of a named limit, with who and why (E2)",
    ),
    (
        "waive-revisit",
        "Waive a revisit slot, or all open ones, with a reason",
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    step: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deadline {
    limit: String,
    /// RFC 3339, with its offset.
    at: Option<String>,
    /// A policy span such as `3 business days`, counted from now.
    within: Option<String>,
    by: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Waive {
    slot: Option<String>,
    #[serde(default)]
    all: bool,
    reason: String,
    #[serde(default)]
    by: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    #[serde(default)]
    by: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Classify {
    category: Option<String>,
    class: Option<u8>,
    major: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    department: String,
    #[serde(default = "l2")]
    tier: String,
    lead: Option<String>,
}

fn l2() -> String {
    "L2".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolve {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revisit {
    ok: bool,
    #[serde(default = "phone")]
    channel: String,
    #[serde(default)]
    note: String,
}

fn phone() -> String {
    "phone".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Close {
    invalid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Compensation {
    amount: String,
    #[serde(default)]
    note: String,
}

/// An external event: `{"estate": "riverside", "kind": "rain"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub estate: String,
    pub kind: String,
}

/// A feed for the active policy's event-source plug-in, as `steward event
/// feed` reads it from a file: `{"plugin": "weather", "input": "…CSV…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    pub plugin: String,
    pub input: String,
}

pub fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Problem> {
    // An empty body is an empty object: `resume` and friends need no fields.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("bad {what} JSON: {e}")))
}

/// `ticket open`'s JSON (the same as `ticket open --json`).
/// `id` may be left out: the next number of the sequence is taken, as
/// `ticket open` does without `--id`.
pub fn open(body: &[u8]) -> Result<OpenTicket, Problem> {
    let mut v: serde_json::Value = parse(body, "ticket")?;
    if let Some(map) = v.as_object_mut() {
        map.entry("id")
            .or_insert_with(|| serde_json::Value::String(String::new()));
    }
    serde_json::from_value(v).map_err(|e| Problem::bad_request(format!("bad ticket JSON: {e}")))
}

/// The command of `POST /v1/tickets/{id}/{action}`.
pub fn action(action: &str, body: &[u8]) -> Result<Command, Problem> {
    let what = format!("`{action}`");
    let act = |a: Action| -> Result<Command, Problem> {
        let n: Note = parse(body, &what)?;
        Ok(Command::Act {
            action: a,
            by: n.by,
            note: n.note,
        })
    };
    Ok(match action {
        "classify" => {
            let c: Classify = parse(body, &what)?;
            if c.class.is_some_and(|k| !(1..=3).contains(&k)) {
                return Err(Problem::bad_request(
                    "bad `classify` JSON: class is 1, 2 or 3 (D4)",
                ));
            }
            Command::Classify {
                category: c.category,
                class: c.class,
                major: c.major,
            }
        }
        "respond" => act(Action::Respond)?,
        "plan" => act(Action::Plan)?,
        "report" => act(Action::Report)?,
        "expert-reply" => act(Action::ExpertReply)?,
        "update" => act(Action::Update)?,
        "notice" => act(Action::Notice)?,
        "assign" => {
            let a: Assign = parse(body, &what)?;
            let tier = a.tier.to_ascii_uppercase();
            if !["L1", "L2", "L3"].contains(&tier.as_str()) {
                return Err(Problem::bad_request(format!(
                    "bad `assign` JSON: tier `{}` is not one of L1, L2, L3 (E1)",
                    a.tier
                )));
            }
            Command::Assign {
                department: a.department,
                tier,
                lead: a.lead,
            }
        }
        "pause" => Command::Pause {
            reason: parse::<Reason>(body, &what)?.reason,
        },
        "resume" => {
            parse::<Empty>(body, &what)?;
            Command::Resume
        }
        "resolve" => Command::Resolve {
            note: parse::<Resolve>(body, &what)?.note,
        },
        "revisit" => {
            let r: Revisit = parse(body, &what)?;
            Command::Revisit {
                ok: r.ok,
                channel: r.channel,
                note: r.note,
            }
        }
        "close" => Command::Close {
            invalid: parse::<Close>(body, &what)?.invalid,
        },
        "reopen" => Command::Reopen {
            reason: parse::<Reason>(body, &what)?.reason,
        },
        "compensation" => {
            let c: Compensation = parse(body, &what)?;
            crate::cli::ticket_cmd::check_amount(&c.amount).map_err(Problem::bad_request)?;
            Command::Compensation {
                amount: c.amount,
                note: c.note,
            }
        }
        "act" => {
            let s: Step = parse(body, &what)?;
            match Action::parse(&s.step).filter(|_| BUILTIN_STEPS.contains(&s.step.as_str())) {
                Some(action) => Command::Act {
                    action,
                    by: s.by,
                    note: s.note,
                },
                None => Command::Step {
                    step: s.step,
                    by: s.by,
                    note: s.note,
                },
            }
        }
        "deadline" => {
            let d: Deadline = parse(body, &what)?;
            let due = match (d.at, d.within) {
                (Some(at), None) => Due::At(
                    chrono::DateTime::parse_from_rfc3339(&at)
                        .map_err(|e| {
                            Problem::bad_request(format!(
                                "bad `deadline` JSON: `at` must be RFC 3339 with an offset ({e})"
                            ))
                        })?
                        .with_timezone(&chrono::Utc),
                ),
                (None, Some(w)) => Due::Within(w.parse().map_err(|e| {
                    Problem::bad_request(format!("bad `deadline` JSON: `within`: {e}"))
                })?),
                _ => {
                    return Err(Problem::bad_request(
                        "bad `deadline` JSON: give exactly one of `at` and `within`",
                    ));
                }
            };
            Command::SetDeadline {
                limit: d.limit,
                due,
                by: d.by,
                reason: d.reason,
            }
        }
        "waive-revisit" => {
            let w: Waive = parse(body, &what)?;
            if w.slot.is_some() == w.all {
                return Err(Problem::bad_request(
                    "bad `waive-revisit` JSON: give a `slot` or `\"all\": true`",
                ));
            }
            Command::WaiveRevisit {
                slot: w.slot,
                reason: w.reason,
                by: w.by,
            }
        }
        other => {
            return Err(Problem::not_found(format!(
                "no action `{other}`: one of {}",
                ACTIONS.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            )));
        }
    })
}
