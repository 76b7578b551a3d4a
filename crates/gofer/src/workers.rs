//! Requests that may block on the host run on a pool of threads, made before seccomp
//! (whose filter, installed with TSYNC, covers them): a request on a file system whose calls
//! may wait without bound (FUSE, NFS: wire::dev_may_block), or an open the host makes wait (a
//! lease being broken). Each job is the request's message and a session of its own holding
//! only the fids the request names (deferred.rs moves them there and back), so the handler
//! is the serving loop's own. Cancelling a job sends SIGUSR1 to its thread, whose handler
//! does nothing and is installed without SA_RESTART: a blocked call that the kernel lets a
//! signal end returns EINTR.

use crate::server::{Served, Server};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};

/// Threads in the pool: as many requests may wait on the host at once; more queue (and
/// every request on a file system that may block then waits behind them). Natively each
/// process stuck on a hung mount holds only itself; with 4, four stuck processes of a sandbox
/// stopped every other lookup on its FUSE/NFS volumes. Made before seccomp (no clone after).
pub const WORKERS: usize = 16;

pub struct Job {
    pub tag: u16,
    pub gen: u64,
    pub msg: Vec<u8>,
    pub srv: Box<Server>,
}

pub struct Done {
    pub tag: u16,
    pub gen: u64,
    /// None: cancelled before a thread took it.
    pub served: Option<Served>,
    pub srv: Box<Server>,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Job>,
    done: Vec<Done>,
    /// Per worker: its thread id and the job it serves now.
    running: [(i32, Option<(u64, u16)>); WORKERS],
}

pub struct Pool {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    /// Read end: a byte per finished job (the serving loop polls it with the socket).
    wake_rx: OwnedFd,
    wake_tx: Arc<OwnedFd>,
    tgid: i32,
}

extern "C" fn on_cancel(_: libc::c_int) {}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    /// Starts the threads; each reports its thread id before this returns (so that seccomp,
    /// installed after with TSYNC, covers them and no gettid is needed later).
    pub fn start() -> Result<Pool, String> {
        // One malloc arena for every thread: glibc grows a thread's own arena with mprotect,
        // which seccomp does not allow (the main arena grows with brk and mmap).
        // SAFETY: mallopt before any other thread exists.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        // SAFETY: sigaction with a handler that touches nothing; no SA_RESTART on purpose.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_cancel as extern "C" fn(libc::c_int) as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) != 0 {
                return Err(format!("sigaction: {}", std::io::Error::last_os_error()));
            }
        }
        let mut p = [0i32; 2];
        // SAFETY: pipe2 fills p with two new fds we own.
        if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: both fds were just made and are owned by nobody else.
        let (wake_rx, wake_tx) = unsafe { (OwnedFd::from_raw_fd(p[0]), Arc::new(OwnedFd::from_raw_fd(p[1]))) };
        let shared: Arc<(Mutex<Shared>, Condvar)> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..WORKERS {
            let (sh, wake, tx) = (shared.clone(), wake_tx.clone(), tx.clone());
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    // SAFETY: gettid has no preconditions.
                    let tid = unsafe { libc::gettid() };
                    lock(&sh.0).running[i].0 = tid;
                    let _ = tx.send(());
                    serve(i, &sh, wake.as_raw_fd());
                })
                .map_err(|e| format!("worker thread: {e}"))?;
        }
        for _ in 0..WORKERS {
            rx.recv().map_err(|_| "worker thread died".to_string())?;
        }
        // SAFETY: getpid has no preconditions.
        Ok(Pool { shared, wake_rx, wake_tx, tgid: unsafe { libc::getpid() } })
    }

    pub fn wake_fd(&self) -> RawFd {
        self.wake_rx.as_raw_fd()
    }

    pub fn submit(&self, job: Job) {
        lock(&self.shared.0).queue.push_back(job);
        self.shared.1.notify_one();
    }

    /// The jobs finished since the last call (drains the wake pipe).
    pub fn take_done(&self) -> Vec<Done> {
        let mut b = [0u8; 64];
        // SAFETY: reads into b; the pipe is non-blocking.
        while unsafe { libc::read(self.wake_rx.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) } > 0 {}
        std::mem::take(&mut lock(&self.shared.0).done)
    }

    /// Cancels a job: a queued one is done now, unserved; a running one gets its thread
    /// signalled (again at each call: a signal that came just before the thread entered the
    /// blocking call is lost, so the loop calls this until the job is done or given up).
    pub fn cancel(&self, gen: u64, tag: u16) {
        let mut s = lock(&self.shared.0);
        if let Some(at) = s.queue.iter().position(|j| j.tag == tag && j.gen == gen) {
            let j = s.queue.remove(at).expect("found");
            s.done.push(Done { tag, gen, served: None, srv: j.srv });
            drop(s);
            poke(self.wake_tx.as_raw_fd());
            return;
        }
        for &(tid, job) in &s.running {
            if job == Some((gen, tag)) {
                // SAFETY: tgkill of one of our own threads (seccomp allows only our tgid).
                unsafe { libc::syscall(libc::SYS_tgkill, self.tgid, tid, libc::SIGUSR1) };
            }
        }
    }
}

/// One byte into the wake pipe so that the serving loop's poll returns (a full pipe, EAGAIN,
/// wakes it already).
fn poke(tx: RawFd) {
    // SAFETY: one byte from a constant.
    unsafe { libc::write(tx, [1u8].as_ptr().cast(), 1) };
}

fn serve(i: usize, sh: &(Mutex<Shared>, Condvar), wake: RawFd) {
    loop {
        let mut job = {
            let mut s = lock(&sh.0);
            loop {
                if let Some(j) = s.queue.pop_front() {
                    s.running[i].1 = Some((j.gen, j.tag));
                    break j;
                }
                s = sh.1.wait(s).unwrap_or_else(|p| p.into_inner());
            }
        };
        let served = job.srv.handle(&job.msg);
        {
            let mut s = lock(&sh.0);
            s.running[i].1 = None;
            s.done.push(Done { tag: job.tag, gen: job.gen, served: Some(served), srv: job.srv });
        }
        poke(wake);
    }
}
