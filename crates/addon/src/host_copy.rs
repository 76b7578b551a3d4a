//! copy_file_range(2) between two host fds the sentry holds (files the gofer donated): the
//! sandbox's copy_file_range and sendfile between two such files become one host call, the
//! data never leaving the host kernel (no sentry buffer, no copy through the memory file).
//! Node has no binding for it.

use napi_derive::napi;
use std::io;

/// Bytes copied from `fd_in` at `off_in` to `fd_out` at `off_out`, at most `len` (short at the
/// input's end; 0 there), or -errno when the host refused before any byte (EXDEV, EINVAL,
/// EOPNOTSUPP: the caller copies another way). Positioned on both sides: neither fd's own
/// offset moves. EINTR is retried.
#[napi]
pub fn host_copy_file_range(fd_in: i32, off_in: f64, fd_out: i32, off_out: f64, len: f64) -> f64 {
    let whole = |v: f64| v.fract() == 0.0 && (0.0..=9007199254740991.0).contains(&v);
    if !whole(off_in) || !whole(off_out) || !whole(len) {
        return -(libc::EINVAL as f64);
    }
    let mut inp = off_in as libc::loff_t;
    let mut out = off_out as libc::loff_t;
    // Linux's own bound on one call (MAX_RW_COUNT).
    let mut left = (len as u64).min(0x7fff_f000) as usize;
    let mut done = 0usize;
    while left > 0 {
        // SAFETY: plain syscall; the two offsets are our own locals, which the kernel updates.
        let r = unsafe { libc::copy_file_range(fd_in, &mut inp, fd_out, &mut out, left, 0) };
        if r < 0 {
            let e = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
            if e == libc::EINTR {
                continue;
            }
            return if done > 0 { done as f64 } else { -(e as f64) };
        }
        if r == 0 {
            break;
        }
        done += r as usize;
        left -= r as usize;
    }
    done as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::AsRawFd;

    #[test]
    fn copies_positioned_and_stops_at_the_end() {
        let dir = std::env::temp_dir().join(format!("tsvisor-host-copy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("a")).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        a.write_all(&data).unwrap();
        let mut b = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("b")).unwrap();
        a.seek(SeekFrom::Start(5)).unwrap();
        assert_eq!(host_copy_file_range(a.as_raw_fd(), 100.0, b.as_raw_fd(), 10.0, 1e6), (300_000 - 100) as f64);
        assert_eq!(a.stream_position().unwrap(), 5, "the input's own offset stays");
        assert_eq!(b.stream_position().unwrap(), 0, "the output's own offset stays");
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(&got[10..], &data[100..]);
        assert!(got[..10].iter().all(|&x| x == 0));
        assert_eq!(host_copy_file_range(a.as_raw_fd(), 300_000.0, b.as_raw_fd(), 0.0, 10.0), 0.0);
        assert_eq!(host_copy_file_range(-1, 0.0, b.as_raw_fd(), 0.0, 10.0), -(libc::EBADF as f64));
        for bad in [-1.0, 0.5, f64::NAN, 1e300] {
            assert_eq!(host_copy_file_range(a.as_raw_fd(), bad, b.as_raw_fd(), 0.0, 10.0), -(libc::EINVAL as f64));
            assert_eq!(host_copy_file_range(a.as_raw_fd(), 0.0, b.as_raw_fd(), 0.0, bad), -(libc::EINVAL as f64));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
