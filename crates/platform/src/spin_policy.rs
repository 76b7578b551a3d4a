//! When a hand-off between the sentry and a stub should spin for its peer, and when it
//! should sleep at once.
//!
//! Spinning wins only while the peer can run on another CPU. When the host has more runnable
//! threads than CPUs (other sandboxes, a compiler on both cores), a spinning side holds the CPU
//! its peer is waiting for, and yielding does not give it back (CFS keeps a yielder runnable);
//! a side that sleeps on a futex instead is woken with the scheduler's preference for sleepers.
//! So both sides spin only while the host's count of runnable threads (the fourth field of
//! /proc/loadavg, sampled every few milliseconds by whichever caller notices the sample is
//! old) stays within the CPUs this process may use, with hysteresis so that the sandbox's own
//! two threads do not flip the decision. `TSVISOR_SPIN=always|never` fixes it (benchmarks).
//! Per context, `AdaptiveSpin` narrows the budget to a short probe for a task whose hand-offs
//! mostly outlast it, and `PeerState` lets the spinning side stop once its peer was woken
//! but has no CPU (crates/addon/src/handoff.rs applies the three).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const SAMPLE_EVERY: Duration = Duration::from_millis(4);
/// The sandbox's own start-up (V8 compiling in the background, the gofer starting) fills the
/// run queue for a moment: during it, that many runnable threads are taken for our own.
const START_UP: Duration = Duration::from_millis(300);
const START_UP_THREADS: f64 = 2.0;

pub struct SpinPolicy {
    spin: AtomicBool,
    fixed: bool,
    cpus: f64,
    sampler: Mutex<Sampler>,
}

struct Sampler {
    loadavg: Option<File>,
    born: Instant,
    last: Instant,
    /// Smoothed count of runnable threads that are not this sandbox's hand-off pair.
    others: f64,
}

impl SpinPolicy {
    fn new() -> SpinPolicy {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let (spin, fixed) = match std::env::var("TSVISOR_SPIN").as_deref() {
            Ok("always") => (true, true),
            Ok("never") => (false, true),
            _ => (cpus > 1.0, cpus <= 1.0),
        };
        let loadavg = if fixed { None } else { File::open("/proc/loadavg").ok() };
        let fixed = fixed || loadavg.is_none();
        SpinPolicy {
            spin: AtomicBool::new(spin),
            fixed,
            cpus,
            sampler: Mutex::new(Sampler { loadavg, born: Instant::now(), last: Instant::now(), others: 0.0 }),
        }
    }

    /// The one policy of this process.
    pub fn get() -> &'static SpinPolicy {
        static POLICY: OnceLock<SpinPolicy> = OnceLock::new();
        POLICY.get_or_init(SpinPolicy::new)
    }

    /// Should the task hand-off starting now spin for its peer? The one place that samples
    /// (every run of a task passes here): the other hand-offs ask `spinning`.
    pub fn spin(&self) -> bool {
        if !self.fixed {
            self.maybe_sample();
        }
        self.spinning()
    }

    /// The decision as it stands, without sampling.
    pub fn spinning(&self) -> bool {
        self.spin.load(Ordering::Relaxed)
    }

    fn maybe_sample(&self) {
        // One sampler at a time; the others use the decision as it stands.
        let Ok(mut s) = self.sampler.try_lock() else { return };
        let now = Instant::now();
        if now.duration_since(s.last) < SAMPLE_EVERY {
            return;
        }
        s.last = now;
        let Some(n) = s.loadavg.as_ref().and_then(read_runnable) else { return };
        let spinning = self.spin.load(Ordering::Relaxed);
        let starting = now.duration_since(s.born) < START_UP;
        s.others = s.others * (1.0 - WEIGHT) + others_in(n, spinning, starting) * WEIGHT;
        self.spin.store(decide(spinning, s.others, self.cpus), Ordering::Relaxed);
    }
}

/// Runnable threads that are not ours in a count of `n`. Ours: the sampling sentry thread, and
/// while spinning the stub thread it hands off to (which otherwise sleeps); in the start-up
/// window also the sandbox's own start-up threads, so that only a host that is crowded
/// already (not our own start) stops the spinning of a short program from its first calls.
pub fn others_in(n: f64, spinning: bool, starting: bool) -> f64 {
    let own = if spinning { 2.0 } else { 1.0 } + if starting { START_UP_THREADS } else { 0.0 };
    (n - own).max(0.0)
}

