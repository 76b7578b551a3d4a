//! The read side, driven over the wire: version, attach, walk, getattr, lopen with fd
//! donation, read, readdir, readlink, statfs, clunk, and the fid errnos of PROTOCOL.md.

mod common;
use common::*;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{symlink, MetadataExt};

fn tree() -> std::path::PathBuf {
    let d = tmpdir("read");
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/hello.txt"), b"hello, gofer\n").unwrap();
    std::fs::write(d.join("big"), vec![7u8; 300_000]).unwrap();
    symlink("sub/hello.txt", d.join("link")).unwrap();
    d
}

#[test]
fn version_attach_walk_getattr() {
    let d = tree();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    assert_eq!(g.version(1 << 24), (1 << 20, b"9P2000.L".to_vec()));
    let r = g.rpc(100, M::default().u32(8192).s(b"9P2000.u")).unwrap();
    assert_eq!(Body(&r.body, 0).u32(), 8192);
    assert_eq!(Body(&r.body, 4).str(), b"unknown");
    g.version(65536);
    assert_eq!(g.attach(1, "nope"), Err(libc::ENOENT));
    let (ty, ino) = g.attach(1, "root").unwrap();
    assert_eq!((ty, ino), (0x80, std::fs::metadata(&d).unwrap().ino()));
    assert_eq!(g.attach(1, "root"), Err(libc::EBADF), "fid in use");
    let q = g.walk(1, 2, &[b"sub", b"hello.txt"]).unwrap();
    assert_eq!(q.len(), 2);
    assert_eq!(q[0].0, 0x80);
    assert_eq!(q[1], (0, std::fs::metadata(d.join("sub/hello.txt")).unwrap().ino()));
    let (mode, uid, _gid, size) = g.getattr(2).unwrap();
    let md = std::fs::metadata(d.join("sub/hello.txt")).unwrap();
    assert_eq!((mode, uid, size), (md.mode(), md.uid(), 13));
    // partial walk: Rwalk with the qids walked, newfid not created
    assert_eq!(g.walk(1, 3, &[b"sub", b"missing", b"x"]).unwrap().len(), 1);
    assert_eq!(g.getattr(3), Err(libc::EIO));
    // first name fails: Rlerror
    assert_eq!(g.walk(1, 3, &[b"missing"]), Err(libc::ENOENT));
    // nwname 0 clones; 17 names is EINVAL
    assert_eq!(g.walk(2, 4, &[]).unwrap().len(), 0);
    assert_eq!(g.getattr(4).unwrap().3, 13);
    let many: Vec<&[u8]> = vec![b"sub"; 17];
    assert_eq!(g.walk(1, 5, &many), Err(libc::EINVAL));
    // newfid in use, fid unknown
    assert_eq!(g.walk(1, 2, &[b"sub"]), Err(libc::EBADF));
    assert_eq!(g.walk(99, 5, &[b"sub"]), Err(libc::EIO));
    // walking onto a symlink gives its qid, through it ENOTDIR
    let q = g.walk(1, 6, &[b"link"]).unwrap();
    assert_eq!(q[0].0, 0x02);
    assert_eq!(g.walk(1, 7, &[b"link", b"x"]).unwrap().len(), 1);
    assert_eq!(g.walk(6, 7, &[b"x"]), Err(libc::ENOTDIR));
    let r = g.rpc(22, M::default().u32(6)).unwrap();
    assert_eq!(Body(&r.body, 0).str(), b"sub/hello.txt");
    assert_eq!(g.rpc(22, M::default().u32(2)).err(), Some(libc::EINVAL), "readlink of a file");
    // a Tversion resets the session
    g.version(8192);
    assert_eq!(g.getattr(1), Err(libc::EIO));
}

