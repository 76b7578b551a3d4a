//! The errnos PROTOCOL.md promises "as diod gives them", checked against diod itself: the same
//! sequence of bad requests goes to diod (Debian's 9P2000.L server, on a socketpair) and to
//! tsvisor-gofer over the same kind of tree; each answer must match, but for the few places
//! where the gofer is stricter on purpose (listed, with why).

mod common;
use common::*;
use std::path::Path;

const DIOD: &str = "/usr/sbin/diod";

fn tree() -> std::path::PathBuf {
    let d = tmpdir("diod");
    std::fs::create_dir_all(d.join("dir/inner")).unwrap();
    std::fs::write(d.join("file"), b"content").unwrap();
    std::os::unix::fs::symlink("file", d.join("link")).unwrap();
    d
}

/// Each case: its name and the Ok/errno it got. fids: 1 = root.
fn cases(g: &mut Gofer, aname: &str) -> Vec<(&'static str, Result<(), i32>)> {
    let mut out = Vec::new();
    g.version(8192);
    let uid = unsafe { libc::geteuid() };
    let auth = g.rpc(102, M::default().u32(30).s(b"root").s(aname.as_bytes()).u32(uid)).map(drop);
    g.attach(1, aname).unwrap();
    let mut c = |name: &'static str, r: Result<(), i32>| out.push((name, r));
    let e = |r: Result<Rep, i32>| r.map(drop);
    let w = |r: Result<Vec<(u8, u64)>, i32>| r.map(drop);
    c("auth (none required)", auth);
    c("getattr unknown fid", g.getattr(50).map(drop));
    c("walk unknown fid", w(g.walk(50, 51, &[b"file"])));
    c("clunk unknown fid", g.clunk(50));
    c("attach fid in use", g.attach(1, aname).map(drop));
    g.walk(1, 2, &[b"file"]).unwrap();
    g.walk(1, 20, &[b"file"]).unwrap();
    c("walk newfid in use", w(g.walk(1, 20, &[b"dir"])));
    c("read unopened", g.read(2, 0, 10).map(drop));
    c("write unopened", g.write(2, 0, b"x").map(drop));
    c("first walk name missing", w(g.walk(1, 3, &[b"nope"])));
    c("walk ..", w(g.walk(1, 3, &[b".."])));
    let _ = g.clunk(3);
    c("walk .", w(g.walk(1, 3, &[b"."])));
    let _ = g.clunk(3);
    c("walk empty name", w(g.walk(1, 3, &[b""])));
    let _ = g.clunk(3);
    c("walk a/b", w(g.walk(1, 3, &[b"dir/inner"])));
    let _ = g.clunk(3);
    c("mkdir a/b", e(g.rpc(72, M::default().u32(1).s(b"dir/x").u32(0o755).u32(0))));
    // (17 names: diod drops the connection, the gofer answers EINVAL — tested in read.rs.)
    c("walk through a file", w(g.walk(2, 13, &[b"x"])));
    c("lopen file", e(g.lopen(2, libc::O_RDONLY)));
    c("lopen twice", e(g.lopen(2, libc::O_RDONLY)));
    c("walk from opened fid", w(g.walk(2, 3, &[])));
    c("write on O_RDONLY", g.write(2, 0, b"x").map(drop));
    c("readdir on a file", e(g.rpc(40, M::default().u32(2).u64(0).u32(100))));
    g.walk(1, 4, &[b"dir"]).unwrap();
    c("readdir unopened dir", e(g.rpc(40, M::default().u32(4).u64(0).u32(100))));
    c("lopen dir O_WRONLY", e(g.lopen(4, libc::O_WRONLY)));
    c("lopen dir", e(g.lopen(4, libc::O_RDONLY)));
    c("read on a dir", g.read(4, 0, 10).map(drop));
    g.walk(1, 5, &[]).unwrap();
    c("lcreate existing", e(g.rpc(14, M::default().u32(5).s(b"file").u32(2).u32(0o644).u32(0))));
    g.walk(1, 6, &[b"file"]).unwrap();
    c("lcreate in a file", e(g.rpc(14, M::default().u32(6).s(b"new").u32(2).u32(0o644).u32(0))));
    c("mkdir existing", e(g.rpc(72, M::default().u32(1).s(b"dir").u32(0o755).u32(0))));
    c("unlinkat non-empty dir", e(g.rpc(76, M::default().u32(1).s(b"dir").u32(0x200))));
    c("unlinkat dir without AT_REMOVEDIR", e(g.rpc(76, M::default().u32(1).s(b"dir").u32(0))));
    c("unlinkat missing", e(g.rpc(76, M::default().u32(1).s(b"nope").u32(0))));
    c("readlink a file", e(g.rpc(22, M::default().u32(6))));
    g.walk(1, 7, &[b"link"]).unwrap();
    c("readlink", e(g.rpc(22, M::default().u32(7))));
    c("setattr size of a dir", e(g.rpc(26, M::default().u32(4).u32(8).u32(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0))));
    c("renameat missing", e(g.rpc(74, M::default().u32(1).s(b"nope").u32(1).s(b"other"))));
    c("xattrwalk missing user attr", e(g.rpc(30, M::default().u32(6).u32(8).s(b"user.none"))));
    c("clunk", g.clunk(6));
    c("clunk twice", g.clunk(6));
    c("read after clunk", g.read(6, 0, 1).map(drop));
    c("flush", e(g.rpc(108, M::default().u16(999))));
    out
}

