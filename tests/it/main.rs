//! The integration tests, one binary: each module was once its own test target, and
//! linking the library into 33 binaries cost more than the tests themselves.

mod architecture;
mod audit_tamper;
mod cli_calendar;
mod cli_diff;
mod cli_durability;
mod cli_explain;
mod cli_policy;
mod cli_procedure;
mod cli_snapshots;
mod cli_ticket;
mod cli_usability;
mod engine_props;
mod hooks;
mod hostile;
mod import;
mod native_conditions;
mod plugin_cache;
mod plugin_engine;
mod plugin_host;
mod policy_errors;
mod policy_props;
mod purity;
mod readme;
mod report;
mod report_browser;
mod scenarios_engine;
mod serve_api;
mod serve_crash;
mod serve_page;
mod serve_runtime;
mod serve_support;
mod service_batch;
mod sim_replay;
mod sim_scenarios;
