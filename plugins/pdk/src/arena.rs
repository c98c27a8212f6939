//! The call arena: a bump allocator for one hook call, on `wasm32` only.
//!
//! The host runs every call in a fresh instance and throws its memory away afterwards, so
//! freeing memory during an appraisal buys nothing, and general-purpose `malloc`/`free` are
//! about a quarter of the instructions (and so of the fuel) of a batch: serde builds and drops
//! tens of small strings and vectors per case. While the arena is on, an allocation is a
//! pointer bump; only the newest allocation can be freed or resized in place (which covers
//! the growing stdin buffer and output string); everything else is kept until the instance
//! goes. A 1,000-case Jambi batch allocates about 7 MB in all, far below the host's memory
//! limit.
//!
//! In an ABI 2 component (`wasm32-wasip2`) the arena is on from the first allocation
//! ([`CallArena::from_first_use`]). In an ABI 1 module it is switched on per hook, after the
//! request is read: `export_appraise!` does for
//! requests of a few cases or more (for one case the memory growth it adds costs more than it
//! saves); `export_rotate!` does not, because a region-wide rotation builds and drops large
//! candidate tables and is better served by a real allocator. Before it is on, and for memory allocated before it was switched on,
//! the standard allocator does the work. Once on, only the arena grows linear memory, so the
//! arena is one contiguous range from where memory ended when it was switched on: a pointer at
//! or above that start is the arena's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

const PAGE: usize = 65536;
/// Grow memory a page (64 KiB) at a time, as the standard allocator does: growing more than a
/// call uses costs every call the kernel work of mapping and resetting the extra pages.
const MIN_GROW_PAGES: usize = 1;

/// The global allocator of Rust plugins built with the pdk for `wasm32`.
pub struct CallArena {
    /// Switch on at the first allocation (ABI 2 components: see [`CallArena::from_first_use`]).
    eager: bool,
    on: Cell<bool>,
    /// Switched off by [`CallArena::stop`]: its range still holds live allocations.
    stopped: Cell<bool>,
    start: Cell<usize>,
    top: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: wasm32-wasip1 modules run on one thread; the cells are never shared across threads.
unsafe impl Sync for CallArena {}

impl CallArena {
    pub const fn new() -> CallArena {
        CallArena {
            eager: false,
            on: Cell::new(false),
            stopped: Cell::new(false),
            start: Cell::new(0),
            top: Cell::new(0),
            end: Cell::new(0),
        }
    }

    /// An arena that is on from the first allocation. For ABI 2 components (`wasm32-wasip2`):
    /// there the host writes the request into the plugin's memory through its allocator, one
    /// allocation per string and list, before the hook runs, and frees the answer through it
    /// after reading it; a component's instance serves one call, so nothing ever needs freeing.
    pub const fn from_first_use() -> CallArena {
        let mut arena = CallArena::new();
        arena.eager = true;
        arena
    }

    /// From now on every allocation comes from the arena. Stays off when the arena's start
    /// cannot be expressed (memory of exactly 4 GiB on wasm32).
    pub fn enable(&self) {
        if self.on.get() {
            return;
        }
        if let Some(end) = memory_pages().checked_mul(PAGE) {
            self.start.set(end);
            self.top.set(end);
            self.end.set(end);
            self.on.set(true);
        }
    }

    /// Hands every allocation from now on back to the standard allocator; what the arena gave
    /// out stays valid (and is never freed). For work that builds and drops large tables, such
    /// as a region-wide rotation, after the request was written into the arena.
    pub fn stop(&self) {
        if self.on.get() {
            self.on.set(false);
            self.stopped.set(true);
        }
    }

    fn owns(&self, p: *mut u8) -> bool {
        let p = p as usize;
        (self.on.get() && p >= self.start.get())
            || (self.stopped.get() && p >= self.start.get() && p < self.end.get())
    }

    /// Grows memory by at least `bytes`. Normally the new pages extend the arena; should
    /// something else have grown memory meanwhile (the C library allocates on its own, e.g.
    /// for `getenv` on the panic path), the arena continues on the new pages and leaves the
    /// rest alone. False when memory cannot grow.
    fn grow(&self, bytes: usize) -> bool {
        let pages = bytes.div_ceil(PAGE).max(MIN_GROW_PAGES);
        let Some(at) = grow_pages(pages).and_then(|previous| previous.checked_mul(PAGE)) else {
            return false;
        };
        let Some(end) = pages.checked_mul(PAGE).and_then(|b| at.checked_add(b)) else {
            return false;
        };
        if at != self.end.get() {
            self.top.set(at);
        }
        self.end.set(end);
        true
    }

