// Included by build scripts that lay out what the dynamic loader writes (sys/build.rs,
// build/per_service.rs): whether this build is a dynamically linked glibc program, and whether
// rustc links it with LLVM's lld.
//
// Rust links x86_64-unknown-linux-gnu with its own lld since 1.90 (through `cc -fuse-ld=lld`);
// other targets, and a build that opts out or names another linker, link with the system's
// linker (GNU ld on Debian). The two lay out the writable sections differently: GNU ld's
// default script ends the RELRO region at a page boundary, so the sections the loader writes
// (`.dynamic`, `.got`, `.got.plt`, its last 2-3 KiB) always share one page, and `.data` starts
// the next; lld starts the region wherever the read-only part ended and lets them fall across a
// page in most layouts, `.data` too.
// The rules that fix lld's layout would spoil GNU ld's, so they are given only when lld links,
// judged conservatively: any linker setting in the flags or the configuration means no.

/// Whether this build links dynamically against glibc: the builds a loader starts. On musl,
/// Cargo leaves `crt-static` out of `CARGO_CFG_TARGET_FEATURE` even though the target links
/// statically by default, so the C library decides there (see build/per_service.rs).
fn dynamic_glibc() -> bool {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_crt = features.split(',').any(|f| f == "crt-static");
    let glibc = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    glibc && !static_crt
}

/// Whether rustc's default lld links this build (see the comment at the top of
/// build/linking.rs).
fn links_with_lld() -> bool {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    if env("TARGET") != "x86_64-unknown-linux-gnu" || std::env::var_os("RUSTC_LINKER").is_some() {
        return false;
    }
    let chosen = ["linker", "link-self-contained", "fuse-ld"];
    if env("CARGO_ENCODED_RUSTFLAGS").split('\x1f').any(|f| chosen.iter().any(|c| f.contains(c))) {
        return false;
    }
    // `rustc -vV` says `release: 1.95.0` (or `1.95.0-nightly`).
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = std::process::Command::new(rustc).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let release = text.lines().find_map(|l| l.strip_prefix("release: ")).unwrap_or("");
    let mut parts = release.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 90)
}
