//! `policy check` for plug-ins: compile every pinned module (through the process-wide
//! host and its cache), check it implements ABI 1 for its hook point, hand it its
//! config, and for classify plug-ins check the categories it declares exist. Called
//! once per policy load by `policy::load`.

use super::error::{PluginError, PluginErrorKind};
use super::host::Owner;
use super::host::PluginHost;

/// Every plug-in problem of `policy`; `wasm` holds the modules whose pins matched.
pub fn check_plugins(owner: &Owner<'_>, wasm: &[(String, Vec<u8>)]) -> Vec<PluginError> {
    if wasm.is_empty() {
        return Vec::new();
    }
    let host = match PluginHost::global() {
        Ok(h) => h,
        Err(e) => {
            return wasm
                .iter()
                .map(|(id, _)| PluginError::new(id, PluginErrorKind::Invalid, e.to_string()))
                .collect();
        }
    };
    wasm.iter()
        .filter_map(|(id, bytes)| host.load_for_policy(id, bytes, owner).err())
        .collect()
}
