//! The sentry's thread sleeps on its parked runs' own futex words while the event loop has
//! nothing else to do, instead of in epoll waiting for a waiter thread to relay the stop
//! through a threadsafe function (stub -> waiter -> eventfd -> event loop: one thread hop
//! and an event-loop turn more per parked run; issue 10's pipe and tcp rows park every run
//! on a loaded host).
//!
//! A uv_prepare handle runs just before libuv would block for I/O, after every callback and
//! its microtasks. If runs are parked (`parked`), no timer, immediate or pending callback is
//! due (uv_backend_timeout) and no fd is ready (a zero poll of the loop's epoll fd), it waits
//! with futex_waitv on the words `platform::Context::stop_word` gives, for at most SLEEP_MAX
//! (less if a timer is due sooner). While it sleeps it holds the runs' reports (`hold_stop`:
//! their waiters will not make them) and gives back those of runs that go on (`release_stop`):
//! exactly one side reports each stop. A run that stopped has its JS callback called here, in
//! one callback scope, as the waiter's relay would have called it; then it looks again. So a
//! fd that becomes ready during a sleep waits at most SLEEP_MAX, and whatever the application
//! writes in its words only ends a sleep early or lets it last its full time.
//! Owns the prepare handle and the parked set; everything here runs on the JS thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::sys;
use napi::{Env, Result};

use tsvisor_platform as platform;
use crate::js_wake::{alloc_handle, call_callbacks, delete_ref, loop_and_async_context, sym, Callbacks};

const UV_PREPARE: c_int = 9;
/// Longest sleep on the words: how late a host fd's readiness (a socket of the NAT, a
/// signal's pipe) may be seen while a run is parked.
const SLEEP_MAX: Duration = Duration::from_micros(1000);
/// Longest stay in one prepare callback before libuv updates its clock and runs timers.
const STAY_MAX: Duration = Duration::from_millis(10);
/// futex_waitv's limit.
const WAITV_MAX: usize = 128;
const SYS_FUTEX_WAITV: libc::c_long = 449;
const FUTEX2_SIZE_U32: u32 = 2;

type PrepareCb = extern "C" fn(*mut c_void);
type CloseCb = extern "C" fn(*mut c_void);

/// libuv, as the node binary exports it (looked up at run time: the addon links no libuv).
struct Uv {
    handle_size: extern "C" fn(c_int) -> usize,
    prepare_init: extern "C" fn(*mut c_void, *mut c_void) -> c_int,
    prepare_start: extern "C" fn(*mut c_void, PrepareCb) -> c_int,
    prepare_stop: extern "C" fn(*mut c_void) -> c_int,
    backend_fd: extern "C" fn(*const c_void) -> c_int,
    backend_timeout: extern "C" fn(*const c_void) -> c_int,
    close: extern "C" fn(*mut c_void, CloseCb),
    unref: extern "C" fn(*mut c_void),
}

fn uv() -> Option<&'static Uv> {
    static UV: std::sync::OnceLock<Option<Uv>> = std::sync::OnceLock::new();
    UV.get_or_init(|| {
        // SAFETY: each symbol is libuv's function of that name, with the C signature given
        // in Uv (libuv 1.x, stable ABI).
        unsafe {
            Some(Uv {
                handle_size: std::mem::transmute::<*mut c_void, extern "C" fn(c_int) -> usize>(sym(c"uv_handle_size")?),
                prepare_init: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, *mut c_void) -> c_int>(sym(c"uv_prepare_init")?),
                prepare_start: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, PrepareCb) -> c_int>(sym(c"uv_prepare_start")?),
                prepare_stop: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_prepare_stop")?),
                backend_fd: std::mem::transmute::<*mut c_void, extern "C" fn(*const c_void) -> c_int>(sym(c"uv_backend_fd")?),
                backend_timeout: std::mem::transmute::<*mut c_void, extern "C" fn(*const c_void) -> c_int>(sym(c"uv_backend_timeout")?),
                close: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, CloseCb)>(sym(c"uv_close")?),
                unref: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void)>(sym(c"uv_unref")?),
            })
        }
    })
    .as_ref()
}

/// struct futex_waitv (linux/futex.h).
#[repr(C)]
struct FutexWaitv {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32,
}

pub(crate) struct IdleWait {
    env: sys::napi_env,
    lp: *mut c_void,
    /// The uv_prepare_t (malloc'd, freed by the close callback); its data field points at us.
    handle: *mut c_void,
    async_ctx: sys::napi_async_context,
    inner: RefCell<Inner>,
}

struct Inner {
    callbacks: Callbacks,
    /// Contexts whose run is parked, with the context to ask for its word and claim it.
    parked: HashMap<u32, Arc<dyn platform::Context>>,
    /// futex_waitv is missing (ENOSYS): only a single parked run is slept on.
    no_waitv: bool,
}

