//! Where the linker puts what the dynamic loader writes: on one page, in every layout.
//!
//! At start-up, before any of our code runs, glibc's loader writes into the program's own
//! image: the address of every C library function it calls (`.got` and `.got.plt`, filled at
//! once since the programs are linked with `-z now`) and its debugger hook (`.dynamic`'s
//! `DT_DEBUG`). Those 2-3 KiB are copied into private pages for the life of the process; one
//! runsv runs per service, so each page they touch costs a page per service. lld puts them
//! right after `.data.rel.ro`, wherever that ends, so in about two layouts out of three they
//! fall across a page boundary: one more dirty page per runsv, decided by how long the code
//! before them happens to be (supervise/bench/memory.sh saw 90 KiB, then 94, from one commit to
//! the next).
//!
//! The fix is a zero-sized object in `.got.plt`, aligned to a page. lld orders output sections
//! of the same kind by the first input file that has one, and this crate's objects come after
//! the programs' (so after their `.data.rel.ro`) but before the linker makes its own `.dynamic`
//! and `.got`: the RELRO region then ends `.got.plt` (page-aligned), `.dynamic`, `.got`, 2.6 KiB
//! in the multicall binary, on one page. The cost is the padding before it in the file, under a
//! page. GNU ld already ends that region on a page boundary and would be led astray by this, so
//! the object exists only when lld links a dynamic glibc build (`loader_page`, set by
//! sys/build.rs). tests/supervise/layout.rs checks the binaries' sections.

/// A zero-sized type aligned to a page.
#[cfg(loader_page)]
#[repr(C, align(4096))]
struct PageStart([u8; 0]);

/// The zero-sized object that starts `.got.plt` on a page (see the module's doc).
#[cfg(loader_page)]
#[used]
#[link_section = ".got.plt"]
static GOT_PLT_ON_A_PAGE: PageStart = PageStart([]);