/// Weight of a new sample in the smoothed count: a momentary extra thread (a kernel worker,
/// a timer) must not stop the spinning, a steady one must within tens of milliseconds.
const WEIGHT: f64 = 0.125;

/// Spinning needs two CPUs for the sandbox's two threads: stop once other runnable threads
/// clearly take more than the rest, start again once they clearly leave them free.
pub fn decide(spinning: bool, others: f64, cpus: f64) -> bool {
    let spare = cpus - 2.0;
    if spinning {
        others <= spare + 0.75
    } else {
        others < spare + 0.25
    }
}

/// "0.52 0.58 0.59 3/467 12345": the 3 (runnable scheduling entities, this thread included).
fn read_runnable(f: &File) -> Option<f64> {
    let mut buf = [0u8; 128];
    let n = f.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let field = text.split_ascii_whitespace().nth(3)?;
    field.split('/').next()?.parse::<f64>().ok()
}

/// What the side that waits for a stop can tell of the thread that will produce it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    /// On a CPU, or at least not asleep: spinning for it can pay.
    Running,
    /// Woken from its sleep but not yet given a CPU: spinning holds a CPU it may need.
    Waking,
    /// The platform cannot tell.
    Unknown,
}

impl PeerState {
    /// Whether a spin for this peer's stop, `spent` long so far, should give up: a thread
    /// that has not got a CPU within `grace` likely waits for the one we spin on, and on a
    /// crowded host (the spin only a short probe, shorter than any wake-up onto a CPU) one
    /// still waiting for a CPU will not stop within the probe at all.
    pub fn stop_spinning(self, crowded: bool, spent: Duration, grace: Duration) -> bool {
        self == PeerState::Waking && (crowded || spent >= grace)
    }
}

/// The per-context half of the decision (the spin an adaptive mutex does): a running
/// estimate of how long this context's hand-offs take to come back. While it stays within
/// the budget the sentry spins; once most of them outlast it (a task that computes, one whose
/// peer cannot run) the sentry spins only the short probe and parks, and a run caught by
/// that probe, or every PROBE_EVERY-th run, lets it find out when that changes.
pub struct AdaptiveSpin {
    /// Smoothed time to the stop, in ns; a parked run counts as PARKED_WEIGHT times the wait.
    est_ns: AtomicU32,
    runs: AtomicU32,
}

/// Weight of a new hand-off in the estimate: 1/4.
const EST_SHIFT: u32 = 2;
/// A parked run counts as this many times the wait it outlasted: two parks in a row after
/// fast hand-offs stop the spinning, one does not.
const PARKED_WEIGHT: u32 = 2;
const PROBE_EVERY: u32 = 16;

impl Default for AdaptiveSpin {
    fn default() -> Self {
        AdaptiveSpin { est_ns: AtomicU32::new(0), runs: AtomicU32::new(0) }
    }
}

impl AdaptiveSpin {
    /// The spin budget of the next run: `full` while hand-offs come back within it (and on
    /// every PROBE_EVERY-th run), else `probe`.
    pub fn budget(&self, full: Duration, probe: Duration) -> Duration {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        if (self.est_ns.load(Ordering::Relaxed) as u128) < full.as_nanos() || n % PROBE_EVERY == PROBE_EVERY - 1 {
            full
        } else {
            probe.min(full)
        }
    }

    /// The run stopped after `took`, while the sentry spun.
    pub fn caught(&self, took: Duration) {
        self.update(took.as_nanos().min(u32::MAX as u128) as u32);
    }

    /// The run outlasted a spin of `waited` and was parked.
    pub fn parked(&self, waited: Duration) {
        let v = waited.as_nanos().saturating_mul(PARKED_WEIGHT as u128);
        self.update(v.min(u32::MAX as u128) as u32);
    }

