//! svlogd's command line, parsed with no I/O: `svlogd [-tttv] [-r c] [-R abc] [-l len]
//! [-b buflen] dir ...` (spec/svlogd.md §1).
//!
//! Parsing stops at the first directory (runit's `sgetopt`), so `svlogd d -t` names two
//! directories. Every error is runit's usage message and exit 111; the binary prints it.
//!
//! Additions (runit refuses each of them with its usage message, so no command line that
//! works with runit changes meaning): `-T format` sets the timestamp format of every
//! directory by name (see `stamp::parse_stamp`; it wins over `-t`), `-L` makes every
//! directory drop lines rather than block when it cannot keep up (a directory's `overload`
//! line still decides for it), and `-C` checks the directories' `config` files instead of
//! logging. (Not `--check`: runit's getopt reads any word starting with `--` as the end of
//! the options, so `svlogd --check dir` logs to `dir` there.)

use formats::getopt::{progname, Getopt, Opt};
use formats::scan::scan_ulong;
use formats::stamp::Timestamp;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// runit's option string.
pub const OPTSTRING: &str = "R:r:l:b:T:tvVLC";
/// The usage text after `usage: <argv0>` (runit prints `-ttv`, not `-tttv`).
pub const USAGE: &str = " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...";
/// The line `-V` prints before the usage message. runit prints its source file's `$Id$`;
/// ours names this implementation in the same shape.
pub const VERSION: &str = concat!("$Id: runit-rs svlogd ", env!("CARGO_PKG_VERSION"), " $");
/// Default `-l`: how many bytes of a line are matched, sent to stderr and by UDP.
pub const DEFAULT_LINEMAX: u64 = 1000;
/// Default `-b`: runit's read and write buffer size (kept for validation; ours is larger).
pub const DEFAULT_BUFLEN: u64 = 1024;

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The timestamp format.
    pub timestamp: Timestamp,
    /// `-v` given (runit has no second level).
    pub verbose: bool,
    /// The replacement byte for `-r`/`-R`, if replacing is on.
    pub replace_char: Option<u8>,
    /// The extra bytes `-R` replaces.
    pub replace_set: Vec<u8>,
    /// `-l`: bytes of a line used for matching, stderr and UDP.
    pub linemax: u64,
    /// `-b`: runit's buffer size; only validated (`buflen > linemax`).
    pub buflen: u64,
    /// The log directories, as given.
    pub dirs: Vec<OsString>,
    /// `-L`: directories without an `overload` line drop rather than block.
    pub lossy: bool,
    /// `-C`: check the directories' `config` and exit.
    pub check: bool,
}

/// Why the command line was refused; every case ends in the usage message and exit 111.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// Print the usage message, preceded by `message` (runit's getopt text) if there is one.
    Usage(Option<String>),
    /// `-V`: print [`VERSION`], then the usage message.
    Version,
}

impl Options {
    /// Parses `argv` (including argv\[0\]) the way runit's svlogd does.
    pub fn parse(argv: &[OsString]) -> Result<Options, CliError> {
        let mut o = Options {
            timestamp: Timestamp::None,
            verbose: false,
            replace_char: None,
            replace_set: Vec::new(),
            linemax: DEFAULT_LINEMAX,
            buflen: DEFAULT_BUFLEN,
            dirs: Vec::new(),
            lossy: false,
            check: false,
        };
        let prog = argv.first().map(|a| progname(a)).unwrap_or_default();
        let mut stamps = 0;
        let mut format = None;
        let mut g = Getopt::new(argv, OPTSTRING);
        for opt in g.by_ref() {
            let (c, arg) = match opt {
                Opt::Flag(c, arg) => (c, arg),
                other => return Err(CliError::Usage(other.error_message(&prog))),
            };
            let arg = arg.unwrap_or_default();
            let arg = arg.as_bytes();
            match c {
                b'R' => {
                    o.replace_set = arg.to_vec();
                    if o.replace_char.is_none() {
                        o.replace_char = Some(b'_');
                    }
                }
                b'r' => {
                    if arg.len() != 1 || arg[0] == 0 {
                        return Err(CliError::Usage(None));
                    }
                    o.replace_char = Some(arg[0]);
                }
                b'l' => {
                    o.linemax = scan_ulong(arg).0;
                    if o.linemax == 0 {
                        o.linemax = DEFAULT_LINEMAX;
                    }
                }
                b'b' => {
                    o.buflen = scan_ulong(arg).0;
                    if o.buflen == 0 {
                        o.buflen = DEFAULT_BUFLEN;
                    }
                }
                b't' => stamps += 1,
                b'T' => match formats::stamp::parse_stamp(arg) {
                    Some(t) if !arg.is_empty() => format = Some(t),
                    _ => return Err(CliError::Usage(None)),
                },
                b'L' => o.lossy = true,
                b'C' => o.check = true,
                b'v' => o.verbose = true,
                b'V' => return Err(CliError::Version),
                _ => return Err(CliError::Usage(None)),
            }
        }
        o.timestamp = match stamps {
            0 => Timestamp::None,
            1 => Timestamp::Tai64n,
            2 => Timestamp::Utc,
            _ => Timestamp::Iso8601,
        };
        if let Some(t) = format {
            o.timestamp = t;
        }
        o.dirs = g.operands().to_vec();
        if o.dirs.is_empty() || o.buflen <= o.linemax {
            return Err(CliError::Usage(None));
        }
        Ok(o)
    }

