//! User and group specifications: chpst's `[:]user[:group[:group...]]` and daemontools'
//! plain account names, and dropping privileges in the safe order.

use nix::errno::Errno;
use nix::unistd::{setgid, setgroups, setuid, Gid, Group, Uid, User};

/// At most this many groups in a specification (runit's limit).
pub const MAX_GROUPS: usize = 60;

/// A uid and the gids to run with; the first gid is the primary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UidGid {
    /// The user id.
    pub uid: u32,
    /// The primary gid followed by the supplementary ones (never empty).
    pub gids: Vec<u32>,
}

/// Why a specification did not resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// A numeric `:uid:gid...` that does not parse; carries the text after the colon.
    Invalid(Vec<u8>),
    /// The passwd or group lookup itself failed.
    Sys(Errno),
    /// No such user or group.
    Unknown,
}

fn user(name: &[u8]) -> Result<User, LookupError> {
    let name = std::str::from_utf8(name).map_err(|_| LookupError::Unknown)?;
    if name.is_empty() {
        return Err(LookupError::Unknown);
    }
    match User::from_name(name) {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(LookupError::Unknown),
        Err(e) => Err(LookupError::Sys(e)),
    }
}

fn group(name: &[u8]) -> Result<u32, LookupError> {
    let name = std::str::from_utf8(name).map_err(|_| LookupError::Unknown)?;
    if name.is_empty() {
        return Err(LookupError::Unknown);
    }
    match Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        Ok(None) => Err(LookupError::Unknown),
        Err(e) => Err(LookupError::Sys(e)),
    }
}

/// A decimal id where an empty field means 0, as runit reads `:uid:gid` (overflow is invalid).
fn number(field: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in field {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

/// Resolves chpst's `-u`/`-U` argument. `:uid:gid[:gid...]` is numeric with no lookup (at
/// least one gid; an empty field is 0). `user` alone takes the passwd entry's uid and primary
/// gid (and only that group); `user:group[:group...]` takes the named groups.
pub fn parse_ext(spec: &[u8]) -> Result<UidGid, LookupError> {
    if let Some(rest) = spec.strip_prefix(b":") {
        let invalid = || LookupError::Invalid(rest.to_vec());
        let mut fields = rest.split(|&c| c == b':');
        let uid = fields.next().and_then(number).ok_or_else(invalid)?;
        let gids: Vec<u32> = fields
            .map(number)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        if gids.is_empty() || gids.len() > MAX_GROUPS {
            return Err(invalid());
        }
        return Ok(UidGid { uid, gids });
    }
    let mut fields = spec.split(|&c| c == b':');
    let u = user(fields.next().unwrap_or_default())?;
    let mut gids = Vec::new();
    for g in fields {
        gids.push(group(g)?);
        if gids.len() > MAX_GROUPS {
            return Err(LookupError::Unknown);
        }
    }
    if gids.is_empty() {
        gids.push(u.gid.as_raw());
    }
    Ok(UidGid {
        uid: u.uid.as_raw(),
        gids,
    })
}

/// Resolves a daemontools account name (passwd only, no `:group`).
pub fn account(name: &[u8]) -> Result<UidGid, LookupError> {
    let u = user(name)?;
    Ok(UidGid {
        uid: u.uid.as_raw(),
        gids: vec![u.gid.as_raw()],
    })
}

/// Which call of [`drop_privileges`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropStep {
    /// setgroups.
    Groups,
    /// setgid.
    Gid,
    /// setuid.
    Uid,
}

/// Becomes `ug`: supplementary groups first, then the gid, then the uid, so no step runs
/// with fewer privileges than it needs and none is left behind.
pub fn drop_privileges(ug: &UidGid) -> Result<(), (DropStep, Errno)> {
    let gids: Vec<Gid> = ug.gids.iter().map(|&g| Gid::from_raw(g)).collect();
    setgroups(&gids).map_err(|e| (DropStep::Groups, e))?;
    setgid(gids[0]).map_err(|e| (DropStep::Gid, e))?;
    setuid(Uid::from_raw(ug.uid)).map_err(|e| (DropStep::Uid, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &str) -> Result<UidGid, LookupError> {
        parse_ext(s.as_bytes())
    }

    #[test]
    fn numeric_forms_measured_from_runit() {
        assert_eq!(
            ids(":1234:5678:910").unwrap(),
            UidGid {
                uid: 1234,
                gids: vec![5678, 910]
            }
        );
        assert_eq!(
            ids(":1234:").unwrap(),
            UidGid {
                uid: 1234,
                gids: vec![0]
            }
        );
        assert_eq!(
            ids("::5").unwrap(),
            UidGid {
                uid: 0,
                gids: vec![5]
            }
        );
        assert_eq!(
            ids(":1:2::3").unwrap(),
            UidGid {
                uid: 1,
                gids: vec![2, 0, 3]
            }
        );
        assert_eq!(ids(":1234"), Err(LookupError::Invalid(b"1234".to_vec())));
        assert_eq!(ids(":"), Err(LookupError::Invalid(Vec::new())));
        assert_eq!(ids(":12x"), Err(LookupError::Invalid(b"12x".to_vec())));
        assert_eq!(
            ids(":1234:5x"),
            Err(LookupError::Invalid(b"1234:5x".to_vec()))
        );
        assert!(matches!(
            ids(":99999999999:1"),
            Err(LookupError::Invalid(_))
        ));
        let many = format!(":1{}", ":2".repeat(61));
        assert!(matches!(ids(&many), Err(LookupError::Invalid(_))));
    }

    #[test]
    fn names() {
        let root = ids("root").unwrap();
        assert_eq!(
            root,
            UidGid {
                uid: 0,
                gids: vec![0]
            }
        );
        assert_eq!(ids("root:root:root").unwrap().gids, vec![0, 0]);
        assert_eq!(ids("root:"), Err(LookupError::Unknown));
        assert_eq!(ids("no-such-user-here"), Err(LookupError::Unknown));
        assert_eq!(ids("root:no-such-group-here"), Err(LookupError::Unknown));
        assert_eq!(ids(""), Err(LookupError::Unknown));
        assert_eq!(account(b"root:root"), Err(LookupError::Unknown));
    }
}