impl IdleWait {
    /// A prepare handle on the loop of `env`; None where libuv cannot be reached, or with
    /// TSVISOR_IDLE_WAIT=0 (benchmarks: the waiter's relay alone).
    pub(crate) fn new(env: &Env) -> Result<Option<Rc<IdleWait>>> {
        if std::env::var("TSVISOR_IDLE_WAIT").as_deref() == Ok("0") {
            return Ok(None);
        }
        let Some(uv) = uv() else { return Ok(None) };
        let env = env.raw();
        let (lp, async_ctx) = loop_and_async_context(env, c"tsvisor:idle")?;
        let handle = alloc_handle((uv.handle_size)(UV_PREPARE), "uv_prepare_t")?;
        if (uv.prepare_init)(lp, handle) != 0 {
            // SAFETY: never handed to libuv successfully.
            unsafe { libc::free(handle) };
            return Ok(None);
        }
        let iw = Rc::new(IdleWait {
            env,
            lp,
            handle,
            async_ctx,
            inner: RefCell::new(Inner { callbacks: Callbacks::new(), parked: HashMap::new(), no_waitv: false }),
        });
        // SAFETY: uv_handle_t starts with `void *data`; it holds one strong count, given
        // back by the close callback.
        unsafe { *(handle as *mut *const IdleWait) = Rc::into_raw(iw.clone()) };
        (uv.prepare_start)(handle, on_prepare);
        // The handle must not keep the loop alive: the contexts' own wakers do.
        (uv.unref)(handle);
        Ok(Some(iw))
    }

    /// A new context's id; `on_wake` is the callback its waker would call.
    pub(crate) fn add(&self, on_wake: sys::napi_value) -> Result<u32> {
        self.inner.borrow_mut().callbacks.add(self.env, on_wake)
    }

    /// The run of `id` was parked (its waker is armed).
    pub(crate) fn parked(&self, id: u32, ctx: Arc<dyn platform::Context>) {
        let mut i = self.inner.borrow_mut();
        i.parked.insert(id, ctx);
        stats::most(i.parked.len());
    }

    /// Whether the run of `id` is in the parked set (for a hang report).
    pub(crate) fn is_parked(&self, id: u32) -> bool {
        self.inner.try_borrow().map(|i| i.parked.contains_key(&id)).unwrap_or(false)
    }

    /// The run of `id` was taken (by whichever report).
    pub(crate) fn unparked(&self, id: u32) {
        if let Ok(mut i) = self.inner.try_borrow_mut() {
            i.parked.remove(&id);
        }
    }

    /// `id` is released: its callback is dropped.
    pub(crate) fn remove(&self, id: u32) {
        let r = {
            let mut i = self.inner.borrow_mut();
            i.parked.remove(&id);
            i.callbacks.take(id)
        };
        if let Some(r) = r {
            delete_ref(self.env, r);
        }
    }

    /// Stops the prepare handle (the platform is going away); freed once libuv is done.
    pub(crate) fn close(&self) {
        let uv = uv().expect("libuv was found when the handle was made");
        (uv.prepare_stop)(self.handle);
        (uv.close)(self.handle, on_closed);
    }

    /// The prepare callback: sleep on the parked runs' words while nothing else is due.
    fn idle(&self) {
        let Some(uv) = uv() else { return };
        let start = Instant::now();
        loop {
            if self.inner.borrow().parked.is_empty() {
                return;
            }
            let t = (uv.backend_timeout)(self.lp);
            if t == 0 || start.elapsed() >= STAY_MAX {
                stats::busy();
                return;
            }
            let mut limit = SLEEP_MAX;
            if t > 0 {
                let due = Duration::from_millis(t as u64);
                match due.checked_sub(start.elapsed()) {
                    Some(left) if !left.is_zero() => limit = limit.min(left),
                    _ => return,
                }
            }
            if fd_ready((uv.backend_fd)(self.lp)) {
                stats::busy();
                return;
            }
            let stopped = self.sleep(limit);
            if stopped.is_empty() {
                return;
            }
            self.report(&stopped);
        }
    }

    /// Sleeps up to `limit` on the parked runs' words; returns the ids of the runs that
    /// stopped and were claimed here (their waiters will not report them).
    fn sleep(&self, limit: Duration) -> Vec<u32> {
        let (held, no_waitv) = {
            let i = self.inner.borrow();
            // No more than one sleep can watch: the others stay with their waiters.
            let held: Vec<(u32, Arc<dyn platform::Context>)> =
                i.parked.iter().filter(|(_, c)| c.hold_stop()).take(WAITV_MAX).map(|(id, c)| (*id, c.clone())).collect();
            (held, i.no_waitv)
        };
        let mut waitv = Vec::with_capacity(held.len().min(WAITV_MAX));
        for (_, c) in &held {
            match c.stop_word() {
                Some((addr, val)) if waitv.len() < WAITV_MAX => {
                    waitv.push(FutexWaitv { val: val as u64, uaddr: addr as u64, flags: FUTEX2_SIZE_U32, reserved: 0 })
                }
                Some(_) => {}
                None => {
                    // Stopped already: nothing to sleep on.
                    waitv.clear();
                    break;
                }
            }
        }
        if !waitv.is_empty() && !(no_waitv && waitv.len() > 1) {
            stats::slept();
            let slept = if no_waitv { futex_wait(&waitv[0], limit) } else { futex_waitv(&mut waitv, limit) };
            if slept == Err(libc::ENOSYS) {
                self.inner.borrow_mut().no_waitv = true;
            }
        }
        let mut stopped = Vec::new();
        for (id, c) in held {
            if c.release_stop() {
                stopped.push(id);
            }
        }
        stats::claimed(stopped.len());
        if !stopped.is_empty() {
            let mut i = self.inner.borrow_mut();
            for id in &stopped {
                i.parked.remove(id);
            }
        }
        stopped
    }

