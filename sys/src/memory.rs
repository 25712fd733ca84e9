//! Giving memory back while idle. A long-lived svlogd touches its buffers in a burst and then
//! waits for hours: those pages stay private and dirty (counted against it, per service)
//! unless they are handed back.

use nix::sys::mman::{madvise, MmapAdvise};
use std::ptr::NonNull;

/// Hands the pages wholly inside `buf` back to the kernel (`MADV_DONTNEED`): they stop
/// counting as the process's memory, and read as zeros when next touched. For buffers whose
/// contents no longer matter (allocator memory is private and anonymous, so nothing is
/// written back or re-read from a file).
pub fn release(buf: &mut [u8]) {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |p| p as usize);
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

/// Returns the C allocator's free memory to the kernel where it can (glibc keeps freed
/// memory; musl's allocator gives it back by itself).
pub fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory of glibc's allocator. Raw libc: nix
    // does not wrap it.
    unsafe {
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
