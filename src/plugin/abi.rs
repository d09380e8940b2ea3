//! ABI version 1: the export names and signatures a plug-in module must have, and
//! the check that a compiled module has them (run by `policy check` through
//! [`super::PluginHost::load`]). The contract itself is documented on [`crate::plugin`].

use wasmtime::{ExternType, FuncType, Module};

use crate::hook_point::HookPoint;

/// The ABI version this host speaks; `steward_abi_version()` must return it.
pub const ABI_VERSION: i32 = 1;

pub const MEMORY: &str = "memory";
pub const VERSION: &str = "steward_abi_version";
pub const ALLOC: &str = "steward_alloc";
pub const CONFIG: &str = "steward_config";
pub const CLASSIFY: &str = "steward_classify";
pub const EVENTS: &str = "steward_events";
/// Optional for classify plug-ins: the categories they can answer with.
pub const CATEGORIES: &str = "steward_categories";

/// Largest result a plug-in may return, in bytes.
pub const MAX_RESULT: u32 = 1 << 20;

/// Exports every plug-in has, with their signatures.
const COMMON: [(&str, &str); 3] = [
    (VERSION, "() -> (i32)"),
    (ALLOC, "(i32) -> (i32)"),
    (CONFIG, "(i32, i32) -> (i64)"),
];

/// The export that runs the hook, by hook point; `None` where ABI 1 defines none.
pub fn hook_export(on: HookPoint) -> Option<&'static str> {
    match on {
        HookPoint::Classify => Some(CLASSIFY),
        HookPoint::Events => Some(EVENTS),
        HookPoint::Route | HookPoint::BeforeClose | HookPoint::Deadline => None,
    }
}

/// Every way the module departs from ABI 1 for hook point `on`, or `Ok`.
pub fn validate(module: &Module, on: HookPoint) -> Result<(), String> {
    let mut problems = Vec::new();
    for import in module.imports() {
        problems.push(format!(
            "imports `{}::{}`, but plug-ins get no host functions (no file system, network or clock)",
            import.module(),
            import.name()
        ));
    }
    match module.get_export(MEMORY) {
        Some(ExternType::Memory(m)) if !m.is_64() && !m.is_shared() => {}
        Some(_) => problems.push(format!("export `{MEMORY}` must be a 32-bit linear memory")),
        None => problems.push(format!("missing export `{MEMORY}`")),
    }
    let hook = hook_export(on).map(|name| (name, "(i32, i32) -> (i64)"));
    if hook.is_none() {
        problems.push(format!(
            "ABI {ABI_VERSION} has no plug-in hook for `{}`; use `classify` or `events`",
            on.as_str()
        ));
    }
    for (name, want) in COMMON.into_iter().chain(hook) {
        match module.get_export(name) {
            Some(ExternType::Func(f)) if signature(&f) == want => {}
            Some(ExternType::Func(f)) => problems.push(format!(
                "export `{name}` has type {}, expected {want}",
                signature(&f)
            )),
            Some(_) => problems.push(format!("export `{name}` must be a function")),
            None => problems.push(format!("missing export `{name}`")),
        }
    }
    if let Some(e) = module.get_export(CATEGORIES) {
        match e {
            ExternType::Func(f) if signature(&f) == "() -> (i64)" => {}
            _ => problems.push(format!("export `{CATEGORIES}` must have type () -> (i64)")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn signature(f: &FuncType) -> String {
    let list = |it: &mut dyn Iterator<Item = wasmtime::ValType>| {
        it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    format!(
        "({}) -> ({})",
        list(&mut f.params()),
        list(&mut f.results())
    )
}

/// Split a packed `(ptr << 32) | len` result.
pub fn unpack(packed: i64) -> (u32, u32) {
    let bits = packed as u64;
    ((bits >> 32) as u32, bits as u32)
}
