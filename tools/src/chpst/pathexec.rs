//! Running the child program: the environment it gets and the PATH search, the way djb's
//! `pathexec` does it (both runit's chpst and daemontools' tools use it).
//!
//! The program is looked up in the PATH of the *current* environment, not of the one being
//! built (so `envdir` setting PATH does not change where the program is found), with `/bin:/usr/bin`
//! when PATH is unset and `.` for an empty component. An exec failure other than "not found",
//! "access denied", "permission denied" or "is a directory" stops the search at once; otherwise
//! the error kept is the last such one (or ENOENT).

use nix::errno::Errno;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The environment the child will get: the current one plus the changes made by options.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: Vec<(OsString, OsString)>,
}

impl Env {
    /// The current process environment.
    pub fn current() -> Env {
        Env {
            vars: std::env::vars_os().collect(),
        }
    }

    /// Sets `name` to `value`, or removes it with `None`.
    pub fn set(&mut self, name: &OsStr, value: Option<&OsStr>) {
        self.vars.retain(|(k, _)| k != name);
        if let Some(v) = value {
            self.vars.push((name.to_os_string(), v.to_os_string()));
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    fn to_cstrings(&self) -> Vec<CString> {
        self.vars
            .iter()
            .filter_map(|(k, v)| {
                let mut b = k.as_bytes().to_vec();
                b.push(b'=');
                b.extend_from_slice(v.as_bytes());
                CString::new(b).ok()
            })
            .collect()
    }
}

fn cstring(s: &OsStr) -> Result<CString, Errno> {
    CString::new(s.as_bytes()).map_err(|_| Errno::EINVAL)
}

/// The candidate paths for `file`, in search order.
pub fn candidates(file: &OsStr, path: Option<&OsStr>) -> Vec<OsString> {
    if file.as_bytes().contains(&b'/') {
        return vec![file.to_os_string()];
    }
    let path = path.map(|p| p.as_bytes()).unwrap_or(b"/bin:/usr/bin");
    path.split(|&c| c == b':')
        .map(|dir| {
            let mut b = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            b.push(b'/');
            b.extend_from_slice(file.as_bytes());
            OsString::from_vec(b)
        })
        .collect()
}

/// Executes `file` (searched in PATH) with `argv` and `env`. Returns only on failure, with the
/// errno to report.
pub fn exec(file: &OsStr, argv: &[OsString], env: &Env) -> Errno {
    let Ok(args) = argv
        .iter()
        .map(|a| cstring(a))
        .collect::<Result<Vec<_>, _>>()
    else {
        return Errno::EINVAL;
    };
    let envp = env.to_cstrings();
    let mut saved: Option<Errno> = None;
    for cand in candidates(file, std::env::var_os("PATH").as_deref()) {
        let Ok(c) = cstring(&cand) else { continue };
        let Err(e) = nix::unistd::execve(&c, &args, &envp);
        if e != Errno::ENOENT {
            saved = Some(e);
            if !matches!(e, Errno::EACCES | Errno::EPERM | Errno::EISDIR) {
                return e;
            }
        }
    }
    saved.unwrap_or(Errno::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order() {
        let c = candidates(OsStr::new("prog"), Some(OsStr::new("/a::/b")));
        assert_eq!(c, ["/a/prog", "./prog", "/b/prog"]);
        assert_eq!(
            candidates(OsStr::new("prog"), None),
            ["/bin/prog", "/usr/bin/prog"]
        );
        assert_eq!(
            candidates(OsStr::new("./x"), Some(OsStr::new("/a"))),
            ["./x"]
        );
    }

    #[test]
    fn env_changes() {
        let mut e = Env::default();
        e.set(OsStr::new("A"), Some(OsStr::new("1")));
        e.set(OsStr::new("B"), Some(OsStr::new("")));
        e.set(OsStr::new("A"), Some(OsStr::new("2")));
        e.set(OsStr::new("C"), None);
        assert_eq!(e.get("A"), Some(OsStr::new("2")));
        let c: Vec<_> = e.to_cstrings();
        assert_eq!(
            c,
            [CString::new("B=").unwrap(), CString::new("A=2").unwrap()]
        );
    }
}
