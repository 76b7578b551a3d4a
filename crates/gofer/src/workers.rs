//! Host opens that wait: a small pool of threads, made before seccomp, on which an open that
//! the host makes wait (a lease being broken by another process, see PROTOCOL.md "Requests
//! that wait") runs while the serving loop goes on with other requests. Tflush (or Tclunk of
//! the fid) cancels one: its thread is sent SIGUSR1, whose handler does nothing and is
//! installed without SA_RESTART, so the blocked open returns EINTR.

use crate::host::{self, errno, Errno, R};
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};

/// Threads in the pool: as many opens may wait on the host at once; more queue.
pub const WORKERS: usize = 4;

/// One open to make: `name` in directory `dir` (both the worker's own), checked to be the
/// node (dev, ino) the fid was walked to.
pub struct Job {
    pub tag: u16,
    pub gen: u64,
    pub dir: OwnedFd,
    pub name: CString,
    pub flags: i32,
    pub dev: u64,
    pub ino: u64,
}

pub struct Done {
    pub tag: u16,
    pub gen: u64,
    pub result: R<OwnedFd>,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Job>,
    done: Vec<Done>,
    /// Per worker: its thread id and the tag it is opening now.
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
                .name(format!("open-{i}"))
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

    /// Cancels tag's open: a queued one finishes now with EINTR; a running one gets its
    /// thread signalled (again at each call: a signal that came just before the thread
    /// entered the open is lost, so the loop calls this until the job is done).
    pub fn cancel(&self, gen: u64, tag: u16) {
        let mut s = lock(&self.shared.0);
        if let Some(at) = s.queue.iter().position(|j| j.tag == tag && j.gen == gen) {
            s.queue.remove(at);
            s.done.push(Done { tag, gen, result: Err(libc::EINTR) });
            drop(s);
            self.wake();
            return;
        }
        for &(tid, job) in &s.running {
            if job == Some((gen, tag)) {
                // SAFETY: tgkill of one of our own threads (seccomp allows only our tgid).
                unsafe { libc::syscall(libc::SYS_tgkill, self.tgid, tid, libc::SIGUSR1) };
            }
        }
    }

    fn wake(&self) {
        poke(self.wake_tx.as_raw_fd());
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
        let job = {
            let mut s = lock(&sh.0);
            loop {
                if let Some(j) = s.queue.pop_front() {
                    s.running[i].1 = Some((j.gen, j.tag));
                    break j;
                }
                s = sh.1.wait(s).unwrap_or_else(|p| p.into_inner());
            }
        };
        let result = open(&job);
        {
            let mut s = lock(&sh.0);
            s.running[i].1 = None;
            s.done.push(Done { tag: job.tag, gen: job.gen, result });
        }
        poke(wake);
    }
}

/// The open itself, blocking as the host makes it; EINTR when cancelled.
fn open(j: &Job) -> R<OwnedFd> {
    let fd = host::openat(j.dir.as_raw_fd(), &j.name, j.flags | libc::O_NOFOLLOW, 0)?;
    let st = host::fstat(fd.as_raw_fd())?;
    if st.st_ino != j.ino || st.st_dev != j.dev {
        return Err(libc::ESTALE);
    }
    Ok(fd)
}

/// A copy of fd for a Job (the fid's own may be closed while the job runs).
pub fn dup(fd: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new fd we own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if n < 0 {
        return Err(errno());
    }
    // SAFETY: n was just returned and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}
