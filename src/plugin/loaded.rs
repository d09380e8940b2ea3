//! One loaded plug-in: its compiled module, its limits and config from the policy.
//! Every call runs in a fresh instance, handed its config and then dropped: nothing a
//! plug-in keeps in memory or globals outlives the ticket it was called for, so a
//! replay calls it exactly as live use did, and a trapped (poisoned) instance is
//! never called again.

use std::collections::BTreeSet;

use wasmtime::{Engine, Instance, Memory, Module, Store, Trap, TypedFunc};

use super::abi;
use super::declaration::Plugin;
use super::error::{PluginError, PluginErrorKind};
use super::limits::{CALL_DEADLINE, DEADLINE_TICKS, Limits, MAX_FUEL};
use super::wire::{self, PluginClassification, PluginEvent, Record};
use crate::hook_point::HookPoint;
use crate::script::facts::TicketFacts;

pub struct LoadedPlugin {
    id: String,
    on: HookPoint,
    engine: Engine,
    module: Module,
    fuel: u64,
    memory_bytes: u64,
    /// The flat config lines handed to every new instance.
    config: String,
    /// Categories a classification may name; `None` accepts any.
    categories: Option<BTreeSet<String>>,
    live: Option<Live>,
    instantiations: u64,
    last_fuel: u64,
    input: String,
}

struct Live {
    store: Store<Limits>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    hook: TypedFunc<(i32, i32), i64>,
    categories: Option<TypedFunc<(), i64>>,
}

type Failure = (PluginErrorKind, String);

