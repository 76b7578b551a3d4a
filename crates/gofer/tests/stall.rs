//! A host file system that stalls (test/fixtures/fuse_stall.c, a FUSE daemon whose read of
//! "slow", lookup of "statslow" and listing of "dir" wait until told): the gofer serves other
//! requests meanwhile, on the stalled tree and on a local one, past the worker pool's size;
//! Tflush cancels a stalled request (answered at once when the daemon takes the interrupt,
//! after the give-up delay when it does not); flushes race the workers from a fixed seed.
//! Skipped with the reason when not root, without /dev/fuse, or without gcc.

mod common;
use common::*;
use std::io::BufRead;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TREAD: u8 = 116;
const TWALK: u8 = 110;
const TREADDIR: u8 = 40;
const TFLUSH: u8 = 108;
const TGETATTR: u8 = 24;

struct Fuse {
    child: Child,
    mnt: PathBuf,
    go: PathBuf,
}

impl Drop for Fuse {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.go, b"");
        // SAFETY: signalling the daemon this test started, by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let c = std::ffi::CString::new(self.mnt.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a path string; a mount already gone is EINVAL, ignored.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The daemon built from the fixture's source and mounted on a fresh directory; None (with the
/// reason printed) where it cannot be.
fn fuse(tag: &str, nointr: bool) -> Option<Fuse> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/dev/fuse").exists() {
        eprintln!("skipped: a FUSE mount needs root and /dev/fuse");
        return None;
    }
    let d = tmpdir(tag);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/fuse_stall.c");
    let exe = d.join("fuse_stall");
    match Command::new("gcc").args(["-O1", "-o"]).arg(&exe).arg(&src).status() {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("skipped: gcc could not build {}", src.display());
            return None;
        }
    }
    let (mnt, go) = (d.join("mnt"), d.join("go"));
    std::fs::create_dir(&mnt).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.arg(&mnt).arg(&go).stdout(Stdio::piped());
    if nointr {
        cmd.arg("nointr");
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    if line.trim() != "ready" {
        let _ = child.wait();
        eprintln!("skipped: the FUSE mount failed here");
        return None;
    }
    Some(Fuse { child, mnt, go })
}

