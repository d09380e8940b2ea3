//! The plug-in host: one wasmtime `Engine` configured for sandboxed calls, and the
//! cache of compiled modules keyed by the SHA-256 of their bytes — in memory always,
//! and on disk when a cache directory is given. [`PluginHost::load`] compiles (or
//! finds) a module, checks its interface and returns a [`LoadedPlugin`] ready to call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use wasmtime::{Config, Engine, Module, OptLevel};

use super::abi;
use super::declaration::Plugin;
use super::error::{PluginError, PluginErrorKind};
use super::limits::EPOCH_TICK;
use super::loaded::LoadedPlugin;

static GLOBAL: OnceLock<Result<PluginHost, HostError>> = OnceLock::new();

/// Deepest wasm stack a plug-in may use; deeper recursion traps with a stack overflow.
const MAX_WASM_STACK: usize = 512 * 1024;

/// The wasm engine could not be configured on this machine.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the wasm engine: {0}")]
pub struct HostError(String);

/// How often the module cache was used; see [`PluginHost::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules compiled from wasm by cranelift.
    pub compiled: u64,
    /// Loads served by a module already compiled in this process.
    pub memory_hits: u64,
    /// Loads served by a precompiled module from the cache directory.
    pub disk_hits: u64,
}

/// What the host needs of the policy a plug-in belongs to: its id (for messages),
/// the plug-ins it declares, and the categories a classify plug-in may answer with.
/// `Policy::plugin_owner` makes one.
#[derive(Debug, Clone)]
pub struct Owner<'a> {
    pub id: &'a str,
    pub plugins: &'a BTreeMap<String, Plugin>,
    pub categories: BTreeSet<String>,
}

pub struct PluginHost {
    engine: Engine,
    modules: Mutex<HashMap<String, Module>>,
    cache_dir: Option<PathBuf>,
    compiled: AtomicU64,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
}

