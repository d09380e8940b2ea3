//! Simulation before rollout: scenario files run on a virtual clock, policy tests,
//! replay of a ticket history under one or two policies, and a synthetic history
//! generator. Scenarios, replay and live use share one code path: every decision
//! comes from [`crate::engine::decide`].
//!
//! | module | owns |
//! |---|---|
//! | [`scenario`], [`parse`], [`time`] | the scenario model, its TOML reader with located errors, virtual times |
//! | [`runner`], [`expect`] | running a scenario on an in-memory store; checking expectations |
//! | [`suite`], [`coverage`] | `policy test`: every scenario of a policy, rule coverage |
//! | [`history`] | the history format (CSV or JSON lines), read as a stream with line numbers |
//! | [`replay`], [`report`], [`outcome`] | streaming replay under one or two policies and the side-by-side report |
//! | [`generate`], [`rng`] | a seeded synthetic history |
//!
//! ```no_run
//! use std::path::Path;
//! let scenario = steward::sim::parse::load(Path::new("policies/vk-shanghai/scenarios/leak-rain-after.toml")).ok().unwrap();
//! let outcome = steward::sim::runner::Runner::default().run(&scenario).ok().unwrap();
//! assert!(outcome.passed());
//! ```

pub mod coverage;
pub mod expect;
pub mod generate;
pub mod history;
pub mod outcome;
pub mod parse;
pub mod replay;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod suite;
pub mod time;
