//! Confinement proved from outside: the serving gofer runs under seccomp (mode 2) with
//! no_new_privs, only the capabilities PROTOCOL.md names, in a mount namespace of its own, and
//! its debug log says how it got there — as root, and as an unprivileged user (a user
//! namespace) where the machine allows one.

mod common;
use common::*;

fn ns(pid: u32, which: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{which}")).unwrap().display().to_string()
}

fn check_confined(g: &mut Gofer, want_caps: u64) {
    assert!(g.alive());
    assert_eq!(g.status("Seccomp:"), "2");
    assert_eq!(g.status("NoNewPrivs:"), "1");
    assert_eq!(u64::from_str_radix(&g.status("CapEff:"), 16).unwrap(), want_caps);
    assert_eq!(u64::from_str_radix(&g.status("CapBnd:"), 16).unwrap(), want_caps);
    let me = std::process::id();
    assert_ne!(ns(g.child.id(), "mnt"), ns(me, "mnt"), "own mount namespace");
    assert_ne!(ns(g.child.id(), "net"), ns(me, "net"), "own (empty) network namespace");
    let log = g.log_text();
    assert!(log.contains("pivot_root into a tmpfs holding"), "log: {log}");
    assert!(log.contains("seccomp: allowlist"), "log: {log}");
    // Its root holds only the trees: /proc/<pid>/root lists 0, 1, ...
    let mut root: Vec<_> = std::fs::read_dir(format!("/proc/{}/root", g.child.id()))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    root.sort();
    assert_eq!(root, vec!["0", "1"]);
    // Only the socket, the log and the workers' wake pipe are open.
    let fds = std::fs::read_dir(format!("/proc/{}/fd", g.child.id())).unwrap().count();
    assert_eq!(fds, 3 + 1 + 1 + 2 + 2, "stdio, socket, log, two tree roots, wake pipe");
    // Every thread (the open workers too, made before the filter) runs under it.
    let tasks: Vec<_> = std::fs::read_dir(format!("/proc/{}/task", g.child.id())).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(tasks.len(), 17, "the serving thread and 16 open workers");
    for t in tasks {
        let st = std::fs::read_to_string(t.join("status")).unwrap();
        assert!(st.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Seccomp:", "2"]), "{}: {st}", t.display());
        assert!(st.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["NoNewPrivs:", "1"]), "{}", t.display());
    }
}

#[test]
fn as_root_mount_namespace_seccomp_caps() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root (the unprivileged case is the other test)");
        return;
    }
    let (a, b) = (tmpdir("conf-a"), tmpdir("conf-b"));
    std::fs::write(a.join("f"), b"a").unwrap();
    let mut g = Gofer::spawn(&[("ro", &a, true), ("rw", &b, false)]);
    check_confined(&mut g, 0b11111); // CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID
    // The ro tree's mount is read-only even to the gofer: the kernel, not only the server, says no.
    let mountinfo = std::fs::read_to_string(format!("/proc/{}/mountinfo", g.child.id())).unwrap();
    let line = mountinfo.lines().find(|l| l.split(' ').nth(4) == Some("/0")).expect("tree 0 mounted at /0");
    assert!(line.split(' ').nth(5).unwrap().split(',').any(|o| o == "ro"), "{line}");
    assert!(line.contains("nodev") && line.contains("nosuid"), "{line}");
}

#[test]
fn read_only_gofer_keeps_only_dac_read_search() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root");
        return;
    }
    let (a, b) = (tmpdir("conf-c"), tmpdir("conf-d"));
    let mut g = Gofer::spawn(&[("a", &a, true), ("b", &b, true)]);
    check_confined(&mut g, 0b100);
}

#[test]
fn unprivileged_user_namespace() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: cannot switch to an unprivileged uid without root");
        return;
    }
    let (a, b) = (tmpdir("conf-e"), tmpdir("conf-f"));
    for d in [&a, &b] {
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        std::fs::set_permissions(d.parent().unwrap(), std::os::unix::fs::PermissionsExt::from_mode(0o1777)).ok();
    }
    std::fs::write(a.join("f"), b"hello").unwrap();
    let mut g = Gofer::spawn_as(&[("a", &a, true), ("b", &b, false)], Some(65534));
    if !g.alive() {
        panic!("unprivileged gofer did not serve");
    }
    let log = g.log_text();
    if log.contains("no mount namespace") {
        eprintln!("skipped: user namespaces refused here: {log}");
        return;
    }
    check_confined(&mut g, 0b11111);
    assert!(log.contains("user+mount+net namespace"), "{log}");
    // It serves: the file reads, owned by root on the host, it shows as the overflow uid.
    g.attach(1, "a").unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    let (_, uid, _, _) = g.getattr(2).unwrap();
    assert_eq!(uid, 65534);
    let r = g.lopen(2, 0).unwrap();
    assert_eq!(fd_read_all(&r.fd.unwrap()), b"hello");
}

/// The default root: the host's `/` served read-only. Nothing appears on the host, the tree
/// reads, the host's /proc and /sys inside it are refused.
#[test]
fn host_root_read_only() {
    let before: Vec<_> = std::fs::read_dir("/").unwrap().map(|e| e.unwrap().file_name()).collect();
    let mut g = Gofer::spawn(&[("root", std::path::Path::new("/"), true)]);
    assert!(g.alive(), "log: {}", g.log_text());
    g.attach(1, "root").unwrap();
    g.walk(1, 2, &[b"etc", b"passwd"]).unwrap();
    let r = g.lopen(2, libc::O_RDONLY).unwrap();
    assert_eq!(fd_read_all(&r.fd.unwrap()), std::fs::read("/etc/passwd").unwrap());
    assert_eq!(g.walk(1, 3, &[b"proc", b"self"]), Err(libc::EACCES));
    assert_eq!(g.walk(1, 3, &[b"sys"]), Err(libc::EACCES));
    g.walk(1, 4, &[]).unwrap();
    g.lopen(4, 0).unwrap();
    let mut names = g.readdir_all(4).unwrap();
    names.retain(|n| n != b"." && n != b"..");
    names.sort();
    let mut host: Vec<Vec<u8>> = before.iter().map(|n| n.as_encoded_bytes().to_vec()).collect();
    host.sort();
    assert_eq!(names, host, "the tree is the host's root");
    let after: Vec<_> = std::fs::read_dir("/").unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(after.len(), before.len(), "nothing made in the host's /");
    assert!(!std::path::Path::new("/0").exists());
}

