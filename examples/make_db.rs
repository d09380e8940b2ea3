#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // an example tool: a failure should stop it loudly
//! Builds a benchmark database for `benches/cli_warm.sh`:
//! `cargo run --release --example make_db -- PATH [OPEN] [CLOSED]`.
//!
//! OPEN elevator-entrapment repairs left open (ids `T000000`..), laid out like
//! the tick benchmark's, then CLOSED more taken through the whole lifecycle
//! (ids after those), 1,000 tickets to a transaction. Defaults: 50,000 + 50,000.

#[path = "../benches/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: make_db PATH [OPEN] [CLOSED]"));
    let mut count = |default: usize| {
        args.next()
            .map_or(default, |a| a.parse().expect("a ticket count"))
    };
    let (open, closed) = (count(50_000), count(50_000));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    let began = Instant::now();
    let mut svc = support::service_with_policy(&path);
    support::open_staggered(&mut svc, open, open.min(1_000), 1_000);
    for first in (open..open + closed).step_by(1_000) {
        let last = (first + 1_000).min(open + closed);
        svc.batch(|b| {
            (first..last).try_for_each(|n| support::lifecycle(b, &support::id(n), support::start()))
        })
        .expect("lifecycles run");
    }
    drop(svc);
    println!(
        "{}: {open} open + {closed} closed tickets in {:.1} s, {:.0} MB",
        path.display(),
        began.elapsed().as_secs_f64(),
        std::fs::metadata(&path).expect("database").len() as f64 / 1e6
    );
}
