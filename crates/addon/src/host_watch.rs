//! Readiness of host fds told to the event loop (ts/net/host/host_watch.ts): Node cannot watch
//! an fd it does not own, so one thread of ours waits in epoll_wait on an edge-triggered set
//! and hands each (fd, events) to JS through a threadsafe function. Nothing is polled on a
//! timer and the event loop never blocks. The fds are the sentry's own (host sockets it
//! made); a registration dies with its fd, and an event for an fd number the sentry no
//! longer watches is dropped on the JS side.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The epoll data of the eventfd that stops the thread.
const STOP: u64 = u64::MAX;
/// Events every registration asks for; the JS side sorts them out per waiter.
const WANTED: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

struct Shared {
    epfd: OwnedFd,
    stop: OwnedFd,
    stopped: AtomicBool,
}

#[napi]
pub struct HostFdWatcher {
    shared: Arc<Shared>,
}

type ReadyFn = ThreadsafeFunction<(i32, i32), (), (i32, i32), Status, false, true>;

fn run(shared: Arc<Shared>, tsfn: ReadyFn) {
    // SAFETY: an all-zero epoll_event is valid.
    let mut evs: [libc::epoll_event; 64] = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: evs has room for 64 events.
        let n = unsafe { libc::epoll_wait(shared.epfd.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, -1) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return;
        }
        for e in &evs[..n as usize] {
            let (data, events) = (e.u64, e.events);
            if data == STOP {
                if shared.stopped.load(Ordering::Acquire) {
                    return;
                }
                continue;
            }
            tsfn.call((data as i32, events as i32), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

#[napi]
impl HostFdWatcher {
    /// A watcher whose thread calls on_ready([fd, events]) for every edge of a watched fd. The
    /// callback does not keep the event loop alive.
    #[napi(constructor)]
    pub fn new(on_ready: Function<(i32, i32), ()>) -> Result<Self> {
        let tsfn: ReadyFn = on_ready.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
        // SAFETY: plain syscalls; the fds are owned at once.
        let (ep, ev) = unsafe { (libc::epoll_create1(libc::EPOLL_CLOEXEC), libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)) };
        if ep < 0 || ev < 0 {
            let e = errno();
            // SAFETY: closing what was opened above, once.
            unsafe {
                if ep >= 0 {
                    libc::close(ep);
                }
                if ev >= 0 {
                    libc::close(ev);
                }
            }
            return Err(Error::new(Status::GenericFailure, format!("E{e}: host fd watcher")));
        }
        // SAFETY: ep and ev are fresh fds nobody else owns.
        let shared = Arc::new(Shared {
            epfd: unsafe { OwnedFd::from_raw_fd(ep) },
            stop: unsafe { OwnedFd::from_raw_fd(ev) },
            stopped: AtomicBool::new(false),
        });
        let mut e = libc::epoll_event { events: libc::EPOLLIN as u32, u64: STOP };
        // SAFETY: e is a valid epoll_event for the call.
        if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, ev, &mut e) } < 0 {
            return Err(Error::new(Status::GenericFailure, format!("E{}: host fd watcher", errno())));
        }
        let s = shared.clone();
        std::thread::Builder::new()
            .name("tsvisor-hostfd".into())
            .spawn(move || run(s, tsfn))
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
        Ok(HostFdWatcher { shared })
    }

    /// Watch fd (or re-arm it: the current readiness is reported again if any): 0 or -errno.
    #[napi]
    pub fn watch(&self, fd: i32) -> i32 {
        if fd < 0 || fd == self.shared.epfd.as_raw_fd() || fd == self.shared.stop.as_raw_fd() {
            return -libc::EBADF;
        }
        let mut e = libc::epoll_event { events: WANTED, u64: fd as u64 };
        let ep = self.shared.epfd.as_raw_fd();
        // SAFETY: e is a valid epoll_event for each call.
        let mut r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_MOD, fd, &mut e) };
        if r < 0 && errno() == libc::ENOENT {
            // SAFETY: as above.
            r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut e) };
        }
        if r < 0 {
            -errno()
        } else {
            0
        }
    }

    /// Stop watching fd: 0 or -errno (ENOENT if it was not watched).
    #[napi]
    pub fn unwatch(&self, fd: i32) -> i32 {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL.
        let r = unsafe { libc::epoll_ctl(self.shared.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
        if r < 0 {
            -errno()
        } else {
            0
        }
    }

    /// End the thread (the watcher is unusable after).
    #[napi]
    pub fn close(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64.
        unsafe { libc::write(self.shared.stop.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8) };
    }
}
