//! The write side over the wire: lcreate (fd donated, O_EXCL), write, setattr (mode, owner,
//! size, times), mkdir, symlink, link, mknod (no devices), rename, renameat, unlinkat, remove,
//! fsync, xattrs (user.* only), locks.

mod common;
use common::*;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

fn setattr(valid: u32, mode: u32, uid: u32, gid: u32, size: u64, at: (u64, u64), mt: (u64, u64)) -> M {
    M::default().u32(valid).u32(mode).u32(uid).u32(gid).u64(size).u64(at.0).u64(at.1).u64(mt.0).u64(mt.1)
}

#[test]
fn create_write_and_change() {
    let d = tmpdir("write");
    let mut g = Gofer::spawn(&[("v", &d, false)]);
    g.version(1 << 16);
    g.attach(1, "v").unwrap();
    g.walk(1, 2, &[]).unwrap();
    let lc = |name: &[u8], fl: i32| M::default().u32(2).s(name).u32(fl as u32).u32(0o640).u32(1234);
    let r = g.rpc(14, lc(b"f.txt", libc::O_RDWR)).unwrap();
    let fd = r.fd.expect("Rlcreate donates the new file's fd");
    // the donated fd writes the host file
    // SAFETY: test write on the donated fd.
    assert_eq!(unsafe { libc::pwrite(raw(&fd), b"donated".as_ptr().cast(), 7, 0) }, 7);
    assert_eq!(g.write(2, 7, b" and written").unwrap(), 12);
    assert_eq!(std::fs::read(d.join("f.txt")).unwrap(), b"donated and written");
    let md = std::fs::metadata(d.join("f.txt")).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o640, "mode exact (umask 0 in the gofer)");
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(md.gid(), 1234, "as root the request's gid is applied");
    }
    // O_EXCL: creating it again fails; the fid (a dir again) stays usable. Without O_EXCL
    // the existing file is opened (open(O_CREAT)), and O_TRUNC applies.
    g.walk(1, 3, &[]).unwrap();
    let excl = (libc::O_RDWR | libc::O_EXCL) as u32;
    assert_eq!(g.rpc(14, M::default().u32(3).s(b"f.txt").u32(excl).u32(0o600).u32(0)).err(), Some(libc::EEXIST));
    g.walk(1, 9, &[]).unwrap();
    let r = g.rpc(14, M::default().u32(9).s(b"f.txt").u32(libc::O_RDONLY as u32).u32(0o600).u32(0)).unwrap();
    assert_eq!(fd_read_all(&r.fd.unwrap()), b"donated and written");
    g.clunk(9).unwrap();
    g.walk(1, 9, &[]).unwrap();
    assert_eq!(g.rpc(14, M::default().u32(9).s(b"sl0").u32(2).u32(0o600).u32(0)).err(), None, "a new name");
    g.clunk(9).unwrap();
    std::os::unix::fs::symlink("f.txt", d.join("sl1")).unwrap();
    g.walk(1, 9, &[]).unwrap();
    assert_eq!(g.rpc(14, M::default().u32(9).s(b"sl1").u32(2).u32(0o600).u32(0)).err(), Some(libc::ELOOP), "an existing symlink is not followed");
    g.rpc(14, M::default().u32(9).s(b"sl0").u32((libc::O_RDWR | libc::O_TRUNC) as u32).u32(0o600).u32(0)).unwrap();
    std::fs::remove_file(d.join("sl0")).unwrap();
    std::fs::remove_file(d.join("sl1")).unwrap();
    assert_eq!(g.rpc(14, M::default().u32(3).s(b"..").u32(2).u32(0o600).u32(0)).err(), Some(libc::EINVAL));
    // setattr: mode, size, times
    g.walk(1, 4, &[b"f.txt"]).unwrap();
    let body = |fid: u32, m: M| M::default().u32(fid).raw(&m.0);
    g.rpc(26, body(4, setattr(1, 0o600, 0, 0, 0, (0, 0), (0, 0)))).unwrap();
    assert_eq!(std::fs::metadata(d.join("f.txt")).unwrap().mode() & 0o7777, 0o600);
    g.rpc(26, body(4, setattr(8, 0, 0, 0, 3, (0, 0), (0, 0)))).unwrap();
    assert_eq!(std::fs::read(d.join("f.txt")).unwrap(), b"don");
    g.rpc(26, body(4, setattr(0x10 | 0x20 | 0x80 | 0x100, 0, 0, 0, 0, (1000, 5), (2000, 7)))).unwrap();
    let md = std::fs::metadata(d.join("f.txt")).unwrap();
    assert_eq!((md.atime(), md.atime_nsec(), md.mtime(), md.mtime_nsec()), (1000, 5, 2000, 7));
    if unsafe { libc::geteuid() } == 0 {
        g.rpc(26, body(4, setattr(2 | 4, 0, 4321, 8765, 0, (0, 0), (0, 0)))).unwrap();
        let md = std::fs::metadata(d.join("f.txt")).unwrap();
        assert_eq!((md.uid(), md.gid()), (4321, 8765));
    }
    // mkdir, symlink, link, mknod
    let r = g.rpc(72, M::default().u32(1).s(b"dir").u32(0o750).u32(!0)).unwrap();
    assert_eq!(Body(&r.body, 0).qid().0, 0x80);
    assert_eq!(std::fs::metadata(d.join("dir")).unwrap().mode() & 0o7777, 0o750);
    let r = g.rpc(16, M::default().u32(1).s(b"sl").s(b"/etc/passwd").u32(!0)).unwrap();
    assert_eq!(Body(&r.body, 0).qid().0, 0x02);
    assert_eq!(std::fs::read_link(d.join("sl")).unwrap().to_str().unwrap(), "/etc/passwd");
    g.rpc(70, M::default().u32(1).u32(4).s(b"hard")).unwrap();
    assert_eq!(std::fs::metadata(d.join("hard")).unwrap().ino(), std::fs::metadata(d.join("f.txt")).unwrap().ino());
    g.rpc(18, M::default().u32(1).s(b"fifo").u32(libc::S_IFIFO | 0o600).u32(0).u32(0).u32(!0)).unwrap();
    assert!(std::fs::metadata(d.join("fifo")).unwrap().file_type().is_fifo());
    for ty in [libc::S_IFCHR, libc::S_IFBLK] {
        assert_eq!(g.rpc(18, M::default().u32(1).s(b"dev").u32(ty | 0o600).u32(1).u32(3).u32(!0)).err(), Some(libc::EPERM));
    }
    assert!(!d.join("dev").exists());
    // opening the FIFO is refused (it would block the gofer)
    g.walk(1, 5, &[b"fifo"]).unwrap();
    assert_eq!(g.lopen(5, libc::O_RDONLY).err(), Some(libc::ENXIO));
    // rename the fid's file into dir; renameat back; unlinkat; remove
    g.walk(1, 6, &[b"dir"]).unwrap();
    g.rpc(20, M::default().u32(4).u32(6).s(b"moved")).unwrap();
    assert!(d.join("dir/moved").exists() && !d.join("f.txt").exists());
    g.rpc(74, M::default().u32(6).s(b"moved").u32(1).s(b"back")).unwrap();
    assert!(d.join("back").exists());
    assert_eq!(g.rpc(76, M::default().u32(1).s(b"dir").u32(0)).err(), Some(libc::EISDIR));
    assert_eq!(g.rpc(76, M::default().u32(1).s(b"dir").u32(0x1)).err(), Some(libc::EINVAL));
    g.rpc(76, M::default().u32(1).s(b"hard").u32(0)).unwrap();
    g.rpc(122, M::default().u32(6)).unwrap();
    assert!(!d.join("dir").exists() && !d.join("hard").exists());
    assert_eq!(g.getattr(6), Err(libc::EIO), "Tremove drops the fid");
    assert_eq!(g.rpc(122, M::default().u32(1)).err(), Some(libc::EBUSY), "the root cannot go");
    // fsync on the created (open) fid, on an unopened one
    g.rpc(50, M::default().u32(2).u32(0)).unwrap();
    assert_eq!(g.rpc(50, M::default().u32(5).u32(0)).err(), Some(libc::EBADF));
}