    fn update(&self, v: u32) {
        let e = self.est_ns.load(Ordering::Relaxed);
        let next = e - (e >> EST_SHIFT) + (v >> EST_SHIFT);
        self.est_ns.store(next, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_waiting_for_a_cpu_ends_the_spin_at_once_only_on_a_crowded_host() {
        let grace = Duration::from_micros(50);
        let early = Duration::from_micros(1);
        assert!(PeerState::Waking.stop_spinning(true, early, grace));
        assert!(!PeerState::Waking.stop_spinning(false, early, grace), "an uncrowded host waits out the grace");
        assert!(PeerState::Waking.stop_spinning(false, grace, grace));
        for crowded in [false, true] {
            assert!(!PeerState::Running.stop_spinning(crowded, grace * 10, grace));
            assert!(!PeerState::Unknown.stop_spinning(crowded, grace * 10, grace));
        }
    }

    #[test]
    fn hysteresis_keeps_a_lone_sandbox_spinning_and_a_crowded_one_sleeping() {
        // Two CPUs: nothing else runnable, or a momentary extra thread, keeps it spinning.
        assert!(decide(true, 0.0, 2.0));
        assert!(decide(true, 0.6, 2.0));
        assert!(!decide(true, 1.0, 2.0), "a steady third thread stops the spinning");
        // Sleeping: it starts again only once the others have clearly gone.
        assert!(!decide(false, 0.5, 2.0));
        assert!(decide(false, 0.1, 2.0));
        // More CPUs leave room for others; one CPU never spins.
        assert!(decide(true, 5.0, 8.0));
        assert!(!decide(false, 0.0, 1.0));
    }

    #[test]
    fn a_momentary_extra_thread_does_not_stop_the_spinning_but_a_steady_one_does() {
        let mut others = 0.0;
        let mut spinning = true;
        for n in [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0] {
            others = others * (1.0 - WEIGHT) + n * WEIGHT;
            spinning = decide(spinning, others, 2.0);
            assert!(spinning, "blips of one extra thread: {others}");
        }
        let mut steps = 0;
        while spinning {
            others = others * (1.0 - WEIGHT) + 2.0 * WEIGHT;
            spinning = decide(spinning, others, 2.0);
            steps += 1;
        }
        assert!(steps <= 8, "two busy threads stop it within {steps} samples");
    }

    #[test]
    fn start_up_allows_our_own_threads_but_a_crowded_host_stops_the_spinning_within_ms() {
        // Quiet host while we start: us two plus two start-up threads is nobody else.
        assert_eq!(others_in(4.0, true, true), 0.0);
        assert_eq!(others_in(4.0, true, false), 2.0);
        // Ten runnable threads on two CPUs: sleeping within a few samples of the first run.
        let (mut others, mut spinning, mut samples) = (0.0, true, 0);
        while spinning {
            others = others * (1.0 - WEIGHT) + others_in(10.0, spinning, true) * WEIGHT;
            spinning = decide(spinning, others, 2.0);
            samples += 1;
        }
        assert!(samples <= 2, "{samples} samples");
    }

    #[test]
    fn loadavg_is_parsed() {
        let f = File::open("/proc/loadavg").unwrap();
        let n = read_runnable(&f).unwrap();
        assert!(n >= 1.0, "the reading thread itself is runnable: {n}");
    }
    #[test]
    fn a_context_whose_runs_park_stops_spinning_and_a_fast_one_starts_again() {
        let (full, probe) = (Duration::from_micros(300), Duration::from_micros(5));
        let a = AdaptiveSpin::default();
        for _ in 0..20 {
            assert_eq!(a.budget(full, probe), full);
            a.caught(Duration::from_micros(10));
        }
        // One park among fast hand-offs keeps the spin.
        a.parked(full);
        assert_eq!(a.budget(full, probe), full);
        a.caught(Duration::from_micros(10));
        // Runs that mostly park: after two parks in a row the spin is the probe only.
        let mut spun = 0;
        for _ in 0..32 {
            if a.budget(full, probe) == full {
                spun += 1;
            }
            a.parked(full);
        }
        assert!(spun <= 4, "full spins while parking: {spun}");
        // Hand-offs the probe catches bring the spin back within a few runs.
        let mut runs = 0;
        while a.budget(full, probe) != full {
            a.caught(Duration::from_micros(3));
            runs += 1;
        }
        assert!(runs <= 6, "{runs} runs");
    }

    #[test]
    fn a_parked_context_still_probes_with_the_full_budget_now_and_then() {
        let (full, probe) = (Duration::from_micros(300), Duration::from_micros(5));
        let a = AdaptiveSpin::default();
        for _ in 0..8 {
            a.parked(full);
        }
        let fulls = (0..64).filter(|_| a.budget(full, probe) == full).count();
        assert_eq!(fulls, 64 / PROBE_EVERY as usize);
    }
}
