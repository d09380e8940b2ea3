#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Replay is a pure function of its input: the same history replayed twice, or with
//! a different number of worker threads, gives the same report; CSV and JSON lines
//! of the same history give the same report.

use std::io::Cursor;
use std::path::Path;

use proptest::prelude::*;
use steward::policy::{self, CompiledPolicy};
use steward::sim::generate::{self, Options as GenOptions};
use steward::sim::history::HistoryReader;
use steward::sim::replay::{self, Options};
use steward::sim::report::{PolicyInfo, Report};

fn compiled(path: &str) -> (PolicyInfo, CompiledPolicy) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = policy::load_path(&root.join(path))
        .ok()
        .expect("shipped policy loads");
    let c = CompiledPolicy::new(loaded.policy).expect("compiles");
    let info = PolicyInfo {
        path: path.into(),
        id: c.policy.id.clone(),
        version: c.policy.version.clone(),
        fingerprint: c.fingerprint.clone(),
        estates: Default::default(),
    };
    (info, c)
}

fn history(seed: u64, tickets: u64, json: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = GenOptions {
        seed,
        tickets,
        days: 7,
        estates: 3,
        start: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).expect("date"),
        json,
    };
    generate::generate(&opts, &mut out).expect("generates");
    out
}

fn run(
    bytes: &[u8],
    json: bool,
    threads: usize,
    policies: &[(PolicyInfo, CompiledPolicy)],
) -> String {
    let reader = HistoryReader::from_reader("h", Box::new(Cursor::new(bytes.to_vec())), json, None)
        .expect("header");
    let opts = Options {
        threads,
        ..Options::default()
    };
    let report: Report = replay::replay("h", reader, policies, &opts, &|_| {});
    serde_json::to_string(&report).expect("serializes")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_same_history_twice_gives_identical_reports(seed in any::<u64>(), tickets in 20u64..200) {
        let policies = vec![compiled("policies/vk-shanghai"), compiled("policies/vk-shanghai-gardens")];
        let h = history(seed, tickets, false);
        let first = run(&h, false, 1, &policies);
        let again = run(&h, false, 1, &policies);
        prop_assert_eq!(&first, &again);
        let threaded = run(&h, false, 3, &policies);
        prop_assert_eq!(&first, &threaded);
    }
}

#[test]
fn csv_and_json_lines_of_one_history_replay_alike() {
    let policies = vec![compiled("policies/vk-shanghai")];
    let csv = run(&history(5, 150, false), false, 2, &policies);
    let json = run(&history(5, 150, true), true, 2, &policies);
    assert_eq!(csv, json);
}

#[test]
fn a_lone_policy_has_no_differences_and_counts_every_ticket() {
    let policies = vec![compiled("policies/three-class")];
    let h = history(9, 120, false);
    let reader =
        HistoryReader::from_reader("h", Box::new(Cursor::new(h)), false, None).expect("header");
    let r = replay::replay("h", reader, &policies, &Options::default(), &|_| {});
    assert_eq!(r.stats[0].opened, 120);
    assert_eq!(r.differing_total, 0);
    assert_eq!(r.malformed, 0);
    // The generated history records vk-shanghai categories; three-class knows none of
    // the complaint ones, and says so instead of dropping them.
    assert!(
        r.stats[0]
            .unknown_categories
            .contains_key("complaint.direct"),
        "{:?}",
        r.stats[0].unknown_categories
    );
}