#[test]
fn lopen_donates_the_fd_and_read_works_both_ways() {
    let d = tree();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    g.version(1 << 20);
    g.attach(1, "root").unwrap();
    g.walk(1, 2, &[b"sub", b"hello.txt"]).unwrap();
    assert_eq!(g.read(2, 0, 10), Err(libc::EBADF), "read before open");
    let r = g.lopen(2, libc::O_RDONLY).unwrap();
    let mut b = Body(&r.body, 0);
    assert_eq!(b.qid().0, 0);
    assert_eq!(b.u32(), (1 << 20) - 24, "iounit");
    let fd = r.fd.expect("an fd rides on Rlopen of a regular file");
    assert_eq!(fd_read_all(&fd), b"hello, gofer\n");
    assert_eq!(g.read(2, 7, 100).unwrap(), b"gofer\n");
    assert_eq!(g.read(2, 1000, 100).unwrap(), b"");
    assert_eq!(g.lopen(2, libc::O_RDONLY).err(), Some(libc::EINVAL), "opened twice");
    // Walking from an opened fid (as diod allows) gives an unopened fid.
    assert_eq!(g.walk(2, 3, &[]).unwrap().len(), 0);
    assert_eq!(g.read(3, 0, 1), Err(libc::EBADF));
    g.clunk(3).unwrap();
    // a big read is clamped to msize - 11
    g.walk(1, 4, &[b"big"]).unwrap();
    g.lopen(4, libc::O_RDONLY).unwrap();
    assert_eq!(g.read(4, 0, u32::MAX).unwrap().len(), 300_000);
    g.version(4096);
    g.attach(1, "root").unwrap();
    g.walk(1, 4, &[b"big"]).unwrap();
    g.lopen(4, libc::O_RDONLY).unwrap();
    assert_eq!(g.read(4, 0, u32::MAX).unwrap().len(), 4096 - 11);
    // directories open with no fd; read on them EISDIR; readdir lists
    g.walk(1, 5, &[b"sub"]).unwrap();
    let r = g.lopen(5, libc::O_RDONLY).unwrap();
    assert!(r.fd.is_none(), "no fd for a directory");
    assert_eq!(g.read(5, 0, 10), Err(libc::EISDIR));
    let mut names = g.readdir_all(5).unwrap();
    names.sort();
    assert_eq!(names, vec![b".".to_vec(), b"..".to_vec(), b"hello.txt".to_vec()]);
    let mut root: Vec<_> = { g.walk(1, 6, &[]).unwrap(); g.lopen(6, 0).unwrap(); g.readdir_all(6).unwrap() };
    root.sort();
    assert_eq!(root.len(), 5);
    // readdir on a file fid, on an unopened fid
    g.walk(1, 7, &[b"big"]).unwrap();
    assert_eq!(g.rpc(40, M::default().u32(7).u64(0).u32(100)).err(), Some(libc::EBADF));
    g.lopen(7, 0).unwrap();
    assert_eq!(g.rpc(40, M::default().u32(7).u64(0).u32(100)).err(), Some(libc::ENOTDIR));
    // a symlink is not opened
    g.walk(1, 8, &[b"link"]).unwrap();
    assert_eq!(g.lopen(8, 0).err(), Some(libc::ELOOP));
    // statfs
    let r = g.rpc(8, M::default().u32(1)).unwrap();
    let mut b = Body(&r.body, 0);
    b.u32();
    assert!(b.u32() > 0, "bsize");
    // clunk, then the fid is gone
    g.clunk(4).unwrap();
    assert_eq!(g.clunk(4), Err(libc::EIO));
    assert_eq!(g.read(4, 0, 1), Err(libc::EIO));
    // flush answers
    g.rpc(108, M::default().u16(1)).unwrap();
}

