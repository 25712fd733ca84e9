//! runsv's allocator: small requests served from a 2 KiB static buffer, as runit's `alloc.c`
//! does, everything else by the C allocator.
//!
//! Why: one runsv runs per service, and an idle one keeps a few hundred bytes allocated (its
//! directory names, its argv). With glibc that means a heap whose first page stays private and
//! dirty for the process's whole life, 4 KiB per service that runit's runsv, which never calls
//! malloc, does not have. The buffer lives in the binary's `.bss`, next to the statics the
//! program writes anyway: where it shares their page (the usual layout, which
//! supervise/bench/memory.sh shows by mapping with `DETAIL=1`), the bytes runsv keeps cost no
//! page of their own, and at worst they cost the page the heap would have.
//!
//! The buffer is 128 granules of 16 bytes; a bitmap says which are taken, and a request takes
//! the first run of free granules long enough (first fit). Requests over 512 bytes, aligned
//! past 16, or that find no room go to the C allocator; freeing tells the two apart by
//! address. A program that does not want the arena (the multicall binary's other programs)
//! calls [`stop`]: from then on only frees still reach it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Bytes per granule, and the buffer's alignment.
const GRANULE: usize = 16;
/// Granules in the buffer: one bit each in a `u128`.
const GRANULES: usize = 128;
/// The longest run one request may take (512 bytes): larger ones are buffers, not names.
const MAX_RUN: usize = 32;

/// The bitmap and the buffer, in that order and in one object: the bitmap is written at the
/// first request, and the granules handed out first are the ones right after it, on the same
/// page.
#[repr(C, align(16))]
struct Space {
    /// Bit i set: granule i is taken.
    taken: Mutex<u128>,
    /// The granules. Shared between threads only through `taken`: a granule belongs to
    /// whoever set its bit until they free it.
    bytes: UnsafeCell<[u8; GRANULE * GRANULES]>,
}

// SAFETY: no two callers ever get overlapping granules (`taken`, under its lock, hands each
// out once until it is freed), so the bytes are never shared.
unsafe impl Sync for Space {}

static SPACE: Space = Space {
    taken: Mutex::new(0),
    bytes: UnsafeCell::new([0; GRANULE * GRANULES]),
};
/// Whether new requests may be served from the buffer (see [`stop`]).
static ON: AtomicBool = AtomicBool::new(true);

/// The allocator to name with `#[global_allocator]`.
pub struct Arena;

/// Sends every later request to the C allocator; blocks already given out stay valid and are
/// freed where they came from.
pub fn stop() {
    ON.store(false, Ordering::Relaxed);
}

fn base() -> usize {
    SPACE.bytes.get() as usize
}

/// Granules `layout` needs from the buffer, if the buffer may serve it.
fn granules(layout: Layout) -> Option<usize> {
    let n = layout.size().div_ceil(GRANULE).max(1);
    (layout.align() <= GRANULE && n <= MAX_RUN).then_some(n)
}

/// A mask of `n` bits (1 ≤ n ≤ MAX_RUN) starting at bit `at`.
fn run(n: usize, at: usize) -> u128 {
    ((1u128 << n) - 1) << at
}

/// The index of the first granule of a free run of `n`, marked taken; None when there is none.
fn take(n: usize) -> Option<usize> {
    let mut taken = SPACE.taken.lock().unwrap_or_else(|e| e.into_inner());
    let at = (0..=GRANULES - n).find(|&at| *taken & run(n, at) == 0)?;
    *taken |= run(n, at);
    Some(at)
}

/// Marks `n` granules from `at` free.
fn give_back(n: usize, at: usize) {
    let mut taken = SPACE.taken.lock().unwrap_or_else(|e| e.into_inner());
    *taken &= !run(n, at);
}

/// The granule index of `ptr` if it points into the buffer.
fn index(ptr: *mut u8) -> Option<usize> {
    let off = (ptr as usize).checked_sub(base())?;
    (off < GRANULE * GRANULES).then_some(off / GRANULE)
}

// Never inlined: every allocation and every drop of the program calls these, and their
// bodies (a lock, a bitmap search) copied into each call site would cost the multicall
// binary tens of kilobytes.
// SAFETY: blocks from the buffer are GRANULE-aligned (so any alignment up to 16 holds), at
// least `layout.size()` long, and never handed out twice while taken; everything else is the
// system allocator's, called with what it was given.
unsafe impl GlobalAlloc for Arena {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            if let Some(at) = granules(layout).and_then(take) {
                return SPACE.bytes.get().cast::<u8>().wrapping_add(at * GRANULE);
            }
        }
        System.alloc(layout)
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match (index(ptr), granules(layout)) {
            (Some(at), Some(n)) => give_back(n, at),
            _ => System.dealloc(ptr, layout),
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(at) = index(ptr) else {
            // The C allocator's block: it can often grow in place.
            return System.realloc(ptr, layout, new_size);
        };
        let old = granules(layout).unwrap_or(MAX_RUN);
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        match granules(new) {
            // Fits the granules it has: keep it, give back any it no longer needs.
            Some(n) if n <= old => {
                give_back(old - n, at + n);
                ptr
            }
            _ => {
                let moved = self.alloc(new);
                if !moved.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    give_back(old, at);
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_first_fit_and_freed_runs_are_reused() {
        // Tested on the functions, not through a global allocator: the test harness's own
        // allocations would share the bitmap.
        *SPACE.taken.lock().unwrap() = 0;
        let a = take(2).unwrap();
        let b = take(3).unwrap();
        assert_eq!((a, b), (0, 2));
        give_back(2, a);
        assert_eq!(take(1), Some(0), "the freed run is found first");
        assert_eq!(take(2), Some(5), "a hole too short is skipped");
        give_back(1, 1);
        assert_eq!(
            *SPACE.taken.lock().unwrap(),
            run(1, 0) | run(3, 2) | run(2, 5)
        );
        *SPACE.taken.lock().unwrap() = !0;
        assert_eq!(take(1), None, "a full buffer says so");
        *SPACE.taken.lock().unwrap() = 0;
    }

    #[test]
    fn only_small_plainly_aligned_requests_are_served() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(granules(l(1, 1)), Some(1));
        assert_eq!(granules(l(16, 8)), Some(1));
        assert_eq!(granules(l(17, 8)), Some(2));
        assert_eq!(granules(l(512, 16)), Some(32));
        assert_eq!(granules(l(513, 1)), None);
        assert_eq!(granules(l(8, 32)), None);
        assert_eq!(
            index(SPACE.bytes.get().cast::<u8>().wrapping_add(40)),
            Some(2)
        );
        assert_eq!(
            index(SPACE.bytes.get().cast::<u8>().wrapping_add(2048)),
            None
        );
        assert_eq!(index(std::ptr::null_mut()), None);
    }
}
