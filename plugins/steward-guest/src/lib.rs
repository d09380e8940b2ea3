//! Guest side of steward plug-in ABI 1, for plug-ins written in Rust.
//!
//! A plug-in crate is a `cdylib` that calls [`plugin!`] with its config and hook
//! functions; this crate provides the exports ABI 1 requires (`steward_abi_version`,
//! `steward_alloc`, `steward_config`, the hook, optionally `steward_categories`), a
//! bump arena in linear memory, and [`Writer`] for results. On wasm32 it is `no_std`
//! with no allocator, so Debian's rustc 1.63 and `libstd-rust-dev-wasm32` build it;
//! on the host it is ordinary Rust, so the plug-in's logic can be unit-tested with
//! `cargo test` and no wasm toolchain. See `plugins/README.md`.
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The ABI version these exports implement.
pub const ABI_VERSION: i32 = 1;

/// Why a hook or config rejected its input: a message and the 1-based input line
/// (0 when no line applies). Becomes an `error=` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail {
    pub msg: &'static str,
    pub line: u32,
}

impl Fail {
    pub const fn new(msg: &'static str) -> Fail {
        Fail { msg, line: 0 }
    }

    pub const fn at(line: u32, msg: &'static str) -> Fail {
        Fail { msg, line }
    }
}

/// Result text written into a fixed buffer; writes past its end are dropped and
/// remembered, so a result is never silently cut.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Writer<'a> {
        Writer {
            buf,
            len: 0,
            overflow: false,
        }
    }

    pub fn push(&mut self, s: &str) {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            None => self.overflow = true,
        }
    }

    /// A decimal number, without allocating.
    pub fn push_u32(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        if let Ok(s) = core::str::from_utf8(&digits[i..]) {
            self.push(s);
        }
    }

    /// One `key=value` field; `first` is false for every field after the first of
    /// its record (they are tab-separated).
    pub fn field(&mut self, first: bool, key: &str, value: &str) {
        if !first {
            self.push("\t");
        }
        self.push(key);
        self.push("=");
        self.push(value);
    }

    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// A cell for the plug-in's state. Wasm instances are single-threaded and steward
/// never re-enters a plug-in, so plain interior mutability is enough.
pub struct Global<T>(core::cell::UnsafeCell<T>);

// SAFETY: a wasm32 instance has one thread; on the host, `Global` is only used by
// the wasm32 exports below.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Global<T> {
        Global(core::cell::UnsafeCell::new(value))
    }

    /// # Safety
    /// No other reference from `get` may be alive.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        &mut *self.0.get()
    }
}

/// Parse a non-negative decimal with at most three decimals (`12`, `0.5`, `7.25`)
/// into thousandths, without floating point.
pub fn parse_milli(s: &str) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || frac.len() > 3 || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut n: u64 = 0;
    for b in int.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    let mut milli = n.checked_mul(1000)?;
    let mut scale = 100;
    for b in frac.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        milli += u64::from(b - b'0') * scale;
        scale /= 10;
    }
    Some(milli)
}

#[cfg(target_arch = "wasm32")]
pub mod arena;

#[cfg(target_arch = "wasm32")]
pub mod exports;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_refuses_overflow() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        w.field(true, "a", "b");
        w.push_u32(4021);
        assert_eq!(w.as_str(), "a=b4021");
        w.push("xyz");
        assert!(w.overflowed());
        assert_eq!(w.as_str(), "a=b4021");
    }

    #[test]
    fn milli() {
        assert_eq!(parse_milli("12"), Some(12_000));
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("7.25"), Some(7_250));
        for bad in ["", "-1", "1.", ".5", "1.2345", "1e3", "x"] {
            assert_eq!(parse_milli(bad), None, "{bad}");
        }
    }
}
