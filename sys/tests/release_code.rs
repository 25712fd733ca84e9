//! `sys::memory::release_code` unmaps the program's code pages it had mapped, unless one of
//! them was written into (a debugger's breakpoint). Without the harness: one thread, so that
//! nothing else runs code, or writes into it, meanwhile.

use nix::sys::mman::{mprotect, ProtFlags};
use std::os::unix::fs::FileExt;
use std::ptr::NonNull;

extern "C" {
    static __ehdr_start: u8;
    static etext: u8;
}

/// The page size (4 KiB on x86-64; 16 or 64 KiB on some other ports).
fn page() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |p| p as usize)
}

/// 1 MiB of constants in the read-only image, which no code runs near: the pages the test's
/// own calls map again after the release (64 KiB around each) cannot hide that these went.
static BALLAST: [u8; 1 << 20] = [1; 1 << 20];

/// The pages `release_code` works on: from the ELF header to the end of the code.
fn range() -> (usize, usize) {
    let start = std::ptr::addr_of!(__ehdr_start) as usize;
    let end = std::ptr::addr_of!(etext) as usize;
    (start.div_ceil(page()) * page(), end / page() * page())
}

/// Maps every page of the range, by reading a byte of each.
fn touch_all() {
    let (first, last) = range();
    for a in (first..last).step_by(page()) {
        // SAFETY: the range is the program's own read-only image, mapped whole.
        std::hint::black_box(unsafe { std::ptr::read_volatile(a as *const u8) });
    }
}

/// How many pages of the range are mapped (`/proc/self/pagemap`, bit 63).
fn mapped() -> usize {
    let (first, last) = range();
    let map = std::fs::File::open("/proc/self/pagemap").expect("open /proc/self/pagemap");
    let mut buf = vec![0u8; (last - first) / page() * 8];
    map.read_exact_at(&mut buf, (first / page() * 8) as u64)
        .expect("read /proc/self/pagemap");
    buf.chunks_exact(8)
        .filter(|e| u64::from_ne_bytes((*e).try_into().unwrap()) >> 63 == 1)
        .count()
}

fn main() {
    let (first, last) = range();
    let pages = (last - first) / page();
    let ballast = BALLAST.len() / page();
    std::hint::black_box(&BALLAST);
    touch_all();
    let before = mapped();
    assert_eq!(before, pages, "every page read should be mapped");
    sys::memory::release_code();
    let after = mapped();
    assert!(
        after + ballast / 2 <= before,
        "release_code kept the code mapped: {before} of {pages} pages before, {after} after"
    );

    // A page written into, as a debugger writes a breakpoint: nothing is dropped.
    let header = NonNull::new(first as *mut std::ffi::c_void).expect("ELF header");
    // SAFETY: the ELF header's page, which nothing executes; its first byte is written back
    // unchanged, so the page becomes this process's own copy with the same bytes.
    unsafe {
        mprotect(header, page(), ProtFlags::PROT_READ | ProtFlags::PROT_WRITE).expect("mprotect");
        let b = std::ptr::read_volatile(first as *const u8);
        std::ptr::write_volatile(first as *mut u8, b);
        mprotect(header, page(), ProtFlags::PROT_READ).expect("mprotect back");
    }
    touch_all();
    let full = mapped();
    sys::memory::release_code();
    let kept = mapped();
    assert_eq!(
        kept, full,
        "release_code dropped pages although one was written into: {full} mapped, then {kept}"
    );
    println!("release_code: {before} pages mapped, {after} after; with a written page {full}, then {kept}: ok");
}
