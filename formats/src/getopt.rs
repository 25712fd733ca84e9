//! Option scanning the way runit's `sgetopt` does it.
//!
//! Options stop at the first argument that does not start with `-` (or is just `-`), or after
//! any argument that starts with `--` (`--` itself, but also `--check`: sgetopt takes the whole
//! word as the end of the options, and skips it); letters may be combined (`-tt`, `-vw5`); an option argument is the rest of the word or
//! the next word. Errors are reported as runit prints them: `PROG: illegal option -- x` and
//! `PROG: option requires an argument -- l`, where PROG is the basename of argv\[0\].

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// One scanning step's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// An option letter, with its argument if the letter takes one.
    Flag(u8, Option<OsString>),
    /// A letter not in the option string.
    Illegal(u8),
    /// A letter that needs an argument, at the end of argv.
    MissingArg(u8),
}

impl Opt {
    /// The message runit prints for an error step (`None` for a valid option).
    pub fn error_message(&self, prog: &str) -> Option<String> {
        match self {
            Opt::Flag(..) => None,
            Opt::Illegal(c) => Some(format!("{prog}: illegal option -- {}", *c as char)),
            Opt::MissingArg(c) => Some(format!(
                "{prog}: option requires an argument -- {}",
                *c as char
            )),
        }
    }
}

/// A scanner over `argv` (including argv\[0\]) for an option string such as `"R:r:l:b:tvV"`.
pub struct Getopt<'a> {
    args: &'a [OsString],
    spec: &'a [u8],
    /// Index of the next argument to look at; once scanning ends, the first operand.
    pub optind: usize,
    /// Position inside a combined option word.
    pos: usize,
    /// See [`Getopt::strict`].
    strict: bool,
}

impl<'a> Getopt<'a> {
    /// Starts scanning after argv\[0\].
    pub fn new(args: &'a [OsString], spec: &'a str) -> Getopt<'a> {
        Getopt {
            args,
            spec: spec.as_bytes(),
            optind: 1,
            pos: 0,
            strict: false,
        }
    }

    /// For the toolkit's own commands, which have no runit original to follow: a word that
    /// starts with `--` (other than `--` itself) is scanned as option letters, so that an
    /// unknown long option is reported (`illegal option -- -`) rather than silently taken for
    /// the end of the options.
    pub fn strict(mut self) -> Getopt<'a> {
        self.strict = true;
        self
    }

    /// The operands left once scanning has returned `None`.
    pub fn operands(&self) -> &'a [OsString] {
        &self.args[self.optind.min(self.args.len())..]
    }

    fn takes_arg(&self, c: u8) -> Option<bool> {
        if c == b':' {
            return None;
        }
        let i = self.spec.iter().position(|&s| s == c)?;
        Some(self.spec.get(i + 1) == Some(&b':'))
    }
}

impl Iterator for Getopt<'_> {
    type Item = Opt;

    fn next(&mut self) -> Option<Opt> {
        if self.pos == 0 {
            let word = self.args.get(self.optind)?.as_bytes();
            if word.len() < 2 || word[0] != b'-' {
                return None;
            }
            if word == b"--" || (word[1] == b'-' && !self.strict) {
                self.optind += 1;
                return None;
            }
            self.pos = 1;
        }
        let word = self.args[self.optind].as_bytes();
        let c = word[self.pos];
        self.pos += 1;
        let at_end = self.pos >= word.len();
        let step = match self.takes_arg(c) {
            None => Opt::Illegal(c),
            Some(false) => Opt::Flag(c, None),
            Some(true) => {
                if !at_end {
                    let arg = OsStr::from_bytes(&word[self.pos..]).to_os_string();
                    self.pos = 0;
                    self.optind += 1;
                    return Some(Opt::Flag(c, Some(arg)));
                }
                self.pos = 0;
                self.optind += 1;
                match self.args.get(self.optind) {
                    Some(a) => {
                        self.optind += 1;
                        return Some(Opt::Flag(c, Some(a.clone())));
                    }
                    None => return Some(Opt::MissingArg(c)),
                }
            }
        };
        if at_end {
            self.pos = 0;
            self.optind += 1;
        }
        Some(step)
    }
}

