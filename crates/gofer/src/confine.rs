//! Confinement before serving (PROTOCOL.md): a private mount namespace (inside a new user
//! namespace when not root) whose root is a fresh tmpfs holding only the served trees,
//! bind-cloned with nodev,nosuid (and rdonly for :ro trees), entered with pivot_root and the old
//! root detached; no network namespace peers; every fd but the socket and the log closed;
//! capabilities cut to those the trees need; no new privileges. Seccomp comes last, from
//! main, once the server is built. Where namespaces are refused it falls back to chroot (one
//! tree) and says so in the debug log.

use crate::args::{Args, TreeArg};
use crate::host::errno;
use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn note(log: &mut Option<&mut File>, line: &str) {
    if let Some(l) = log.as_mut() {
        let _ = writeln!(l, "confine: {line}");
    }
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::from_raw_os_error(errno()))
}

fn open_dir(path: &str) -> Result<OwnedFd, String> {
    let c = CString::new(path).map_err(|_| format!("{path}: NUL in path"))?;
    crate::host::openat(libc::AT_FDCWD, &c, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| format!("{path}: {}", std::io::Error::from_raw_os_error(e)))
}

/// Close every fd above 2 except `keep` (close_range around them).
pub fn close_other_fds(keep: &[i32]) {
    let mut keep: Vec<u32> = keep.iter().map(|&k| k as u32).collect();
    keep.sort_unstable();
    let mut lo = 3u32;
    for k in keep.into_iter().filter(|&k| k >= 3) {
        if k > lo {
            // SAFETY: closes fds this process does not use (all it uses are in `keep`).
            unsafe { libc::syscall(libc::SYS_close_range, lo, k - 1, 0) };
        }
        lo = k + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, lo, u32::MAX, 0) };
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))
}

/// A new user namespace mapping our own uid/gid to themselves (files of other owners then
/// read as the overflow id, as in rootless runsc), plus a mount namespace.
fn enter_namespaces(root: bool) -> Result<&'static str, String> {
    if root {
        // SAFETY: unshare has no memory preconditions.
        if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET) } != 0 {
            return Err(err("unshare(CLONE_NEWNS|CLONE_NEWNET)"));
        }
        return Ok("mount+net namespace");
    }
    // SAFETY: getuid/getgid/unshare have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWNET) } != 0 {
        return Err(err("unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWNET)"));
    }
    write_file("/proc/self/setgroups", "deny")?;
    write_file("/proc/self/uid_map", &format!("{uid} {uid} 1"))?;
    write_file("/proc/self/gid_map", &format!("{gid} {gid} 1"))?;
    Ok("user+mount+net namespace")
}

const OPEN_TREE_CLONE: u32 = 1;
const AT_RECURSIVE: u32 = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 4;
const MOUNT_ATTR_RDONLY: u64 = 1;
const MOUNT_ATTR_NOSUID: u64 = 2;
const MOUNT_ATTR_NODEV: u64 = 4;

/// A detached recursive copy of the mount tree at `path`, made nodev,nosuid(,rdonly) throughout.
fn clone_tree(path: &str, ro: bool) -> Result<OwnedFd, String> {
    let p = cs(path);
    // SAFETY: open_tree(2) returns a new fd for a detached mount; flags are constants.
    let fd = unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, p.as_ptr(), OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as u32)
    };
    if fd < 0 {
        return Err(err(&format!("open_tree({path})")));
    }
    // SAFETY: fd was just returned to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    #[repr(C)]
    struct MountAttr {
        set: u64,
        clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attr = MountAttr {
        set: MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | if ro { MOUNT_ATTR_RDONLY } else { 0 },
        clr: 0,
        propagation: libc::MS_PRIVATE,
        userns_fd: 0,
    };
    let e = cs("");
    // SAFETY: mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, size) on our detached tree.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            e.as_ptr(),
            libc::AT_EMPTY_PATH as u32 | AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r != 0 {
        return Err(err(&format!("mount_setattr({path})")));
    }
    Ok(fd)
}

fn mount(src: &str, target: &str, fstype: &str, flags: u64, data: &str) -> Result<(), String> {
    let (s, t, f, d) = (cs(src), cs(target), cs(fstype), cs(data));
    // SAFETY: all strings are valid C strings for the call's duration.
    if unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), flags, d.as_ptr().cast()) } != 0 {
        return Err(err(&format!("mount {fstype} on {target}")));
    }
    Ok(())
}

