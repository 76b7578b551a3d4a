//! Opens the host makes wait (a write lease held by this process, as a host program would
//! hold one): the gofer answers other requests meanwhile, Tflush cancels the open and is
//! answered after it, a Tclunk of the fid cancels it too, and the open completes when the
//! lease goes.

mod common;
use common::*;
use std::os::fd::AsRawFd;

const TLOPEN: u8 = 12;
const TFLUSH: u8 = 108;
const TCLUNK: u8 = 120;
const TREAD: u8 = 116;
const TLCREATE: u8 = 14;
const TWALK: u8 = 110;

/// Whether a reply arrives within ms.
fn readable(g: &Gofer, ms: i32) -> bool {
    let mut p = libc::pollfd { fd: g.sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd for the call.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// Tlopen fid O_RDONLY under tag, not waited for.
fn lopen(tag: u16, fid: u32) -> Vec<u8> {
    Gofer::frame(TLOPEN, tag, &[fid.to_le_bytes(), (libc::O_RDONLY as u32).to_le_bytes()].concat())
}

/// A write lease on path, held through the returned file (the only open of it).
fn lease(path: &std::path::Path) -> std::fs::File {
    let f = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    // SAFETY: fcntl on our own fd.
    let r = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLEASE, libc::F_WRLCK) };
    assert_eq!(r, 0, "F_SETLEASE: {}", std::io::Error::last_os_error());
    f
}

fn unlease(f: &std::fs::File) {
    // SAFETY: fcntl on our own fd.
    assert_eq!(unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) }, 0);
}

/// A tree with files "leased" and "other", served and attached as fid 1; None (skipped) when
/// not root: only a file's owner or CAP_LEASE may take a lease, and root keeps it simple.
fn served(tag: &str) -> Option<(std::path::PathBuf, Gofer)> {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root");
        return None;
    }
    // The lease break's signal (SIGIO) would end this test process.
    // SAFETY: ignoring a signal.
    unsafe { libc::signal(libc::SIGIO, libc::SIG_IGN) };
    let d = tmpdir(tag);
    std::fs::write(d.join("leased"), b"leased\n").unwrap();
    std::fs::write(d.join("other"), b"other\n").unwrap();
    let mut g = Gofer::spawn(&[("rw", &d, false)]);
    g.version(65536);
    g.attach(1, "rw").unwrap();
    Some((d, g))
}

#[test]
fn waiting_open_does_not_hold_the_others_and_is_flushed() {
    let Some((d, mut g)) = served("wait") else { return };
    g.walk(1, 2, &[b"leased"]).unwrap();
    g.walk(1, 3, &[b"other"]).unwrap();

    let holder = lease(&d.join("leased"));
    g.send_raw(&lopen(100, 2));
    assert!(!readable(&g, 200), "the open waits for the lease");
    // Other requests are served meanwhile, opens included.
    assert_eq!(g.getattr(3).unwrap().3, 6);
    let o = g.lopen(3, libc::O_RDONLY).unwrap();
    assert_eq!(fd_read_all(o.fd.as_ref().unwrap()), b"other\n");
    // Tflush: the open is cancelled, and only the Rflush comes (no reply for tag 100).
    g.send_raw(&Gofer::frame(TFLUSH, 101, &100u16.to_le_bytes()));
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (101, TFLUSH + 1));
    assert!(!readable(&g, 100), "nothing more for the flushed tag");

    // The fid was not opened: a new Tlopen waits, then completes with the lease's release.
    g.send_raw(&lopen(102, 2));
    assert!(!readable(&g, 200), "waits again");
    unlease(&holder);
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (102, TLOPEN + 1));
    assert_eq!(fd_read_all(rep.fd.as_ref().unwrap()), b"leased\n");
    drop(rep);
    g.clunk(2).unwrap();
    drop(holder);

    // Tclunk of a fid whose open waits: the open is answered (EINTR), then the clunk.
    g.walk(1, 4, &[b"leased"]).unwrap();
    let holder = lease(&d.join("leased"));
    g.send_raw(&lopen(103, 4));
    assert!(!readable(&g, 100));
    g.send_raw(&Gofer::frame(TCLUNK, 104, &4u32.to_le_bytes()));
    let mut got = Vec::new();
    for _ in 0..2 {
        let Some(r) = g.recv() else { panic!("gofer gone: {}\n{}", g.gone_why(), g.log_text()) };
        got.push(r);
    }
    got.sort_by_key(|(t, _)| *t);
    assert_eq!((got[0].0, got[0].1.ty), (103, 7));
    assert_eq!(Body(&got[0].1.body, 0).u32() as i32, libc::EINTR);
    assert_eq!((got[1].0, got[1].1.ty), (104, TCLUNK + 1));
    assert_eq!(g.getattr(4), Err(libc::EIO), "the fid is gone");
    drop(holder);
    assert!(g.alive(), "{}", g.gone_why());
}

