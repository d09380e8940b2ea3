//! What can go wrong with a plug-in, always naming the plug-in. Every failure of a
//! call ends here — a trap, running out of fuel or memory, a result that does not
//! parse — and the caller applies the policy's fallback; the host itself carries on.

use std::fmt;

/// Why a plug-in call (or loading a plug-in) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginErrorKind {
    /// The bytes are not a valid WebAssembly module.
    Invalid,
    /// Missing or mistyped exports, any import, or the wrong ABI version.
    WrongInterface,
    /// The plug-in rejected its config from the policy.
    Config,
    /// A trap: `unreachable` (a guest panic), out-of-bounds access, stack overflow…
    Trap,
    /// The per-call fuel budget (`limits.fuel`) ran out: an endless or too long loop.
    OutOfFuel,
    /// The plug-in tried to grow its memory beyond `limits.memory`.
    OutOfMemory,
    /// The call ran past the host's wall-clock deadline.
    Timeout,
    /// The result is not UTF-8, not the record format, or names an unknown category.
    BadResult,
    /// The plug-in answered with an `error=` record: it rejects this input.
    Rejected,
}

impl PluginErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginErrorKind::Invalid => "invalid module",
            PluginErrorKind::WrongInterface => "wrong interface",
            PluginErrorKind::Config => "config rejected",
            PluginErrorKind::Trap => "trap",
            PluginErrorKind::OutOfFuel => "out of fuel",
            PluginErrorKind::OutOfMemory => "out of memory",
            PluginErrorKind::Timeout => "time limit",
            PluginErrorKind::BadResult => "bad result",
            PluginErrorKind::Rejected => "input rejected",
        }
    }
}

impl fmt::Display for PluginErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plug-in `{plugin}`: {kind}: {detail}")]
pub struct PluginError {
    pub plugin: String,
    pub kind: PluginErrorKind,
    pub detail: String,
}

impl PluginError {
    pub fn new(plugin: &str, kind: PluginErrorKind, detail: impl Into<String>) -> Self {
        PluginError {
            plugin: plugin.to_string(),
            kind,
            detail: detail.into(),
        }
    }
}
