//! WebAssembly plug-ins: company code that classifies tickets or turns an external
//! feed into events, run by wasmtime in a sandbox with a fuel budget and a memory cap
//! per call, a wall-clock deadline, no imports at all (so no file system, network or
//! clock), a fresh instance for every call, and a fallback
//! when anything goes wrong.
//!
//! | file | owns |
//! |---|---|
//! | [`abi`] | ABI version, export names and signatures, the interface check |
//! | [`host`] | the `Engine`, the module cache keyed by SHA-256 (memory and disk) |
//! | [`loaded`] | one plug-in's instance, calls, re-instantiation after a failure |
//! | [`limits`] | the per-store memory/table caps and the out-of-memory record |
//! | [`wire`] | the text formats both ways, parsed strictly |
//! | [`error`] | [`PluginError`]: plug-in id + kind + detail |
//! | [`check`] | what `policy check` runs for each pinned plug-in |
//! | [`fallback`] | a classify call's answer, or the fallback and the error to record |
//!
//! # The plug-in ABI, version 1
//!
//! Steward's toolchain has no `wasm32-wasip2` target, so plug-ins are **core wasm
//! modules** with a small hand-made ABI rather than components. `plugins/steward.wit`
//! describes the same interface as a WIT world for the day components can be built;
//! the mapping is given there and in `plugins/README.md`.
//!
//! A plug-in module has **no imports** (a module that imports anything is refused at
//! `policy check`, naming the import) and these exports:
//!
//! | export | signature | meaning |
//! |---|---|---|
//! | `memory` | memory | the guest's 32-bit linear memory |
//! | `steward_abi_version` | `() -> i32` | must return [`ABI_VERSION`] (1) |
//! | `steward_alloc` | `(len: i32) -> i32` | pointer to `len` writable bytes for the next call's input; 0 if impossible |
//! | `steward_config` | `(ptr: i32, len: i32) -> i64` | once per instance: the policy's `[plugin.config]` as flat lines |
//! | `steward_classify` | `(ptr: i32, len: i32) -> i64` | hook `classify`: one ticket in, one classification out |
//! | `steward_events` | `(ptr: i32, len: i32) -> i64` | hook `events`: a feed (CSV text) in, event records out |
//! | `steward_categories` | `() -> i64` | optional, `classify`: the category ids it may answer, one per line |
//!
//! Calls with input go: the host calls `steward_alloc(len)`, writes the input there,
//! calls the function with `(ptr, len)`. A function returns `(ptr << 32) | len` of its
//! UTF-8 result in guest memory (at most 1 MiB). Input and result buffers are valid
//! until the next `steward_alloc`; the config buffer the guest may keep for the
//! instance's life.
//!
//! **Config** lines are `path=value`: keys joined by `.`, array items by index,
//! strings as written, numbers and booleans as JSON text; e.g. `rule.0.keywords.1=困人`.
//! Keys and values contain no tabs or line breaks (`policy check` refuses them).
//!
//! **Ticket** (input of `steward_classify`): one record line with the short fields
//! (`kind`, `category`, `estate`, `unit`, `channel`, `urgency`, `major`, `emergency`,
//! `phase`, `weekday`, `department`, `class`, `hour`, `revisits`, `tags` comma-joined),
//! a line break, then the owner's text verbatim to the end.
//!
//! **Results** are record lines: fields `key=value` separated by tabs, one record per
//! line, keys lowercase. A single `error=<message>` record rejects the input.
//! - config: empty = accepted.
//! - classify: empty = no opinion (the policy's own conditions decide), or one record
//!   with `category` and optionally `urgency`, `emergency`, `major` (`true`/`false`)
//!   and `class` (0–3). The category must exist in the policy.
//! - events: one record per event: `event=rain`, `estate=…`, `hour=2026-11-20T14:00`.
//!
//! # Failures
//!
//! Each call runs in a fresh instance with `limits.fuel` fuel (at most [`MAX_FUEL`]), at
//! most `limits.memory` bytes of memory ([`MAX_MEMORY`]) and [`CALL_DEADLINE`] of
//! wall-clock time; the wasm stack is capped at 512 KiB. A trap, running out of fuel,
//! memory or time, a result that does not parse, or an unknown category fails that call
//! only, with a [`PluginError`] naming the plug-in and the kind. The caller records the error on the ticket and applies the
//! plug-in's `fallback` category.
//!
//! ```no_run
//! use steward::plugin::PluginHost;
//! use steward::script::facts::TicketFacts;
//!
//! let loaded = steward::policy::load_path("policies/vk-shanghai-plugins".as_ref()).ok().unwrap();
//! let host = PluginHost::new().unwrap();
//! let (id, bytes) = &loaded.wasm[0];
//! let mut plugin = host.load_for_policy(id, bytes, &loaded.policy.plugin_owner()).unwrap();
//! let facts = TicketFacts { kind: "repair".into(), text: "电梯困人".into(), ..Default::default() };
//! match plugin.classify(&facts) {
//!     Ok(c) => println!("{:?}", c.category),
//!     Err(e) => println!("{e}; fallback {:?}", loaded.policy.plugins[id].fallback),
//! }
//! ```

pub mod abi;
pub mod check;
pub mod declaration;
pub mod error;
pub mod fallback;
pub mod host;
pub mod limits;
pub mod loaded;
pub mod wire;

pub use abi::ABI_VERSION;
pub use declaration::Plugin;
pub use error::{PluginError, PluginErrorKind};
pub use fallback::{ClassifyOutcome, classify_or_fallback};
pub use host::{CacheStats, HostError, Owner, PluginHost};
pub use limits::{CALL_DEADLINE, MAX_FUEL, MAX_MEMORY};
pub use loaded::LoadedPlugin;
pub use wire::{PluginClassification, PluginEvent};
