//! A minimal 9P2000.L client for driving a running tsvisor-gofer from the tests: its own
//! encoder (not the sentry's client), raw access for hostile messages, and the fd that rides
//! on a reply.
#![allow(dead_code)]

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

pub const NOFID: u32 = !0;

pub struct Gofer {
    pub child: Child,
    pub sock: UnixStream,
    pub tag: u16,
    pub log: PathBuf,
}

/// A decoded reply: its type, body, and the fd donated with it (if any).
pub struct Rep {
    pub ty: u8,
    pub body: Vec<u8>,
    pub fd: Option<OwnedFd>,
}

pub struct Body<'a>(pub &'a [u8], pub usize);
impl<'a> Body<'a> {
    pub fn u8(&mut self) -> u8 {
        self.1 += 1;
        self.0[self.1 - 1]
    }
    pub fn u16(&mut self) -> u16 {
        self.1 += 2;
        u16::from_le_bytes(self.0[self.1 - 2..self.1].try_into().unwrap())
    }
    pub fn u32(&mut self) -> u32 {
        self.1 += 4;
        u32::from_le_bytes(self.0[self.1 - 4..self.1].try_into().unwrap())
    }
    pub fn u64(&mut self) -> u64 {
        self.1 += 8;
        u64::from_le_bytes(self.0[self.1 - 8..self.1].try_into().unwrap())
    }
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        self.1 += n;
        &self.0[self.1 - n..self.1]
    }
    pub fn str(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.bytes(n)
    }
    pub fn qid(&mut self) -> (u8, u64) {
        let ty = self.u8();
        self.u32();
        (ty, self.u64())
    }
}

/// Message body builder.
#[derive(Default)]
pub struct M(pub Vec<u8>);
impl M {
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn s(mut self, v: &[u8]) -> Self {
        self = self.u16(v.len() as u16);
        self.0.extend_from_slice(v);
        self
    }
    pub fn raw(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
}

/// The gofer binary of this build. The path cargo bakes in at compile time goes stale when a
/// target dir is reused from another checkout (cargo then keeps the old test binaries, whose
/// baked path names that checkout's target): the binary beside this test's own profile dir
/// (target/<profile>/deps/../) is the one built with it.
pub fn bin() -> PathBuf {
    let baked = PathBuf::from(env!("CARGO_BIN_EXE_tsvisor-gofer"));
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("tsvisor-gofer")));
    match beside {
        Some(p) if p.exists() => p,
        _ => baked,
    }
}