    fn bump(&self, layout: Layout) -> *mut u8 {
        // A few rounds at most: a growth that lands elsewhere (see `grow`) moves `top` first.
        for _ in 0..3 {
            let p = self.top.get().next_multiple_of(layout.align());
            let Some(new_top) = p.checked_add(layout.size()) else {
                return std::ptr::null_mut();
            };
            if new_top <= self.end.get() {
                self.top.set(new_top);
                return p as *mut u8;
            }
            if !self.grow(new_top - self.end.get()) {
                return std::ptr::null_mut();
            }
        }
        std::ptr::null_mut()
    }

    /// Resizes the newest allocation `p` (of `old` bytes) where it is, if the arena can end at
    /// `p + new_size` without moving.
    fn resize_top(&self, p: usize, old: usize, new_size: usize) -> bool {
        let Some(new_top) = p.checked_add(new_size) else {
            return false;
        };
        if new_top > self.end.get() && !self.grow(new_top - self.end.get()) {
            return false;
        }
        // A growth elsewhere moved `top`: `p` is no longer the newest allocation.
        if self.top.get() != p + old || new_top > self.end.get() {
            return false;
        }
        self.top.set(new_top);
        true
    }
}

impl Default for CallArena {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for CallArena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.eager && !self.on.get() && !self.stopped.get() {
            self.enable();
        }
        if self.on.get() {
            self.bump(layout)
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if self.owns(p) {
            // Only the newest allocation goes back; the rest lives as long as the instance.
            if p as usize + layout.size() == self.top.get() {
                self.top.set(p as usize);
            }
        } else {
            // SAFETY: `p` came from `System` (it lies outside the arena).
            unsafe { System.dealloc(p, layout) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.eager && !self.on.get() && !self.stopped.get() {
            self.enable();
        }
        if !self.on.get() {
            if !self.owns(p) {
                // SAFETY: forwarded with the caller's guarantees.
                return unsafe { System.realloc(p, layout, new_size) };
            }
            // An arena allocation after `stop`: moved to the standard allocator, kept in place.
            // SAFETY: the new layout has the old alignment and a non-zero size (the caller's).
            let n = unsafe {
                System.alloc(Layout::from_size_align_unchecked(new_size, layout.align()))
            };
            if !n.is_null() {
                // SAFETY: both valid for the smaller size; `n` is fresh, so they do not overlap.
                unsafe { std::ptr::copy_nonoverlapping(p, n, layout.size().min(new_size)) };
            }
            return n;
        }
        if self.owns(p) {
            // The newest allocation grows or shrinks where it is.
            if p as usize + layout.size() == self.top.get()
                && self.resize_top(p as usize, layout.size(), new_size)
            {
                return p;
            }
            if new_size <= layout.size() {
                return p;
            }
        }
        // SAFETY: the new layout has the old alignment and a non-zero size (the caller's).
        let n = self.bump(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if !n.is_null() {
            // SAFETY: both ranges are valid for the smaller size and do not overlap (`n` is
            // fresh memory at the top of the arena).
            unsafe { std::ptr::copy_nonoverlapping(p, n, layout.size().min(new_size)) };
            if !self.owns(p) {
                // SAFETY: `p` came from `System`.
                unsafe { System.dealloc(p, layout) };
            }
        }
        n
    }
}

#[cfg(target_arch = "wasm32")]
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size::<0>()
}

#[cfg(target_arch = "wasm32")]
fn grow_pages(pages: usize) -> Option<usize> {
    let previous = core::arch::wasm32::memory_grow::<0>(pages);
    (previous != usize::MAX).then_some(previous)
}

// Native builds never install the arena (see `lib.rs`); these keep the module compiling, and
// its logic testable, there.
#[cfg(not(target_arch = "wasm32"))]
fn memory_pages() -> usize {
    0
}

#[cfg(not(target_arch = "wasm32"))]
fn grow_pages(_pages: usize) -> Option<usize> {
    None
}
