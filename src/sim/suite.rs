//! `policy test`: every scenario shipped with a policy (`PATH/scenarios/*.toml`),
//! like `opa test`, with a pass/fail summary and the policy's rule coverage.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::coverage::{self, Coverage};
use super::parse;
use super::runner::{Outcome, RunError, Runner};

/// One scenario file's result.
#[derive(Debug, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Case {
    Ran(Outcome),
    /// The file does not parse, or its policy does not load.
    Error {
        path: PathBuf,
        message: String,
    },
}

impl Case {
    pub fn passed(&self) -> bool {
        matches!(self, Case::Ran(o) if o.passed())
    }
}

#[derive(Debug, Serialize)]
pub struct Suite {
    pub policy_path: PathBuf,
    pub policy: String,
    pub cases: Vec<Case>,
    pub coverage: Coverage,
}

impl Suite {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Policy(#[from] RunError),
    #[error("no scenarios: {0} has no *.toml scenario files")]
    NoScenarios(String),
    #[error("cannot list {0}: {1}")]
    Io(String, std::io::Error),
}

/// The scenario files of a policy directory, sorted by name.
pub fn scenario_files(policy: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    let dir = policy.join("scenarios");
    // A policy without a scenarios directory simply has no scenarios.
    if !dir.exists() {
        return Err(SuiteError::NoScenarios(dir.display().to_string()));
    }
    let entries =
        std::fs::read_dir(&dir).map_err(|e| SuiteError::Io(dir.display().to_string(), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(SuiteError::NoScenarios(dir.display().to_string()));
    }
    Ok(files)
}

pub fn run(policy_path: &Path) -> Result<Suite, SuiteError> {
    let mut runner = Runner::default();
    let policy = runner.policy(policy_path)?.clone();
    let files = scenario_files(policy_path)?;
    let mut fired = BTreeSet::new();
    let mut claimed = BTreeSet::new();
    let mut cases = Vec::new();
    for file in files {
        let case = match parse::load(&file) {
            Err(e) => Case::Error {
                path: file,
                message: e.render(),
            },
            Ok(s) => match runner.run(&s) {
                Ok(o) => {
                    fired.extend(o.fired.iter().cloned());
                    claimed.extend(o.claimed.iter().cloned());
                    Case::Ran(o)
                }
                Err(e) => Case::Error {
                    path: file,
                    message: e.to_string(),
                },
            },
        };
        cases.push(case);
    }
    let coverage = Coverage::new(&coverage::cited(&policy), &fired, &claimed);
    Ok(Suite {
        policy_path: policy_path.to_path_buf(),
        policy: policy.id.clone(),
        cases,
        coverage,
    })
}
