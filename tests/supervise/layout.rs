//! The link rules of the programs that run once per service (build/per_service.rs,
//! sys::layout), read back from the binaries under test with binutils' `readelf`: in a
//! dynamically linked build, what the loader writes at start-up (`.dynamic`, `.got`,
//! `.got.plt`) begins or ends on a page boundary, and so do the statics (`.data`, `.bss`).
//! The private memory this saves per process is measured by supervise/bench/memory.sh; here,
//! that the rules took effect, with the linker that linked, and only where they belong.

use harness::{bin, code, run, WAIT};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The page the rules align to (x86-64's, and the smallest any Linux port uses).
const PAGE: u64 = 4096;

/// A section's address, size and alignment.
#[derive(Clone, Copy, Debug)]
struct Section {
    addr: u64,
    size: u64,
    align: u64,
}

/// `readelf ARGS FILE`'s output; fails loudly when binutils is missing.
fn readelf(args: &[&str], file: &Path) -> String {
    let out = run(Command::new("readelf").args(args).arg(file), WAIT);
    assert_eq!(
        code(out.status),
        0,
        "readelf {args:?} {} failed (binutils, which the Rust toolchain's linker needs, \
         must be installed): {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sections of `file` by name, from `readelf -SW` (`[Nr] Name Type Address Off Size ES
/// Flg Lk Inf Al`).
fn sections(file: &Path) -> HashMap<String, Section> {
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    readelf(&["-SW"], file)
        .lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_once(']')?.1.split_whitespace().collect();
            let sec = Section {
                addr: hex(t.get(2)?)?,
                size: hex(t.get(4)?)?,
                align: t.last()?.parse().ok()?,
            };
            Some((t.first()?.to_string(), sec))
        })
        .collect()
}

/// The sections `names` of `file`, which must all be there.
fn pick<const N: usize>(
    secs: &HashMap<String, Section>,
    names: [&str; N],
    file: &Path,
) -> [Section; N] {
    names.map(|n| {
        *secs
            .get(n)
            .unwrap_or_else(|| panic!("{} has no {n} section", file.display()))
    })
}

#[test]
fn what_the_loader_and_the_program_write_starts_or_ends_on_a_page() {
    for name in ["runsv", "runsvdir", "svlogd", "runit-rs"] {
        let file = bin(name);
        let secs = sections(&file);
        let dynamic = readelf(&["-lW"], &file).contains("INTERP");
        let lld = readelf(&["-p", ".comment"], &file).contains("Linker: LLD");
        let got_plt_aligned = secs.get(".got.plt").is_some_and(|s| s.align == PAGE);
        if !dynamic {
            // A static build has no loader writing into it: the page-aligned .got.plt (padding
            // in the file, which counts against the size budgets) must not be there.
            assert!(
                !got_plt_aligned,
                "{name}: static, yet .got.plt is page-aligned: {secs:?}"
            );
            continue;
        }
        let [data] = pick(&secs, [".data"], &file);
        assert_eq!(
            data.addr % PAGE,
            0,
            "{name}: .data does not start a page: {data:?}"
        );
        if lld {
            // sys::layout: .got.plt starts a page, and lld's own .dynamic and .got follow it.
            let [got_plt, dynsec, got] = pick(&secs, [".got.plt", ".dynamic", ".got"], &file);
            assert_eq!(
                got_plt.addr % PAGE,
                0,
                "{name}: .got.plt does not start a page"
            );
            assert!(
                got_plt.addr < dynsec.addr && dynsec.addr < got.addr,
                "{name}: not .got.plt, .dynamic, .got in that order: {secs:?}"
            );
        } else {
            // GNU ld's own layout ends them on a page (with `-z now` it puts .got.plt into
            // .got), and the rule must not be there.
            assert!(
                !got_plt_aligned,
                "{name}: GNU ld, yet .got.plt is page-aligned"
            );
            let end = [".dynamic", ".got", ".got.plt"]
                .iter()
                .filter_map(|n| secs.get(*n).map(|s| s.addr + s.size))
                .max();
            assert_eq!(
                end.map(|e| e % PAGE),
                Some(0),
                "{name}: the loader's sections end mid-page: {secs:?}"
            );
        }
    }
}
