//! A bump arena at the end of linear memory. `steward_config` keeps what it allocated
//! (the config text the plug-in's tables point into); every other call's input and
//! result are dropped at the next `steward_alloc`.

use core::arch::wasm32::{memory_grow, memory_size};

use crate::Global;

const PAGE: usize = 65_536;

struct State {
    top: usize,
    end: usize,
    mark: usize,
}

static STATE: Global<State> = Global::new(State {
    top: 0,
    end: 0,
    mark: 0,
});

/// `len` bytes, 8-aligned, or null when memory cannot grow (the host then traps
/// with "out of memory" before we see it).
pub fn alloc(len: usize) -> *mut u8 {
    // SAFETY: single-threaded; no other reference to STATE is alive.
    let s = unsafe { STATE.get() };
    if s.end == 0 {
        s.end = memory_size(0) * PAGE;
        s.top = s.end;
        s.mark = s.end;
    }
    let start = (s.top + 7) & !7;
    let new_top = match start.checked_add(len) {
        Some(t) => t,
        None => return core::ptr::null_mut(),
    };
    if new_top > s.end {
        let pages = (new_top - s.end + PAGE - 1) / PAGE;
        if memory_grow(0, pages) == usize::MAX {
            return core::ptr::null_mut();
        }
        s.end += pages * PAGE;
    }
    s.top = new_top;
    start as *mut u8
}

/// Free everything allocated since the last [`keep`].
pub fn reset() {
    // SAFETY: as in `alloc`.
    let s = unsafe { STATE.get() };
    s.top = s.mark;
}

/// Keep everything allocated so far for the life of the instance.
pub fn keep() {
    // SAFETY: as in `alloc`.
    let s = unsafe { STATE.get() };
    s.mark = s.top;
}
