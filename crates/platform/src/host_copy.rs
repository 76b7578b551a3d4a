//! copy_file_range(2) between two host fds the sentry holds (files the gofer donated): the
//! sandbox's copy_file_range and sendfile between two such files become host calls that keep
//! the data in the host kernel (no sentry buffer, no copy through the memory file).

use std::io;

/// Linux's bound on one read or write (MAX_RW_COUNT).
const MAX_RW_COUNT: usize = 0x7fff_f000;

/// Bytes copied from `fd_in` at `off_in` to `fd_out` at `off_out`, at most `len` (short at the
/// input's end; 0 there), or the errno the host refused with before any byte (EXDEV, EINVAL,
/// EOPNOTSUPP: the caller copies another way). Positioned on both sides: neither fd's own
/// offset moves. EINTR is retried; an error after some bytes is the short count.
pub fn copy_file_range_at(fd_in: i32, off_in: u64, fd_out: i32, off_out: u64, len: u64) -> Result<usize, i32> {
    if off_in > i64::MAX as u64 || off_out > i64::MAX as u64 {
        return Err(libc::EINVAL);
    }
    let mut inp = off_in as libc::loff_t;
    let mut out = off_out as libc::loff_t;
    let mut left = len.min(MAX_RW_COUNT as u64) as usize;
    let mut done = 0usize;
    while left > 0 {
        // SAFETY: plain syscall; the two offsets are our own locals, which the kernel updates.
        let r = unsafe { libc::copy_file_range(fd_in, &mut inp, fd_out, &mut out, left, 0) };
        if r < 0 {
            let e = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
            if e == libc::EINTR {
                continue;
            }
            return if done > 0 { Ok(done) } else { Err(e) };
        }
        if r == 0 {
            break;
        }
        done += r as usize;
        left -= r as usize;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::AsRawFd;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tsvisor-host-copy-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn copies_positioned_and_stops_at_the_end() {
        let dir = scratch("basic");
        let mut a = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("a")).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        a.write_all(&data).unwrap();
        let mut b = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("b")).unwrap();
        a.seek(SeekFrom::Start(5)).unwrap();
        assert_eq!(copy_file_range_at(a.as_raw_fd(), 100, b.as_raw_fd(), 10, 1 << 20), Ok(300_000 - 100));
        assert_eq!(a.stream_position().unwrap(), 5, "the input's own offset stays");
        assert_eq!(b.stream_position().unwrap(), 0, "the output's own offset stays");
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(&got[10..], &data[100..]);
        assert!(got[..10].iter().all(|&x| x == 0));
        assert_eq!(copy_file_range_at(a.as_raw_fd(), 300_000, b.as_raw_fd(), 0, 10), Ok(0));
        assert_eq!(copy_file_range_at(-1, 0, b.as_raw_fd(), 0, 10), Err(libc::EBADF));
        assert_eq!(copy_file_range_at(a.as_raw_fd(), 1 << 63, b.as_raw_fd(), 0, 10), Err(libc::EINVAL));
        assert_eq!(copy_file_range_at(a.as_raw_fd(), 0, b.as_raw_fd(), u64::MAX, 10), Err(libc::EINVAL));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Fixed-seed fuzz of what the sentry could pass: every answer is a count within len or
    /// an errno, and the input file is never written.
    #[test]
    fn hostile_arguments_get_an_errno_or_a_count() {
        let dir = scratch("fuzz");
        File::create(dir.join("a")).unwrap().write_all(&[7u8; 10_000]).unwrap();
        let a = File::open(dir.join("a")).unwrap();
        let b = File::options().read(true).write(true).create(true).truncate(true).open(dir.join("b")).unwrap();
        let d = File::open(&dir).unwrap();
        let fds = [a.as_raw_fd(), b.as_raw_fd(), -1, 1_000_000, d.as_raw_fd()];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pick = |r: u64| -> u64 {
            match r % 6 {
                0 => u64::MAX - (r >> 40),
                1 => 1 << 63,
                2 => (r >> 8) % 20_000,
                3 => 0,
                4 => i64::MAX as u64,
                _ => (r >> 8) % 4096,
            }
        };
        for _ in 0..2000 {
            let (fi, fo) = (fds[(next() % 5) as usize], fds[(next() % 5) as usize]);
            let (oi, oo, len) = (pick(next()), pick(next()), pick(next()));
            match copy_file_range_at(fi, oi, fo, oo, len) {
                Ok(n) => assert!(n as u64 <= len),
                Err(e) => assert!(e > 0 && e < 4096, "{e}"),
            }
        }
        assert_eq!(std::fs::metadata(dir.join("a")).unwrap().len(), 10_000, "the input is never written");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
