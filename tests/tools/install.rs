//! The install step and the man pages: every command has a page that formats cleanly, and
//! `tools/install.sh` puts binaries, chpst's daemontools names and pages in place.

use harness::{bin_dir, exec, stderr, transcript, Scratch, CHPST_ALIASES, SILENT_OK};
use std::path::Path;

/// Every binary of the tools crate, and chpst's daemontools names.
fn commands() -> Vec<String> {
    let mut v: Vec<String> = harness::names(harness::workspace("tools").join("src/bin"))
        .into_iter()
        .filter_map(|n| n.strip_suffix(".rs").map(String::from))
        .collect();
    v.extend(CHPST_ALIASES.map(String::from));
    v
}

#[test]
fn every_command_has_a_man_page_that_formats_without_warnings() {
    let groff = harness::reference("/usr/bin/groff");
    for c in commands() {
        let page = harness::workspace("tools").join(format!("man/{c}.8"));
        assert!(page.is_file(), "no man page for {c}");
        let o = exec(
            &groff,
            Path::new("/"),
            &["-man", "-Tutf8", "-ww", "-z", page.to_str().unwrap()],
            &[],
        );
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{c}.8: {}",
            transcript(&o)
        );
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(text.contains(".SH NAME\n"), "{c}.8 has no NAME section");
    }
}

#[test]
fn install_puts_binaries_aliases_and_pages_in_place() {
    let s = Scratch::new("install");
    let script = harness::workspace("tools").join("install.sh");
    let dest = s.mkdir("dest");
    let o = exec(
        Path::new("/bin/sh"),
        &s.path,
        &[script.to_str().unwrap()],
        &[
            ("BINSRC", bin_dir().to_str().unwrap()),
            ("DESTDIR", dest.to_str().unwrap()),
            ("PREFIX", "/usr"),
        ],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    for c in commands() {
        let b = dest.join("usr/bin").join(&c);
        assert!(b.exists(), "{c} not installed");
        assert!(dest.join(format!("usr/share/man/man8/{c}.8")).is_file());
    }
    assert_eq!(
        std::fs::read_link(dest.join("usr/bin/setlock")).unwrap(),
        Path::new("chpst")
    );
    // The installed alias is daemontools' setlock.
    let o = exec(&dest.join("usr/bin/setlock"), &s.path, &[], &[]);
    assert_eq!(
        stderr(&o),
        "setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n"
    );
    // Missing binaries: a clear failure.
    let o = exec(
        Path::new("/bin/sh"),
        &s.path,
        &[script.to_str().unwrap()],
        &[
            ("BINSRC", "/nonexistent"),
            ("DESTDIR", dest.to_str().unwrap()),
        ],
    );
    assert_eq!(harness::code(o.status), 111);
    assert!(stderr(&o).contains("is missing"), "{}", stderr(&o));
}