impl PluginHost {
    /// A host with an in-memory module cache.
    pub fn new() -> Result<PluginHost, HostError> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK)
            .cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| HostError(e.to_string()))?;
        start_epoch_ticker(&engine)?;
        Ok(PluginHost {
            engine,
            modules: Mutex::new(HashMap::new()),
            cache_dir: None,
            compiled: AtomicU64::new(0),
            memory_hits: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
        })
    }

    /// Also keep precompiled modules in `dir`, so a new process skips compilation.
    /// Precompiled code is trusted machine code: `dir` must be writable only by the
    /// user steward runs as.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> PluginHost {
        self.cache_dir = Some(dir.into());
        self
    }

    /// The process-wide host: `policy check`, and every policy compiled to run
    /// (`CompiledPolicy::with_plugins`), load through it. Its cache directory is
    /// `$STEWARD_PLUGIN_CACHE` when set.
    pub fn global() -> Result<&'static PluginHost, &'static HostError> {
        GLOBAL
            .get_or_init(|| {
                let host = PluginHost::new()?;
                Ok(match std::env::var_os("STEWARD_PLUGIN_CACHE") {
                    Some(dir) if !dir.is_empty() => host.with_cache_dir(dir),
                    _ => host,
                })
            })
            .as_ref()
    }

    /// The process-wide host if something started it, without starting it.
    pub fn global_if_started() -> Option<&'static PluginHost> {
        GLOBAL.get().and_then(|h| h.as_ref().ok())
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
        }
    }

    /// Forget the in-memory cache (the disk cache stays), e.g. to measure a cold load.
    pub fn clear_memory_cache(&self) {
        if let Ok(mut m) = self.modules.lock() {
            m.clear();
        }
    }

    /// Compile `bytes` (binary wasm, or text when it is WAT), check it against ABI 1
    /// for the plug-in's hook point, instantiate it once and hand it its config.
    /// The instance is kept for the calls that follow.
    pub fn load(
        &self,
        id: &str,
        bytes: &[u8],
        plugin: &Plugin,
    ) -> Result<LoadedPlugin, PluginError> {
        let module = self.module(id, bytes)?;
        abi::validate(&module, plugin.on)
            .map_err(|e| PluginError::new(id, PluginErrorKind::WrongInterface, e))?;
        LoadedPlugin::new(id, &self.engine, module, plugin)
    }

    /// [`PluginHost::load`] for plug-in `id` of the policy `owner` describes: a
    /// classify plug-in may only answer with the policy's categories, and those it
    /// declares are checked now.
    pub fn load_for_policy(
        &self,
        id: &str,
        bytes: &[u8],
        owner: &Owner<'_>,
    ) -> Result<LoadedPlugin, PluginError> {
        let Some(plugin) = owner.plugins.get(id) else {
            return Err(PluginError::new(
                id,
                PluginErrorKind::Config,
                format!("policy `{}` declares no such plug-in", owner.id),
            ));
        };
        let mut loaded = self.load(id, bytes, plugin)?;
        for c in loaded.declared_categories()? {
            if !owner.categories.contains(&c) {
                return Err(PluginError::new(
                    id,
                    PluginErrorKind::Config,
                    format!(
                        "can answer `{c}`, which policy `{}` does not define",
                        owner.id
                    ),
                ));
            }
        }
        loaded.restrict_categories(owner.categories.clone());
        Ok(loaded)
    }

    /// The compiled module for `bytes`, from the cache when possible.
    pub fn module(&self, id: &str, bytes: &[u8]) -> Result<Module, PluginError> {
        let key = crate::digest::sha256_hex(bytes);
        if let Some(m) = self.modules.lock().ok().and_then(|m| m.get(&key).cloned()) {
            self.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(m);
        }
        let module = match self.read_artifact(&key) {
            Some(m) => {
                self.disk_hits.fetch_add(1, Ordering::Relaxed);
                m
            }
            None => {
                let m = compile(&self.engine, bytes)
                    .map_err(|e| PluginError::new(id, PluginErrorKind::Invalid, e))?;
                self.compiled.fetch_add(1, Ordering::Relaxed);
                self.write_artifact(&key, &m);
                m
            }
        };
        if let Ok(mut m) = self.modules.lock() {
            m.insert(key, module.clone());
        }
        Ok(module)
    }

    /// `<dir>/<sha256>-<engine hash>.cwasm`: the engine hash changes with the wasmtime
    /// version and settings, so an artifact is only loaded by an engine that made it.
    fn artifact(&self, key: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_deref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        Some(dir.join(format!("{key}-{:016x}.cwasm", h.finish())))
    }

    fn read_artifact(&self, key: &str) -> Option<Module> {
        let path = self.artifact(key)?;
        if !path.is_file() {
            return None;
        }
        // SAFETY: the artifact was written by `write_artifact` of an engine with the same
        // compatibility hash (it is in the name) into the operator's private cache
        // directory; `deserialize_file` checks the header and version besides.
        let module = unsafe { Module::deserialize_file(&self.engine, &path) };
        module.ok()
    }

    /// Best effort: a cache that cannot be written only costs a compile next time.
    fn write_artifact(&self, key: &str, module: &Module) {
        let (Some(path), Ok(bytes)) = (self.artifact(key), module.serialize()) else {
            return;
        };
        let _ = write_atomic(&path, &bytes);
    }
}

/// Binary wasm by its magic number; WebAssembly text when the bytes are text that
/// starts like a module; anything else is not a module at all, and is said so
/// without quoting it.
fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, String> {
    if bytes.starts_with(b"\0asm") {
        return Module::from_binary(engine, bytes).map_err(|e| format!("{e:#}"));
    }
    let text = std::str::from_utf8(bytes).ok().map(str::trim_start);
    if text.is_some_and(|t| t.starts_with('(') || t.starts_with(";;")) {
        return Module::new(engine, bytes).map_err(|e| format!("{e:#}"));
    }
    Err("not a wasm module (no `\\0asm` header, and not WebAssembly text)".into())
}

/// Advance the engine's epoch every [`EPOCH_TICK`] for as long as the engine lives,
/// so a call past its deadline traps with `Interrupt`. Fuel bounds the work a call
/// does deterministically; the epoch bounds its wall-clock time — the host
/// measures time only to stop a runaway plug-in, never as an input to a decision.
fn start_epoch_ticker(engine: &Engine) -> Result<(), HostError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("steward-wasm-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .map(|_| ())
        .map_err(|e| HostError(format!("cannot start the epoch ticker: {e}")))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