#[test]
fn read_only_tree_refuses_every_change() {
    let d = tree();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    g.version(8192);
    g.attach(1, "root").unwrap();
    g.walk(1, 2, &[b"sub", b"hello.txt"]).unwrap();
    for fl in [libc::O_WRONLY, libc::O_RDWR, libc::O_RDONLY | libc::O_TRUNC] {
        assert_eq!(g.lopen(2, fl).err(), Some(libc::EROFS));
    }
    let e = Some(libc::EROFS);
    assert_eq!(g.rpc(14, M::default().u32(1).s(b"new").u32(libc::O_RDWR as u32).u32(0o644).u32(0)).err(), e);
    assert_eq!(g.rpc(72, M::default().u32(1).s(b"d").u32(0o755).u32(0)).err(), e);
    assert_eq!(g.rpc(16, M::default().u32(1).s(b"l").s(b"x").u32(0)).err(), e);
    assert_eq!(g.rpc(18, M::default().u32(1).s(b"n").u32(0o644 | libc::S_IFREG).u32(0).u32(0).u32(0)).err(), e);
    assert_eq!(g.rpc(76, M::default().u32(1).s(b"big").u32(0)).err(), e);
    assert_eq!(g.rpc(74, M::default().u32(1).s(b"big").u32(1).s(b"big2").u32(0)).err(), e);
    assert_eq!(g.rpc(20, M::default().u32(2).u32(1).s(b"moved")).err(), e);
    assert_eq!(g.rpc(70, M::default().u32(1).u32(2).s(b"hard")).err(), e);
    let setattr = M::default().u32(2).u32(1).u32(0o600).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0);
    assert_eq!(g.rpc(26, setattr).err(), e);
    assert_eq!(g.rpc(32, M::default().u32(2).s(b"user.x").u64(1).u32(0)).err(), e);
    g.walk(1, 3, &[b"big"]).unwrap();
    assert_eq!(g.rpc(122, M::default().u32(3)).err(), e);
    g.lopen(2, 0).unwrap();
    assert_eq!(g.write(2, 0, b"x").err(), e);
    // nothing changed on the host
    let mut names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, vec!["big", "link", "sub"]);
    assert_eq!(std::fs::read(d.join("sub/hello.txt")).unwrap(), b"hello, gofer\n");
    assert_eq!(std::fs::metadata(d.join("sub/hello.txt")).unwrap().mode() & 0o777, 0o644);
}

/// O_NOATIME on a file the read-only gofer does not own (it keeps no CAP_FOWNER) still opens.
#[test]
fn noatime_is_a_hint() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to make a file owned by someone else");
        return;
    }
    let d = tree();
    std::os::unix::fs::chown(d.join("big"), Some(1234), Some(1234)).unwrap();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    g.version(8192);
    g.attach(1, "root").unwrap();
    g.walk(1, 2, &[b"big"]).unwrap();
    let r = g.lopen(2, libc::O_RDONLY | libc::O_NOATIME).unwrap();
    assert_eq!(fd_read_all(&r.fd.unwrap()).len(), 300_000);
}

/// Treaddirattr (130, our extension): one page of entries, each with its attributes (and a
/// symlink's target), and the end flag; returns (eof, [(name, offset, mode, uid, size, mtime,
/// target)]).
#[allow(clippy::type_complexity)]
fn readdirattr(g: &mut Gofer, fid: u32, off: u64, count: u32) -> Result<(bool, Vec<(Vec<u8>, u64, u32, u32, u64, u64, Option<Vec<u8>>)>), i32> {
    let r = g.rpc(130, M::default().u32(fid).u64(off).u32(count))?;
    let mut b = Body(&r.body, 0);
    let eof = b.u8() != 0;
    let end = 5 + b.u32() as usize;
    let mut out = Vec::new();
    while b.1 < end {
        b.qid();
        let off = b.u64();
        b.u8();
        let name = b.str().to_vec();
        let (mode, uid, _gid) = (b.u32(), b.u32(), b.u32());
        let (_nlink, _rdev, size, _blksize, _blocks) = (b.u64(), b.u64(), b.u64(), b.u64(), b.u64());
        let (_a, _an, mtime) = (b.u64(), b.u64(), b.u64());
        let (_mn, _c, _cn) = (b.u64(), b.u64(), b.u64());
        let target = (mode & libc::S_IFMT == libc::S_IFLNK).then(|| b.str().to_vec());
        out.push((name, off, mode, uid, size, mtime, target));
    }
    assert_eq!(b.1, end, "entries fill the data exactly");
    Ok((eof, out))
}

