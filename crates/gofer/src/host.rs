//! Thin wrappers over the host syscalls the server makes, returning the errno on failure.
//! Every path argument is one name component checked by `check_name`; fds are O_PATH or opened
//! by the gofer itself. Nothing here follows a symlink.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

pub type Errno = i32;
pub type R<T> = Result<T, Errno>;

pub fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn cvt(r: libc::c_long) -> R<libc::c_long> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// A single path component from the wire: no `/`, no NUL, not empty, `.` or `..`.
pub fn check_name(name: &[u8]) -> R<CString> {
    if name.is_empty() || name == b"." || name == b".." || name.len() > 255 || name.contains(&b'/') {
        return Err(libc::EINVAL);
    }
    CString::new(name).map_err(|_| libc::EINVAL)
}

pub fn empty() -> CString {
    CString::new("").unwrap()
}

pub fn openat(dir: RawFd, name: &CString, flags: i32, mode: u32) -> R<OwnedFd> {
    // SAFETY: name is a valid C string; the kernel returns a new fd we own.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: fd was just returned by openat and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn open_path(dir: RawFd, name: &CString) -> R<OwnedFd> {
    openat(dir, name, libc::O_PATH | libc::O_NOFOLLOW, 0)
}

pub fn fstat(fd: RawFd) -> R<libc::stat> {
    // SAFETY: stat is plain data; fstatat with AT_EMPTY_PATH on "" stats the fd itself (O_PATH ok).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let e = empty();
    cvt(unsafe { libc::fstatat(fd, e.as_ptr(), &mut st, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) } as _)?;
    Ok(st)
}

pub fn fstatat(dir: RawFd, name: &CString) -> R<libc::stat> {
    // SAFETY: as above, name is a single component, not followed.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    cvt(unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } as _)?;
    Ok(st)
}

pub fn fstatfs(fd: RawFd) -> R<libc::statfs> {
    // SAFETY: statfs is plain data filled by the kernel.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    cvt(unsafe { libc::fstatfs(fd, &mut st) } as _)?;
    Ok(st)
}

pub fn readlink(fd: RawFd) -> R<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let e = empty();
    // SAFETY: buf is writable for its length; "" with an O_PATH symlink fd reads that link.
    let n = cvt(unsafe { libc::readlinkat(fd, e.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) } as _)?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// The text of symlink `name` in directory dir (one component, never followed).
pub fn readlinkat(dir: RawFd, name: &CString) -> R<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf is writable for its length; name is a single component of dir.
    let n = cvt(unsafe { libc::readlinkat(dir, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) } as _)?;
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn pread(fd: RawFd, buf: &mut [u8], off: u64) -> R<usize> {
    let off = i64::try_from(off).map_err(|_| libc::EINVAL)?;
    // SAFETY: buf is writable for its length.
    Ok(cvt(unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), off) } as _)? as usize)
}

pub fn pwrite(fd: RawFd, buf: &[u8], off: u64, append: bool) -> R<usize> {
    // SAFETY: buf is readable for its length.
    let n = if append {
        unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }
    } else {
        let off = i64::try_from(off).map_err(|_| libc::EINVAL)?;
        unsafe { libc::pwrite(fd, buf.as_ptr().cast(), buf.len(), off) }
    };
    Ok(cvt(n as _)? as usize)
}

/// One getdents64 record: inode, the offset (cookie) of the next one, d_type, name.
pub type Dirent = (u64, u64, u8, Vec<u8>);

/// Raw getdents64 at a directory offset.
pub fn getdents(fd: RawFd, off: u64, max: usize) -> R<Vec<Dirent>> {
    // SAFETY: lseek on our own directory fd.
    cvt(unsafe { libc::lseek(fd, off as i64, libc::SEEK_SET) } as _)?;
    let mut buf = vec![0u8; max.clamp(512, 64 * 1024)];
    // SAFETY: buf is writable for its length; the kernel fills linux_dirent64 records.
    let n = cvt(unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) })? as usize;
    let mut out = Vec::new();
    let mut p = 0;
    while p + 19 <= n {
        let ino = u64::from_ne_bytes(buf[p..p + 8].try_into().unwrap());
        let doff = u64::from_ne_bytes(buf[p + 8..p + 16].try_into().unwrap());
        let reclen = u16::from_ne_bytes(buf[p + 16..p + 18].try_into().unwrap()) as usize;
        let ty = buf[p + 18];
        if reclen < 19 || p + reclen > n {
            break;
        }
        let name = &buf[p + 19..p + reclen];
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        out.push((ino, doff, ty, name[..len].to_vec()));
        p += reclen;
    }
    Ok(out)
}

pub fn mkdirat(dir: RawFd, name: &CString, mode: u32) -> R<()> {
    // SAFETY: single component, never follows.
    cvt(unsafe { libc::mkdirat(dir, name.as_ptr(), mode) } as _).map(drop)
}

pub fn symlinkat(target: &CString, dir: RawFd, name: &CString) -> R<()> {
    // SAFETY: the target is stored as text, not resolved.
    cvt(unsafe { libc::symlinkat(target.as_ptr(), dir, name.as_ptr()) } as _).map(drop)
}

