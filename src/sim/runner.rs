//! Running a scenario: an in-memory store (so the store's projections and timers are
//! exercised too) driven by a virtual clock. Steps and expectations run in time
//! order; before each, every timer due *before* its instant fires, so an action at
//! the very minute of a deadline is on time, exactly as with `action_before_deadline`.
//! An expectation at `T` sees every step at or before `T` (steps first at equal times).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::diagnostic::Loc;
use crate::engine::Decision;
use crate::policy::{self, LoadFailure, Policy};
use crate::service::{AppError, Service};

use super::coverage;
use super::expect::{self, Mismatch};
use super::scenario::{Scenario, StepAction};

/// One line of a run's timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A fact the engine decided.
    Fact {
        ticket: String,
        decision: Box<Decision>,
    },
    /// A step the engine refused (expected or not).
    Refused {
        at: DateTime<Utc>,
        ticket: String,
        step: String,
        error: String,
        expected: bool,
    },
    /// An external event a step reported (rain at an estate).
    External {
        at: DateTime<Utc>,
        estate: String,
        kind: String,
    },
    /// An expectation was checked.
    Checked {
        at: DateTime<Utc>,
        ticket: String,
        ok: bool,
        location: String,
    },
}

/// An expectation or step that did not go as the scenario says.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// `file:line` of the step or expectation.
    pub location: String,
    pub when: String,
    pub ticket: String,
    pub mismatch: Mismatch,
}

/// The result of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: String,
    pub path: PathBuf,
    pub policy: String,
    #[serde(skip)]
    pub tz: Tz,
    pub steps: usize,
    pub checks: usize,
    pub timeline: Vec<Event>,
    pub failures: Vec<Failure>,
    /// Rule ids exercised by decisions (per [`coverage::exercised`]).
    pub fired: BTreeSet<String>,
    /// Rule ids claimed by steps and expectations.
    pub claimed: BTreeSet<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Why a scenario could not run at all (as opposed to failing an expectation).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Scenario(String),
    #[error("{path}: the scenario's policy does not load:\n{rendered}")]
    Policy { path: String, rendered: String },
    #[error("{0}")]
    Service(#[from] AppError),
}

/// Runs scenarios, loading each policy directory once.
#[derive(Default)]
pub struct Runner {
    policies: HashMap<PathBuf, Policy>,
}