/// Where the gofer answers otherwise on purpose.
fn intended(name: &str, diod: Result<(), i32>, gofer: Result<(), i32>) -> Option<&'static str> {
    match (name, diod, gofer) {
        // 9P: "newfid must not be in use"; diod replaces it, the gofer refuses.
        ("attach fid in use" | "walk newfid in use", Ok(()), Err(libc::EBADF)) => Some("9P's rule kept"),
        // diod joins names into a path; the gofer takes one component per name (path safety).
        ("walk empty name" | "walk a/b" | "mkdir a/b", Ok(()), Err(libc::EINVAL)) => {
            Some("one component per name")
        }
        // Linux's answer for getdents on a file where diod says EINVAL.
        ("readdir on a file", Err(libc::EINVAL), Err(libc::ENOTDIR)) => Some("Linux's errno (getdents64)"),
        // diod has no Tunlinkat/Trenameat (EOPNOTSUPP); the gofer serves them.
        (n, Err(libc::EOPNOTSUPP), _) if n.starts_with("unlinkat") || n.starts_with("renameat") => Some("served"),
        _ => None,
    }
}

#[test]
fn errnos_match_diod() {
    if !Path::new(DIOD).exists() {
        eprintln!("skipped: {DIOD} not installed (apt-get install diod)");
        return;
    }
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: diod serves root's requests only when run as root");
        return;
    }
    let (d1, d2) = (tree(), tree());
    let d1s = d1.to_str().unwrap().to_string();
    let mut diod = Gofer::spawn_program(DIOD, &["-f", "-n", "-N", "-r", "3", "-w", "3", "-e", &d1s, "-L", "stderr", "-c", "/dev/null"]);
    let theirs = cases(&mut diod, &d1s);
    let mut g = Gofer::spawn(&[("t", &d2, false)]);
    let ours = cases(&mut g, "t");
    let mut diffs = Vec::new();
    for ((name, a), (_, b)) in theirs.iter().zip(&ours) {
        if a != b && intended(name, *a, *b).is_none() {
            diffs.push(format!("{name}: diod {a:?}, gofer {b:?}"));
        }
    }
    for ((name, a), (_, b)) in theirs.iter().zip(&ours) {
        eprintln!("{name:<36} diod {a:?}  gofer {b:?}");
    }
    assert!(diffs.is_empty(), "answers that differ from diod's:\n{}", diffs.join("\n"));
}