/// Where the new root's tmpfs is mounted (in our private namespace, so the host never sees
/// it): a served directory other than `/` (a mount on `/` itself would not be crossed into by
/// a lookup of `/`), else the first of a few directories every Linux host has.
fn tmpfs_base(a: &Args) -> Result<String, String> {
    let fixed = ["/tmp", "/mnt", "/dev", "/run", "/proc"];
    let candidates = a.trees.iter().map(|t| t.dir.as_str()).filter(|d| !d.trim_end_matches('/').is_empty()).chain(fixed);
    for c in candidates {
        if std::fs::metadata(c).map(|m| m.is_dir()).unwrap_or(false) {
            return Ok(c.to_string());
        }
    }
    Err("no directory to mount the new root on".into())
}

const TMPFS_MAGIC: i64 = 0x0102_1994;

/// The new root: a tmpfs holding /0, /1, ... the trees' clones; pivot_root into it, detach
/// the old root.
fn pivot(a: &Args) -> Result<(), String> {
    mount("", "/", "", libc::MS_REC | libc::MS_PRIVATE, "")?;
    let clones = a.trees.iter().map(|t| clone_tree(&t.dir, t.ro)).collect::<Result<Vec<_>, _>>()?;
    let base = tmpfs_base(a)?;
    mount("tsvisor-gofer", &base, "tmpfs", libc::MS_NODEV | libc::MS_NOSUID | libc::MS_NOEXEC, "mode=0755,size=64k")?;
    std::env::set_current_dir(&base).map_err(|e| format!("chdir {base}: {e}"))?;
    // Never make the mount points anywhere but in our own tmpfs.
    let dot = cs(".");
    let cwd = crate::host::openat(libc::AT_FDCWD, &dot, libc::O_PATH | libc::O_DIRECTORY, 0).map_err(|_| err("open ."))?;
    let fs = crate::host::fstatfs(cwd.as_raw_fd()).map_err(|_| err("fstatfs ."))?;
    if fs.f_type as i64 != TMPFS_MAGIC {
        return Err(format!("{base}: the new root is not our tmpfs"));
    }
    for (i, fd) in clones.iter().enumerate() {
        let name = cs(&i.to_string());
        // SAFETY: mkdirat relative to the cwd (our tmpfs); move_mount attaches our detached tree.
        unsafe {
            if libc::mkdirat(libc::AT_FDCWD, name.as_ptr(), 0o755) != 0 {
                return Err(err("mkdir in the new root"));
            }
            let e = cs("");
            if libc::syscall(
                libc::SYS_move_mount,
                fd.as_raw_fd(),
                e.as_ptr(),
                libc::AT_FDCWD,
                name.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            ) != 0
            {
                return Err(err("move_mount of a tree"));
            }
        }
    }
    // SAFETY: pivot_root(".", ".") stacks the old root over the new one; the detach removes it.
    unsafe {
        if libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) != 0 {
            return Err(err("pivot_root"));
        }
        if libc::umount2(dot.as_ptr(), libc::MNT_DETACH) != 0 {
            return Err(err("detach the old root"));
        }
    }
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))?;
    // The tmpfs root itself read-only now that the mount points exist.
    mount("", "/", "", libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NODEV | libc::MS_NOSUID | libc::MS_NOEXEC, "")?;
    Ok(())
}

/// Capabilities kept (decided in PROTOCOL.md): read-only trees need only to read and search
/// any file; writable ones also to own, chmod and write what the sentry already allowed.
const CAP_CHOWN: u32 = 0;
const CAP_DAC_OVERRIDE: u32 = 1;
const CAP_DAC_READ_SEARCH: u32 = 2;
const CAP_FOWNER: u32 = 3;
const CAP_FSETID: u32 = 4;

fn keep_caps(any_rw: bool) -> Vec<u32> {
    let mut v = vec![CAP_DAC_READ_SEARCH];
    if any_rw {
        v.extend([CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID]);
    }
    v
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

/// The permitted set, as a mask over the two 32-bit words.
fn permitted_caps() -> Result<u64, String> {
    let mut hdr = CapHeader { version: CAP_V3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) with a v3 header and room for its two data words.
    if unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) } != 0 {
        return Err(err("capget"));
    }
    Ok(u64::from(data[0].permitted) | (u64::from(data[1].permitted) << 32))
}

