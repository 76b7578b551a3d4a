//! Helper processes of the sentry (the gofer): started with posix_spawn, a vfork, so that
//! Node's large address space is neither copied nor made copy-on-write under the running
//! sentry (node:child_process forks, which costs milliseconds and more on a loaded host, and
//! loading it pulls in net and stream at start-up). The child gets /dev/null as stdin and
//! stdout, the sentry's stderr, one fd as its fd 3, the sentry's environment, and no other fd.
//!
//! A thread per helper reaps it. Signals go to it only while it has not been reaped, under the
//! same lock the reaper takes, so a pid the kernel gave to another process is never signalled.

use std::ffi::CString;
use std::io;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::to_napi;

#[napi]
pub struct HelperProcess {
    pid: i32,
    /// True once the reaper has seen the child exit (and then reaped it).
    exited: Arc<Mutex<bool>>,
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| to_napi(io::Error::from_raw_os_error(libc::EINVAL)))
}

#[napi]
impl HelperProcess {
    /// Starts `path` with `args` (argv[1..]) and `fd` as its fd 3.
    #[napi(factory)]
    pub fn spawn(path: String, args: Vec<String>, fd: i32) -> Result<HelperProcess> {
        const CHILD_FD: i32 = 3;
        let cpath = cstring(&path)?;
        let mut owned = vec![cpath.clone()];
        for a in &args {
            owned.push(cstring(a)?);
        }
        let mut argv: Vec<*mut libc::c_char> = owned.iter().map(|s| s.as_ptr() as *mut libc::c_char).collect();
        argv.push(std::ptr::null_mut());
        let env: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.into_encoded_bytes();
                kv.push(b'=');
                kv.extend_from_slice(&v.into_encoded_bytes());
                CString::new(kv).ok()
            })
            .collect();
        let mut envp: Vec<*mut libc::c_char> = env.iter().map(|s| s.as_ptr() as *mut libc::c_char).collect();
        envp.push(std::ptr::null_mut());
        let devnull = cstring("/dev/null")?;
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
            libc::posix_spawnattr_setflags(&mut attr, (libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF) as libc::c_short);
            libc::posix_spawn_file_actions_adddup2(&mut fa, fd, CHILD_FD);
            libc::posix_spawn_file_actions_addopen(&mut fa, 0, devnull.as_ptr(), libc::O_RDONLY, 0);
            libc::posix_spawn_file_actions_addopen(&mut fa, 1, devnull.as_ptr(), libc::O_WRONLY, 0);
            // Node marks its stdio close-on-exec: dup2 of fd 2 onto itself clears the flag
            // (glibc 2.29+), so the child keeps our stderr.
            libc::posix_spawn_file_actions_adddup2(&mut fa, 2, 2);
            libc::posix_spawn_file_actions_addclosefrom_np(&mut fa, CHILD_FD + 1);
            let rc = libc::posix_spawn(&mut pid, cpath.as_ptr(), &fa, &attr, argv.as_ptr(), envp.as_ptr());
            libc::posix_spawn_file_actions_destroy(&mut fa);
            libc::posix_spawnattr_destroy(&mut attr);
            rc
        };
        if rc != 0 {
            return Err(to_napi(io::Error::from_raw_os_error(rc)));
        }
        let exited = Arc::new(Mutex::new(false));
        let seen = exited.clone();
        // Without a reaper thread (none could be made) the child stays a zombie until the
        // sentry exits, and signals still reach it.
        let _ = std::thread::Builder::new().name(format!("reap-{pid}")).stack_size(64 << 10).spawn(move || {
            // Wait for the exit without reaping, mark it under the lock, then reap: a
            // signal sent under the lock finds the child unreaped, its pid still its own.
            // SAFETY: siginfo_t is plain data; waitid writes it.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            loop {
                // SAFETY: plain syscall on our own child.
                let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
                if r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break;
                }
            }
            let mut done = seen.lock().unwrap();
            *done = true;
            let mut status = 0;
            // SAFETY: plain syscall on our own child, which has exited.
            unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        });
        Ok(HelperProcess { pid, exited })
    }

    #[napi(getter)]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Sends `signo` unless the child has already exited.
    #[napi]
    pub fn kill(&self, signo: i32) {
        let done = self.exited.lock().unwrap();
        if !*done {
            // SAFETY: plain syscall; the lock keeps the pid ours (see the module comment).
            unsafe { libc::kill(self.pid, signo) };
        }
    }
}
