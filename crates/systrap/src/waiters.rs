//! Waiter threads for parked runs: from a context's first park to its release, one thread
//! sleeps on the context's message word and, when the stub reports a stop of a parked run,
//! calls the context's waker. Parking is then two stores (`parked`, the sentry-sleeping flag)
//! with no thread to wake: the stub's own FUTEX_WAKE on READY is the only wake-up. The
//! sentry's wakes of the stub (switch_to_user) use a futex bitset the waiter does not wait
//! on, so they never reach it; the stub wakes every waiter of the word.
//! That includes this thread when the sentry's own thread holds the park (idle_wait.rs): the
//! wake is for nothing, and sparing it has been measured twice (parks held from the start
//! with the waiter on a quiet word; the stub waking by a bitset the flag names, so a held stop
//! reached the sentry's thread alone). Either cut the pipe and tcp rows' context switches by
//! half or more, at equal CPU, and made them 2-3x slower in wall time on the loaded two-CPU
//! host (one binary, switched per run, alternated: pipe 400 vs 127 MB/s, tcp 231 vs 112,
//! medians of 16 and 10): so the waiter is woken, cause not found. A third try, the bitset
//! variant after stubs joined the sentry's session (one scheduling autogroup, ptrace's
//! stub.rs), 8 alternated pairs at load 41-44: context switches -10 to -14% again, and again
//! slower (pipe 494 vs 280 MB/s, tcp 260 vs 226, httprr 325 vs 417 us).
//! Threads are pooled across contexts: a fork's child used to start one (clone3, a stack) and
//! its exit to join it on the sentry's thread, which under CPU contention cost milliseconds.
//! A released context is let go without waiting: once `quit` is set (under the lock) its
//! waiter touches the message no more, and it is woken to leave.
//! The message is the application's to write: a forged READY is reported only to a parked
//! run (whose take() validates it), a forged or suppressed wake costs the forger latency (a
//! parked run is re-checked every PARKED_POLL, which also finds a thread that died).
//! Owns the threads and the watch loop; the handshake's words are the message's (msg.rs).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::msg::*;
use crate::{thread_alive, Shared};

/// Idle threads kept for the next contexts; more are let end.
const MAX_IDLE: usize = 16;
const STACK: usize = 128 << 10;
/// How often a parked run's thread is checked for life (nothing wakes the word if it died).
const PARKED_POLL: Duration = Duration::from_millis(50);
/// Between parks the waiter still wakes now and then, to see a park whose thread died before
/// the stop it waits for (a death nothing reports): at most this late.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// First sleep on a READY word between parks (doubling up to IDLE_POLL): the READY it read may
/// be the stop it just reported, and the run may since have been resumed (RESUME wakes only
/// the stub), parked and stopped again: READY once more, with the stub's wake sent before this
/// thread got to its futex wait (it was preempted). The futex then sees the value it expects
/// and sleeps through the stop; this bounds that stall, which was IDLE_POLL.
const READY_POLL_FIRST: Duration = Duration::from_millis(4);

/// Futex bitsets on the message word: the stub waits on all bits, the waiter on WAITER_BITS
/// only; the sentry wakes the stub with STUB_BITS, which the waiter's wait does not match.
pub(crate) const STUB_BITS: u32 = 1;
const WAITER_BITS: u32 = 2;

/// What a context's waiter does, under `Shared::watch`.
pub(crate) struct Watch {
    /// A run is parked: report its stop.
    pub(crate) parked: bool,
    /// The context is released: stop watching it.
    pub(crate) quit: bool,
}

impl Watch {
    pub(crate) fn new() -> Watch {
        Watch { parked: false, quit: false }
    }
}

/// One pooled thread: the context it serves next, if any.
struct Worker {
    job: Mutex<Option<Arc<Shared>>>,
    cv: Condvar,
}

static IDLE: Mutex<Vec<Arc<Worker>>> = Mutex::new(Vec::new());

