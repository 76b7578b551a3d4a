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

    /// Fixed-seed fuzz of the arguments the sentry could pass: every answer is a byte count
    /// within len or -errno, and nothing but the scratch output file is written.
    #[test]
    fn hostile_arguments_get_an_errno_or_a_count() {
        let dir = std::env::temp_dir().join(format!("tsvisor-host-copy-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = File::create(dir.join("a")).unwrap();
        a.write_all(&[7u8; 10_000]).unwrap();
        let a = File::open(dir.join("a")).unwrap();
        let b = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("b")).unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pick = |r: u64| -> f64 {
            match r % 8 {
                0 => -((r >> 8) as f64),
                1 => f64::NAN,
                2 => f64::INFINITY,
                3 => (r >> 12) as f64 + 0.25,
                4 => ((r >> 8) % 20_000) as f64,
                5 => 9007199254740992.0,
                6 => 0.0,
                _ => ((r >> 8) % 4096) as f64,
            }
        };
        let d = File::open(&dir).unwrap();
        let fds = [a.as_raw_fd(), b.as_raw_fd(), -1, 1_000_000, d.as_raw_fd()];
        for _ in 0..2000 {
            let (fi, fo) = (fds[(next() % 5) as usize], fds[(next() % 5) as usize]);
            let (oi, oo, len) = (pick(next()), pick(next()), pick(next()));
            let r = host_copy_file_range(fi, oi, fo, oo, len);
            assert!(r.fract() == 0.0, "{r}");
            if r >= 0.0 {
                assert!(len.is_finite() && r <= len, "{r} of {len}");
            } else {
                assert!(-r >= 1.0 && -r < 4096.0, "{r}");
            }
        }
        assert!(std::fs::metadata(dir.join("a")).unwrap().len() == 10_000, "the input is never written");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
