//! A compromised sentry drives the gofer with raw messages and must not leave the served tree:
//! `..`, names with `/` or NUL, symlinks to /etc and to `..`, a symlink swapped in between walk
//! and open (raced from a second thread), links and renames out of the tree, device nodes,
//! O_CREAT through lopen, host pseudo file systems, Trenameat2's exchanges and whiteouts. The host side is checked: the secret
//! outside is never read and nothing appears outside the tree.

mod common;
use common::*;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const SECRET: &[u8] = b"SECRET-OUTSIDE-THE-TREE";

/// outside/secret (and outside/dir/secret), tree/ served; returns (base, tree, outside).
fn layout(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let base = tmpdir(tag);
    let (tree, outside) = (base.join("tree"), base.join("outside"));
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret"), SECRET).unwrap();
    std::fs::write(outside.join("dir/secret"), SECRET).unwrap();
    std::fs::write(tree.join("sub/plain"), b"plain").unwrap();
    symlink("/etc", tree.join("etc")).unwrap();
    symlink("..", tree.join("up")).unwrap();
    symlink(outside.join("secret"), tree.join("abs")).unwrap();
    (base, tree, outside)
}

fn listing(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir(p);
    v.sort();
    v
}

fn walkdir(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        out.push(e.path().display().to_string());
        if e.file_type().unwrap().is_dir() {
            out.extend(walkdir(&e.path()));
        }
    }
    out
}

fn assert_no_secret(bytes: &[u8]) {
    assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET), "a symlink was followed: the secret (or the in-tree marker) came back");
}

#[test]
fn names_dotdot_slash_nul() {
    let (_b, tree, outside) = layout("names");
    let before = listing(&outside);
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    let root = std::fs::metadata(&tree).unwrap().ino();
    let sub = std::fs::metadata(tree.join("sub")).unwrap().ino();
    // `..` walks back the gofer's own steps and stops at the tree root; `.` stays.
    let q = g.walk(1, 2, &[b"..", b".", b"sub", b"..", b"..", b"sub"]).unwrap();
    let inos: Vec<u64> = q.iter().map(|q| q.1).collect();
    assert_eq!(inos, vec![root, root, sub, root, root, sub]);
    let up: Vec<&[u8]> = vec![b".."; 16];
    let q = g.walk(1, 3, &up).unwrap();
    assert!(q.iter().all(|q| q.1 == root), "16 `..` from the root stay at the root");
    g.lopen(3, 0).unwrap();
    let mut names = g.readdir_all(3).unwrap();
    names.sort();
    assert_eq!(names.len(), 2 + 4, "the tree's own listing: {names:?}");
    // A name with `/` or NUL, an empty one, is never a path.
    for bad in [&b""[..], b"../outside", b"sub/../..", b"/etc", b"sub\0plain", b"a/b", b"sub\0"] {
        assert_eq!(g.walk(1, 4, &[bad]), Err(libc::EINVAL), "walk {:?}", String::from_utf8_lossy(bad));
        assert_eq!(g.walk(1, 4, &[b"sub", bad]).map(|q| q.len()), Ok(1), "second name {bad:?}");
    }
    // Creation and removal take a plain name only: not even `.` or `..`.
    for bad in [&b".."[..], b".", b"", b"../outside", b"sub/../..", b"/etc", b"sub\0plain", b"a/b"] {
        for (ty, body) in [
            (14u8, M::default().u32(1).s(bad).u32(2).u32(0o644).u32(0)),
            (72, M::default().u32(1).s(bad).u32(0o755).u32(0)),
            (16, M::default().u32(1).s(bad).s(b"x").u32(0)),
            (18, M::default().u32(1).s(bad).u32(libc::S_IFREG | 0o644).u32(0).u32(0).u32(0)),
            (76, M::default().u32(1).s(bad).u32(0)),
            (74, M::default().u32(1).s(b"sub").u32(1).s(bad)),
            (134, M::default().u32(1).s(b"sub").u32(1).s(bad).u32(0)),
            (134, M::default().u32(1).s(bad).u32(1).s(b"sub").u32(2)),
            (134, M::default().u32(1).s(b"sub").u32(1).s(bad).u32(4)),
        ] {
            let e = g.rpc(ty, body).err();
            assert_eq!(e, Some(libc::EINVAL), "type {ty} {bad:?}");
        }
    }
    assert!(g.alive());
    assert_eq!(listing(&outside), before);
}

