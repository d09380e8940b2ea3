#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a build script: a failure should stop the build loudly
//! Build information for `steward --version`: the git commit when the source is a
//! git checkout with git installed, else `unknown` (a release tarball); the target
//! triple and the cargo profile.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // Rebuild when HEAD moves (a commit, a checkout), so the commit shown is current.
    for what in ["HEAD", "index"] {
        if let Some(path) = git(&["rev-parse", "--git-path", what]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let dirty =
        commit.is_some() && git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
    let commit = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => "unknown".to_owned(),
    };
    println!("cargo:rustc-env=STEWARD_GIT_COMMIT={commit}");
    for var in ["TARGET", "PROFILE"] {
        let value = std::env::var(var).unwrap_or_else(|_| "unknown".to_owned());
        println!("cargo:rustc-env=STEWARD_BUILD_{var}={value}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
