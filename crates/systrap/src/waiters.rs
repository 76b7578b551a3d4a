//! Waiter threads for parked runs: one watches one context at a time, sleeping on its
//! message's futex until the stub reports a stop, then calls the context's waker. Threads are
//! pooled across contexts: a fork's child used to start one thread (clone3, a stack mmap) and
//! its exit to join it (a wait for that thread to be scheduled, on the sentry's thread), which
//! under CPU contention cost milliseconds per fork.
//! A released context is let go without waiting, unless its waiter is inside the watch loop,
//! the only place it touches the message: then release waits for it to leave (the slot may be
//! reused by another context at once). Owns the threads and the watch loop; the handshake's
//! words are the message's (msg.rs).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::msg::*;
use crate::{futex, thread_alive, Shared};

/// Idle threads kept for the next contexts; more are let end.
const MAX_IDLE: usize = 16;
const STACK: usize = 128 << 10;

/// What a context's waiter does, under `Shared::watch`.
pub(crate) struct Watch {
    /// A run is parked: watch for its stop.
    pub(crate) parked: bool,
    /// The context is released: stop watching it.
    pub(crate) quit: bool,
    /// The waiter is in the watch loop, touching the message.
    pub(crate) watching: bool,
}

impl Watch {
    pub(crate) fn new() -> Watch {
        Watch { parked: false, quit: false, watching: false }
    }
}

/// One pooled thread: the context it serves next, if any.
struct Worker {
    job: Mutex<Option<Arc<Shared>>>,
    cv: Condvar,
}

static IDLE: Mutex<Vec<Arc<Worker>>> = Mutex::new(Vec::new());

/// Gives `s` a waiter thread (an idle one, else a new one). False if no thread could be made.
pub(crate) fn start(s: &Arc<Shared>) -> bool {
    if let Some(w) = IDLE.lock().unwrap().pop() {
        *w.job.lock().unwrap() = Some(s.clone());
        w.cv.notify_one();
        return true;
    }
    let w = Arc::new(Worker { job: Mutex::new(Some(s.clone())), cv: Condvar::new() });
    std::thread::Builder::new().name("systrap-waiter".into()).stack_size(STACK).spawn(move || worker(w)).is_ok()
}

fn worker(w: Arc<Worker>) {
    loop {
        let s = {
            let mut job = w.job.lock().unwrap();
            loop {
                if let Some(s) = job.take() {
                    break s;
                }
                job = w.cv.wait(job).unwrap();
            }
        };
        watch(&s);
        drop(s);
        let mut idle = IDLE.lock().unwrap();
        if idle.len() >= MAX_IDLE {
            return;
        }
        idle.push(w.clone());
    }
}

/// Serves one context until it is released: each parked run is watched until it stops, then
/// its waker called.
fn watch(s: &Shared) {
    loop {
        {
            let mut w = s.watch.lock().unwrap();
            while !w.parked && !w.quit {
                w = s.cv.wait(w).unwrap();
            }
            if w.quit {
                return;
            }
            w.parked = false;
            w.watching = true;
        }
        let stopped = watch_run(s);
        let released = {
            let mut w = s.watch.lock().unwrap();
            w.watching = false;
            w.quit
        };
        if released {
            s.cv.notify_all(); // release() waits for us to leave the message alone
        }
        if !stopped {
            return;
        }
        if let Some(w) = s.waker.lock().unwrap().as_ref() {
            w();
        }
    }
}

/// Sleeps on the message until the run stops (or its thread dies): true, or false if the
/// context was released meanwhile.
fn watch_run(s: &Shared) -> bool {
    let st = s.msg.atomic(OFF_STATE);
    let sleeping = s.msg.atomic(OFF_SENTRY_SLEEPING);
    loop {
        sleeping.store(1, Ordering::SeqCst);
        if st.load(Ordering::SeqCst) == ST_READY {
            break;
        }
        futex(s.msg.futex_addr(), libc::FUTEX_WAIT, ST_RESUME, Some(Duration::from_millis(50)));
        if st.load(Ordering::SeqCst) != ST_READY && !thread_alive(s.tgid, s.tid) {
            s.dead.store(true, Ordering::SeqCst);
            break;
        }
        if s.watch.lock().unwrap().quit {
            return false;
        }
    }
    sleeping.store(0, Ordering::SeqCst);
    true
}

/// The context is released: its waiter (if any) stops serving it. Returns once the waiter no
/// longer touches the message (at once unless it was watching a parked run).
pub(crate) fn stop(s: &Shared) {
    let mut w = s.watch.lock().unwrap();
    w.quit = true;
    s.cv.notify_all();
    while w.watching {
        // It may be asleep on the message's futex: wake it to see `quit`.
        futex(s.msg.futex_addr(), libc::FUTEX_WAKE, i32::MAX as u32, None);
        w = s.cv.wait_timeout(w, Duration::from_millis(10)).unwrap().0;
    }
}