/// A file system mounted below a tree root: its files' qid paths carry a device prefix (no
/// collision with the root's inode numbers); the root's own files keep the host inode.
#[test]
fn submount_inodes_are_remapped() {
    use std::os::unix::fs::MetadataExt;
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let d = tmpdir("submount");
    std::fs::write(d.join("top"), b"t").unwrap();
    std::fs::create_dir(d.join("m")).unwrap();
    let target = std::ffi::CString::new(d.join("m").to_str().unwrap()).unwrap();
    let tmpfs = std::ffi::CString::new("tmpfs").unwrap();
    // SAFETY: test set-up: a tmpfs on a temp dir, detached at the end.
    assert_eq!(unsafe { libc::mount(tmpfs.as_ptr(), target.as_ptr(), tmpfs.as_ptr(), 0, std::ptr::null()) }, 0);
    struct Umount(std::ffi::CString);
    impl Drop for Umount {
        fn drop(&mut self) {
            // SAFETY: detaches the mount this test made.
            unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
        }
    }
    let _guard = Umount(target);
    std::fs::write(d.join("m/inner"), b"i").unwrap();
    let mut g = Gofer::spawn(&[("t", &d, false)]);
    g.version(8192);
    g.attach(1, "t").unwrap();
    let q = g.walk(1, 2, &[b"top"]).unwrap();
    assert_eq!(q[0].1, std::fs::metadata(d.join("top")).unwrap().ino());
    let q = g.walk(1, 3, &[b"m", b"inner"]).unwrap();
    let ino = std::fs::metadata(d.join("m/inner")).unwrap().ino();
    assert_eq!(q[1].1, (1 << 56) | ino);
    assert_eq!(q[0].1 >> 56, 1, "the submount's root too");
    let r = g.lopen(3, libc::O_RDONLY).unwrap();
    assert_eq!(fd_read_all(&r.fd.unwrap()), b"i");
}

/// Where namespaces are refused: one tree → chroot into it, said in the log; several → path
/// discipline only, said in the log. Seccomp and the capability cut hold either way.
#[test]
fn fallback_without_namespaces() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: chroot needs root");
        return;
    }
    let a = tmpdir("fallback-a");
    std::fs::write(a.join("f"), b"in a").unwrap();
    let mut g = Gofer::spawn_without_namespaces(&[("a", &a, true)]);
    assert!(g.alive(), "log: {}", g.log_text());
    let log = g.log_text();
    assert!(log.contains(&format!("confine: chroot {} (unshare", a.display())), "{log}");
    assert_eq!(std::fs::read_link(format!("/proc/{}/root", g.child.id())).unwrap(), a);
    assert_eq!(g.status("Seccomp:"), "2");
    assert_eq!(u64::from_str_radix(&g.status("CapEff:"), 16).unwrap(), 0b100);
    g.attach(1, "a").unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    assert_eq!(fd_read_all(&g.lopen(2, 0).unwrap().fd.unwrap()), b"in a");
    let root_ino = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    assert_eq!(g.walk(1, 3, &[b".."]).unwrap()[0].1, root_ino(&a), "`..` at the root stays");

    let b = tmpdir("fallback-b");
    let mut g = Gofer::spawn_without_namespaces(&[("a", &a, true), ("b", &b, false)]);
    assert!(g.alive());
    let log = g.log_text();
    assert!(log.contains("no mount namespace") && log.contains("path discipline only"), "{log}");
    assert_eq!(g.status("Seccomp:"), "2");
    g.attach(1, "b").unwrap();
    assert_eq!(g.walk(1, 3, &[b".."]).unwrap()[0].1, root_ino(&b), "`..` at the root stays");
}

/// Unprivileged and refused namespaces: no capability to keep and no chroot, yet it serves
/// (before, asking capset for CAP_DAC_READ_SEARCH it never had was EPERM and it died).
#[test]
fn fallback_unprivileged_without_namespaces() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: cannot switch to an unprivileged uid without root");
        return;
    }
    let a = tmpdir("fallback-u");
    std::fs::set_permissions(&a, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(a.parent().unwrap(), std::os::unix::fs::PermissionsExt::from_mode(0o1777)).ok();
    std::fs::write(a.join("f"), b"for all").unwrap();
    let mut g = Gofer::spawn_as_without_namespaces(&[("a", &a, true)], 65534);
    assert!(g.alive(), "log: {}", g.log_text());
    let log = g.log_text();
    assert!(log.contains("path discipline only") && log.contains("capabilities kept: []"), "{log}");
    assert_eq!(g.status("Seccomp:"), "2");
    assert_eq!(g.status("NoNewPrivs:"), "1");
    assert_eq!(u64::from_str_radix(&g.status("CapEff:"), 16).unwrap(), 0);
    g.attach(1, "a").unwrap();
    g.walk(1, 2, &[b"f"]).unwrap();
    assert_eq!(fd_read_all(&g.lopen(2, 0).unwrap().fd.unwrap()), b"for all");
}