#[test]
fn readdirattr_lists_with_attributes_and_says_where_it_ends() {
    let d = tree();
    for i in 0..40 {
        std::fs::write(d.join(format!("file{i:02}")), vec![1u8; i]).unwrap();
    }
    let long = "t".repeat(250); // an entry of 384 bytes: fits a 400-byte page, not a 300-byte one
    symlink(&long, d.join("longlink")).unwrap();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    g.version(1 << 16);
    g.attach(1, "root").unwrap();
    g.walk(1, 2, &[]).unwrap();
    g.lopen(2, libc::O_RDONLY).unwrap();
    // All of it in one reply: the end flag is set, every entry has the host's attributes.
    let (eof, ents) = readdirattr(&mut g, 2, 0, 60_000).unwrap();
    assert!(eof);
    assert_eq!(ents.len(), 40 + 6);
    for (name, _, mode, uid, size, mtime, target) in &ents {
        let n = String::from_utf8(name.clone()).unwrap();
        if n == "." || n == ".." {
            assert_eq!((*mode, *size), (0, 0), "{n}: no attributes (never the host's parent)");
            continue;
        }
        let md = std::fs::symlink_metadata(d.join(&n)).unwrap();
        assert_eq!((*mode, *uid, *size, *mtime), (md.mode(), md.uid(), md.size(), md.mtime() as u64), "{n}");
        // A symlink's target comes with it; nothing follows other entries' attributes.
        let want = md.file_type().is_symlink().then(|| std::fs::read_link(d.join(&n)).unwrap().into_os_string().into_vec());
        assert_eq!(target, &want, "{n}");
    }
    assert!(ents.iter().any(|e| e.6.as_deref() == Some(long.as_bytes())));
    // Small pages: not the end until the last one, and together they list everything once.
    let (mut off, mut names, mut pages) = (0u64, Vec::new(), 0);
    loop {
        let (eof, ents) = readdirattr(&mut g, 2, off, 400).unwrap();
        pages += 1;
        assert!(!ents.is_empty() || eof, "an empty page is the end");
        for (n, o, ..) in ents {
            names.push(n);
            off = o;
        }
        if eof {
            break;
        }
    }
    assert!(pages > 3, "400 bytes hold a few entries at a time");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 46);
    // A page too small for the long link's entry ends before it (and is not the end); one
    // that starts at it and cannot hold it is getdents64's EINVAL.
    let (mut off, mut seen) = (0u64, false);
    loop {
        match readdirattr(&mut g, 2, off, 300) {
            Ok((eof, ents)) => {
                for (n, o, ..) in ents {
                    seen |= n == b"longlink";
                    off = o;
                }
                if eof {
                    break;
                }
            }
            Err(e) => {
                assert_eq!(e, libc::EINVAL);
                break;
            }
        }
    }
    assert!(!seen, "the long link never fits a 300-byte page");
    // The errnos of Treaddir: unopened fid, a file, a count too small for one entry.
    g.walk(1, 3, &[b"big"]).unwrap();
    assert_eq!(readdirattr(&mut g, 3, 0, 1000).err(), Some(libc::EBADF));
    g.lopen(3, 0).unwrap();
    assert_eq!(readdirattr(&mut g, 3, 0, 1000).err(), Some(libc::ENOTDIR));
    assert_eq!(readdirattr(&mut g, 2, 0, 30).err(), Some(libc::EINVAL));
    assert_eq!(readdirattr(&mut g, 99, 0, 1000).err(), Some(libc::EIO));
}

/// Replies to requests sent in one write go back together, but a donating reply is a sendmsg
/// of its own, so its fd comes with the read of its own first bytes. Read as the client reads
/// (each reply's header, then its body), only Rlopen has an fd; batching the Rlopen with the
/// replies before it would hand the fd to the first of them.
#[test]
fn pipelined_replies_keep_each_donation_on_its_own_reply() {
    let d = tree();
    let mut g = Gofer::spawn(&[("root", &d, true)]);
    g.version(1 << 16);
    g.attach(1, "root").unwrap();
    let mut batch = Vec::new();
    let getattr = |tag: u16| Gofer::frame(24, tag, &M::default().u32(1).u64(0x7ff).0);
    for tag in 1..=5 {
        batch.extend(getattr(tag));
    }
    batch.extend(Gofer::frame(110, 6, &M::default().u32(1).u32(2).u16(1).s(b"big").0));
    batch.extend(Gofer::frame(12, 7, &M::default().u32(2).u32(0).0));
    for tag in 8..=10 {
        batch.extend(getattr(tag));
    }
    g.send_raw(&batch);
    // Everything answered before reading (the replies wait in the socket, batched).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut got = Vec::new();
    for _ in 1..=10 {
        let (tag, rep) = g.recv().expect("a reply");
        got.push((tag, rep.ty, rep.fd.is_some()));
    }
    let want: Vec<(u16, u8, bool)> = (1..=10).map(|t| (t, [25, 25, 25, 25, 25, 111, 13, 25, 25, 25][t as usize - 1], t == 7)).collect();
    assert_eq!(got, want, "in order, the fd with Rlopen alone");
}