#[test]
fn symlinks_are_never_followed() {
    let (_b, tree, outside) = layout("symlinks");
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    for link in [&b"etc"[..], b"up", b"abs"] {
        let q = g.walk(1, 2, &[link]).unwrap();
        assert_eq!(q[0].0, 0x02, "a symlink's own qid");
        assert_eq!(g.lopen(2, libc::O_RDONLY).err(), Some(libc::ELOOP));
        assert_eq!(g.lopen(2, libc::O_RDONLY | libc::O_DIRECTORY).err(), Some(libc::ELOOP));
        // Through it: stops at the link.
        for next in [&b"passwd"[..], b"outside", b"secret", b"tree"] {
            assert_eq!(g.walk(1, 3, &[link, next]).unwrap().len(), 1);
            assert_eq!(g.walk(2, 3, &[next]), Err(libc::ENOTDIR));
        }
        // getattr and statfs describe the link itself, xattrs are not read through it.
        let (mode, ..) = g.getattr(2).unwrap();
        assert_eq!(mode & libc::S_IFMT, libc::S_IFLNK);
        // setattr on it changes the link, never its target.
        let body = M::default().u32(2).u32(1).u32(0o600).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0);
        assert!(g.rpc(26, body).is_err());
        let body = M::default().u32(2).u32(8).u32(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0);
        assert!(g.rpc(26, body).is_err(), "truncate through a symlink");
        g.clunk(2).unwrap();
    }
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), SECRET);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(outside.join("secret")).unwrap().permissions().mode() & 0o777, 0o644);
}

