//! Giving memory back while idle. A long-lived svlogd touches its buffers in a burst and then
//! waits for hours: those pages stay private and dirty (counted against it, per service)
//! unless they are handed back. The same goes for the stack a start-up or a burst went deep
//! into, in svlogd and in runsv, and for the code runsv's start-up mapped.

use nix::sys::mman::{madvise, MmapAdvise};
use std::ptr::NonNull;

/// Hands the pages wholly inside `buf` back to the kernel (`MADV_DONTNEED`): they stop
/// counting as the process's memory, and read as zeros when next touched. For buffers whose
/// contents no longer matter (allocator memory is private and anonymous, so nothing is
/// written back or re-read from a file).
pub fn release(buf: &mut [u8]) {
    let page = page_size();
    let start = buf.as_mut_ptr() as usize;
    let first = start.div_ceil(page) * page;
    let last = (start + buf.len()) / page * page;
    if last <= first {
        return;
    }
    let Some(ptr) = NonNull::new(first as *mut std::ffi::c_void) else {
        return;
    };
    // SAFETY: [first, last) lies inside `buf`, which we borrow exclusively; the caller does
    // not care about its contents, and MADV_DONTNEED on private anonymous memory only makes
    // the pages read as zeros (it never unmaps them).
    let _ = unsafe { madvise(ptr, last - first, MmapAdvise::MADV_DONTNEED) };
}

/// How far below its own frame [`release_stack`] keeps the stack: room for the `madvise` call
/// it makes (nix's and libc's wrappers, a few words; the kernel has its own stack).
const STACK_MARGIN: usize = 512;
/// How much of the stack below that [`release_stack`] gives back: far more than any path of
/// these programs goes (svlogd's start-up, the deepest, about 10 KiB).
const STACK_RANGE: usize = 256 * 1024;

/// Gives back the main thread's stack pages below the caller (`MADV_DONTNEED`). The deepest
/// path a process ever took (the dynamic loader's start-up is 5.5 KiB deep, svlogd's opening
/// of its directories 9 KiB) leaves those pages private and dirty for the rest of its life,
/// though nothing lives below the stack pointer; given back, they cost nothing until a call
/// goes that deep again, and then read as zeros, as fresh stack does. For the idle points of
/// long-lived processes (runsv's wait, svlogd's quiet spell).
///
/// The main thread only (another thread's stack may have a neighbour within the range; the
/// main stack has the room its size limit reserves below it, at least 128 MiB); elsewhere it
/// does nothing.
#[inline(never)]
pub fn release_stack() {
    if nix::unistd::gettid() != nix::unistd::getpid() {
        return;
    }
    let page = page_size();
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    let top = here.saturating_sub(STACK_MARGIN) / page * page;
    let bottom = top.saturating_sub(STACK_RANGE);
    let Some(ptr) = NonNull::new(bottom as *mut std::ffi::c_void) else {
        return;
    };
    // SAFETY: the range lies wholly below the stack pointer of this thread, the main one, by
    // more than the frame of the call that follows: nothing there is live (no Rust object,
    // no C frame), and below the main stack down to its size limit nothing else is mapped.
    // MADV_DONTNEED on private anonymous pages only makes them read as zeros; the part of
    // the range never mapped makes the call answer ENOMEM after giving back the rest.
    let _ = unsafe { madvise(ptr, top - bottom, MmapAdvise::MADV_DONTNEED) };
}

