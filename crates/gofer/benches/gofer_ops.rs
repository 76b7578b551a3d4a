//! `cargo bench -p tsvisor-gofer`: what one gofer round trip costs next to the host syscall it
//! stands for. stat = Twalk, Tgetattr and Tclunk vs fstatat; open = Twalk, Tlopen (fd donated)
//! and Tclunk vs openat+close; 64 MiB sequential read through Tread (1 MiB msize) vs pread on the
//! donated fd vs pread natively. Prints ns per op and the ratio; asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;
use common::*;
use std::os::fd::AsRawFd;
use std::time::Instant;

fn per_op<F: FnMut()>(n: u32, mut f: F) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let d = tmpdir("bench");
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(d.join("a/b/small"), b"x".repeat(100)).unwrap();
    let big = vec![0x5au8; 64 << 20];
    std::fs::write(d.join("big"), &big).unwrap();
    let mut g = Gofer::spawn(&[("t", &d, false)]);
    g.version(1 << 20);
    g.attach(1, "t").unwrap();

    let n = 20000;
    // The floor: one round trip on a unix socketpair to an echoing thread.
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    let echo = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut m = [0u8; 16];
        while b.read_exact(&mut m).is_ok() {
            b.write_all(&m).unwrap();
        }
    });
    let pingpong = per_op(n, || {
        use std::io::{Read, Write};
        let mut m = [0u8; 16];
        a.write_all(&m).unwrap();
        a.read_exact(&mut m).unwrap();
    });
    drop(a);
    echo.join().unwrap();
    let getattr = per_op(n, || {
        g.getattr(1).unwrap();
    });
    let native_stat = per_op(n, || {
        std::fs::symlink_metadata(d.join("a/b/small")).unwrap();
    });
    let gofer_stat = per_op(n, || {
        g.walk(1, 2, &[b"a", b"b", b"small"]).unwrap();
        g.getattr(2).unwrap();
        g.clunk(2).unwrap();
    });
    let native_open = per_op(n, || {
        drop(std::fs::File::open(d.join("a/b/small")).unwrap());
    });
    let gofer_open = per_op(n, || {
        g.walk(1, 2, &[b"a", b"b", b"small"]).unwrap();
        let r = g.lopen(2, libc::O_RDONLY).unwrap();
        drop(r.fd.unwrap());
        g.clunk(2).unwrap();
    });

    g.walk(1, 3, &[b"big"]).unwrap();
    let donated = g.lopen(3, libc::O_RDONLY).unwrap().fd.unwrap();
    let native_file = std::fs::File::open(d.join("big")).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut pread_all = |fd: i32| {
        let mut off = 0i64;
        loop {
            // SAFETY: buf writable for its length.
            let k = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), off) };
            assert!(k >= 0);
            if k == 0 {
                break;
            }
            off += k as i64;
        }
        assert_eq!(off, 64 << 20);
    };
    let reps = 20;
    let native_read = per_op(reps, || pread_all(native_file.as_raw_fd()));
    let donated_read = per_op(reps, || pread_all(donated.as_raw_fd()));
    let tread = per_op(reps, || {
        let mut off = 0u64;
        loop {
            let data = g.read(3, off, 1 << 20).unwrap();
            if data.is_empty() {
                break;
            }
            off += data.len() as u64;
        }
        assert_eq!(off, 64 << 20);
    });
    let mbs = |ns: f64| (64.0 * 1e9 / ns) as u64;
    println!("{:<34} {:>12} {:>12} {:>8}", "operation", "native", "gofer", "ratio");
    println!("{:<34} {:>9.0} ns {:>9.0} ns {:>7.1}x", "round trip (echo thread / Tgetattr)", pingpong, getattr, getattr / pingpong);
    println!("{:<34} {:>9.0} ns {:>9.0} ns {:>7.1}x", "stat a/b/small (walk+getattr+clunk)", native_stat, gofer_stat, gofer_stat / native_stat);
    println!("{:<34} {:>9.0} ns {:>9.0} ns {:>7.1}x", "open+close (walk+lopen+clunk)", native_open, gofer_open, gofer_open / native_open);
    println!("{:<34} {:>7} MB/s {:>7} MB/s {:>7.2}x", "64 MiB read, pread on donated fd", mbs(native_read), mbs(donated_read), native_read / donated_read);
    println!("{:<34} {:>7} MB/s {:>7} MB/s {:>7.2}x", "64 MiB read, Tread 1 MiB msize", mbs(native_read), mbs(tread), native_read / tread);
    let _ = std::fs::remove_dir_all(&d);
}
