//! The cell through which a platform hands a finished run back to the sentry.
//!
//! The sentry spins on it for a short budget (the synchronous fast path: no promise, no
//! event-loop turn); if the run takes longer it parks, and the publisher calls the waker,
//! which resolves a promise on the Node side. Exactly one of the two sees the result first,
//! decided by one atomic swap, so no wake-up is lost and none is spurious.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Event, EventKind, Regs, NUM_REGS};

const IDLE: u32 = 0;
const RUNNING: u32 = 1;
const DONE: u32 = 2;
const PARKED: u32 = 3;

pub type Waker = Box<dyn Fn() + Send + Sync>;

pub struct Completion {
    state: AtomicU32,
    slot: Mutex<(Event, Regs)>,
    waker: Mutex<Option<Waker>>,
}

impl Default for Completion {
    fn default() -> Self {
        Self::new()
    }
}

impl Completion {
    pub fn new() -> Completion {
        Completion {
            state: AtomicU32::new(IDLE),
            slot: Mutex::new((Event::of(EventKind::Interrupt), [0; NUM_REGS])),
            waker: Mutex::new(None),
        }
    }

    pub fn set_waker(&self, w: Waker) {
        *self.waker.lock().unwrap() = Some(w);
    }

    /// Called by the sentry side just before the platform starts the run.
    pub fn begin(&self) {
        self.state.store(RUNNING, Ordering::SeqCst);
    }

    /// Called by the platform when the run has stopped.
    pub fn publish(&self, ev: Event, regs: &Regs) {
        {
            let mut s = self.slot.lock().unwrap();
            s.0 = ev;
            s.1 = *regs;
        }
        if self.state.swap(DONE, Ordering::SeqCst) == PARKED {
            if let Some(w) = self.waker.lock().unwrap().as_ref() {
                w();
            }
        }
    }

    /// The cell's state in a word, for a hang report.
    pub fn phase(&self) -> &'static str {
        match self.state.load(Ordering::SeqCst) {
            IDLE => "idle",
            RUNNING => "running",
            DONE => "done",
            _ => "parked",
        }
    }

    pub fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Spins up to `budget` for the run to finish.
    pub fn spin(&self, budget: Duration) -> bool {
        if self.is_done() {
            return true;
        }
        let start = Instant::now();
        loop {
            for _ in 0..64 {
                std::hint::spin_loop();
                if self.is_done() {
                    return true;
                }
            }
            if start.elapsed() >= budget {
                return self.is_done();
            }
        }
    }

    /// Gives up spinning: returns false if the result is already there (take it now), true if
    /// the waker will be called when it arrives.
    pub fn park(&self) -> bool {
        self.state.compare_exchange(RUNNING, PARKED, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// Takes the result of a finished run.
    pub fn take(&self, regs: &mut Regs) -> Event {
        let s = self.slot.lock().unwrap();
        *regs = s.1;
        let ev = s.0;
        drop(s);
        self.state.store(IDLE, Ordering::SeqCst);
        ev
    }

    /// Blocks the calling (non-sentry) thread until done; for tests and benches.
    pub fn wait_blocking(&self) {
        while !self.spin(Duration::from_millis(1)) {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn fast_path_needs_no_waker() {
        let c = Completion::new();
        c.begin();
        c.publish(Event::of(EventKind::Syscall), &[7; NUM_REGS]);
        assert!(c.spin(Duration::from_micros(1)));
        let mut r = [0; NUM_REGS];
        assert_eq!(c.take(&mut r).kind, EventKind::Syscall);
        assert_eq!(r[3], 7);
    }

    #[test]
    fn parked_run_wakes_exactly_once() {
        let c = Arc::new(Completion::new());
        let woke = Arc::new(AtomicUsize::new(0));
        let w = woke.clone();
        c.set_waker(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }));
        c.begin();
        assert!(!c.spin(Duration::from_micros(10)));
        assert!(c.park());
        let c2 = c.clone();
        std::thread::spawn(move || c2.publish(Event::of(EventKind::Fault), &[0; NUM_REGS])).join().unwrap();
        assert_eq!(woke.load(Ordering::SeqCst), 1);
        let mut r = [0; NUM_REGS];
        assert_eq!(c.take(&mut r).kind, EventKind::Fault);
    }

    #[test]
    fn park_after_publish_is_refused() {
        let c = Completion::new();
        c.begin();
        c.publish(Event::of(EventKind::Syscall), &[0; NUM_REGS]);
        assert!(!c.park(), "the result is there: the caller must take it, not wait");
    }
}