/// FUTEX_WAIT_BITSET (private: no, the word is shared with the stub) with a relative timeout.
fn wait_bits(s: &Shared, val: u32, timeout: Duration, bits: u32) {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime into a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let ns = now.tv_nsec as u64 + timeout.subsec_nanos() as u64;
    let at = libc::timespec { tv_sec: now.tv_sec + timeout.as_secs() as i64 + (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 };
    // SAFETY: the word is in the memory file's mapping; the kernel validates the rest.
    unsafe { libc::syscall(libc::SYS_futex, s.msg.futex_addr(), libc::FUTEX_WAIT_BITSET, val, &at as *const libc::timespec, 0usize, bits) };
}

/// FUTEX_WAKE_BITSET on the message word.
pub(crate) fn wake_bits(s: &Shared, n: u32, bits: u32) {
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_futex, s.msg.futex_addr(), libc::FUTEX_WAKE_BITSET, n, 0usize, 0usize, bits) };
}

/// The run of `s` is parked: true if its waker will be called once it stops, false if it has
/// stopped already (take it now). Starts the context's waiter on its first park; false too if
/// no thread could be had (the caller then keeps polling).
pub(crate) fn park(s: &Arc<Shared>, started: &std::sync::atomic::AtomicBool) -> bool {
    if !started.load(Ordering::Relaxed) {
        if !start(s) {
            return false;
        }
        started.store(true, Ordering::Relaxed);
    }
    s.watch.lock().unwrap().parked = true;
    // Dekker with the stub (systrap.c): it stores READY then reads the flag; we store the flag
    // then read the word. A READY already there is ours to take, unless the waiter took the
    // park first (then the waker is on its way).
    let flag = s.msg.atomic(OFF_SENTRY_SLEEPING);
    flag.store(1, Ordering::SeqCst);
    if s.msg.state() == ST_READY || s.dead.load(Ordering::SeqCst) {
        let mut w = s.watch.lock().unwrap();
        if w.parked {
            w.parked = false;
            flag.store(0, Ordering::SeqCst);
            return false;
        }
    }
    true
}

/// The sentry's own thread will sleep on the word of the parked run of `s` (it reports the
/// stop itself, platform::Context::stop_word): true if the waiter had not taken the report
/// yet, and now will not.
pub(crate) fn hold(s: &Shared) -> bool {
    let mut w = s.watch.lock().unwrap();
    if !w.parked {
        return false;
    }
    w.parked = false;
    true
}

/// Ends `hold`: true if the run has stopped (the sentry's thread reports it), false if it
/// is parked with the waiter again. Under the lock, as the waiter checks: a stop that came
/// while held is never left unreported.
pub(crate) fn release_hold(s: &Shared) -> bool {
    let mut w = s.watch.lock().unwrap();
    if s.msg.state() == ST_READY || s.dead.load(Ordering::SeqCst) {
        s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
        return true;
    }
    w.parked = true;
    false
}

