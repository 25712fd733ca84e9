//! File systems of a test's own: a small tmpfs that fills up, an ext4 for `chattr +i`.

use crate::{kill_processes_under, reference, run, Scratch};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A small tmpfs mounted for a test (the tests run as root), unmounted (lazily, after killing
/// what runs under it) when dropped: a disk that fills up.
pub struct Tmpfs {
    /// The mount point.
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB at `path` (created).
    pub fn mount(path: &Path, kib: usize) -> Tmpfs {
        use nix::mount::{mount, MsFlags};
        fs::create_dir_all(path).expect("mkdir mount point");
        let opts = format!("size={kib}k,mode=0755");
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::empty(),
            Some(opts.as_str()),
        )
        .unwrap_or_else(|e| panic!("mount tmpfs on {} (tests run as root): {e}", path.display()));
        Tmpfs {
            path: path.to_path_buf(),
        }
    }

    /// Bytes still free on it.
    pub fn free(&self) -> u64 {
        let st = nix::sys::statvfs::statvfs(&self.path).expect("statvfs");
        st.blocks_available() * st.fragment_size()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        kill_processes_under(&self.path);
        let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A small ext4 file system of a test's own, on a loop device over an image in the scratch
/// directory: for what the file system the scratch directory is on may lack (`chattr +i` on
/// tmpfs, btrfs, overlayfs) or should not be (mounted `sync`). On drop, what runs under it is
/// killed, it is unmounted and the loop device is released.
pub struct Ext4 {
    /// The mount point.
    pub path: PathBuf,
    /// The loop device (`/dev/loopN`).
    pub dev: String,
}

impl Ext4 {
    /// Makes a `mib` MiB ext4 image `NAME.img` in `s` and mounts it (with `flags`) on `at`
    /// (created). Fails loudly without mkfs.ext4 (e2fsprogs), losetup (mount) or a free loop
    /// device; the tests run as root.
    pub fn mount(s: &Scratch, name: &str, at: &Path, mib: u64, flags: nix::mount::MsFlags) -> Ext4 {
        let t = Duration::from_secs(60);
        let img = s.join(format!("{name}.img"));
        fs::File::create(&img)
            .and_then(|f| f.set_len(mib << 20))
            .expect("disk image");
        let out = run(
            Command::new(reference("/sbin/mkfs.ext4"))
                .args(["-q", "-F"])
                .arg(&img),
            t,
        );
        assert!(out.status.success(), "mkfs.ext4: {out:?}");
        let out = run(
            Command::new(reference("/sbin/losetup"))
                .args(["-f", "--show"])
                .arg(&img),
            t,
        );
        assert!(
            out.status.success(),
            "losetup (needs a free loop device): {out:?}"
        );
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        fs::create_dir_all(at).expect("mkdir mount point");
        // From here on, drop undoes what was done.
        let disk = Ext4 {
            path: at.to_path_buf(),
            dev,
        };
        nix::mount::mount(
            Some(Path::new(&disk.dev)),
            at,
            Some("ext4"),
            flags,
            None::<&str>,
        )
        .unwrap_or_else(|e| panic!("mount {} on {}: {e}", disk.dev, at.display()));
        disk
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        kill_processes_under(&self.path);
        let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
        // Still busy (a lazy unmount): the kernel frees it once the last user has gone.
        let _ = Command::new("/sbin/losetup")
            .arg("-d")
            .arg(&self.dev)
            .output();
    }
}
