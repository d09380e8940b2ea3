//! `steward --version` and `-V`: the package version with the build's git commit,
//! and with `--version` also the target and profile (from `build.rs`).

pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("STEWARD_GIT_COMMIT"),
    ")"
);

pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit:  ",
    env!("STEWARD_GIT_COMMIT"),
    "\ntarget:  ",
    env!("STEWARD_BUILD_TARGET"),
    "\nprofile: ",
    env!("STEWARD_BUILD_PROFILE"),
);