impl Runner {
    pub fn policy(&mut self, path: &Path) -> Result<&Policy, RunError> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.policies.contains_key(&key) {
            let loaded = policy::load_path(path).map_err(
                |LoadFailure {
                     sources,
                     diagnostics,
                 }| RunError::Policy {
                    path: path.display().to_string(),
                    rendered: diagnostics
                        .iter()
                        .map(|d| d.render(&sources))
                        .collect::<Vec<_>>()
                        .join("\n"),
                },
            )?;
            self.policies.insert(key.clone(), loaded.policy);
        }
        self.policies
            .get(&key)
            .ok_or_else(|| RunError::Scenario("policy cache".into()))
    }

    pub fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError> {
        let main = self.policy(&s.policy)?.clone();
        let mut svc = Service::in_memory()?;
        let source = s.policy.display().to_string();
        svc.apply_policy(&main, Some(&source), None, s.start)?;
        for (estate, path) in &s.estate_policies {
            let p = self.policy(path)?.clone();
            svc.apply_policy(&p, Some(&path.display().to_string()), Some(estate), s.start)?;
        }
        let tz = svc.active_policy()?.tz;
        let mut out = Outcome {
            name: s.name.clone(),
            path: s.path.clone(),
            policy: main.id.clone(),
            tz,
            steps: s.steps.len(),
            checks: s.expects.iter().map(|e| e.checks.len()).sum(),
            timeline: Vec::new(),
            failures: Vec::new(),
            fired: BTreeSet::new(),
            claimed: BTreeSet::new(),
        };
        for step in &s.steps {
            out.claimed.extend(step.rules.iter().cloned());
        }
        for e in &s.expects {
            out.claimed.extend(e.rules.iter().cloned());
        }
        // Time order; steps before expectations at the same instant; file order otherwise.
        let mut items: Vec<(DateTime<Utc>, usize, usize)> = Vec::new();
        items.extend(s.steps.iter().enumerate().map(|(i, st)| (st.at, 0, i)));
        items.extend(s.expects.iter().enumerate().map(|(i, e)| (e.at, 1, i)));
        items.sort();
        let record = |out: &mut Outcome, id: &str, ds: Vec<Decision>| {
            for d in ds {
                out.fired.extend(coverage::exercised(&main, &d));
                out.timeline.push(Event::Fact {
                    ticket: id.to_string(),
                    decision: Box::new(d),
                });
            }
        };
        for (at, kind, i) in items {
            for (id, ds) in svc.tick(at - Duration::seconds(1))? {
                record(&mut out, &id, ds);
            }
            if kind == 1 {
                let e = &s.expects[i];
                let location = location(s, e.loc);
                let failures = match svc.ticket(&e.ticket) {
                    Ok((t, log)) => e
                        .checks
                        .iter()
                        .filter_map(|c| expect::check(c, &t, &log, tz))
                        .collect(),
                    Err(err) => vec![Mismatch {
                        check: "ticket".into(),
                        expected: format!("ticket `{}`", e.ticket),
                        actual: err.to_string(),
                    }],
                };
                out.timeline.push(Event::Checked {
                    at,
                    ticket: e.ticket.clone(),
                    ok: failures.is_empty(),
                    location: location.clone(),
                });
                out.failures.extend(failures.into_iter().map(|m| Failure {
                    location: location.clone(),
                    when: e.when.clone(),
                    ticket: e.ticket.clone(),
                    mismatch: m,
                }));
                continue;
            }
            let step = &s.steps[i];
            let result: Result<Vec<(String, Vec<Decision>)>, AppError> = match &step.action {
                StepAction::Open(intake) => svc
                    .open_ticket(intake.clone(), at)
                    .map(|(_, ds)| vec![(intake.id.clone(), ds)]),
                StepAction::Command { ticket, cmd } => svc
                    .execute(ticket, cmd, at)
                    .map(|(_, ds)| vec![(ticket.clone(), ds)]),
                StepAction::Event { kind, estate } => {
                    out.timeline.push(Event::External {
                        at,
                        estate: estate.clone(),
                        kind: kind.clone(),
                    });
                    svc.event(estate, kind, at)
                }
                StepAction::Tick => svc.tick(at),
            };
            let ticket = match &step.action {
                StepAction::Open(o) => o.id.clone(),
                StepAction::Command { ticket, .. } => ticket.clone(),
                StepAction::Event { estate, .. } => estate.clone(),
                StepAction::Tick => String::new(),
            };
            match (result, &step.expect_error) {
                (Ok(all), None) => {
                    for (id, ds) in all {
                        record(&mut out, &id, ds);
                    }
                }
                (Ok(all), Some(want)) => {
                    for (id, ds) in all {
                        record(&mut out, &id, ds);
                    }
                    out.failures.push(Failure {
                        location: location(s, step.loc),
                        when: step.when.clone(),
                        ticket,
                        mismatch: Mismatch {
                            check: "expect_error".into(),
                            expected: format!("`{}` refused with `{want}`", step.action.describe()),
                            actual: "it was accepted".into(),
                        },
                    });
                }
                (Err(err), want) => {
                    let error = err.to_string();
                    let expected = want.as_ref().is_some_and(|w| error.contains(w.as_str()));
                    out.timeline.push(Event::Refused {
                        at,
                        ticket: ticket.clone(),
                        step: step.action.describe(),
                        error: error.clone(),
                        expected,
                    });
                    if !expected {
                        out.failures.push(Failure {
                            location: location(s, step.loc),
                            when: step.when.clone(),
                            ticket,
                            mismatch: Mismatch {
                                check: "step".into(),
                                expected: match want {
                                    Some(w) => format!("refused with `{w}`"),
                                    None => format!("`{}` accepted", step.action.describe()),
                                },
                                actual: format!("refused: {error}"),
                            },
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

fn location(s: &Scenario, loc: Loc) -> String {
    let (line, _) = s.sources.line_col(loc.file, loc.start);
    format!("{}:{line}", s.path.display())
}