#[test]
fn hostile_requests_around_a_waiting_open() {
    let Some((d, mut g)) = served("wait-hostile") else { return };
    g.walk(1, 2, &[b"leased"]).unwrap();
    g.walk(1, 5, &[b"leased"]).unwrap();
    let holder = lease(&d.join("leased"));
    g.send_raw(&lopen(200, 2));
    assert!(!readable(&g, 100));
    g.walk(1, 3, &[b"other"]).unwrap();
    // Requests naming the fid being opened wait behind the open, in order: a Tread of it and
    // a walk from it are parked; other fids are served meanwhile.
    let read = Gofer::frame(TREAD, 211, &[&2u32.to_le_bytes()[..], &0u64.to_le_bytes(), &10u32.to_le_bytes()].concat());
    let walk = Gofer::frame(TWALK, 212, &[&2u32.to_le_bytes()[..], &6u32.to_le_bytes(), &0u16.to_le_bytes()].concat());
    g.send_raw(&[read, walk].concat());
    assert!(!readable(&g, 100), "parked behind the open");
    assert_eq!(g.getattr(3).unwrap().3, 6);
    // The waiting tag reused for another request: refused at once, not queued.
    g.send_raw(&lopen(200, 5));
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty, Body(&rep.body, 0).u32() as i32), (200, 7, libc::EWOULDBLOCK));
    // Tflush of a tag nobody waits on: Rflush at once.
    g.send_raw(&Gofer::frame(TFLUSH, 201, &4321u16.to_le_bytes()));
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (201, TFLUSH + 1));
    // Two Tflush of the waiting open: both answered after it is cancelled, nothing for it;
    // then the parked requests: the read finds the fid not open, the walk from it works.
    g.send_raw(&[Gofer::frame(TFLUSH, 202, &200u16.to_le_bytes()), Gofer::frame(TFLUSH, 203, &200u16.to_le_bytes())].concat());
    let mut got: Vec<(u16, u8)> = (0..4).map(|_| g.recv().map(|(t, r)| (t, r.ty)).expect("reply")).collect();
    got.sort();
    assert_eq!(got, vec![(202, TFLUSH + 1), (203, TFLUSH + 1), (211, 7), (212, TWALK + 1)]);
    assert!(!readable(&g, 100), "nothing for the flushed open");
    g.clunk(6).unwrap();
    // A parked request flushed: answered at once, never served.
    g.send_raw(&lopen(213, 2));
    assert!(!readable(&g, 100));
    g.send_raw(&Gofer::frame(TWALK, 214, &[&2u32.to_le_bytes()[..], &7u32.to_le_bytes(), &0u16.to_le_bytes()].concat()));
    g.send_raw(&Gofer::frame(TFLUSH, 215, &214u16.to_le_bytes()));
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (215, TFLUSH + 1));
    g.send_raw(&Gofer::frame(TFLUSH, 216, &213u16.to_le_bytes()));
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (216, TFLUSH + 1));
    assert_eq!(g.getattr(7), Err(libc::EIO), "the flushed walk made no fid");
    // A Tversion with an open waiting: it is cancelled and answered to nobody.
    g.send_raw(&lopen(204, 2));
    assert!(!readable(&g, 100));
    g.version(65536);
    assert!(!readable(&g, 200), "no reply for the old session's open");
    g.attach(1, "rw").unwrap();
    g.walk(1, 3, &[b"other"]).unwrap();
    assert_eq!(fd_read_all(g.lopen(3, libc::O_RDONLY).unwrap().fd.as_ref().unwrap()), b"other\n");
    drop(holder);
    assert!(g.alive(), "{}", g.gone_why());
}

#[test]
fn create_of_a_leased_file_waits_as_open_does() {
    let Some((d, mut g)) = served("wait-create") else { return };
    g.walk(1, 2, &[]).unwrap();
    g.walk(1, 3, &[b"other"]).unwrap();
    let holder = lease(&d.join("leased"));
    // open(O_CREAT) of a name that exists: Tlcreate without O_EXCL opens it, and the lease
    // holder makes that wait as Tlopen's does (EAGAIN at once on the start build).
    let body = M::default().u32(2).s(b"leased").u32(libc::O_RDONLY as u32).u32(0o644).u32(0);
    g.send_raw(&Gofer::frame(TLCREATE, 300, &body.0));
    assert!(!readable(&g, 200), "the create waits for the lease");
    assert_eq!(g.getattr(3).unwrap().3, 6);
    unlease(&holder);
    let (tag, rep) = g.recv().unwrap();
    assert_eq!((tag, rep.ty), (300, TLCREATE + 1));
    assert_eq!(fd_read_all(rep.fd.as_ref().unwrap()), b"leased\n");
    drop(rep);
    // fid 2 is the file now, opened.
    assert_eq!(g.getattr(2).unwrap().3, 7);
    assert!(g.alive(), "{}", g.gone_why());
}

