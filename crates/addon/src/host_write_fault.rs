//! A write to a host file whose source faults at its first byte, for ts/fsimpl/gofer/
//! direct_io.ts: an application's write(2) to a donated fd whose buffer is unmapped is handed
//! to the host's file system as such, so that it does what it does natively (ext4 and tmpfs on
//! Linux 6.18 run write_begin/write_end with nothing copied: a file shorter than the offset
//! grows to it; another file system may leave it) and answers EFAULT.

use napi_derive::napi;

/// pwrite(2) of `len` bytes from an address that faults (NULL: never mapped in the sentry,
/// whose mmap_min_addr keeps page 0 out) to host fd `fd` at `off`: -errno (EFAULT when the
/// host got as far as the copy), or the bytes written (0 for len 0; never more). Numbers that
/// are not whole non-negative values below 2^53 are EINVAL.
#[napi]
pub fn host_pwrite_faulting(fd: i32, off: f64, len: f64) -> f64 {
    let whole = |v: f64| v.fract() == 0.0 && (0.0..=9007199254740991.0).contains(&v);
    if !whole(off) || !whole(len) {
        return -(libc::EINVAL as f64);
    }
    // Past one page the answer is the same: the copy stops at the first byte.
    let len = (len as usize).min(4096);
    // SAFETY: the kernel reads the source through copy_from_user, which fails on the
    // unmapped address with EFAULT; nothing in this process is read or written.
    let r = unsafe { libc::pwrite(fd, std::ptr::null(), len, off as libc::off_t) };
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as f64)
    } else {
        r as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn faults_and_leaves_what_the_host_does() {
        let dir = std::env::temp_dir().join(format!("tsvisor-wfault-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, b"abc").unwrap();
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&p).unwrap();
        assert_eq!(host_pwrite_faulting(f.as_raw_fd(), 10000.0, 100.0), -(libc::EFAULT as f64));
        // Whatever the host's file system did with the size, the bytes before are intact.
        let got = std::fs::read(&p).unwrap();
        assert_eq!(&got[..3], b"abc");
        assert!(got[3..].iter().all(|&b| b == 0));
        assert_eq!(host_pwrite_faulting(f.as_raw_fd(), 0.5, 1.0), -(libc::EINVAL as f64));
        assert_eq!(host_pwrite_faulting(-1, 0.0, 1.0), -(libc::EBADF as f64));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