#[test]
fn xattrs_user_namespace_only() {
    let d = tmpdir("xattr");
    std::fs::write(d.join("f"), b"x").unwrap();
    let mut g = Gofer::spawn(&[("v", &d, false)]);
    g.version(8192);
    g.attach(1, "v").unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    match g.rpc(32, M::default().u32(2).s(b"user.color").u64(4).u32(0)) {
        Err(libc::EOPNOTSUPP) => {
            eprintln!("skipped: the temp dir's file system has no user xattrs");
            return;
        }
        r => {
            r.unwrap();
        }
    }
    g.write(2, 0, b"blue").unwrap();
    g.clunk(2).unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    let r = g.rpc(30, M::default().u32(2).u32(3).s(b"user.color")).unwrap();
    assert_eq!(Body(&r.body, 0).u64(), 4);
    assert_eq!(g.read(3, 0, 100).unwrap(), b"blue");
    let r = g.rpc(30, M::default().u32(2).u32(4).s(b"")).unwrap();
    assert_eq!(Body(&r.body, 0).u64(), 11);
    assert_eq!(g.read(4, 0, 100).unwrap(), b"user.color\0");
    for ns in [&b"trusted.x"[..], b"security.selinux", b"system.posix_acl_access"] {
        assert_eq!(g.rpc(30, M::default().u32(2).u32(5).s(ns)).err(), Some(libc::EOPNOTSUPP));
        assert_eq!(g.rpc(32, M::default().u32(2).s(ns).u64(1).u32(0)).err(), Some(libc::EOPNOTSUPP));
    }
    assert_eq!(g.rpc(30, M::default().u32(2).u32(5).s(b"user.none")).err(), Some(libc::ENODATA));
    // Size 0: an empty value, unless XATTR_REPLACE alone asks for a removal (v9fs's removexattr).
    g.walk(1, 6, &[b"f"]).unwrap();
    g.rpc(32, M::default().u32(6).s(b"user.empty").u64(0).u32(0)).unwrap();
    g.clunk(6).unwrap();
    let r = g.rpc(30, M::default().u32(2).u32(7).s(b"user.empty")).unwrap();
    assert_eq!(Body(&r.body, 0).u64(), 0, "an empty value is kept");
    g.clunk(7).unwrap();
    g.walk(1, 6, &[b"f"]).unwrap();
    g.rpc(32, M::default().u32(6).s(b"user.empty").u64(0).u32(libc::XATTR_REPLACE as u32)).unwrap();
    g.clunk(6).unwrap();
    assert_eq!(g.rpc(30, M::default().u32(2).u32(7).s(b"user.empty")).err(), Some(libc::ENODATA), "removed");
    g.walk(1, 6, &[b"f"]).unwrap();
    g.rpc(32, M::default().u32(6).s(b"user.none").u64(0).u32(libc::XATTR_REPLACE as u32)).unwrap();
    assert_eq!(g.clunk(6).err(), Some(libc::ENODATA), "removing a missing name");
}