/// Cuts the capabilities to those of `keep` the gofer has: an unprivileged gofer that could not
/// make a user namespace has none, and asking for one it lacks would be EPERM. Returns the kept.
fn drop_caps(keep: &[u32]) -> Result<Vec<u32>, String> {
    let have = permitted_caps()?;
    let keep: Vec<u32> = keep.iter().copied().filter(|&c| have & (1u64 << c) != 0).collect();
    for c in 0..64u32 {
        if !keep.contains(&c) {
            // SAFETY: prctl with integer arguments; EINVAL past the last capability ends it.
            if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, c as libc::c_ulong, 0, 0, 0) } != 0 && errno() == libc::EINVAL {
                break;
            }
        }
    }
    // SAFETY: clears the ambient set; integer arguments.
    unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) };
    let mut mask = [0u32; 2];
    for &c in &keep {
        mask[(c / 32) as usize] |= 1 << (c % 32);
    }
    let hdr = CapHeader { version: CAP_V3, pid: 0 };
    let data = [0, 1].map(|i| CapData { effective: mask[i], permitted: mask[i], inheritable: 0 });
    // SAFETY: capset(2) with a v3 header and two data words.
    if unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) } != 0 {
        return Err(err("capset"));
    }
    // SAFETY: integer prctl.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(err("PR_SET_NO_NEW_PRIVS"));
    }
    Ok(keep)
}

/// Where namespaces are refused: chroot into the one tree (true), or nothing but the
/// component-wise lookups and seccomp (false), said in the log either way.
fn chroot_fallback(a: &Args, log: &mut Option<&mut File>, why: &str) -> Result<bool, String> {
    if a.trees.len() != 1 {
        note(log, &format!("no mount namespace ({why}) and {} trees: no chroot possible, path discipline only", a.trees.len()));
        return Ok(false);
    }
    let d = cs(&a.trees[0].dir);
    // SAFETY: chroot with a valid path.
    if unsafe { libc::chroot(d.as_ptr()) } != 0 {
        note(log, &format!("no mount namespace ({why}); {}: path discipline only", err("chroot")));
        return Ok(false);
    }
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))?;
    note(log, &format!("chroot {} ({why})", a.trees[0].dir));
    Ok(true)
}

/// Returns each tree with the O_PATH fd of its root, as seen from inside the confinement.
pub fn confine(a: &Args, mut log: Option<&mut File>) -> Result<Vec<(TreeArg, OwnedFd)>, String> {
    // SAFETY: umask/geteuid have no preconditions; modes from the wire are applied exactly.
    let root = unsafe {
        libc::umask(0);
        libc::geteuid() == 0
    };
    for t in &a.trees {
        open_dir(&t.dir)?; // a missing tree is a usage error, before anything changes
    }
    // Every fid holds an fd or two: as many as the hard limit allows.
    // SAFETY: rlimit is plain data.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
    let mut paths: Vec<String> = a.trees.iter().map(|t| t.dir.clone()).collect();
    match enter_namespaces(root) {
        Ok(what) => {
            note(&mut log, what);
            pivot(a)?;
            note(&mut log, &format!("pivot_root into a tmpfs holding {} tree(s); old root detached", a.trees.len()));
            paths = (0..a.trees.len()).map(|i| format!("/{i}")).collect();
        }
        Err(why) => {
            if chroot_fallback(a, &mut log, &why)? {
                paths = vec!["/".into()];
            }
        }
    }
    let mut out = Vec::new();
    for (t, p) in a.trees.iter().zip(&paths) {
        out.push((TreeArg { name: t.name.clone(), dir: t.dir.clone(), ro: t.ro }, open_dir(p)?));
    }
    let mut keep: Vec<i32> = out.iter().map(|(_, fd)| fd.as_raw_fd()).collect();
    keep.push(a.sock_fd);
    if let Some(l) = log.as_ref() {
        keep.push(l.as_raw_fd());
    }
    close_other_fds(&keep);
    note(&mut log, "fds closed but the socket and the log");
    let caps = drop_caps(&keep_caps(a.trees.iter().any(|t| !t.ro)))?;
    note(&mut log, &format!("capabilities kept: {caps:?}; no_new_privs"));
    Ok(out)
}
