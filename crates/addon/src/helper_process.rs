//! Helper processes of the sentry (the gofer): started with posix_spawn, a vfork, so that
//! Node's large address space is neither copied nor made copy-on-write under the running
//! sentry (node:child_process forks, which costs milliseconds and more on a loaded host, and
//! loading it pulls in net and stream at start-up). The child gets /dev/null as stdin and
//! stdout, the sentry's stderr, one fd as its fd 3, the sentry's environment, no other fd, and
//! a process group of its own (out of reach of the terminal's job-control signals).
//!
//! The spawn itself runs on the helper's own thread: a vfork parent waits until the child has
//! exec'd, which on a loaded host is milliseconds the sentry's start-up would otherwise wait
//! out. That thread then reaps the child. Signals go to it only once it is spawned and while
//! it has not been reaped, under the same lock the reaper takes, so a pid the kernel gave to
//! another process is never signalled.

use std::ffi::CString;
use std::io;
use std::sync::{Arc, Condvar, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::to_napi;

/// The child as its thread knows it.
#[derive(Default)]
struct State {
    /// Set once posix_spawn has returned: the pid, or the errno it failed with (negated).
    spawned: Option<i32>,
    /// True once the reaper has seen the child exit (and then reaped it).
    exited: bool,
}

#[napi]
pub struct HelperProcess {
    state: Arc<(Mutex<State>, Condvar)>,
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| to_napi(io::Error::from_raw_os_error(libc::EINVAL)))
}

/// posix_spawn of path with argv and envp, `fd` as the child's fd 3: its pid or the errno.
fn spawn_now(path: &CString, argv: &[CString], envp: &[CString], fd: i32) -> std::result::Result<i32, i32> {
    const CHILD_FD: i32 = 3;
    let mut argv: Vec<*mut libc::c_char> = argv.iter().map(|s| s.as_ptr() as *mut libc::c_char).collect();
    argv.push(std::ptr::null_mut());
    let mut envp: Vec<*mut libc::c_char> = envp.iter().map(|s| s.as_ptr() as *mut libc::c_char).collect();
    envp.push(std::ptr::null_mut());
    let devnull = c"/dev/null";
    let mut pid: libc::pid_t = 0;
    // SAFETY: the attribute and file-action objects are initialised before use and
    // destroyed after; every pointer passed (paths, argv, envp) lives until posix_spawn
    // returns.
    let rc = unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawnattr_init(&mut attr);
        // Node blocks and handles signals its own way: the child starts with none blocked
        // and every disposition at its default.
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::posix_spawnattr_setsigmask(&mut attr, &empty);
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::posix_spawnattr_setsigdefault(&mut attr, &all);
        // A process group of its own: the terminal's ^C, ^\ and ^Z go to tsvisor's group,
        // which forwards them into the sandbox; a gofer in that group would die of SIGINT,
        // or stop, while the program it serves goes on.
        libc::posix_spawnattr_setpgroup(&mut attr, 0);
        libc::posix_spawnattr_setflags(
            &mut attr,
            (libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETPGROUP) as libc::c_short,
        );
        libc::posix_spawn_file_actions_adddup2(&mut fa, fd, CHILD_FD);
        libc::posix_spawn_file_actions_addopen(&mut fa, 0, devnull.as_ptr(), libc::O_RDONLY, 0);
        libc::posix_spawn_file_actions_addopen(&mut fa, 1, devnull.as_ptr(), libc::O_WRONLY, 0);
        // Node marks its stdio close-on-exec: dup2 of fd 2 onto itself clears the flag
        // (glibc 2.29+), so the child keeps our stderr.
        libc::posix_spawn_file_actions_adddup2(&mut fa, 2, 2);
        libc::posix_spawn_file_actions_addclosefrom_np(&mut fa, CHILD_FD + 1);
        let rc = libc::posix_spawn(&mut pid, path.as_ptr(), &fa, &attr, argv.as_ptr(), envp.as_ptr());
        libc::posix_spawn_file_actions_destroy(&mut fa);
        libc::posix_spawnattr_destroy(&mut attr);
        rc
    };
    if rc != 0 {
        Err(rc)
    } else {
        Ok(pid)
    }
}

/// Waits for pid to exit without reaping it, marks it exited under the lock, then reaps it:
/// a signal sent under the lock finds the child unreaped, its pid still its own.
fn reap(pid: i32, state: &(Mutex<State>, Condvar)) {
    // SAFETY: siginfo_t is plain data; waitid writes it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: plain syscall on our own child.
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let mut st = state.0.lock().unwrap();
    st.exited = true;
    let mut status = 0;
    // SAFETY: plain syscall on our own child, which has exited.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

#[napi]
impl HelperProcess {
    /// Starts `path` with `args` (argv[1..]) and `fd` as its fd 3, on the helper's thread:
    /// this returns at once (the caller may close `fd` then). A program that is missing or not
    /// executable is an errno here; a spawn that fails later anyway shows as a child that
    /// exited at once: its end of the socket closes.
    #[napi(factory)]
    pub fn spawn(path: String, args: Vec<String>, fd: i32) -> Result<HelperProcess> {
        let cpath = cstring(&path)?;
        // SAFETY: plain syscall on a NUL-terminated path.
        if unsafe { libc::access(cpath.as_ptr(), libc::X_OK) } != 0 {
            return Err(to_napi(io::Error::last_os_error()));
        }
        let mut argv = vec![cpath.clone()];
        for a in &args {
            argv.push(cstring(a)?);
        }
        let envp: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.into_encoded_bytes();
                kv.push(b'=');
                kv.extend_from_slice(&v.into_encoded_bytes());
                CString::new(kv).ok()
            })
            .collect();
        // Our own copy of the fd for the thread: the caller closes its own once we return.
        // SAFETY: plain syscall; the result is checked.
        let own = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if own < 0 {
            return Err(to_napi(io::Error::last_os_error()));
        }
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let shared = state.clone();
        let made = std::thread::Builder::new().name("helper-spawn".into()).stack_size(64 << 10).spawn(move || {
            let r = spawn_now(&cpath, &argv, &envp, own);
            // SAFETY: our own dup, no longer needed once the child has its copy.
            unsafe { libc::close(own) };
            {
                let mut st = shared.0.lock().unwrap();
                st.spawned = Some(r.unwrap_or_else(|e| -e));
                st.exited = r.is_err();
                shared.1.notify_all();
            }
            if let Ok(pid) = r {
                reap(pid, &shared);
            }
        });
        if let Err(e) = made {
            // SAFETY: the thread that would have closed it was not made.
            unsafe { libc::close(own) };
            return Err(to_napi(e));
        }
        Ok(HelperProcess { state })
    }

    /// Waits until posix_spawn has returned; the state then, locked.
    fn spawned(&self) -> std::sync::MutexGuard<'_, State> {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock().unwrap();
        while st.spawned.is_none() {
            st = cv.wait(st).unwrap();
        }
        st
    }

    /// The child's pid, or -1 if it could not be spawned.
    #[napi(getter)]
    pub fn pid(&self) -> i32 {
        self.spawned().spawned.filter(|&p| p > 0).unwrap_or(-1)
    }

    /// Sends `signo` unless the child has already exited.
    #[napi]
    pub fn kill(&self, signo: i32) {
        let st = self.spawned();
        if let (Some(pid), false) = (st.spawned, st.exited) {
            if pid > 0 {
                // SAFETY: plain syscall; the lock keeps the pid ours (see the module comment).
                unsafe { libc::kill(pid, signo) };
            }
        }
    }
}
