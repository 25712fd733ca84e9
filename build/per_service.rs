// Included by the build scripts of the crates whose binaries run once per service (runsv,
// runsvdir, svlogd, and runit-rs, which holds them): link rules that save private memory in
// every process, for glibc builds (the first two for dynamically linked ones only).
//
// Non-PIE: in a dynamically linked position-independent executable the loader writes absolute
// addresses into `.data.rel.ro` at every start: tens of KiB of private dirty pages per process
// (measured with supervise/bench/memory.sh and svlogd/bench/rss.sh), multiplied by the number
// of services. The release build also links runsv and runsvdir statically
// (`scripts/build-release.sh`, `crt-static`), which yields a static-PIE with far fewer such
// pages; a static binary given `-no-pie` does not start (glibc's, and musl's as rustc links
// it: it crashes at once), so `-no-pie` is only for dynamic glibc builds. On musl, Cargo
// leaves `crt-static` out of `CARGO_CFG_TARGET_FEATURE` even though the target links
// statically by default (it asks rustc for every crate type, and a dylib turns it off), so the
// feature alone cannot tell: the C library decides.
//
// The unwinder linked in (libgcc_eh), not loaded (libgcc_s.so.1): std refers to a few
// `_Unwind_*` functions (backtraces, landing pads), and a shared library costs every process
// its relocated and writable pages and the loader's bookkeeping: 12 KiB of private dirty memory
// per runsv (supervise/bench/memory.sh), for about 24 KB more in the file, shared by every
// process that runs it. rustc names `-lgcc_s` itself, before any argument given here; an
// archive given later is only searched for symbols still undefined, so it is taken whole: its
// definitions then win over the shared library's, `--as-needed` drops libgcc_s, and
// `--gc-sections` removes what nothing calls. This is what `gcc -static-libgcc` does for a C
// program. A toolchain without libgcc_eh.a (the linker driver does not know it) keeps
// libgcc_s.
//
// Each segment on a page of its own (`-z separate-loadable-segments`, lld only: see
// build/linking.rs), dynamic or static: lld starts the writable segments at the same offset in
// their page as in the file, wherever the part before ended, so what a program writes there
// falls on one page more or less depending on the length of the code. In a dynamic build the
// statics it writes while it runs (std's, and runsv's allocator buffer `sys::arena`) then lie
// on one page (the last that runsv writes is 3.4 KiB in, 3.7 in the multicall binary); in a
// static-PIE, whose start-up relocates all of RELRO, that region takes the fewest pages it
// can. One dirty page less in about half the layouts, for at most 12 KiB of padding in the
// file, shared by every process.
include!("linking.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=../build/per_service.rs");
    println!("cargo::rerun-if-changed=../build/linking.rs");
    if links_with_lld() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,separate-loadable-segments");
    }
    if dynamic_glibc() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
        if has_libgcc_eh() {
            println!(
                "cargo:rustc-link-arg-bins=-Wl,--push-state,-Bstatic,--whole-archive,-lgcc_eh,--pop-state"
            );
        }
    }
}

/// Whether the linker driver (cargo's configured linker, else `cc`) has a libgcc_eh.a: it
/// answers `-print-file-name` with a full path only when it finds the file.
fn has_libgcc_eh() -> bool {
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".into());
    std::process::Command::new(linker)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .is_some_and(|path| std::path::Path::new(path.trim()).is_absolute())
}