#[test]
fn locks_from_the_gofer_table() {
    let d = tmpdir("lock");
    std::fs::write(d.join("f"), b"x").unwrap();
    let mut g = Gofer::spawn(&[("v", &d, false)]);
    g.version(8192);
    g.attach(1, "v").unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    let lock = |ty: u8, start: u64, len: u64, pid: u32| {
        M::default().u32(2).u8(ty).u32(0).u64(start).u64(len).u32(pid).s(b"client")
    };
    let st = |r: Rep| Body(&r.body, 0).u8();
    assert_eq!(st(g.rpc(52, lock(1, 0, 10, 100)).unwrap()), 0);
    assert_eq!(st(g.rpc(52, lock(0, 5, 1, 200)).unwrap()), 1, "conflict: BLOCKED");
    assert_eq!(st(g.rpc(52, lock(0, 10, 0, 200)).unwrap()), 0, "past the range");
    let r = g.rpc(54, M::default().u32(2).u8(1).u64(0).u64(0).u32(300).s(b"client")).unwrap();
    let mut b = Body(&r.body, 0);
    assert_eq!((b.u8(), b.u64(), b.u64(), b.u32()), (1, 0, 10, 100));
    assert_eq!(st(g.rpc(52, lock(2, 0, 0, 100)).unwrap()), 0);
    assert_eq!(st(g.rpc(52, lock(1, 0, 5, 200)).unwrap()), 0, "released");
    assert_eq!(g.rpc(52, lock(3, 0, 5, 200)).err(), Some(libc::EINVAL));
}