/// A second thread swaps `victim` between a regular file (and a directory) and a symlink out
/// of the tree while the gofer walks, opens and reads it: the secret never comes back.
#[test]
fn symlink_swapped_between_walk_and_open() {
    let (_b, tree, outside) = layout("race");
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(1 << 16);
    g.attach(1, "t").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (t2, o2, s2) = (tree.clone(), outside.clone(), stop.clone());
    let racer = std::thread::spawn(move || {
        // victim: a hard link of either a plain file or a symlink out, swapped in by rename.
        // (A link inside the tree is followed by no one either: its marker must not come back.)
        let (file, lnk, inner) = (t2.join("victim.file"), t2.join("victim.link"), t2.join("victim.inner"));
        std::fs::write(&file, b"innocent").unwrap();
        symlink(o2.join("secret"), &lnk).unwrap();
        std::fs::write(t2.join("sub/marker"), SECRET).unwrap();
        symlink("sub/marker", &inner).unwrap();
        // victimdir: a real directory or a symlink to a directory outside, moved in and out.
        let (real, dlnk) = (t2.join("victimdir.real"), t2.join("victimdir.link"));
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("secret"), b"innocent").unwrap();
        symlink(o2.join("dir"), &dlnk).unwrap();
        let (victim, vdir, tmp) = (t2.join("victim"), t2.join("victimdir"), t2.join("victim.tmp"));
        let mut n = 0u64;
        while !s2.load(Ordering::Relaxed) {
            let src = [&file, &lnk, &file, &inner][n as usize % 4];
            std::fs::hard_link(src, &tmp).unwrap();
            std::fs::rename(&tmp, &victim).unwrap();
            let (from, back) = if n.is_multiple_of(2) { (&real, &dlnk) } else { (&dlnk, &real) };
            if n > 0 {
                std::fs::rename(&vdir, back).unwrap();
            }
            std::fs::rename(from, &vdir).unwrap();
            n += 1;
        }
        n
    });
    let mut opened = 0;
    for i in 0..3000u32 {
        let fid = 10 + (i % 100);
        let _ = g.clunk(fid);
        if g.walk(1, fid, &[b"victim"]).is_ok() {
            if let Ok(r) = g.lopen(fid, libc::O_RDONLY) {
                opened += 1;
                assert_no_secret(&fd_read_all(&r.fd.unwrap()));
                assert_no_secret(&g.read(fid, 0, 4096).unwrap());
            }
        }
        let _ = g.clunk(fid);
        if let Ok(q) = g.walk(1, fid, &[b"victimdir", b"secret"]) {
            if q.len() == 2 {
                if let Ok(r) = g.lopen(fid, libc::O_RDONLY) {
                    assert_no_secret(&fd_read_all(&r.fd.unwrap()));
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().unwrap();
    assert!(swaps > 10, "the racer ran ({swaps} swaps)");
    assert!(opened > 0, "some opens won the race");
    assert!(g.alive());
}

#[test]
fn links_and_renames_stay_inside() {
    let (base, tree, outside) = layout("links");
    let tree2 = base.join("tree2");
    std::fs::create_dir(&tree2).unwrap();
    let before = listing(&outside);
    let mut g = Gofer::spawn(&[("t", &tree, false), ("u", &tree2, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    g.attach(2, "u").unwrap();
    g.walk(1, 3, &[b"sub", b"plain"]).unwrap();
    g.walk(1, 4, &[b"sub"]).unwrap();
    assert_eq!(g.rpc(70, M::default().u32(2).u32(3).s(b"x")).err(), Some(libc::EXDEV), "link across trees");
    assert_eq!(g.rpc(20, M::default().u32(3).u32(2).s(b"x")).err(), Some(libc::EXDEV), "rename across trees");
    assert_eq!(g.rpc(74, M::default().u32(4).s(b"plain").u32(2).s(b"x")).err(), Some(libc::EXDEV));
    assert_eq!(g.rpc(70, M::default().u32(1).u32(3).s(b"../escape")).err(), Some(libc::EINVAL));
    assert_eq!(g.rpc(20, M::default().u32(3).u32(1).s(b"../escape")).err(), Some(libc::EINVAL));
    // Through a symlink to a directory outside: the dir fid is a symlink, not a directory.
    g.walk(1, 5, &[b"abs"]).unwrap();
    g.walk(1, 6, &[b"etc"]).unwrap();
    assert_eq!(g.rpc(70, M::default().u32(6).u32(3).s(b"escape")).err(), Some(libc::ENOTDIR));
    assert_eq!(g.rpc(14, M::default().u32(6).s(b"escape").u32(2).u32(0o644).u32(0)).err(), Some(libc::ENOTDIR));
    assert_eq!(g.rpc(72, M::default().u32(6).s(b"escape").u32(0o755).u32(0)).err(), Some(libc::ENOTDIR));
    // Renaming a symlink moves the link, not its target.
    g.rpc(74, M::default().u32(1).s(b"abs").u32(4).s(b"abs2")).unwrap();
    assert!(std::fs::symlink_metadata(tree.join("sub/abs2")).unwrap().file_type().is_symlink());
    assert_eq!(listing(&outside), before);
    assert!(!Path::new("/etc/escape").exists());
    assert_eq!(std::fs::read_dir(&tree2).unwrap().count(), 0);
}

#[test]
fn devices_fifos_and_o_creat() {
    let (_b, tree, _outside) = layout("devices");
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        let p = std::ffi::CString::new(tree.join("null").to_str().unwrap()).unwrap();
        // SAFETY: test set-up of a device node inside the temp tree.
        assert_eq!(unsafe { libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) }, 0);
    }
    let fifo = std::ffi::CString::new(tree.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: as above.
    unsafe { libc::mkfifo(fifo.as_ptr(), 0o666) };
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    if root {
        g.walk(1, 2, &[b"null"]).unwrap();
        for fl in [libc::O_RDONLY, libc::O_WRONLY, libc::O_RDWR | libc::O_NONBLOCK] {
            assert_eq!(g.lopen(2, fl).err(), Some(libc::ENXIO));
        }
        g.walk(1, 3, &[]).unwrap();
        assert_eq!(g.rpc(18, M::default().u32(3).s(b"mem").u32(libc::S_IFCHR | 0o666).u32(1).u32(1).u32(0)).err(), Some(libc::EPERM));
        assert!(!tree.join("mem").exists());
    } else {
        eprintln!("device-node part skipped: not root, cannot make one");
    }
    g.walk(1, 4, &[b"fifo"]).unwrap();
    assert_eq!(g.lopen(4, libc::O_RDONLY).err(), Some(libc::ENXIO), "a FIFO open would block the gofer");
    // O_CREAT/O_EXCL/O_TMPFILE through lopen are dropped: nothing new appears.
    let before = listing(&tree);
    g.walk(1, 5, &[b"sub", b"plain"]).unwrap();
    g.lopen(5, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL).unwrap();
    g.walk(1, 6, &[b"sub"]).unwrap();
    assert!(g.lopen(6, libc::O_RDWR | libc::O_TMPFILE).is_err());
    assert_eq!(listing(&tree), before);
}

/// A pseudo file system mounted inside a served tree (here: proc) is not served.
#[test]
fn host_proc_inside_a_tree_is_refused() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting proc needs root");
        return;
    }
    let (_b, tree, _) = layout("proc");
    std::fs::create_dir(tree.join("proc")).unwrap();
    let target = std::ffi::CString::new(tree.join("proc").to_str().unwrap()).unwrap();
    let proc_ = std::ffi::CString::new("proc").unwrap();
    // SAFETY: test set-up: a proc mount on a temp dir, detached at the end.
    if unsafe { libc::mount(proc_.as_ptr(), target.as_ptr(), proc_.as_ptr(), 0, std::ptr::null()) } != 0 {
        eprintln!("skipped: cannot mount proc here");
        return;
    }
    struct Umount(std::ffi::CString);
    impl Drop for Umount {
        fn drop(&mut self) {
            // SAFETY: detaches the mount this test made.
            unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
        }
    }
    let _guard = Umount(target);
    let mut g = Gofer::spawn(&[("t", &tree, true)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    assert_eq!(g.walk(1, 2, &[b"proc"]), Err(libc::EACCES));
    assert_eq!(g.walk(1, 2, &[b"proc", b"self", b"environ"]), Err(libc::EACCES));
}

/// Fds sent *to* the gofer (SCM_RIGHTS on a request) are never received: the gofer reads with
/// read(2), so the kernel drops them; its fd table does not grow, and the request is served.
#[test]
fn fds_sent_to_the_gofer_are_dropped() {
    use std::os::fd::AsRawFd;
    let (_b, tree, outside) = layout("fds-in");
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(8192);
    let fds = |g: &Gofer| std::fs::read_dir(format!("/proc/{}/fd", g.child.id())).unwrap().count();
    let before = fds(&g);
    let dir = std::fs::File::open(&outside).unwrap();
    for _ in 0..20 {
        let m = Gofer::frame(100, 1, &M::default().u32(8192).s(b"9P2000.L").0);
        let mut iov = libc::iovec { iov_base: m.as_ptr() as *mut _, iov_len: m.len() };
        let mut cbuf = [0u64; 4];
        // SAFETY: test code; a msghdr with one SCM_RIGHTS fd, buffers outlive the call.
        unsafe {
            let mut mh: libc::msghdr = std::mem::zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = cbuf.as_mut_ptr().cast();
            mh.msg_controllen = libc::CMSG_SPACE(4) as usize;
            let c = libc::CMSG_FIRSTHDR(&mh);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), dir.as_raw_fd());
            assert_eq!(libc::sendmsg(g.sock.as_raw_fd(), &mh, 0), m.len() as isize);
        }
        let (_, rep) = g.recv().unwrap();
        assert_eq!(rep.ty, 101);
    }
    assert_eq!(fds(&g), before, "no fd arrived in the gofer");
    assert!(g.alive());
}

/// Twalkgetattr (132, our extension): (errno of the name that failed after the first, each
/// walked name's (qid type, qid path, mode, uid, size)).
fn walkgetattr(g: &mut Gofer, fid: u32, newfid: u32, names: &[&[u8]]) -> Result<(u32, Vec<(u8, u64, u32, u32, u64)>), i32> {
    let mut m = M::default().u32(fid).u32(newfid).u16(names.len() as u16);
    for n in names {
        m = m.s(n);
    }
    let r = g.rpc(132, m)?;
    let mut b = Body(&r.body, 0);
    let ecode = b.u32();
    let n = b.u16();
    let steps = (0..n)
        .map(|_| {
            let _valid = b.u64();
            let (ty, path) = b.qid();
            let (mode, uid, _gid) = (b.u32(), b.u32(), b.u32());
            let (_nlink, _rdev, size) = (b.u64(), b.u64(), b.u64());
            for _ in 0..12 {
                b.u64(); // blksize blocks atime mtime ctime btime gen data_version
            }
            (ty, path, mode, uid, size)
        })
        .collect();
    assert_eq!(b.1, r.body.len(), "Rwalkgetattr has nothing after its steps");
    Ok((ecode, steps))
}

#[test]
fn walkgetattr_stays_in_the_tree_and_says_what_stopped_it() {
    let (_b, tree, outside) = layout("walkgetattr");
    let before = listing(&outside);
    let mut g = Gofer::spawn(&[("t", &tree, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    let root = std::fs::metadata(&tree).unwrap();
    let sub = std::fs::metadata(tree.join("sub")).unwrap();
    // `..` stays in the tree as Twalk's; each step's attributes are the host's (lstat).
    let (e, st) = walkgetattr(&mut g, 1, 2, &[b"..", b"sub", b".", b"..", b"sub"]).unwrap();
    assert_eq!(e, 0);
    let inos: Vec<u64> = st.iter().map(|s| s.1).collect();
    assert_eq!(inos, vec![root.ino(), sub.ino(), sub.ino(), root.ino(), sub.ino()]);
    assert!(st.iter().all(|s| s.2 & libc::S_IFMT == libc::S_IFDIR && s.0 == 0x80));
    assert_eq!(st[1].2, sub.mode());
    assert_eq!(st[1].3, sub.uid());
    // The new fid is the last step's: it lists the sub directory.
    g.lopen(2, libc::O_RDONLY).unwrap();
    // A symlink is a step of its own (never followed); past it the walk stops with ENOTDIR,
    // no fid made.
    for link in [&b"etc"[..], b"up", b"abs"] {
        let lst = std::fs::symlink_metadata(tree.join(std::str::from_utf8(link).unwrap())).unwrap();
        let (e, st) = walkgetattr(&mut g, 1, 3, &[link, b"passwd"]).unwrap();
        assert_eq!((e as i32, st.len()), (libc::ENOTDIR, 1), "through {link:?}");
        assert_eq!((st[0].0, st[0].1, st[0].2, st[0].4), (0x02, lst.ino(), lst.mode(), lst.size()));
        assert_eq!(g.rpc(24, M::default().u32(3).u64(0x7ff)).err(), Some(libc::EIO), "no fid after a partial walk (an unknown fid is EIO)");
    }
    // A missing second name: ENOENT with the first step; a missing first name is the error.
    assert_eq!(walkgetattr(&mut g, 1, 3, &[b"sub", b"nope"]).map(|(e, s)| (e as i32, s.len())), Ok((libc::ENOENT, 1)));
    assert_eq!(walkgetattr(&mut g, 1, 3, &[b"nope", b"sub"]).err(), Some(libc::ENOENT));
    // Names that are not names, too many names, a newfid in use: refused as Twalk refuses.
    for bad in [&b""[..], b"../outside", b"/etc", b"sub\0", b"a/b"] {
        assert_eq!(walkgetattr(&mut g, 1, 4, &[bad]).err(), Some(libc::EINVAL), "{bad:?}");
        assert_eq!(walkgetattr(&mut g, 1, 4, &[b"sub", bad]).map(|(e, s)| (e as i32, s.len())), Ok((libc::EINVAL, 1)));
    }
    let many: Vec<&[u8]> = vec![b"."; 17];
    assert_eq!(walkgetattr(&mut g, 1, 4, &many).err(), Some(libc::EINVAL));
    assert_eq!(walkgetattr(&mut g, 1, 2, &[b"sub"]).err(), Some(libc::EBADF), "newfid 2 is in use");
    assert!(g.alive());
    assert_eq!(listing(&outside), before);
}

/// Trenameat2 (134): an exchange or a whiteout never reaches outside the tree nor another
/// tree, whatever the names, fids and flags.
#[test]
fn renameat2_exchange_and_whiteout_stay_inside() {
    let (base, tree, outside) = layout("rename2");
    let tree2 = base.join("tree2");
    std::fs::create_dir(&tree2).unwrap();
    std::fs::write(tree2.join("other"), b"other").unwrap();
    let (before, before2) = (listing(&outside), listing(&tree2));
    let mut g = Gofer::spawn(&[("t", &tree, false), ("u", &tree2, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    g.attach(2, "u").unwrap();
    g.walk(1, 3, &[b"sub"]).unwrap();
    g.walk(1, 4, &[b"etc"]).unwrap();
    g.walk(1, 5, &[b"sub", b"plain"]).unwrap();
    let r2 = |g: &mut Gofer, of: u32, o: &[u8], nf: u32, n: &[u8], fl: u32| g.rpc(134, M::default().u32(of).s(o).u32(nf).s(n).u32(fl)).err();
    // Another tree's directory, either side, any flag.
    for fl in [0, 1, 2, 4] {
        assert_eq!(r2(&mut g, 3, b"plain", 2, b"other", fl), Some(libc::EXDEV), "flags {fl}");
        assert_eq!(r2(&mut g, 2, b"other", 3, b"plain", fl), Some(libc::EXDEV), "flags {fl}");
    }
    // `..` and `.` are never names; a symlink to a directory outside is not a directory fid;
    // a file fid is not one either; unknown fids are EIO.
    for fl in [1, 2, 4] {
        assert_eq!(r2(&mut g, 3, b"..", 1, b"x", fl), Some(libc::EINVAL));
        assert_eq!(r2(&mut g, 3, b"plain", 1, b"..", fl), Some(libc::EINVAL));
        assert_eq!(r2(&mut g, 3, b"plain", 3, b".", fl), Some(libc::EINVAL));
        assert_eq!(r2(&mut g, 3, b"plain", 4, b"passwd", fl), Some(libc::ENOTDIR));
        assert_eq!(r2(&mut g, 4, b"passwd", 3, b"plain", fl), Some(libc::ENOTDIR));
        assert_eq!(r2(&mut g, 5, b"x", 3, b"plain", fl), Some(libc::ENOTDIR));
        assert_eq!(r2(&mut g, 99, b"x", 3, b"plain", fl), Some(libc::EIO));
    }
    // Bad flags and combinations: EINVAL before any name is looked at.
    for fl in [3, 6, 7, 8, 1 << 31, !0] {
        assert_eq!(r2(&mut g, 1, b"nothing", 1, b"nothing2", fl), Some(libc::EINVAL), "flags {fl:#x}");
    }
    // Exchanging the symlinks to outside moves the links, not what they name.
    assert_eq!(r2(&mut g, 1, b"abs", 1, b"etc", 2), None);
    assert_eq!(std::fs::read_link(tree.join("etc")).unwrap(), outside.join("secret"));
    assert_eq!(std::fs::read_link(tree.join("abs")).unwrap(), Path::new("/etc"));
    // Exchange a file and the link to `..`: still links inside the tree.
    assert_eq!(r2(&mut g, 3, b"plain", 1, b"up", 2), None);
    assert_eq!(std::fs::read_link(tree.join("sub/plain")).unwrap(), Path::new(".."));
    assert_eq!(std::fs::read(tree.join("up")).unwrap(), b"plain");
    // A whiteout of a symlink leaves the 0:0 device in the tree and the link's target alone.
    match r2(&mut g, 1, b"abs", 3, b"abs-moved", 4) {
        None => {
            let m = std::fs::symlink_metadata(tree.join("abs")).unwrap();
            assert!(m.file_type().is_char_device() && m.rdev() == 0, "whiteout");
            assert!(std::fs::symlink_metadata(tree.join("sub/abs-moved")).unwrap().file_type().is_symlink());
        }
        Some(e) => assert_eq!(e, libc::EINVAL, "a file system without whiteouts"),
    }
    // A read-only tree refuses every flag.
    drop(g);
    let mut g = Gofer::spawn(&[("t", &tree, true)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    for fl in [0, 1, 2, 4] {
        assert_eq!(r2(&mut g, 1, b"up", 1, b"x", fl), Some(libc::EROFS), "flags {fl}");
    }
    assert!(g.alive());
    assert_eq!(listing(&outside), before);
    assert_eq!(listing(&tree2), before2);
    assert!(!Path::new("/etc/x").exists() && !Path::new("/etc/plain").exists());
}
