//! Parked runs reported through one io_uring (`wake_ring`) instead of a waiter thread each:
//! park() arms a futex wait on the thread's message, the stub's FUTEX_WAKE completes it into
//! the ring's eventfd, and the event loop, seeing it readable, calls `dispatch`, which calls
//! the woken contexts' wakers on its own thread.
//!
//! The message is in memory the application can write, so a completion is only a hint: a
//! run is reported stopped when its message says READY (validated later by `take`) or its
//! thread is gone. A wake-up or a word changed by the application is re-armed a few times,
//! then left to the sweep, a timeout every SWEEP while anything is parked, which also finds
//! dead threads (nothing wakes a futex for them) and a READY whose wake the application
//! suppressed by clearing the sleeping flag. So forging costs the forger latency, and the
//! sentry at most a few re-arms per genuine stop plus one sweep per SWEEP.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::msg::*;
use crate::wake_ring::Ring;
use crate::{thread_alive, Shared};

const SWEEP: Duration = Duration::from_millis(50);
/// Key of the sweep's timeout; a context's armings get keys from 2 up.
const SWEEP_KEY: u64 = 1;
/// Wake-ups that find the message not READY, re-armed at once before leaving it to the sweep.
const MAX_REARMS: u32 = 4;

struct Armed {
    s: Arc<Shared>,
    /// A futex wait is in the ring for it (false: left to the sweep).
    waiting: bool,
    rearms: u32,
}

struct State {
    ring: Ring,
    armed: HashMap<u64, Armed>,
    next_key: u64,
    sweep_pending: bool,
}

pub struct Wakes {
    event_fd: i32,
    state: Mutex<State>,
}

impl Wakes {
    pub fn new() -> io::Result<Wakes> {
        let ring = Ring::new()?;
        Ok(Wakes { event_fd: ring.event_fd(), state: Mutex::new(State { ring, armed: HashMap::new(), next_key: 2, sweep_pending: false }) })
    }

    pub fn event_fd(&self) -> i32 {
        self.event_fd
    }

    /// Parks `s`'s run: Ok(true) if its waker will be called once it stops, Ok(false) if it
    /// has stopped already (take it now).
    pub(crate) fn park(&self, s: &Arc<Shared>) -> io::Result<bool> {
        let m = &s.msg;
        // Dekker with the stub (systrap.c): it stores READY then reads the flag; we store the
        // flag then let the kernel read the word (a wait on RESUME fails at once if it moved).
        m.atomic(OFF_SENTRY_SLEEPING).store(1, Ordering::SeqCst);
        let st = m.state();
        if st == ST_READY || s.dead.load(Ordering::SeqCst) {
            m.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
            return Ok(false);
        }
        let mut g = self.state.lock().unwrap();
        let key = g.next_key;
        g.next_key += 1;
        if let Err(e) = g.ring.futex_wait(key, m.atomic(OFF_STATE), st) {
            m.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
            return Err(e);
        }
        s.armed_key.store(key, Ordering::SeqCst);
        g.armed.insert(key, Armed { s: s.clone(), waiting: true, rearms: 0 });
        Self::ensure_sweep(&mut g);
        Ok(true)
    }

    fn ensure_sweep(g: &mut State) {
        if !g.sweep_pending && !g.armed.is_empty() && g.ring.timeout(SWEEP_KEY, SWEEP).is_ok() {
            g.sweep_pending = true;
        }
    }

    /// `s` is released while perhaps parked: no waker call for it any more.
    pub(crate) fn forget(&self, s: &Shared) {
        let key = s.armed_key.swap(0, Ordering::SeqCst);
        if key == 0 {
            return;
        }
        let mut g = self.state.lock().unwrap();
        if let Some(a) = g.armed.remove(&key) {
            if a.waiting {
                let _ = g.ring.cancel(key);
            }
        }
    }

    /// Takes the ring's completions and calls the wakers of the runs that stopped (on the
    /// calling thread, with no lock held). Call it whenever `event_fd` is readable.
    pub fn dispatch(&self) {
        let mut woken = Vec::new();
        {
            let mut guard = self.state.lock().unwrap();
            let g = &mut *guard;
            let mut done = Vec::new();
            g.ring.drain(|k, r| done.push((k, r)));
            // The sweep last: a stop whose wake is in this very batch is not one it recovers.
            let mut sweep = false;
            for (key, res) in done {
                if key == SWEEP_KEY {
                    g.sweep_pending = false;
                    sweep = true;
                    continue;
                }
                let Some(a) = g.armed.get_mut(&key) else { continue }; // forgotten, or cancelled
                a.waiting = false;
                if a.s.msg.state() == ST_READY {
                    woken.push(g.armed.remove(&key).unwrap().s);
                    continue;
                }
                // Woken with no READY, or the word moved off RESUME: the application wrote
                // it (a cancellation of ours was for a key already removed).
                if res != -libc::ECANCELED && a.rearms < MAX_REARMS {
                    a.rearms += 1;
                    let st = a.s.msg.state();
                    a.waiting = g.ring.futex_wait(key, a.s.msg.atomic(OFF_STATE), st).is_ok();
                }
            }
            if sweep {
                Self::sweep(g, &mut woken);
            }
            Self::ensure_sweep(g);
        }
        for s in woken {
            s.armed_key.store(0, Ordering::SeqCst);
            s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
            if let Some(w) = s.waker.lock().unwrap().as_ref() {
                w();
            }
        }
    }

