//! Sets the cfg `loader_page` when this build is a dynamically linked glibc program linked by
//! lld: then `sys::layout` puts the sections the dynamic loader writes on one page (see there,
//! and build/linking.rs for why only lld).
include!("../build/linking.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=../build/linking.rs");
    println!("cargo::rustc-check-cfg=cfg(loader_page)");
    if dynamic_glibc() && links_with_lld() {
        println!("cargo::rustc-cfg=loader_page");
    }
}
