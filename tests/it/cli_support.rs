#![allow(clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Running the `steward` binary from a test: one place for how a command is
//! started (no `STEWARD_DB` from the environment, so only `--db` names a
//! database) and how its result is read.

use std::path::Path;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_steward");

/// `steward` with nothing set but the environment minus `STEWARD_DB`.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("STEWARD_DB");
    cmd
}

/// Runs `cmd` to its end: exit code (-1 when killed), stdout, stderr.
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run steward");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `steward --db DB --now NOW ARGS…`.
pub fn at(db: &Path, now: &str) -> Command {
    let mut cmd = command();
    cmd.arg("--db").arg(db).args(["--now", now]);
    cmd
}

/// [`at`] with `args`, run to its end.
pub fn run_at(db: &Path, now: &str, args: &[&str]) -> (i32, String, String) {
    output(at(db, now).args(args))
}

/// [`run_at`] for a command that must succeed: its stdout.
pub fn ok_at(db: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = run_at(db, now, args);
    assert_eq!(code, 0, "steward {args:?} failed: {err}\n{out}");
    out
}

/// [`ok_at`] with `--format json`, parsed.
pub fn json_at(db: &Path, now: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = ok_at(db, now, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}
