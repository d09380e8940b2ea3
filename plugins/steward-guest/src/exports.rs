//! The bodies of the ABI 1 exports; [`crate::plugin!`] defines the exported symbols
//! in the plug-in crate and forwards here.

use crate::{arena, Fail, Writer, ABI_VERSION};

/// A hook: reads its input, writes record lines.
pub type Hook = fn(&str, &mut Writer<'_>) -> Result<(), Fail>;

/// Takes the config lines; they live as long as the instance.
pub type Config = fn(&'static str) -> Result<(), Fail>;

pub fn abi_version() -> i32 {
    ABI_VERSION
}

pub fn alloc(len: i32) -> i32 {
    arena::reset();
    if len < 0 {
        return 0;
    }
    arena::alloc(len as usize) as i32
}

pub fn config(ptr: i32, len: i32, f: Config) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, which `alloc` handed out and
    // `keep` below preserves for the instance's life.
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
    arena::keep();
    let text = match core::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return error(Fail::new("config is not UTF-8")),
    };
    match f(text) {
        Ok(()) => {
            arena::keep();
            0
        }
        Err(e) => error(e),
    }
}

pub fn call(ptr: i32, len: i32, f: Hook) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, from `alloc`, valid until the
    // next `alloc`.
    let bytes = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
    let input = match core::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return error(Fail::new("input is not UTF-8")),
    };
    let cap = input.len().saturating_mul(4).saturating_add(4096);
    let buf = match buffer(cap) {
        Some(b) => b,
        None => return error(Fail::new("no memory for the result")),
    };
    let mut w = Writer::new(buf);
    match f(input, &mut w) {
        Ok(()) if w.overflowed() => error(Fail::new("result too large")),
        Ok(()) => pack(w.as_str()),
        Err(e) => error(e),
    }
}

pub fn text(f: fn(&mut Writer<'_>)) -> i64 {
    let buf = match buffer(16 * 1024) {
        Some(b) => b,
        None => return error(Fail::new("no memory for the result")),
    };
    let mut w = Writer::new(buf);
    f(&mut w);
    if w.overflowed() {
        return error(Fail::new("result too large"));
    }
    pack(w.as_str())
}

fn buffer(cap: usize) -> Option<&'static mut [u8]> {
    let p = arena::alloc(cap);
    if p.is_null() {
        return None;
    }
    // SAFETY: `alloc` returned `cap` fresh bytes of linear memory.
    Some(unsafe { core::slice::from_raw_parts_mut(p, cap) })
}

/// An `error=` record; the line number first when there is one.
fn error(e: Fail) -> i64 {
    let buf = match buffer(e.msg.len() + 32) {
        Some(b) => b,
        None => core::arch::wasm32::unreachable(),
    };
    let mut w = Writer::new(buf);
    w.push("error=");
    if e.line > 0 {
        w.push("line ");
        w.push_u32(e.line);
        w.push(": ");
    }
    w.push(e.msg);
    pack(w.as_str())
}

fn pack(s: &str) -> i64 {
    (((s.as_ptr() as u32 as u64) << 32) | s.len() as u64) as i64
}

/// Define the ABI 1 exports of a plug-in crate.
///
/// ```ignore
/// steward_guest::plugin! {
///     config = my_config,
///     steward_classify = my_classify,
///     categories = my_categories,
/// }
/// ```
#[macro_export]
macro_rules! plugin {
    (config = $config:path, $hook:ident = $hookfn:path $(, categories = $cats:path)? $(,)?) => {
        #[no_mangle]
        pub extern "C" fn steward_abi_version() -> i32 {
            $crate::exports::abi_version()
        }

        #[no_mangle]
        pub extern "C" fn steward_alloc(len: i32) -> i32 {
            $crate::exports::alloc(len)
        }

        #[no_mangle]
        pub extern "C" fn steward_config(ptr: i32, len: i32) -> i64 {
            $crate::exports::config(ptr, len, $config)
        }

        #[no_mangle]
        pub extern "C" fn $hook(ptr: i32, len: i32) -> i64 {
            $crate::exports::call(ptr, len, $hookfn)
        }

        $(
            #[no_mangle]
            pub extern "C" fn steward_categories() -> i64 {
                $crate::exports::text($cats)
            }
        )?
    };
}
