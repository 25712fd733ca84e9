//! Soft resource limits (`chpst -m -d -o -p -f -c -r -t`, `softlimit`): a value above the hard
//! limit is lowered to it, and "hard" (softlimit's `=`) raises the soft limit to the hard one.

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// A soft limit to apply: a number, or the hard limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Soft {
    /// This many units (bytes, files, processes, seconds).
    Value(u64),
    /// As high as the hard limit allows.
    Hard,
}

/// Which call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitStep {
    /// getrlimit.
    Get,
    /// setrlimit.
    Set,
}

/// Sets the soft limit of `res`.
pub fn set(res: Resource, soft: Soft) -> Result<(), (LimitStep, Errno)> {
    let (_, hard) = getrlimit(res).map_err(|e| (LimitStep::Get, e))?;
    let cur = match soft {
        Soft::Hard => hard,
        Soft::Value(v) => v.min(hard),
    };
    setrlimit(res, cur, hard).map_err(|e| (LimitStep::Set, e))
}

/// The resources `-m` (chpst) and `-m` (softlimit) set together: data, stack, locked memory
/// and address space.
pub const MEMORY: [Resource; 4] = [
    Resource::RLIMIT_DATA,
    Resource::RLIMIT_STACK,
    Resource::RLIMIT_MEMLOCK,
    Resource::RLIMIT_AS,
];

/// The resource of a limit option letter shared by chpst and softlimit (`m` excluded).
pub fn resource_of(letter: u8) -> Option<Resource> {
    Some(match letter {
        b'a' => Resource::RLIMIT_AS,
        b'c' => Resource::RLIMIT_CORE,
        b'd' => Resource::RLIMIT_DATA,
        b'f' => Resource::RLIMIT_FSIZE,
        b'l' => Resource::RLIMIT_MEMLOCK,
        b'o' => Resource::RLIMIT_NOFILE,
        b'p' => Resource::RLIMIT_NPROC,
        b'r' => Resource::RLIMIT_RSS,
        b's' => Resource::RLIMIT_STACK,
        b't' => Resource::RLIMIT_CPU,
        _ => return None,
    })
}

/// runit's and daemontools' number syntax: all decimal digits (an empty string is 0).
pub fn parse_number(s: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
    }
    Some(v)
}

/// softlimit's value: `=` (as high as the hard limit) or a number as [`parse_number`] reads it.
pub fn soft_value(s: &[u8]) -> Option<Soft> {
    if s == b"=" {
        Some(Soft::Hard)
    } else {
        parse_number(s).map(Soft::Value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"1024"), Some(1024));
        assert_eq!(parse_number(b""), Some(0));
        assert_eq!(parse_number(b"1x"), None);
        assert_eq!(parse_number(b"-1"), None);
        // unsigned long arithmetic: 2^64 + 5 is 5.
        assert_eq!(parse_number(b"18446744073709551621"), Some(5));
        assert_eq!(soft_value(b"="), Some(Soft::Hard));
        assert_eq!(soft_value(b"7"), Some(Soft::Value(7)));
        assert_eq!(soft_value(b"=="), None);
    }

    #[test]
    fn clamps_to_the_hard_limit() {
        let (_, hard) = getrlimit(Resource::RLIMIT_CORE).unwrap();
        set(Resource::RLIMIT_CORE, Soft::Value(u64::MAX)).unwrap();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap().0, hard);
        set(Resource::RLIMIT_CORE, Soft::Value(0)).unwrap();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap().0, 0);
        set(Resource::RLIMIT_CORE, Soft::Hard).unwrap();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap().0, hard);
    }
}