fn readable(g: &Gofer, ms: i32) -> bool {
    let mut p = libc::pollfd { fd: g.sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd for the call.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

fn tread(tag: u16, fid: u32) -> Vec<u8> {
    Gofer::frame(TREAD, tag, &M::default().u32(fid).u64(0).u32(64).0)
}

fn twalk(tag: u16, fid: u32, newfid: u32, name: &[u8]) -> Vec<u8> {
    Gofer::frame(TWALK, tag, &M::default().u32(fid).u32(newfid).u16(1).s(name).0)
}

fn tflush(tag: u16, oldtag: u16) -> Vec<u8> {
    Gofer::frame(TFLUSH, tag, &oldtag.to_le_bytes())
}

/// n replies, sorted by tag: (tag, type).
fn replies(g: &mut Gofer, n: usize) -> Vec<(u16, u8, Rep)> {
    let mut v: Vec<(u16, u8, Rep)> = (0..n)
        .map(|_| {
            let Some((t, r)) = g.recv() else { panic!("gofer gone: {}\n{}", g.gone_why(), g.log_text()) };
            (t, r.ty, r)
        })
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

/// The gofer serving the FUSE tree as "fuse" and a local directory as "local", both attached
/// (fids 1 and 50), with "fast" (fid 3) and "slow" (fid 2) opened on the FUSE tree.
fn served(f: &Fuse, tag: &str) -> Gofer {
    let local = tmpdir(tag);
    std::fs::write(local.join("file"), b"local\n").unwrap();
    let mut g = Gofer::spawn(&[("fuse", &f.mnt, false), ("local", &local, false)]);
    g.version(65536);
    g.attach(1, "fuse").unwrap();
    g.attach(50, "local").unwrap();
    g.walk(1, 2, &[b"slow"]).unwrap();
    g.lopen(2, libc::O_RDONLY).unwrap();
    g.walk(1, 3, &[b"fast"]).unwrap();
    g.lopen(3, libc::O_RDONLY).unwrap();
    g
}

#[test]
fn stalled_requests_hold_only_themselves() {
    let Some(f) = fuse("stall", false) else { return };
    let mut g = served(&f, "stall-local");
    g.walk(1, 4, &[b"dir"]).unwrap();
    g.lopen(4, libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    // A read, a lookup and a listing that stall, then more lookups than the pool has threads.
    g.send_raw(&tread(1000, 2));
    g.send_raw(&twalk(1001, 1, 10, b"statslow"));
    g.send_raw(&Gofer::frame(TREADDIR, 1002, &M::default().u32(4).u64(0).u32(4096).0));
    for i in 0..6u16 {
        g.send_raw(&twalk(1010 + i, 1, 20 + i as u32, b"statslow"));
    }
    assert!(!readable(&g, 300), "all of them stall");
    // The local tree is served meanwhile, and so is everything that does not wait on the host.
    g.walk(50, 51, &[b"file"]).unwrap();
    assert_eq!(g.getattr(51).unwrap().3, 6);
    let o = g.lopen(51, libc::O_RDONLY).unwrap();
    assert_eq!(fd_read_all(o.fd.as_ref().unwrap()), b"local\n");
    // Requests naming the new fid of a stalled walk wait behind it, in order.
    g.send_raw(&Gofer::frame(TGETATTR, 1020, &M::default().u32(10).u64(0x7ff).0));
    assert!(!readable(&g, 100));
    // A queued request (the pool is full) is flushed at once.
    g.send_raw(&tflush(1030, 1015));
    let (t, r) = g.recv().unwrap();
    assert_eq!((t, r.ty), (1030, TFLUSH + 1));
    // The daemon lets go: every stalled request is answered, the getattr after its walk.
    std::fs::write(&f.go, b"").unwrap();
    let got = replies(&mut g, 9);
    let tags: Vec<(u16, u8)> = got.iter().map(|x| (x.0, x.1)).collect();
    let mut want = vec![(1000, TREAD + 1), (1001, TWALK + 1), (1002, TREADDIR + 1)];
    want.extend((0..5u16).map(|i| (1010 + i, TWALK + 1)));
    want.push((1020, TGETATTR + 1));
    assert_eq!(tags, want);
    assert_eq!(&got[0].2.body[4..], b"slow\n");
    assert!(!readable(&g, 100), "nothing for the flushed walk");
    assert_eq!(g.getattr(25), Err(libc::EIO), "the flushed walk made no fid");
    assert!(g.alive(), "{}", g.gone_why());
}

#[test]
fn a_walk_into_a_stalling_mount_below_a_local_tree_holds_only_itself() {
    let Some(f) = fuse("below", false) else { return };
    // The tree is the local directory the FUSE mount point is in: the walk starts on a local
    // disk and crosses into the mount, where the gofer's serving loop stalled until
    // wt-base26 (the fid it starts from is local, so it was not handed to a worker).
    let local = f.mnt.parent().unwrap().to_path_buf();
    let mut g = Gofer::spawn(&[("local", &local, false)]);
    g.version(65536);
    g.attach(1, "local").unwrap();
    g.send_raw(&Gofer::frame(TWALK, 1000, &M::default().u32(1).u32(10).u16(2).s(b"mnt").s(b"statslow").0));
    assert!(!readable(&g, 300), "the walk stalls");
    g.walk(1, 11, &[b"fuse_stall"]).unwrap();
    assert!(g.getattr(11).unwrap().3 > 0, "the local tree is served meanwhile");
    std::fs::write(&f.go, b"").unwrap();
    let (t, r) = g.recv().unwrap();
    assert_eq!((t, r.ty), (1000, TWALK + 1));
    assert!(g.alive(), "{}", g.gone_why());
}

/// Tread of "slow" (fid 2, tag 1000), seen to stall, then its Tflush (tag 1001) and the
/// Rflush; when the flush was sent.
fn stall_then_flush(g: &mut Gofer) -> std::time::Instant {
    g.send_raw(&tread(1000, 2));
    assert!(!readable(g, 200));
    let t0 = std::time::Instant::now();
    g.send_raw(&tflush(1001, 1000));
    let Some((t, r)) = g.recv() else { panic!("gofer gone: {}", g.gone_why()) };
    assert_eq!((t, r.ty), (1001, TFLUSH + 1));
    t0
}

#[test]
fn flush_ends_a_stall_the_daemon_interrupts() {
    let Some(f) = fuse("stall-intr", false) else { return };
    let mut g = served(&f, "stall-intr-local");
    stall_then_flush(&mut g);
    // The kernel sends FUSE_INTERRUPT, the daemon answers EINTR: only the Rflush comes.
    assert!(!readable(&g, 300), "no reply for the flushed read");
    // The fid came back with its job: it reads (and stalls) again.
    g.send_raw(&tread(1002, 2));
    assert!(!readable(&g, 100));
    std::fs::write(&f.go, b"").unwrap();
    let (t, r) = g.recv().unwrap();
    assert_eq!((t, r.ty, &r.body[4..]), (1002, TREAD + 1, &b"slow\n"[..]));
}

#[test]
fn flush_gives_up_a_stall_nothing_interrupts() {
    let Some(f) = fuse("stall-nointr", true) else { return };
    let mut g = served(&f, "stall-nointr-local");
    let t0 = stall_then_flush(&mut g);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(150), "answered once the read was given up");
    // The fid went with the job: gone for requests, and its Tclunk is answered as done.
    assert_eq!(g.read(2, 0, 4), Err(libc::EIO));
    g.clunk(2).unwrap();
    // Everything else still works; when the daemon lets go, nothing comes for the old read.
    assert_eq!(g.read(3, 0, 16).unwrap(), b"fast\n");
    std::fs::write(&f.go, b"").unwrap();
    assert!(!readable(&g, 300));
    g.walk(1, 2, &[b"slow"]).unwrap();
    g.lopen(2, libc::O_RDONLY).unwrap();
    assert_eq!(g.read(2, 0, 16).unwrap(), b"slow\n");
}

/// Fixed-seed races of Tflush and Tclunk against the workers: requests that stall or not,
/// flushed at once or after a moment, fids clunked under them. Every request gets exactly
/// one answer (its reply or, when flushed first, none), every Tflush its Rflush, and the
/// gofer keeps serving.
#[test]
fn flushes_race_the_workers() {
    let Some(f) = fuse("stall-race", false) else { return };
    let mut g = served(&f, "stall-race-local");
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..60u16 {
        let tag = 2000 + round * 4;
        let fid = 100 + round as u32;
        g.walk(1, fid, &[if rnd(2) == 0 { b"slow" } else { b"fast" }]).unwrap();
        g.lopen(fid, libc::O_RDONLY).unwrap();
        g.send_raw(&tread(tag, fid));
        match rnd(3) {
            0 => {}
            1 => std::thread::sleep(std::time::Duration::from_micros(rnd(3000))),
            _ => std::thread::yield_now(),
        }
        let clunk = rnd(4) == 0;
        g.send_raw(&tflush(tag + 1, tag));
        if clunk {
            g.send_raw(&Gofer::frame(120, tag + 2, &fid.to_le_bytes()));
        }
        let want = if clunk { 2 } else { 1 };
        let mut seen = Vec::new();
        while seen.iter().filter(|(t, _)| *t != tag).count() < want {
            let Some((t, r)) = g.recv() else { panic!("gofer gone: {}\n{}", g.gone_why(), g.log_text()) };
            seen.push((t, r.ty));
        }
        // The read's reply, if any, came before its Rflush.
        let at = |t: u16| seen.iter().position(|x| x.0 == t);
        if let Some(r) = at(tag) {
            assert!(r < at(tag + 1).unwrap(), "round {round}: {seen:?}");
            assert_eq!(seen.iter().filter(|x| x.0 == tag).count(), 1);
        }
        assert_eq!(seen[at(tag + 1).unwrap()].1, TFLUSH + 1);
        if clunk {
            assert_eq!(seen[at(tag + 2).unwrap()].1, 121, "round {round}: {seen:?}");
        } else {
            g.clunk(fid).unwrap();
        }
    }
    assert!(!readable(&g, 100), "nothing left over");
    assert_eq!(g.read(3, 0, 16).unwrap(), b"fast\n");
}

/// A flood of requests that stall, far past the pool's 16 threads: up to the job limit
/// (1024) they queue, flushable; beyond it they are refused with EAGAIN at once; all of them
/// are answered when the daemon lets go, and the gofer still serves.
#[test]
fn a_flood_past_the_job_limit_is_refused_not_held() {
    let Some(f) = fuse("stall-flood", false) else { return };
    let mut g = served(&f, "stall-flood-local");
    let n = 1100u16;
    let flood: Vec<u8> = (0..n).flat_map(|i| twalk(3000 + i, 1, 1000 + i as u32, b"statslow")).collect();
    g.send_raw(&flood);
    let mut refused = 0;
    while readable(&g, 500) {
        let (t, r) = g.recv().unwrap();
        assert_eq!((r.ty, Body(&r.body, 0).u32() as i32), (7, libc::EAGAIN), "tag {t}");
        refused += 1;
    }
    assert_eq!(refused, n as usize - 1024, "{}", g.gone_why());
    // The local tree is served meanwhile.
    g.walk(50, 51, &[b"file"]).unwrap();
    std::fs::write(&f.go, b"").unwrap();
    let got = replies(&mut g, 1024);
    assert!(got.iter().all(|x| x.1 == TWALK + 1));
    assert_eq!(g.read(3, 0, 16).unwrap(), b"fast\n");
}
