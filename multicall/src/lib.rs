//! The multicall binary's dispatch: which program a command line asks for, busybox style.
//!
//! `runit-rs` runs the program named by the basename of argv\[0\] (a link `sv -> runit-rs`
//! runs `sv`), or, when run under another name, the one named by its first argument
//! (`runit-rs sv status x`), which then sees that name as its argv\[0\]. Every program is the
//! same function its own binary calls, so each answers exactly as its separate binary does.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// A program's entry point: the whole argv in, the exit code out.
pub type Main = fn(Vec<OsString>) -> i32;

/// How a program starts.
#[derive(Clone, Copy)]
pub enum Start {
    /// With std's start-up done by hand first ([`sys::start::as_std_does`]): every program
    /// but runsv.
    Std(Main),
    /// As runsv's own `no_main` binary starts it: no alternate signal stack, nothing else.
    Lean(Main),
}

/// The name this binary is installed under, and answers to when run by it.
pub const NAME: &str = "runit-rs";
/// Exit code of a command line that names no program.
pub const EXIT_USAGE: i32 = 100;

/// Every program and every name, as installed (chpst's six daemontools names included), in
/// a fixed order (a program's index is its place here). An iterator, not a vector: runsv
/// starts through here and allocates as little as it can.
pub fn programs() -> impl Iterator<Item = (&'static str, Start)> {
    let own = [
        ("runsv", Start::Lean(supervise::runsv::main as Main)),
        ("runsvdir", Start::Std(supervise::runsvdir::main)),
        ("svlogd", Start::Std(svlogd::program::main)),
    ];
    own.into_iter()
        .chain(tools::applets::ALL.iter().map(|&(n, m)| (n, Start::Std(m))))
}

/// The program `name` (a basename) runs, if any.
pub fn find(name: &[u8]) -> Option<Start> {
    programs()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|(_, s)| s)
}

/// The last path component of `arg0`.
pub fn basename(arg0: &OsStr) -> &[u8] {
    let b = arg0.as_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        Some(i) => &b[i + 1..],
        None => b,
    }
}

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Choice {
    /// Run the program at this index of [`programs`] with these arguments (argv\[0\] first).
    Run(usize, Vec<OsString>),
    /// `runit-rs --list`: print every name.
    List,
    /// `runit-rs --help` (or no argument): print the usage and every name, exit 0.
    Help,
    /// `runit-rs --version`.
    Version,
    /// No such program: say so, with the usage, and exit [`EXIT_USAGE`].
    Unknown(OsString),
}

/// Chooses the program for `argv`.
pub fn choose(mut argv: Vec<OsString>) -> Choice {
    let index = |name: &[u8]| programs().position(|(n, _)| n.as_bytes() == name);
    let arg0 = argv.first().cloned().unwrap_or_default();
    if let Some(i) = index(basename(&arg0)) {
        return Choice::Run(i, argv);
    }
    let Some(first) = argv.get(1).cloned() else {
        return Choice::Help;
    };
    if let Some(line) = shebang_words(first.as_bytes()) {
        // `#!/bin/runit-rs -S PROGRAM ARG...` in a run file FILE: the kernel runs
        // `runit-rs '-S PROGRAM ARG...' FILE [ARG...]`. FILE (nothing but that line) is
        // dropped; the arguments FILE was given follow the line's.
        let Some(name) = line.first().cloned() else {
            return Choice::Unknown(first);
        };
        return match index(name.as_bytes()) {
            Some(i) => {
                let mut run = line;
                run.extend(argv.into_iter().skip(3));
                Choice::Run(i, run)
            }
            None => Choice::Unknown(name),
        };
    }
    match first.as_bytes() {
        b"--list" => Choice::List,
        b"--help" => Choice::Help,
        b"--version" => Choice::Version,
        name => match index(name) {
            Some(i) => {
                argv.remove(0);
                Choice::Run(i, argv)
            }
            None => Choice::Unknown(first),
        },
    }
}