/// Gives `s` a waiter thread (an idle one, else a new one). False if no thread could be made.
fn start(s: &Arc<Shared>) -> bool {
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

/// Serves one context until it is released.
fn watch(s: &Shared) {
    let word = s.msg.atomic(OFF_STATE);
    let mut ready_poll = READY_POLL_FIRST;
    loop {
        let (v, parked) = {
            let mut w = s.watch.lock().unwrap();
            if w.quit {
                return;
            }
            // Read under the lock, never before it: a READY read earlier may be a stop that
            // the sentry's thread has reported since (idle_wait), the task resumed and its
            // next run parked; taking that park for the old stop would report a run still
            // going and leave its real stop unreported for ever.
            let v = word.load(Ordering::SeqCst);
            if w.parked && (v == ST_READY || s.dead.load(Ordering::SeqCst)) {
                w.parked = false;
                // Under the lock: after release (quit) we never write the message.
                s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
                (v, None)
            } else {
                (v, Some(w.parked))
            }
        };
        let Some(parked) = parked else {
            if let Some(w) = s.waker.lock().unwrap().as_ref() {
                w();
            }
            ready_poll = READY_POLL_FIRST;
            continue;
        };
        let timeout = if parked {
            PARKED_POLL
        } else if v == ST_READY {
            let t = ready_poll;
            ready_poll = (ready_poll * 2).min(IDLE_POLL);
            t
        } else {
            IDLE_POLL
        };
        wait_bits(s, v, timeout, WAITER_BITS);
        if parked && word.load(Ordering::SeqCst) != ST_READY && !thread_alive(s.tgid, s.tid) {
            s.dead.store(true, Ordering::SeqCst);
        }
    }
}

/// The thread was killed: its waiter looks again at once (a parked run is reported dead).
pub(crate) fn poke(s: &Shared) {
    wake_bits(s, i32::MAX as u32, WAITER_BITS);
}

/// The context is released: its waiter stops serving it, or looks
/// again at once. Never waits for the waiter.
pub(crate) fn stop(s: &Shared) {
    s.watch.lock().unwrap().quit = true;
    wake_bits(s, i32::MAX as u32, WAITER_BITS);
}

#[cfg(test)]
mod tests {
    //! The waiter against a scripted stub and a forger on a message page of our own: a waker
    //! call only for a parked run that stopped, once per park; the sentry's wakes of the stub
    //! never reach it; forged wakes and words cost a re-check, not a report; a released
    //! context's waiter reports nothing more and goes back to the pool.
    use super::*;
    use crate::test_stub::{shared, Page};
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::time::Instant;

    /// The stub's stop (systrap.c): READY, then a wake of every waiter if the sentry sleeps.
    fn stop_run(s: &Shared) {
        s.msg.atomic(OFF_STATE).store(ST_READY, Ordering::SeqCst);
        if s.msg.atomic(OFF_SENTRY_SLEEPING).load(Ordering::SeqCst) != 0 {
            wake_bits(s, i32::MAX as u32, u32::MAX);
        }
    }

    fn settle() {
        std::thread::sleep(Duration::from_millis(5));
    }

    /// Waits (up to 2 s) for a report after the `before` there were; panics with `lost`.
    fn await_report(calls: &AtomicUsize, before: usize, lost: &str) {
        let start = Instant::now();
        while calls.load(Ordering::SeqCst) == before {
            assert!(start.elapsed() < Duration::from_secs(2), "{lost}");
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    #[test]
    fn one_report_per_parked_stop_and_none_for_forgeries_or_after_release() {
        let mut page = Box::new(Page([0; 4096]));
        let calls = Arc::new(AtomicUsize::new(0));
        let s = shared(&mut page, calls.clone());
        let started = AtomicBool::new(false);
        let word = s.msg.atomic(OFF_STATE);
        let mut seed = 0x5eed_0bad_cafe_0001u64;
        let mut parks = 0;
        for round in 0..100 {
            // A run the sentry caught itself (no park): the waiter must not report it.
            word.store(ST_RESUME, Ordering::SeqCst);
            wake_bits(&s, 1, STUB_BITS);
            stop_run(&s);
            // A parked run.
            word.store(ST_RESUME, Ordering::SeqCst);
            wake_bits(&s, 1, STUB_BITS); // the sentry waking the stub: never the waiter
            if !park(&s, &started) {
                panic!("a RESUME'd run is not stopped");
            }
            parks += 1;
            let before = parks - 1;
            // The forger: wakes with any bits, words that are not READY, a cleared flag.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // (A suppressed wake costs up to IDLE_POLL to find: rarer, to keep the test short.)
            match seed % 8 {
                0 | 1 => wake_bits(&s, i32::MAX as u32, u32::MAX),
                2 | 3 => word.store(ST_FPSAVE, Ordering::SeqCst),
                4 => s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst),
                _ => {}
            }
            if round % 16 == 0 {
                settle();
            }
            assert_eq!(calls.load(Ordering::SeqCst), before, "no report before the stop (round {round})");
            stop_run(&s);
            // A suppressed wake (cleared flag) is found by the parked poll.
            await_report(&calls, before, &format!("a parked stop was lost (round {round})"));
            assert_eq!(calls.load(Ordering::SeqCst), parks, "one report per park");
        }
        // Released: late stops and wakes report nothing.
        stop(&s);
        word.store(ST_RESUME, Ordering::SeqCst);
        s.watch.lock().unwrap().parked = true; // as if a park raced the release
        s.msg.atomic(OFF_SENTRY_SLEEPING).store(1, Ordering::SeqCst);
        stop_run(&s);
        settle();
        assert_eq!(calls.load(Ordering::SeqCst), parks);
        // Its thread went back to the pool: the next context gets it.
        let start = Instant::now();
        while IDLE.lock().unwrap().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(2), "the waiter did not return to the pool");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_waiter_late_to_a_stop_the_holder_reported_does_not_take_the_next_park() {
        // The hang of test/fixtures/go/gcstress (1 run in ~500 under load): the stub's wake of
        // a held stop also wakes the waiter, which reads READY and is preempted before it
        // takes the lock; the sentry's thread reports that stop, resumes the task and parks
        // the next run. The waiter, if it trusted the READY it read, took that new park
        // for the old stop: the report found the run going (a spurious wake), the flag was
        // cleared, and the run's real stop then woke no one and was never reported. Here
        // the lock is held across the stop, as a preempted waiter would find it.
        let mut page = Box::new(Page([0; 4096]));
        let calls = Arc::new(AtomicUsize::new(0));
        let s = shared(&mut page, calls.clone());
        let started = AtomicBool::new(false);
        let word = s.msg.atomic(OFF_STATE);
        for round in 0..20 {
            word.store(ST_RESUME, Ordering::SeqCst);
            assert!(park(&s, &started), "a RESUME'd run is not stopped (round {round})");
            settle();
            let before = calls.load(Ordering::SeqCst);
            {
                // The sentry's thread holds the park (idle_wait) while the run stops.
                let mut w = s.watch.lock().unwrap();
                w.parked = false;
                stop_run(&s);
                // The waiter, woken by that stop, is now blocked on the lock.
                settle();
                // release_hold: stopped, reported by the holder.
                s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
                // The task's stop is taken and its next run started.
                word.store(ST_RESUME, Ordering::SeqCst);
            }
            // ...and parked at once, before the waiter gets the lock.
            assert!(park(&s, &started), "the next run is not stopped yet (round {round})");
            settle();
            assert_eq!(calls.load(Ordering::SeqCst), before, "a report of a run still going (round {round})");
            stop_run(&s);
            await_report(&calls, before, &format!("the next run's stop was never reported (round {round})"));
        }
        stop(&s);
    }

    #[test]
    fn a_held_park_is_reported_once_by_the_holder_or_the_waiter_never_both_nor_neither() {
        // The sentry's thread holds each park (idle_wait), sleeps on the word, and releases
        // it, while a stub thread stops the run at a random moment and a forger writes the
        // word, wakes it and clears the flag. Per park: one report, from exactly one side.
        let mut page = Box::new(Page([0; 4096]));
        let calls = Arc::new(AtomicUsize::new(0));
        let s = shared(&mut page, calls.clone());
        let started = AtomicBool::new(false);
        let word = s.msg.atomic(OFF_STATE);
        let mut seed = 0x1d1e_5eed_0000_0042u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut held_reports = 0;
        for round in 0..300 {
            word.store(ST_RESUME, Ordering::SeqCst);
            assert!(park(&s, &started), "a RESUME'd run is not stopped (round {round})");
            let before = calls.load(Ordering::SeqCst);
            let r = next();
            let stopper = {
                let s = s.clone();
                let delay = Duration::from_micros(r % 300);
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    stop_run(&s);
                })
            };
            match r % 5 {
                0 => wake_bits(&s, i32::MAX as u32, u32::MAX),
                1 => s.msg.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst),
                _ => {}
            }
            let mut ours = false;
            if hold(&s) {
                // Sleep as idle_wait does: on the word, bounded.
                let v = word.load(Ordering::SeqCst);
                if v != ST_READY {
                    wait_bits(&s, v, Duration::from_micros(r % 200), u32::MAX);
                }
                ours = release_hold(&s);
                if ours {
                    assert_eq!(word.load(Ordering::SeqCst), ST_READY, "the holder took a run that had not stopped (round {round})");
                }
            }
            stopper.join().unwrap();
            if ours {
                held_reports += 1;
                settle();
                assert_eq!(calls.load(Ordering::SeqCst), before, "the waiter reported a held stop too (round {round})");
            } else {
                await_report(&calls, before, &format!("a stop released to the waiter was lost (round {round})"));
                settle();
                assert_eq!(calls.load(Ordering::SeqCst), before + 1, "one report per park (round {round})");
            }
        }
        assert!(held_reports > 0, "the holder never reported: the test did not exercise it");
        stop(&s);
    }
}