    /// `-l` as a length usable for slicing (a value beyond memory behaves as "whole line").
    pub fn linemax_usize(&self) -> usize {
        usize::try_from(self.linemax).unwrap_or(usize::MAX)
    }
}

/// The usage message, exactly as runit prints it (note the empty line after it).
pub fn usage_text(argv0: &str) -> String {
    format!("usage: {argv0}{USAGE}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Options, CliError> {
        let a: Vec<OsString> = v.iter().map(OsString::from).collect();
        Options::parse(&a)
    }

    #[test]
    fn defaults_and_directories() {
        let o = parse(&["svlogd", "d1", "-t"]).unwrap();
        assert_eq!(o.timestamp, Timestamp::None);
        assert_eq!(o.linemax, 1000);
        assert_eq!(o.buflen, 1024);
        // spec §1: options after the first directory are directories.
        assert_eq!(o.dirs, vec![OsString::from("d1"), OsString::from("-t")]);
    }

    #[test]
    fn timestamps_count_up_to_three() {
        assert_eq!(
            parse(&["s", "-t", "d"]).unwrap().timestamp,
            Timestamp::Tai64n
        );
        assert_eq!(parse(&["s", "-tt", "d"]).unwrap().timestamp, Timestamp::Utc);
        assert_eq!(
            parse(&["s", "-tttt", "d"]).unwrap().timestamp,
            Timestamp::Iso8601
        );
    }

    #[test]
    fn replacement_rules() {
        // spec §1: -R alone sets '_'; a later -r overrides; -r must be one character.
        let o = parse(&["s", "-R", "ab", "d"]).unwrap();
        assert_eq!(o.replace_char, Some(b'_'));
        assert_eq!(o.replace_set, b"ab");
        let o = parse(&["s", "-R", "ab", "-r", "x", "d"]).unwrap();
        assert_eq!(o.replace_char, Some(b'x'));
        let o = parse(&["s", "-r", "x", "-R", "", "d"]).unwrap();
        assert_eq!(o.replace_char, Some(b'x'));
        assert_eq!(parse(&["s", "-r", "", "d"]), Err(CliError::Usage(None)));
        assert_eq!(parse(&["s", "-r", "xy", "d"]), Err(CliError::Usage(None)));
    }

    #[test]
    fn numbers_are_decimal_prefixes() {
        let o = parse(&["s", "-l", "abc", "d"]).unwrap();
        assert_eq!(o.linemax, 1000);
        let o = parse(&["s", "-l", "0", "d"]).unwrap();
        assert_eq!(o.linemax, 1000);
        let o = parse(&["s", "-l", "12x", "-b", "0", "d"]).unwrap();
        assert_eq!((o.linemax, o.buflen), (12, 1024));
        // buflen must exceed linemax: -l 5000 alone fails.
        assert_eq!(parse(&["s", "-l", "5000", "d"]), Err(CliError::Usage(None)));
        assert_eq!(parse(&["s", "-l", "1024", "d"]), Err(CliError::Usage(None)));
        assert!(parse(&["s", "-l", "5000", "-b", "5001", "d"]).is_ok());
    }

    #[test]
    fn additions() {
        let o = parse(&["s", "-L", "-T", "rfc3339", "-tt", "d"]).unwrap();
        assert!(o.lossy && !o.check);
        assert_eq!(o.timestamp, Timestamp::Rfc3339);
        let o = parse(&["s", "-l", "5", "-C", "-Tlocal", "d", "-C"]).unwrap();
        assert!(o.check);
        assert_eq!(o.linemax, 5);
        assert_eq!(o.timestamp, Timestamp::Local);
        assert_eq!(o.dirs, vec![OsString::from("d"), OsString::from("-C")]);
        assert_eq!(
            parse(&["s", "-T", "bogus", "d"]),
            Err(CliError::Usage(None))
        );
        assert_eq!(parse(&["s", "-T", "", "d"]), Err(CliError::Usage(None)));
        assert_eq!(parse(&["s", "-C"]), Err(CliError::Usage(None)));
        // runit's getopt takes `--check` for the end of the options.
        let o = parse(&["s", "-t", "--check", "d"]).unwrap();
        assert!(!o.check);
        assert_eq!(o.timestamp, Timestamp::Tai64n);
        assert_eq!(o.dirs, vec![OsString::from("d")]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&["s"]), Err(CliError::Usage(None)));
        assert_eq!(parse(&["s", "-v"]), Err(CliError::Usage(None)));
        assert_eq!(parse(&["s", "-V", "d"]), Err(CliError::Version));
        assert_eq!(
            parse(&["/usr/bin/svlogd", "-x", "d"]),
            Err(CliError::Usage(Some("svlogd: illegal option -- x".into())))
        );
        assert_eq!(
            parse(&["svlogd", "-l"]),
            Err(CliError::Usage(Some(
                "svlogd: option requires an argument -- l".into()
            )))
        );
        assert_eq!(
            usage_text("/usr/bin/svlogd"),
            "usage: /usr/bin/svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n"
        );
    }
}