    /// Every parked run: stopped (its wake may have been suppressed), dead, or left to us
    /// after forged wake-ups (armed again).
    fn sweep(g: &mut State, woken: &mut Vec<Arc<Shared>>) {
        let keys: Vec<u64> = g.armed.keys().copied().collect();
        for key in keys {
            let a = g.armed.get_mut(&key).unwrap();
            let ready = a.s.msg.state() == ST_READY;
            if !ready && thread_alive(a.s.tgid, a.s.tid) && !a.s.dead.load(Ordering::SeqCst) {
                if !a.waiting {
                    a.rearms = 0;
                    let st = a.s.msg.state();
                    a.waiting = g.ring.futex_wait(key, a.s.msg.atomic(OFF_STATE), st).is_ok();
                }
                continue;
            }
            if !ready {
                a.s.dead.store(true, Ordering::SeqCst);
            }
            let a = g.armed.remove(&key).unwrap();
            if a.waiting {
                let _ = g.ring.cancel(key);
            }
            woken.push(a.s);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The message is the application's to write: a fixed-seed fuzzer plays a stub thread
    //! that stops genuinely now and then while a forger rewrites its state word and sleeping
    //! flag and wakes its futex at random. Checked: a waker call only ever reports a READY
    //! message, once per park, and every genuine stop is reported within a sweep or two.
    use super::*;
    use crate::test_stub::{shared, Page};
    use crate::Msg;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn futex_wake(m: &Msg) {
        // SAFETY: FUTEX_WAKE (shared) on a word of our page.
        unsafe { libc::syscall(libc::SYS_futex, m.futex_addr(), libc::FUTEX_WAKE, i32::MAX, 0usize, 0usize, 0u32) };
    }

    /// What the stub does when it stops (systrap.c): READY, then a wake if the sentry sleeps.
    fn genuine_stop(m: &Msg) {
        m.atomic(OFF_STATE).store(ST_READY, Ordering::SeqCst);
        if m.atomic(OFF_SENTRY_SLEEPING).load(Ordering::SeqCst) != 0 {
            futex_wake(m);
        }
    }

    fn dispatch_for(w: &Wakes, d: Duration) {
        let mut pfd = libc::pollfd { fd: w.event_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd we own.
        unsafe { libc::poll(&mut pfd, 1, d.as_millis() as i32) };
        w.dispatch();
    }

    #[test]
    fn forged_words_and_wakes_never_report_a_running_thread_and_never_lose_a_stop() {
        let Ok(w) = Wakes::new() else {
            eprintln!("skipping: no io_uring futex waits here");
            return;
        };
        let mut page = Box::new(Page([0; 4096]));
        let calls = Arc::new(AtomicUsize::new(0));
        let s = shared(&mut page, calls.clone());
        let m = s.msg;
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let mut parks = 0;
        for _ in 0..300 {
            // The sentry resumes the thread and parks its run.
            m.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
            let before = calls.load(Ordering::SeqCst);
            if !w.park(&s).unwrap() {
                panic!("a RESUME'd run is not stopped");
            }
            parks += 1;
            // The forger, a few times, between dispatches: none of this is a stop.
            for _ in 0..(rng.next() % 6) {
                match rng.next() % 4 {
                    0 => m.atomic(OFF_STATE).store((rng.next() % 7) as u32 | 2, Ordering::SeqCst), // never READY (1)
                    1 => m.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst),
                    2 => futex_wake(&m),
                    _ => m.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst),
                }
                if rng.next() % 2 == 0 {
                    dispatch_for(&w, Duration::from_millis(0));
                }
            }
            assert_eq!(calls.load(Ordering::SeqCst), before, "no report before the stop");
            // The genuine stop (perhaps with its wake suppressed by the forger just before).
            if rng.next() % 3 == 0 {
                m.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
            }
            genuine_stop(&m);
            let start = Instant::now();
            while calls.load(Ordering::SeqCst) == before {
                assert!(start.elapsed() < Duration::from_secs(2), "a stop was lost (park {parks})");
                dispatch_for(&w, Duration::from_millis(20));
            }
            assert_eq!(calls.load(Ordering::SeqCst), before + 1, "one report per park");
        }
        // Nothing is left armed: late forged wakes report nothing.
        futex_wake(&m);
        dispatch_for(&w, Duration::from_millis(5));
        assert_eq!(calls.load(Ordering::SeqCst), parks);
        assert!(w.state.lock().unwrap().armed.is_empty());
    }

    #[test]
    fn a_released_context_is_not_reported_and_a_dead_one_is() {
        let Ok(w) = Wakes::new() else { return };
        let mut page = Box::new(Page([0; 4096]));
        let calls = Arc::new(AtomicUsize::new(0));
        let s = shared(&mut page, calls.clone());
        s.msg.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
        assert!(w.park(&s).unwrap());
        w.forget(&s);
        genuine_stop(&s.msg);
        dispatch_for(&w, Duration::from_millis(100));
        assert_eq!(calls.load(Ordering::SeqCst), 0, "forgotten: no report");
        // A thread that dies while parked (nothing wakes its futex) is found by the sweep.
        let mut page2 = Box::new(Page([0; 4096]));
        let dead_calls = Arc::new(AtomicUsize::new(0));
        let d = shared(&mut page2, dead_calls.clone());
        // Its waker sees a dead run, not a READY one.
        let c = dead_calls.clone();
        *d.waker.lock().unwrap() = Some(Box::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        }));
        d.msg.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
        assert!(w.park(&d).unwrap());
        d.dead.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while dead_calls.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < Duration::from_secs(2), "the sweep must report a dead thread");
            dispatch_for(&w, Duration::from_millis(20));
        }
        assert!(w.state.lock().unwrap().armed.is_empty());
    }
}
