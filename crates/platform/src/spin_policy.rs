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

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const SAMPLE_EVERY: Duration = Duration::from_millis(4);

pub struct SpinPolicy {
    spin: AtomicBool,
    fixed: bool,
    cpus: f64,
    sampler: Mutex<Sampler>,
}

struct Sampler {
    loadavg: Option<File>,
    last: Instant,
    /// Smoothed count of runnable threads.
    runnable: f64,
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
            sampler: Mutex::new(Sampler { loadavg, last: Instant::now(), runnable: 1.0 }),
        }
    }

    /// The one policy of this process.
    pub fn get() -> &'static SpinPolicy {
        static POLICY: OnceLock<SpinPolicy> = OnceLock::new();
        POLICY.get_or_init(SpinPolicy::new)
    }

    /// Should a hand-off starting now spin for its peer?
    pub fn spin(&self) -> bool {
        if !self.fixed {
            self.maybe_sample();
        }
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
        s.runnable = s.runnable * 0.75 + n * 0.25;
        let next = decide(self.spin.load(Ordering::Relaxed), s.runnable, self.cpus);
        self.spin.store(next, Ordering::Relaxed);
    }
}

/// Hysteresis: stop spinning once clearly more threads want to run than there are CPUs;
/// start again once clearly fewer do (a spinning sandbox alone counts its two threads).
pub fn decide(spinning: bool, runnable: f64, cpus: f64) -> bool {
    if spinning {
        runnable <= cpus + 0.5
    } else {
        runnable < cpus - 0.5
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_keeps_a_lone_sandbox_spinning_and_a_crowded_one_sleeping() {
        // Two CPUs: a sandbox alone has its two threads runnable while it spins.
        assert!(decide(true, 2.0, 2.0));
        assert!(decide(true, 2.4, 2.0));
        assert!(!decide(true, 3.0, 2.0), "a third runnable thread stops the spinning");
        // Sleeping: one runnable thread (the one working) is not enough to resume spinning
        // while another process holds a CPU.
        assert!(!decide(false, 2.0, 2.0));
        assert!(decide(false, 1.2, 2.0));
        // One CPU: a sleeping sandbox never starts (its working thread alone is 1).
        assert!(!decide(false, 1.0, 1.0));
    }

    #[test]
    fn loadavg_is_parsed() {
        let f = File::open("/proc/loadavg").unwrap();
        let n = read_runnable(&f).unwrap();
        assert!(n >= 1.0, "the reading thread itself is runnable: {n}");
    }
}