/// The basename of argv\[0\], as runit's option messages print it.
pub fn progname(argv0: &OsStr) -> String {
    let b = argv0.as_bytes();
    let base = match b.iter().rposition(|&c| c == b'/') {
        Some(i) => &b[i + 1..],
        None => b,
    };
    String::from_utf8_lossy(base).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn scan(v: &[&str], spec: &str) -> (Vec<Opt>, Vec<String>) {
        let a = argv(v);
        let mut g = Getopt::new(&a, spec);
        let opts: Vec<Opt> = g.by_ref().collect();
        let rest = g
            .operands()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        (opts, rest)
    }

    #[test]
    fn combined_flags_and_arguments() {
        let (o, rest) = scan(
            &["svlogd", "-ttv", "-l5", "-b", "99", "d1", "-t"],
            "R:r:l:b:tvV",
        );
        assert_eq!(
            o,
            vec![
                Opt::Flag(b't', None),
                Opt::Flag(b't', None),
                Opt::Flag(b'v', None),
                Opt::Flag(b'l', Some("5".into())),
                Opt::Flag(b'b', Some("99".into())),
            ]
        );
        // spec/svlogd.md §1: options after the first directory are directories.
        assert_eq!(rest, vec!["d1", "-t"]);
    }

    #[test]
    fn double_dash_and_lone_dash() {
        let (o, rest) = scan(&["p", "-v", "--", "-x"], "v");
        assert_eq!(o, vec![Opt::Flag(b'v', None)]);
        assert_eq!(rest, vec!["-x"]);
        let (o, rest) = scan(&["p", "-", "x"], "v");
        assert!(o.is_empty());
        assert_eq!(rest, vec!["-", "x"]);
    }

    #[test]
    fn errors_in_runit_words() {
        let (o, _) = scan(&["/usr/bin/svlogd", "-x"], "l:");
        assert_eq!(o, vec![Opt::Illegal(b'x')]);
        assert_eq!(
            o[0].error_message("svlogd").unwrap(),
            "svlogd: illegal option -- x"
        );
        let (o, _) = scan(&["svlogd", "-l"], "l:");
        assert_eq!(o, vec![Opt::MissingArg(b'l')]);
        assert_eq!(
            o[0].error_message("svlogd").unwrap(),
            "svlogd: option requires an argument -- l"
        );
        assert_eq!(progname(OsStr::new("/usr/bin/svlogd")), "svlogd");
    }

    #[test]
    fn any_double_dash_word_ends_the_options() {
        // runit's `svlogd --check d` logs to d; `sv --foo status d` gives the status of d.
        let (o, rest) = scan(&["svlogd", "-t", "--check", "d", "-v"], "tv");
        assert_eq!(o, vec![Opt::Flag(b't', None)]);
        assert_eq!(rest, vec!["d", "-v"]);
        // As an option's argument it is just the argument.
        let (o, rest) = scan(&["p", "-l", "--x", "d"], "l:");
        assert_eq!(o, vec![Opt::Flag(b'l', Some("--x".into()))]);
        assert_eq!(rest, vec!["d"]);
        // The toolkit's own commands report it instead.
        let a = argv(&["p_log", "-m", "--mrege", "a"]);
        let mut g = Getopt::new(&a, "m").strict();
        assert_eq!(g.next(), Some(Opt::Flag(b'm', None)));
        assert_eq!(g.next(), Some(Opt::Illegal(b'-')));
        let a = argv(&["p_log", "--", "-m"]);
        let mut g = Getopt::new(&a, "m").strict();
        assert_eq!(g.next(), None);
        assert_eq!(g.operands(), &a[2..]);
    }

    #[test]
    fn colon_is_never_an_option() {
        let (o, _) = scan(&["p", "-:"], "a:");
        assert_eq!(o, vec![Opt::Illegal(b':')]);
    }
}