/// Unmaps, from this process only, the pages of its program file's read-only part (the ELF
/// headers, the constants, the code) that it has mapped so far; the next use maps each again
/// from the page cache (a minor fault). For the idle points of processes that run once per
/// service (runsv's wait).
///
/// Why: those pages are clean and shared, but the kernel maps them 64 KiB at a time around
/// each page a process touches (fault-around), and every page mapped counts in the process's
/// share (PSS): in the multicall binary, whose code for all programs runsv's scattered calls
/// cross, an idle runsv mapped 970 KiB of it, 4.9 KiB of PSS per runsv in a fleet of 200
/// (supervise/bench/memory.sh). After this, only the code its wait runs is mapped.
///
/// Nothing is dropped when any page of the range holds bytes of its own rather than the
/// file's: a debugger's breakpoint or a uprobe (`bpftrace`, `perf probe`) writes into the
/// code that way, and would be lost (see `written_into`).
#[inline(never)]
pub fn release_code() {
    extern "C" {
        /// The ELF header, the first byte of the program's first segment (linker-defined).
        static __ehdr_start: u8;
        /// The end of its code, the last read-only segment (linker-defined).
        static etext: u8;
    }
    let page = page_size();
    let start = std::ptr::addr_of!(__ehdr_start) as usize;
    let end = std::ptr::addr_of!(etext) as usize;
    let first = start.div_ceil(page) * page;
    let last = end / page * page;
    if last <= first || written_into(first, last, page) {
        return;
    }
    let Some(ptr) = NonNull::new(first as *mut std::ffi::c_void) else {
        return;
    };
    // SAFETY: [first, last) is the program file's read-only part: mapped private from the
    // file and never written (the loader writes only past `etext`; `written_into` found no
    // page of its own). MADV_DONTNEED there only drops this process's page table entries:
    // the next access maps the same bytes again from the file.
    let _ = unsafe { madvise(ptr, last - first, MmapAdvise::MADV_DONTNEED) };
}

/// Whether any page of [first, last) is present but not the file's (`/proc/self/pagemap`:
/// bit 63 present, bit 61 file-backed): a page written into. True as well when pagemap
/// cannot be read, so that nothing is dropped blind.
fn written_into(first: usize, last: usize, page: usize) -> bool {
    use std::os::unix::fs::FileExt;
    const PRESENT: u64 = 1 << 63;
    const FILE: u64 = 1 << 61;
    let Ok(map) = std::fs::File::open("/proc/self/pagemap") else {
        return true;
    };
    let mut buf = [0u8; 512];
    let mut at = first / page;
    while at < last / page {
        let n = (last / page - at).min(buf.len() / 8);
        if map
            .read_exact_at(&mut buf[..n * 8], (at * 8) as u64)
            .is_err()
        {
            return true;
        }
        let entries = buf[..n * 8].chunks_exact(8);
        if entries
            .map(|e| u64::from_ne_bytes(e.try_into().unwrap_or_default()))
            .any(|e| e & PRESENT != 0 && e & FILE == 0)
        {
            return true;
        }
        at += n;
    }
    false
}

fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |p| p as usize)
}

/// Returns the C allocator's free memory to the kernel where it can (glibc keeps freed
/// memory; musl's allocator gives it back by itself).
///
/// It also pins glibc's mmap threshold at its default (128 KiB): freeing a block glibc had
/// mapped on its own (an idle svlogd frees its input buffer) would otherwise raise the
/// threshold to that block's size, and the next such buffer would come from the heap, where
/// any small block allocated above it keeps the heap from shrinking back.
pub fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a tuning parameter and malloc_trim only releases free
    // memory of glibc's allocator. Raw libc: nix wraps neither.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 128 * 1024);
        nix::libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_pages_read_as_zeros_and_the_edges_are_kept() {
        let mut v = vec![7u8; 64 * 1024];
        release(&mut v[1..]);
        // The first page is only partly inside: kept. A whole page inside reads as zeros.
        assert_eq!(v[1], 7);
        assert!(v[8192..12288].iter().all(|&b| b == 0));
        assert_eq!(
            v[v.len() - 1],
            if v.as_ptr() as usize % 4096 == 0 {
                0
            } else {
                7
            }
        );
        release(&mut v[..0]);
        v.fill(1);
        assert!(v.iter().all(|&b| b == 1));
    }
}