/// The words of a `-S` argument (`-S` alone, or `-S` and a blank, then the words, split on
/// blanks: as the kernel passes everything after the interpreter of a `#!` line as one
/// argument), or `None` for any other argument.
pub fn shebang_words(arg: &[u8]) -> Option<Vec<OsString>> {
    let rest = arg.strip_prefix(b"-S")?;
    if !(rest.is_empty() || rest[0] == b' ' || rest[0] == b'\t') {
        return None;
    }
    Some(
        rest.split(|&c| c == b' ' || c == b'\t')
            .filter(|w| !w.is_empty())
            .map(|w| OsStr::from_bytes(w).to_os_string())
            .collect(),
    )
}

/// The usage text, with every program's name.
pub fn usage() -> String {
    let mut s = format!(
        "usage: {NAME} program [arg ...]\n       program [arg ...]   (through a link named program)\n       {NAME} --list\n       #!/bin/{NAME} -S program [arg ...]   (a run file, no shell needed)\n\n\
         Every program of runit-rs in one executable: link a program's name to it, or name\n\
         the program as the first argument. Each program answers --help. As a #! line's\n\
         interpreter, -S runs the program with the line's arguments (split on blanks) and\n\
         those the file was given, not the file's own name.\n\nPrograms:"
    );
    for (i, (name, _)) in programs().enumerate() {
        s.push_str(if i % 8 == 0 { "\n  " } else { " " });
        s.push_str(name);
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    fn name(c: &Choice) -> (&'static str, Vec<OsString>) {
        match c {
            Choice::Run(i, argv) => (programs().nth(*i).unwrap().0, argv.clone()),
            other => panic!("not a program: {other:?}"),
        }
    }

    #[test]
    fn by_link_name_or_by_first_argument() {
        let c = choose(args(&["/usr/bin/sv", "status", "x"]));
        assert_eq!(name(&c), ("sv", args(&["/usr/bin/sv", "status", "x"])));
        let c = choose(args(&["runit-rs", "setuidgid", "nobody", "id"]));
        assert_eq!(
            name(&c),
            ("setuidgid", args(&["setuidgid", "nobody", "id"]))
        );
        let c = choose(args(&["./x/runsv", "dir"]));
        assert_eq!(name(&c), ("runsv", args(&["./x/runsv", "dir"])));
        assert_eq!(choose(args(&["runit-rs"])), Choice::Help);
        assert_eq!(choose(args(&[])), Choice::Help);
        assert_eq!(choose(args(&["runit-rs", "--list"])), Choice::List);
        assert_eq!(choose(args(&["runit-rs", "--version"])), Choice::Version);
        assert_eq!(
            choose(args(&["runit-rs", "ls", "-l"])),
            Choice::Unknown("ls".into())
        );
        // A run file's #! line, as the kernel passes it: the file's name is dropped.
        let c = choose(args(&["/bin/runit-rs", "-S svlogd -tt  main", "./run"]));
        assert_eq!(name(&c), ("svlogd", args(&["svlogd", "-tt", "main"])));
        let c = choose(args(&["runit-rs", "-S\tsv status", "./run", "x", "y"]));
        assert_eq!(name(&c), ("sv", args(&["sv", "status", "x", "y"])));
        assert_eq!(
            choose(args(&["runit-rs", "-S", "./run"])),
            Choice::Unknown("-S".into())
        );
        assert_eq!(
            choose(args(&["runit-rs", "-S ls -l", "./run"])),
            Choice::Unknown("ls".into())
        );
        // -S must stand alone or be followed by a blank.
        assert_eq!(
            choose(args(&["runit-rs", "-Ssv", "x"])),
            Choice::Unknown("-Ssv".into())
        );
        // A name the binary runs under wins over its first argument.
        let c = choose(args(&["svok", "sv"]));
        assert_eq!(name(&c).0, "svok");
    }

    #[test]
    fn every_program_once() {
        let mut names: Vec<&str> = programs().map(|p| p.0).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(n, 3 + tools::applets::ALL.len());
    }
}