impl LoadedPlugin {
    /// Instantiate once now, so a wrong ABI version or a rejected config shows at
    /// `policy check` rather than on the first ticket.
    pub(super) fn new(
        id: &str,
        engine: &Engine,
        module: Module,
        plugin: &Plugin,
    ) -> Result<LoadedPlugin, PluginError> {
        let config = wire::flatten_config(&plugin.config)
            .map_err(|e| PluginError::new(id, PluginErrorKind::Config, e.to_string()))?;
        let mut loaded = LoadedPlugin {
            id: id.to_string(),
            on: plugin.on,
            engine: engine.clone(),
            module,
            fuel: plugin.fuel,
            memory_bytes: plugin.memory_bytes,
            config,
            categories: None,
            live: None,
            instantiations: 0,
            last_fuel: 0,
            input: String::new(),
        };
        loaded.ensure_live().map_err(|f| loaded.error(f))?;
        Ok(loaded)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn hook_point(&self) -> HookPoint {
        self.on
    }

    /// How many instances were created: 1 at loading, then one per call.
    pub fn instantiations(&self) -> u64 {
        self.instantiations
    }

    /// Fuel the last call used.
    pub fn last_fuel_used(&self) -> u64 {
        self.last_fuel
    }

    /// Only accept these category ids in classifications; others are a bad result.
    pub fn restrict_categories(&mut self, categories: BTreeSet<String>) {
        self.categories = Some(categories);
    }

    /// The categories the plug-in says it may answer with (`steward_categories`),
    /// empty when it does not export that function.
    pub fn declared_categories(&mut self) -> Result<Vec<String>, PluginError> {
        let r = self.ensure_live().and_then(|()| {
            let Some(live) = self.live.as_mut() else {
                return Ok(Vec::new());
            };
            let Some(f) = live.categories.clone() else {
                return Ok(Vec::new());
            };
            live.store
                .set_fuel(self.fuel)
                .map_err(|e| (PluginErrorKind::Trap, e.to_string()))?;
            live.store.set_epoch_deadline(DEADLINE_TICKS);
            let packed = f
                .call(&mut live.store, ())
                .map_err(|e| failure(&live.store, e))?;
            let text = read_result(live, packed)?;
            wire::category_list(text).map_err(|e| (PluginErrorKind::BadResult, e.to_string()))
        });
        self.live = None;
        self.finish(r)
    }

    /// Run the classify hook on a ticket.
    pub fn classify(&mut self, facts: &TicketFacts) -> Result<PluginClassification, PluginError> {
        if self.on != HookPoint::Classify {
            return Err(self.wrong_hook("classify"));
        }
        let mut input = std::mem::take(&mut self.input);
        wire::encode_facts(facts, &mut input);
        let categories = self.categories.take();
        let r = self.call(input.as_bytes(), |records| {
            let c = wire::classification(records)
                .map_err(|e| (PluginErrorKind::BadResult, e.to_string()))?;
            if let (Some(known), Some(cat)) = (&categories, &c.category)
                && !known.contains(cat)
            {
                return Err((
                    PluginErrorKind::BadResult,
                    format!("unknown category `{cat}`"),
                ));
            }
            Ok(c)
        });
        self.categories = categories;
        self.input = input;
        r
    }

    /// Run the event source on its input (e.g. a CSV of observations).
    pub fn events(&mut self, input: &str) -> Result<Vec<PluginEvent>, PluginError> {
        if self.on != HookPoint::Events {
            return Err(self.wrong_hook("events"));
        }
        self.call(input.as_bytes(), |records| {
            wire::events(records).map_err(|e| (PluginErrorKind::BadResult, e.to_string()))
        })
    }

    fn call<T>(
        &mut self,
        input: &[u8],
        parse: impl FnOnce(&[Record<'_>]) -> Result<T, Failure>,
    ) -> Result<T, PluginError> {
        let r = self.ensure_live().and_then(|()| {
            let live = self
                .live
                .as_mut()
                .ok_or((PluginErrorKind::Trap, "no instance".into()))?;
            let hook = live.hook.clone();
            let packed = invoke(live, self.fuel, &hook, input)?;
            self.last_fuel = self
                .fuel
                .min(MAX_FUEL)
                .saturating_sub(live.store.get_fuel().unwrap_or(0));
            let text = read_result(live, packed)?;
            let records = wire::parse_records(text)
                .map_err(|e| (PluginErrorKind::BadResult, e.to_string()))?;
            if let Some(message) = wire::rejection(&records) {
                return Err((PluginErrorKind::Rejected, message));
            }
            parse(&records)
        });
        // Fresh state for the next ticket, whatever this call left behind.
        self.live = None;
        self.finish(r)
    }

    /// On failure, drop the instance (it may be poisoned) and name the plug-in.
    /// `load` keeps the instance it checked the config with for the first call.
    fn finish<T>(&mut self, r: Result<T, Failure>) -> Result<T, PluginError> {
        r.map_err(|f| {
            self.live = None;
            self.error(f)
        })
    }

    fn error(&self, (kind, detail): Failure) -> PluginError {
        PluginError::new(&self.id, kind, detail)
    }

    fn wrong_hook(&self, wanted: &str) -> PluginError {
        PluginError::new(
            &self.id,
            PluginErrorKind::WrongInterface,
            format!("is a `{}` plug-in, not `{wanted}`", self.on.as_str()),
        )
    }

    fn ensure_live(&mut self) -> Result<(), Failure> {
        if self.live.is_none() {
            self.instantiations += 1;
            self.live = Some(self.instantiate()?);
        }
        Ok(())
    }

    fn instantiate(&self) -> Result<Live, Failure> {
        let interface = |e: wasmtime::Error| (PluginErrorKind::WrongInterface, format!("{e:#}"));
        let mut store = Store::new(&self.engine, Limits::new(self.memory_bytes));
        store.limiter(|l| l);
        store
            .set_fuel(self.fuel.min(MAX_FUEL))
            .map_err(|e| (PluginErrorKind::Trap, e.to_string()))?;
        // A new store's deadline is 0: set it before instantiating, or the start
        // function and every call trap at once.
        store.set_epoch_deadline(DEADLINE_TICKS);
        let instance =
            Instance::new(&mut store, &self.module, &[]).map_err(|e| failure(&store, e))?;
        let memory = instance
            .get_memory(&mut store, abi::MEMORY)
            .ok_or((PluginErrorKind::WrongInterface, "no memory export".into()))?;
        let version: TypedFunc<(), i32> = instance
            .get_typed_func(&mut store, abi::VERSION)
            .map_err(interface)?;
        let config: TypedFunc<(i32, i32), i64> = instance
            .get_typed_func(&mut store, abi::CONFIG)
            .map_err(interface)?;
        let alloc = instance
            .get_typed_func(&mut store, abi::ALLOC)
            .map_err(interface)?;
        let export = abi::hook_export(self.on).ok_or((
            PluginErrorKind::WrongInterface,
            format!("no ABI hook for `{}`", self.on.as_str()),
        ))?;
        let hook = instance
            .get_typed_func(&mut store, export)
            .map_err(interface)?;
        let categories = instance.get_typed_func(&mut store, abi::CATEGORIES).ok();
        let v = version
            .call(&mut store, ())
            .map_err(|e| failure(&store, e))?;
        if v != abi::ABI_VERSION {
            return Err((
                PluginErrorKind::WrongInterface,
                format!(
                    "speaks ABI version {v}; this host speaks {}",
                    abi::ABI_VERSION
                ),
            ));
        }
        let mut live = Live {
            store,
            memory,
            alloc,
            hook,
            categories,
        };
        let packed = invoke(&mut live, self.fuel, &config, self.config.as_bytes())?;
        let text = read_result(&live, packed)?;
        let records =
            wire::parse_records(text).map_err(|e| (PluginErrorKind::BadResult, e.to_string()))?;
        if let Some(message) = wire::rejection(&records) {
            return Err((PluginErrorKind::Config, message));
        }
        if !records.is_empty() {
            return Err((
                PluginErrorKind::BadResult,
                "`steward_config` must answer nothing or an `error=` record".into(),
            ));
        }
        Ok(live)
    }
}

/// Copy `input` into guest memory and call `f(ptr, len)` on a fresh fuel budget.
fn invoke(
    live: &mut Live,
    fuel: u64,
    f: &TypedFunc<(i32, i32), i64>,
    input: &[u8],
) -> Result<i64, Failure> {
    let len = i32::try_from(input.len()).map_err(|_| {
        (
            PluginErrorKind::BadResult,
            "input larger than 2 GiB".to_string(),
        )
    })?;
    live.store
        .set_fuel(fuel.min(MAX_FUEL))
        .map_err(|e| (PluginErrorKind::Trap, e.to_string()))?;
    live.store.set_epoch_deadline(DEADLINE_TICKS);
    let ptr = live
        .alloc
        .call(&mut live.store, len)
        .map_err(|e| failure(&live.store, e))?;
    if ptr == 0 && len > 0 {
        return Err((
            PluginErrorKind::OutOfMemory,
            format!("`steward_alloc` could not provide {len} bytes"),
        ));
    }
    live.memory
        .write(&mut live.store, ptr as u32 as usize, input)
        .map_err(|_| {
            (
                PluginErrorKind::BadResult,
                format!("`steward_alloc` returned {ptr:#x}, outside memory"),
            )
        })?;
    f.call(&mut live.store, (ptr, len))
        .map_err(|e| failure(&live.store, e))
}

/// The result text a packed `(ptr << 32) | len` points at, checked to be in
/// bounds, not too large, and UTF-8.
fn read_result(live: &Live, packed: i64) -> Result<&str, Failure> {
    let (ptr, len) = abi::unpack(packed);
    if len > abi::MAX_RESULT {
        return Err((
            PluginErrorKind::BadResult,
            format!("result of {len} bytes exceeds {} bytes", abi::MAX_RESULT),
        ));
    }
    let data = live.memory.data(&live.store);
    let bytes = data
        .get(ptr as usize..ptr as usize + len as usize)
        .ok_or_else(|| {
            (
                PluginErrorKind::BadResult,
                format!("result {ptr:#x}+{len} is outside memory"),
            )
        })?;
    std::str::from_utf8(bytes).map_err(|e| {
        (
            PluginErrorKind::BadResult,
            format!("result is not UTF-8: {e}"),
        )
    })
}

/// Map a failed call to why it failed: the memory cap, the fuel budget, or a trap.
fn failure(store: &Store<Limits>, e: wasmtime::Error) -> Failure {
    if store.data().memory_denied {
        return (PluginErrorKind::OutOfMemory, format!("{e:#}"));
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (
            PluginErrorKind::OutOfFuel,
            "used up its fuel (limits.fuel): an endless or too long loop".into(),
        ),
        Some(Trap::Interrupt) => (
            PluginErrorKind::Timeout,
            format!(
                "ran past the host's {} ms wall-clock limit",
                CALL_DEADLINE.as_millis()
            ),
        ),
        Some(t) => (PluginErrorKind::Trap, t.to_string()),
        None => (PluginErrorKind::Trap, format!("{e:#}")),
    }
}