pub fn tmpdir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("gofer-test-{}-{}-{}", tag, std::process::id(), rand_u32()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn rand_u32() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Gofer {
    /// Start the gofer serving `trees` (name, dir, ro); its debug log goes to a temp file.
    pub fn spawn(trees: &[(&str, &Path, bool)]) -> Gofer {
        Self::spawn_as(trees, None)
    }

    /// Any 9P server that takes its socket as fd 3 (diod -r 3 -w 3, for the comparisons).
    pub fn spawn_program(program: &str, args: &[&str]) -> Gofer {
        let (mine, theirs) = UnixStream::pair().unwrap();
        let mut cmd = Command::new(program);
        cmd.args(args).stderr(std::process::Stdio::null());
        let fd = theirs.as_raw_fd();
        // SAFETY: between fork and exec only async-signal-safe dup2/fcntl.
        unsafe {
            cmd.pre_exec(move || {
                socket_as_fd3(fd);
                Ok(())
            });
        }
        Self::started(cmd, mine, theirs, PathBuf::new())
    }

    /// Spawn `cmd` (whose child end of the socket is `theirs`) and talk to it over `mine`.
    fn started(mut cmd: Command, mine: UnixStream, theirs: UnixStream, log: PathBuf) -> Gofer {
        let child = cmd.spawn().unwrap();
        drop(theirs);
        let g = Gofer { child, sock: mine, tag: 0, log };
        g.sock.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        g
    }

    /// Spawn, optionally as another (non-root) uid/gid.
    pub fn spawn_as(trees: &[(&str, &Path, bool)], as_uid: Option<u32>) -> Gofer {
        Self::spawn_with(trees, as_uid, false, None)
    }

    /// Spawn with RLIMIT_NOFILE (soft and hard) set to `nofile`.
    pub fn spawn_nofile(trees: &[(&str, &Path, bool)], nofile: u64) -> Gofer {
        Self::spawn_with(trees, None, false, Some(nofile))
    }

    /// Spawn where unshare(2) is refused (EPERM from a seccomp filter the test installs
    /// before exec), as in a container that forbids namespaces.
    pub fn spawn_without_namespaces(trees: &[(&str, &Path, bool)]) -> Gofer {
        Self::spawn_with(trees, None, true, None)
    }

    /// Both: an unprivileged uid where unshare(2) is refused (a host without user namespaces,
    /// or a chroot: Linux refuses a chrooted process a user namespace).
    pub fn spawn_as_without_namespaces(trees: &[(&str, &Path, bool)], as_uid: u32) -> Gofer {
        Self::spawn_with(trees, Some(as_uid), true, None)
    }

    fn spawn_with(trees: &[(&str, &Path, bool)], as_uid: Option<u32>, refuse_unshare: bool, nofile: Option<u64>) -> Gofer {
        let (mine, theirs) = UnixStream::pair().unwrap();
        let log_dir = tmpdir("log");
        // Writable for an unprivileged gofer too.
        std::fs::set_permissions(&log_dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let log = log_dir.join("gofer.log");
        let mut cmd = Command::new(bin());
        cmd.arg("--sock-fd").arg("3").arg("--debug-log").arg(&log);
        if std::env::var_os("GOFER_TEST_VERBOSE").is_some() {
            cmd.arg("--verbose");
        }
        for (n, d, ro) in trees {
            cmd.arg("--tree").arg(format!("{}={}{}", n, d.display(), if *ro { ":ro" } else { "" }));
        }
        let fd = theirs.as_raw_fd();
        // SAFETY: between fork and exec only async-signal-safe dup2/fcntl.
        unsafe {
            cmd.pre_exec(move || {
                if refuse_unshare {
                    refuse_unshare_filter()?;
                }
                if let Some(n) = nofile {
                    let rl = libc::rlimit { rlim_cur: n, rlim_max: n };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if let Some(u) = as_uid {
                    if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(u) != 0 || libc::setuid(u) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                socket_as_fd3(fd);
                Ok(())
            });
        }
        Self::started(cmd, mine, theirs, log)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.sock.write_all(bytes).unwrap();
    }

    pub fn frame(ty: u8, tag: u16, body: &[u8]) -> Vec<u8> {
        let mut m = ((7 + body.len()) as u32).to_le_bytes().to_vec();
        m.push(ty);
        m.extend_from_slice(&tag.to_le_bytes());
        m.extend_from_slice(body);
        m
    }

    /// Receive one reply; None on EOF (the gofer closed the connection).
    pub fn recv(&mut self) -> Option<(u16, Rep)> {
        let mut hdr = [0u8; 4];
        let mut cbuf = [0u64; 8];
        let mut iov = libc::iovec { iov_base: hdr.as_mut_ptr().cast(), iov_len: 4 };
        // SAFETY: test code; buffers outlive the call.
        let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.as_mut_ptr().cast();
        mh.msg_controllen = std::mem::size_of_val(&cbuf);
        let n = unsafe { libc::recvmsg(self.sock.as_raw_fd(), &mut mh, libc::MSG_WAITALL | libc::MSG_CMSG_CLOEXEC) };
        if n <= 0 {
            return None;
        }
        assert_eq!(n, 4, "short header read");
        let mut fd = None;
        // SAFETY: walking the control messages the kernel wrote.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&mh);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let nfds = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / 4;
                    assert_eq!(nfds, 1, "one fd per donating reply");
                    fd = Some(OwnedFd::from_raw_fd(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>())));
                }
                c = libc::CMSG_NXTHDR(&mh, c);
            }
        }
        let size = u32::from_le_bytes(hdr) as usize;
        let mut rest = vec![0u8; size - 4];
        self.sock.read_exact(&mut rest).ok()?;
        let tag = u16::from_le_bytes([rest[1], rest[2]]);
        Some((tag, Rep { ty: rest[0], body: rest[3..].to_vec(), fd }))
    }

    /// Send a request and wait for its reply: Ok(reply) or Err(errno of Rlerror).
    pub fn rpc(&mut self, ty: u8, body: M) -> Result<Rep, i32> {
        self.tag = self.tag.wrapping_add(1) % 0xffff;
        let tag = self.tag;
        let m = Self::frame(ty, tag, &body.0);
        self.send_raw(&m);
        let Some((rtag, rep)) = self.recv() else {
            panic!("gofer closed the connection: {}", self.gone_why());
        };
        assert_eq!(rtag, tag);
        if rep.ty == 7 {
            return Err(Body(&rep.body, 0).u32() as i32);
        }
        assert_eq!(rep.ty, ty + 1, "reply type");
        Ok(rep)
    }

    pub fn version(&mut self, msize: u32) -> (u32, Vec<u8>) {
        let r = self.rpc(100, M::default().u32(msize).s(b"9P2000.L")).unwrap();
        let mut b = Body(&r.body, 0);
        (b.u32(), b.str().to_vec())
    }

    pub fn attach(&mut self, fid: u32, aname: &str) -> Result<(u8, u64), i32> {
        // n_uname: the caller's uid (root in the tests, as diod needs a user it knows).
        let uid = unsafe { libc::geteuid() };
        let r = self.rpc(104, M::default().u32(fid).u32(NOFID).s(b"root").s(aname.as_bytes()).u32(uid))?;
        Ok(Body(&r.body, 0).qid())
    }

    pub fn walk(&mut self, fid: u32, newfid: u32, names: &[&[u8]]) -> Result<Vec<(u8, u64)>, i32> {
        let mut m = M::default().u32(fid).u32(newfid).u16(names.len() as u16);
        for n in names {
            m = m.s(n);
        }
        let r = self.rpc(110, m)?;
        let mut b = Body(&r.body, 0);
        let n = b.u16();
        Ok((0..n).map(|_| b.qid()).collect())
    }

    /// Walk a /-separated path from fid into newfid, requiring it whole.
    pub fn walk_path(&mut self, fid: u32, newfid: u32, path: &str) -> Result<(), i32> {
        let names: Vec<&[u8]> = path.split('/').filter(|s| !s.is_empty()).map(|s| s.as_bytes()).collect();
        let q = self.walk(fid, newfid, &names)?;
        if q.len() != names.len() {
            return Err(-1);
        }
        Ok(())
    }

    pub fn lopen(&mut self, fid: u32, flags: i32) -> Result<Rep, i32> {
        self.rpc(12, M::default().u32(fid).u32(flags as u32))
    }

    pub fn read(&mut self, fid: u32, off: u64, count: u32) -> Result<Vec<u8>, i32> {
        let r = self.rpc(116, M::default().u32(fid).u64(off).u32(count))?;
        let mut b = Body(&r.body, 0);
        let n = b.u32() as usize;
        Ok(b.bytes(n).to_vec())
    }

    pub fn write(&mut self, fid: u32, off: u64, data: &[u8]) -> Result<u32, i32> {
        let r = self.rpc(118, M::default().u32(fid).u64(off).u32(data.len() as u32).raw(data))?;
        Ok(Body(&r.body, 0).u32())
    }

    pub fn clunk(&mut self, fid: u32) -> Result<(), i32> {
        self.rpc(120, M::default().u32(fid)).map(drop)
    }

    /// getattr: (mode, uid, gid, size)
    pub fn getattr(&mut self, fid: u32) -> Result<(u32, u32, u32, u64), i32> {
        let r = self.rpc(24, M::default().u32(fid).u64(0x3fff))?;
        let mut b = Body(&r.body, 0);
        b.u64();
        b.qid();
        let (mode, uid, gid) = (b.u32(), b.u32(), b.u32());
        b.u64();
        b.u64();
        Ok((mode, uid, gid, b.u64()))
    }

    /// readdir until exhausted: names.
    pub fn readdir_all(&mut self, fid: u32) -> Result<Vec<Vec<u8>>, i32> {
        let mut off = 0u64;
        let mut names = Vec::new();
        loop {
            let r = self.rpc(40, M::default().u32(fid).u64(off).u32(300))?;
            let mut b = Body(&r.body, 0);
            let n = b.u32() as usize;
            if n == 0 {
                return Ok(names);
            }
            let end = 4 + n;
            while b.1 < end {
                b.qid();
                off = b.u64();
                b.u8();
                names.push(b.str().to_vec());
            }
        }
    }

    pub fn alive(&mut self) -> bool {
        self.version(8192).1 == b"9P2000.L"
    }

    pub fn status(&self, key: &str) -> String {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines().find(|l| l.starts_with(key)).map(|l| l[key.len()..].trim().to_string()).unwrap_or_default()
    }

    /// Why the gofer went away: its exit status and its debug log, for a failing test's message.
    pub fn gone_why(&mut self) -> String {
        // The socket closes a moment before the exit can be reaped: wait up to a second.
        let mut status = "still running".to_string();
        for _ in 0..100 {
            match self.child.try_wait() {
                Ok(Some(s)) => {
                    status = format!("{s}");
                    break;
                }
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
                Err(e) => {
                    status = format!("wait: {e}");
                    break;
                }
            }
        }
        format!("status {status}; log:\n{}", self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Gofer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// seccomp: unshare → EPERM, everything else allowed (inherited across exec).
fn refuse_unshare_filter() -> std::io::Result<()> {
    #[repr(C)]
    struct F(u16, u8, u8, u32);
    #[repr(C)]
    struct Prog(u16, *const F);
    let f = [
        F(0x20, 0, 0, 0),                               // ld nr
        F(0x15, 0, 1, libc::SYS_unshare as u32),        // jeq unshare
        F(0x06, 0, 0, 0x0005_0000 | libc::EPERM as u32), // ret ERRNO(EPERM)
        F(0x06, 0, 0, 0x7fff_0000),                      // ret ALLOW
    ];
    let prog = Prog(f.len() as u16, f.as_ptr());
    // SAFETY: installs a filter on the child about to exec; prog outlives the call.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::syscall(libc::SYS_seccomp, 1u32, 0u32, &prog as *const Prog) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn fd_read_all(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut off = 0;
    loop {
        // SAFETY: buf writable.
        let n = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), off) };
        assert!(n >= 0, "pread on donated fd");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n as usize]);
        off += n as i64;
    }
}

pub fn raw(fd: &OwnedFd) -> RawFd {
    fd.as_raw_fd()
}

/// In the child, between fork and exec: the inherited socket end becomes fd 3, open across
/// exec (the gofer's --sock-fd 3, diod's -r 3 -w 3). Only async-signal-safe calls.
fn socket_as_fd3(fd: std::os::fd::RawFd) {
    // SAFETY: plain fcntl/dup2 on fds this child owns.
    unsafe {
        if fd == 3 {
            libc::fcntl(3, libc::F_SETFD, 0);
        } else {
            libc::dup2(fd, 3);
        }
    }
}
