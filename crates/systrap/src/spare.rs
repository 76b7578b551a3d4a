//! Spare address spaces made off the sentry's thread. A new stub (posix_spawn, exec, six
//! injections of set-up) costs about half a millisecond; once a sandbox has forked or
//! exec'd, one thread of ours keeps a stub ready, fully set up, detached from ptrace and
//! parked in the stub's pause() loop, and the sentry adopts it (re-seizes it: one ptrace
//! stop) when it needs an address space.
//!
//! A parked stub is tied to the sentry only by its parent-death signal (SIGKILL when the
//! thread that spawned it ends), so that thread never ends: one for the whole process.

use std::io;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::SystrapAddressSpace;

type Make = Box<dyn FnOnce() -> Option<SystrapAddressSpace> + Send>;
type Job = (Make, Arc<Spares>);

/// How many spares a platform keeps: fork then exec (a shell's every command) takes two in
/// quick succession.
const DEPTH: usize = 2;

/// How long `take` waits for a spare already being made before the caller makes its own:
/// bounded so that a stalled maker thread cannot stall the sentry for long.
const WAIT_IN_FLIGHT: Duration = Duration::from_millis(100);

/// One platform's spares.
#[derive(Default)]
pub struct Spares {
    state: Mutex<State>,
    /// Signalled when a spare being made is ready (or failed).
    made: Condvar,
}

#[derive(Default)]
struct State {
    ready: Vec<SystrapAddressSpace>,
    /// Spares being made.
    making: usize,
}

fn maker() -> Option<Sender<Job>> {
    static TX: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new().name("systrap-spares".into()).stack_size(256 << 10).spawn(move || {
            for (make, pool) in rx {
                // A panic here must not end the thread: its stubs would die with it.
                let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(make)).ok().flatten();
                {
                    let mut st = pool.state.lock().unwrap();
                    st.ready.extend(made);
                    st.making -= 1;
                }
                pool.made.notify_all();
            }
            // The sender is static: never reached while the process lives.
            loop {
                std::thread::park();
            }
        });
        spawned.ok().map(|_| Mutex::new(tx))
    });
    tx.as_ref().map(|m| m.lock().unwrap().clone())
}

impl Spares {
    /// The spare, adopted by the calling thread, if one is ready or being made: one on its way
    /// is waited for (up to WAIT_IN_FLIGHT) rather than made a second time here — under CPU
    /// contention a fork that found none ready made a whole stub on the sentry's thread (a
    /// spawn and eight ptrace stops) while the maker thread was half-way through one.
    pub fn take(&self) -> Option<SystrapAddressSpace> {
        let mut a = {
            let start = Instant::now();
            let mut st = self.state.lock().unwrap();
            loop {
                if let Some(a) = st.ready.pop() {
                    break a;
                }
                let left = WAIT_IN_FLIGHT.checked_sub(start.elapsed())?;
                if st.making == 0 {
                    return None;
                }
                st = self.made.wait_timeout(st, left).unwrap().0;
            }
        };
        let adopted = a.stub.lock().unwrap().adopt();
        match adopted {
            Ok(()) => Some(a),
            Err(_) => {
                let mf = a.mf.clone();
                crate::AddressSpaceOps::release_then_drop(&mut a, &mf, Vec::new());
                None
            }
        }
    }

    /// Has spares made until DEPTH are ready or on their way. `make` runs on the spare
    /// thread; what it returns must be detached (detach_parked).
    pub fn refill(self: &Arc<Self>, make: impl Fn() -> io::Result<SystrapAddressSpace> + Send + Sync + 'static) {
        let make = Arc::new(make);
        loop {
            {
                let mut st = self.state.lock().unwrap();
                if st.making + st.ready.len() >= DEPTH {
                    return;
                }
                st.making += 1;
            }
            let m = make.clone();
            let job: Make = Box::new(move || m().ok());
            match maker() {
                Some(tx) if tx.send((job, self.clone())).is_ok() => {}
                _ => {
                    self.state.lock().unwrap().making -= 1;
                    return;
                }
            }
        }
    }

    /// Kills the spare (the platform is going away).
    pub fn drain(&self) {
        for mut a in std::mem::take(&mut self.state.lock().unwrap().ready) {
            let mf = a.mf.clone();
            crate::AddressSpaceOps::release_then_drop(&mut a, &mf, Vec::new());
        }
    }
}