    /// Calls the callbacks of `ids` in one callback scope (its close runs the microtasks).
    fn report(&self, ids: &[u32]) {
        let refs: Vec<sys::napi_ref> = {
            let i = self.inner.borrow();
            ids.iter().filter_map(|&id| i.callbacks.get(id)).collect()
        };
        // SAFETY: a libuv callback on the JS thread; the references and the async context are
        // ours and live while this IdleWait is.
        unsafe { call_callbacks(self.env, self.async_ctx, &refs) };
    }
}

/// Whether the loop's epoll fd has an event ready (a zero-timeout poll).
fn fd_ready(fd: c_int) -> bool {
    if fd < 0 {
        return true;
    }
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd we own, zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) != 0 }
}

fn deadline(limit: Duration) -> libc::timespec {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime into a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let ns = now.tv_nsec as u64 + limit.subsec_nanos() as u64;
    libc::timespec { tv_sec: now.tv_sec + limit.as_secs() as i64 + (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

/// futex_waitv on the words (shared futexes: the stub's process maps the same pages), until
/// one is woken or differs from its value, or `limit` passes. Err(errno) where it failed
/// outright (ENOSYS on a kernel before 5.16).
fn futex_waitv(w: &mut [FutexWaitv], limit: Duration) -> std::result::Result<(), i32> {
    let at = deadline(limit);
    // SAFETY: w is a live array of w.len() futex_waitv entries whose addresses are in the
    // memory file's mapping (the kernel validates them); at is a timespec we own.
    let r = unsafe { libc::syscall(SYS_FUTEX_WAITV, w.as_mut_ptr(), w.len() as u32, 0u32, &at as *const libc::timespec, libc::CLOCK_MONOTONIC) };
    if r < 0 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
        if e == libc::ENOSYS {
            return Err(e);
        }
    }
    Ok(())
}

/// FUTEX_WAIT on one word, for a kernel without futex_waitv.
fn futex_wait(w: &FutexWaitv, limit: Duration) -> std::result::Result<(), i32> {
    let ts = libc::timespec { tv_sec: limit.as_secs() as i64, tv_nsec: limit.subsec_nanos() as i64 };
    // SAFETY: the word is in the memory file's mapping; the kernel validates the rest.
    unsafe { libc::syscall(libc::SYS_futex, w.uaddr as *mut u32, libc::FUTEX_WAIT, w.val as u32, &ts as *const libc::timespec, 0usize, 0u32) };
    Ok(())
}

extern "C" fn on_prepare(handle: *mut c_void) {
    // SAFETY: data was set to a live IdleWait (one strong count) before the handle started.
    let iw = unsafe { &**(handle as *const *const IdleWait) };
    iw.idle();
}

extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: the strong count taken in new(), given back once; then the handle is freed.
    unsafe {
        drop(Rc::from_raw(*(handle as *const *const IdleWait)));
        libc::free(handle);
    }
}

/// TSVISOR_HANDOFF_STATS=1: how the idle sleeps went, printed to stderr at exit.
mod stats {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    static SLEPT: AtomicU64 = AtomicU64::new(0);
    static CLAIMED: AtomicU64 = AtomicU64::new(0);
    static BUSY: AtomicU64 = AtomicU64::new(0);
    static MOST: AtomicU64 = AtomicU64::new(0);

    fn on() -> bool {
        *ON.get_or_init(|| {
            let on = std::env::var("TSVISOR_HANDOFF_STATS").as_deref() == Ok("1");
            if on {
                // SAFETY: registering a plain extern "C" function with no arguments.
                unsafe { libc::atexit(print) };
            }
            on
        })
    }
    pub(super) fn slept() {
        if on() {
            SLEPT.fetch_add(1, Ordering::Relaxed);
        }
    }
    pub(super) fn claimed(n: usize) {
        if on() {
            CLAIMED.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
    pub(super) fn most(n: usize) {
        if on() {
            MOST.fetch_max(n as u64, Ordering::Relaxed);
        }
    }
    pub(super) fn busy() {
        if on() {
            BUSY.fetch_add(1, Ordering::Relaxed);
        }
    }
    extern "C" fn print() {
        eprintln!(
            "idle wait: slept {} claimed {} left for the loop {}; most parked at once {}",
            SLEPT.load(Ordering::Relaxed),
            CLAIMED.load(Ordering::Relaxed),
            BUSY.load(Ordering::Relaxed),
            MOST.load(Ordering::Relaxed)
        );
    }
}