pub fn mknodat(dir: RawFd, name: &CString, mode: u32, dev: u64) -> R<()> {
    // SAFETY: single component; the caller refuses device types.
    cvt(unsafe { libc::mknodat(dir, name.as_ptr(), mode, dev) } as _).map(drop)
}

pub fn linkat(olddir: RawFd, old: &CString, newdir: RawFd, new: &CString) -> R<()> {
    // SAFETY: flags 0: a symlink `old` is linked itself, not followed.
    cvt(unsafe { libc::linkat(olddir, old.as_ptr(), newdir, new.as_ptr(), 0) } as _).map(drop)
}

pub fn renameat(olddir: RawFd, old: &CString, newdir: RawFd, new: &CString, flags: u32) -> R<()> {
    // SAFETY: single components under directories held by fd; flags are renameat2's, checked
    // by the caller against the three Linux defines.
    // The syscall itself: glibc's renameat2 with flags 0 calls renameat, which seccomp kills.
    cvt(unsafe { libc::syscall(libc::SYS_renameat2, olddir, old.as_ptr(), newdir, new.as_ptr(), flags) } as _).map(drop)
}

pub fn unlinkat(dir: RawFd, name: &CString, flags: i32) -> R<()> {
    // SAFETY: single component.
    cvt(unsafe { libc::unlinkat(dir, name.as_ptr(), flags) } as _).map(drop)
}

pub fn fchown_fd(fd: RawFd, uid: u32, gid: u32) -> R<()> {
    let e = empty();
    // SAFETY: AT_EMPTY_PATH on an O_PATH fd changes that inode; NOFOLLOW keeps a link a link.
    cvt(unsafe { libc::fchownat(fd, e.as_ptr(), uid, gid, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) } as _)
        .map(drop)
}

pub fn fchownat(dir: RawFd, name: &CString, uid: u32, gid: u32) -> R<()> {
    // SAFETY: single component, not followed.
    cvt(unsafe { libc::fchownat(dir, name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) } as _).map(drop)
}

/// chmod of the inode an O_PATH fd holds: fchmodat2(AT_EMPTY_PATH) (Linux 6.6+).
pub fn fchmod_path(fd: RawFd, mode: u32) -> R<()> {
    let e = empty();
    // SAFETY: syscall 452 is fchmodat2(dirfd, path, mode, flags); "" + AT_EMPTY_PATH is the fd.
    cvt(unsafe { libc::syscall(452, fd, e.as_ptr(), mode, libc::AT_EMPTY_PATH) }).map(drop)
}

pub fn fchmod(fd: RawFd, mode: u32) -> R<()> {
    // SAFETY: fd is an fd the gofer opened.
    cvt(unsafe { libc::fchmod(fd, mode) } as _).map(drop)
}

pub fn ftruncate(fd: RawFd, size: u64) -> R<()> {
    let size = i64::try_from(size).map_err(|_| libc::EINVAL)?;
    // SAFETY: fd is a regular file the gofer opened for writing.
    cvt(unsafe { libc::ftruncate(fd, size) } as _).map(drop)
}

pub fn utimens_fd(fd: RawFd, times: &[libc::timespec; 2]) -> R<()> {
    let e = empty();
    // SAFETY: "" + AT_EMPTY_PATH applies to the fd's inode, never following a link.
    cvt(unsafe {
        libc::utimensat(fd, e.as_ptr(), times.as_ptr(), libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW)
    } as _)
    .map(drop)
}

pub fn fsync(fd: RawFd, datasync: bool) -> R<()> {
    // SAFETY: fd the gofer opened.
    cvt(unsafe { if datasync { libc::fdatasync(fd) } else { libc::fsync(fd) } } as _).map(drop)
}

/// Extended attributes on an fd the gofer opened (not O_PATH: f*xattr refuse those).
pub fn fgetxattr(fd: RawFd, name: &CString) -> R<Vec<u8>> {
    let mut buf = vec![0u8; 65536];
    // SAFETY: buf writable for its length.
    let n = cvt(unsafe { libc::fgetxattr(fd, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) } as _)?;
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn flistxattr(fd: RawFd) -> R<Vec<u8>> {
    let mut buf = vec![0u8; 65536];
    // SAFETY: buf writable for its length.
    let n = cvt(unsafe { libc::flistxattr(fd, buf.as_mut_ptr().cast(), buf.len()) } as _)?;
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn fsetxattr(fd: RawFd, name: &CString, value: &[u8], flags: i32) -> R<()> {
    // SAFETY: value readable for its length.
    cvt(unsafe { libc::fsetxattr(fd, name.as_ptr(), value.as_ptr().cast(), value.len(), flags) } as _).map(drop)
}

pub fn fremovexattr(fd: RawFd, name: &CString) -> R<()> {
    // SAFETY: plain name.
    cvt(unsafe { libc::fremovexattr(fd, name.as_ptr()) } as _).map(drop)
}

/// A copy of fd (close-on-exec) that the caller owns.
pub fn dup(fd: RawFd) -> R<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new fd we own.
    let n = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) } as _)?;
    // SAFETY: n was just returned and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(n as i32) })
}
