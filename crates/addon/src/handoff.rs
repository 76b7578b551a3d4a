//! The sentry's side of a run's hand-off: how long Context.run() spins for the task to stop
//! before it parks the run and lets the event loop go on (the stop then comes through the
//! platform's waker). Measured on the pipe and contention benchmarks (notes: issue 10):
//! - the host's load decides the budget (platform::SpinPolicy): no long spin on a crowded host;
//! - the context's own history narrows it (platform::AdaptiveSpin): a task whose runs mostly
//!   park gets a short probe only, the spin an adaptive mutex does;
//! - the spin stops once the task's thread, woken for this run, has not got a CPU within
//!   WAKE_GRACE: spinning then holds the CPU it is waiting for.
//! Owns the spin loop and its counters; the platform owns the run itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tsvisor_platform::{self as platform, AdaptiveSpin, PeerState};

/// How long run() spins for the task to stop again before the caller must await a wake-up.
/// Covers a ptrace round trip on a loaded two-core machine; beyond it, the task is computing
/// and the event loop must stay free.
const RUN_SPIN: Duration = Duration::from_micros(300);
/// When the host has no CPU to spare (platform::SpinPolicy), or the context's runs mostly
/// park, only this short spin, which a syscall the stub's peer CPU answers at once still fits
/// in; then park.
const RUN_PROBE_SPIN: Duration = Duration::from_micros(5);
/// For a platform that cannot say whether its thread has a CPU: within RUN_SPIN, how long to
/// spin before yielding the CPU between polls.
const RUN_PURE_SPIN: Duration = Duration::from_micros(20);
/// How long a thread woken for the run may take to get a CPU before the spin gives up: a
/// wake-up onto an idle CPU of this VM takes 10-40 us; past that the CPU it waits for is
/// likely the one we spin on.
const WAKE_GRACE: Duration = Duration::from_micros(50);

/// Per context: its spin history.
#[derive(Default)]
pub(crate) struct Handoff {
    spin: AdaptiveSpin,
    /// When the last stop was caught (stats only): the sentry's turnaround is measured to
    /// the next run.
    caught_at: std::sync::Mutex<Option<Instant>>,
}

/// Why a run was parked, for the counters.
#[derive(Clone, Copy)]
enum ParkReason {
    Budget = 0,
    PeerWaking = 1,
}

impl Handoff {
    /// Resumes the task and spins for its stop: true if it stopped (take it), false if the
    /// caller must park the run.
    pub(crate) fn spin(&self, ctx: &dyn platform::Context, regs: &platform::Regs) -> bool {
        let crowded = !platform::SpinPolicy::get().spin();
        let full = if crowded { RUN_PROBE_SPIN } else { RUN_SPIN };
        let budget = self.spin.budget(full, RUN_PROBE_SPIN);
        if stats::enabled() {
            if let Some(t) = self.caught_at.lock().unwrap().take() {
                stats::turnaround(t.elapsed());
            }
        }
        ctx.switch_to_user(regs);
        let start = Instant::now();
        let reason = loop {
            for _ in 0..32 {
                if ctx.poll() {
                    let took = start.elapsed();
                    self.spin.caught(took);
                    stats::caught(took);
                    if stats::enabled() {
                        *self.caught_at.lock().unwrap() = Some(Instant::now());
                    }
                    return true;
                }
                std::hint::spin_loop();
            }
            let spent = start.elapsed();
            if spent >= budget {
                break ParkReason::Budget;
            }
            let peer = ctx.peer_state();
            if peer.stop_spinning(crowded, spent, WAKE_GRACE) {
                break ParkReason::PeerWaking;
            }
            if peer == PeerState::Unknown && spent >= RUN_PURE_SPIN {
                std::thread::yield_now();
            }
        };
        let waited = start.elapsed();
        self.spin.parked(waited);
        stats::parked(reason, waited);
        false
    }
}

/// TSVISOR_HANDOFF_STATS=1: counts of the hand-offs, printed to stderr at exit (benchmarks).
mod stats {
    use super::*;

    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    /// Caught within 2, 5, 10, 20, 50, 100, 200, 300+ us.
    const BOUNDS_US: [u64; 7] = [2, 5, 10, 20, 50, 100, 200];
    static CAUGHT: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
    static CAUGHT_NS: AtomicU64 = AtomicU64::new(0);
    static PARKED: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];
    static PARKED_NS: AtomicU64 = AtomicU64::new(0);

    static TURN: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
    pub(super) fn enabled() -> bool {
        on()
    }
    /// The sentry's own time from a caught stop to the next resume: what the stub's spin
    /// (SPIN_POLLS_CROWDED) must outlast for the hand-off to cost no sleep.
    pub(super) fn turnaround(t: Duration) {
        TURN[bucket(t)].fetch_add(1, Ordering::Relaxed);
    }

    fn bucket(t: Duration) -> usize {
        let us = t.as_micros() as u64;
        BOUNDS_US.iter().position(|b| us < *b).unwrap_or(BOUNDS_US.len())
    }

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

    pub(super) fn caught(took: Duration) {
        if on() {
            CAUGHT[bucket(took)].fetch_add(1, Ordering::Relaxed);
            CAUGHT_NS.fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        }
    }

    pub(super) fn parked(why: ParkReason, spent: Duration) {
        if on() {
            PARKED[why as usize].fetch_add(1, Ordering::Relaxed);
            PARKED_NS.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        }
    }

    extern "C" fn print() {
        let c: Vec<u64> = CAUGHT.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        let t: Vec<u64> = TURN.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        eprintln!("handoff: sentry turnaround after a caught stop: <2us {} <5 {} <10 {} <20 {} <50 {} <100 {} <200 {} more {}", t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
        let p: Vec<u64> = PARKED.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        eprintln!(
            "handoff: caught {} (<2us {} <5 {} <10 {} <20 {} <50 {} <100 {} <200 {} more {}) spin {} us; parked: budget {} peer-waking {}, spin {} us",
            c.iter().sum::<u64>(),
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            CAUGHT_NS.load(Ordering::Relaxed) / 1000,
            p[0], p[1],
            PARKED_NS.load(Ordering::Relaxed) / 1000
        );
    }
}
