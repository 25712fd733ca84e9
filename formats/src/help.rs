//! `--help` and `--version`, the same way for every command of the toolkit.
//!
//! runit's and daemontools' programs know neither word: they take it for an operand or an
//! illegal option and answer with their usage on standard error and their own exit code.
//! Ours answer both when the word is the first argument, on standard output, with exit 0,
//! before anything else is looked at; every other command line goes on as the reference
//! program would take it (`sv -h` is still an illegal option, `svlogd -V` still prints its
//! version line and the usage with exit 111).

use std::ffi::OsString;

/// The toolkit's name, in version lines.
pub const TOOLKIT: &str = "runit-rs";
/// The toolkit's version: one version for the whole workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The exit code when the answer cannot be written.
pub const EXIT_WRITE: i32 = 111;

/// What one command says about itself.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// The command's name, as installed (`runsv`, `setlock`).
    pub name: &'a str,
    /// Its synopsis lines, each without `usage: ` and with the name (`runsv dir`).
    pub synopsis: &'a [&'a str],
    /// What it does, in a sentence or two (may span lines).
    pub text: &'a str,
}

impl About<'_> {
    /// The `--version` line: `NAME (runit-rs) VERSION`.
    pub fn version(&self) -> String {
        [self.name, " (", TOOLKIT, ") ", VERSION, "\n"].concat()
    }

    /// The `--help` text: the usage lines, the description, and where the manual is.
    pub fn help(&self) -> String {
        let mut s = String::new();
        for (i, line) in self.synopsis.iter().enumerate() {
            s.push_str(if i == 0 { "usage: " } else { "       " });
            s.push_str(line);
            s.push('\n');
        }
        s.push('\n');
        s.push_str(self.text.trim_end());
        s.push_str("\n\n--help     print this text\n--version  print the version\n");
        s.push_str("See ");
        s.push_str(self.name);
        s.push_str("(8).\n");
        s
    }
}

/// What the first argument asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

/// Whether the first argument (after argv\[0\]) is `--help` or `--version`.
pub fn request(argv: &[OsString]) -> Option<Request> {
    match argv.get(1)?.to_str()? {
        "--help" => Some(Request::Help),
        "--version" => Some(Request::Version),
        _ => None,
    }
}

/// If the first argument is `--help` or `--version`, prints the answer on standard output
/// and returns the exit code (0, or [`EXIT_WRITE`] if it cannot be written); otherwise
/// `None`, and the command goes on. Call it first in a command's `main`.
pub fn answer(argv: &[OsString], about: &About) -> Option<i32> {
    let text = match request(argv)? {
        Request::Help => about.help(),
        Request::Version => about.version(),
    };
    Some(match write_stdout(text.as_bytes()) {
        Ok(()) => 0,
        Err(_) => EXIT_WRITE,
    })
}

/// Writes all of `bytes` to descriptor 1 with plain `write(2)` calls: std's buffered stdout
/// would add its statics (and relocated pages) to every runsv.
fn write_stdout(mut bytes: &[u8]) -> nix::Result<()> {
    let out = std::io::stdout();
    while !bytes.is_empty() {
        match nix::unistd::write(&out, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_the_first_argument_counts() {
        assert_eq!(request(&argv(&["sv", "--help"])), Some(Request::Help));
        assert_eq!(
            request(&argv(&["sv", "--version", "x"])),
            Some(Request::Version)
        );
        assert_eq!(request(&argv(&["sv", "-v", "--help"])), None);
        assert_eq!(request(&argv(&["sv", "-h"])), None);
        assert_eq!(request(&argv(&["sv", "--hel"])), None);
        assert_eq!(request(&argv(&["sv"])), None);
    }

    #[test]
    fn texts() {
        let a = About {
            name: "sv",
            synopsis: &[
                "sv [-v] [-w sec] command service ...",
                "NAME [-w sec] command",
            ],
            text: "Controls services.\n",
        };
        assert_eq!(a.version(), format!("sv (runit-rs) {VERSION}\n"));
        assert_eq!(
            a.help(),
            "usage: sv [-v] [-w sec] command service ...\n       NAME [-w sec] command\n\n\
             Controls services.\n\n--help     print this text\n--version  print the version\n\
             See sv(8).\n"
        );
    }
}
