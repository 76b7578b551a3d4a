//! Spare address spaces made off the sentry's thread. A new stub (posix_spawn, exec, six
//! injections of set-up) costs about half a millisecond; once a sandbox has forked or
//! exec'd, one thread of ours keeps a stub ready, fully set up, detached from ptrace and
//! parked in the stub's pause() loop, and the sentry adopts it (re-seizes it: one ptrace
//! stop) when it needs an address space.
//!
//! A parked stub is tied to the sentry only by its parent-death signal (SIGKILL when the
//! thread that spawned it ends), so that thread never ends: one for the whole process.
//!
//! The adoption's stop waits for the host to run the stub, milliseconds on a crowded host
//! (median 60 us, one in ten over 2 ms in a fork+exec loop at load 9), the sentry's thread
//! blocked meanwhile. So when a spare is taken, the next one is seized and asked to stop at
//! once (begin_adopt), and the next take only collects its stop, most often long reported.
//!
//! Before any of those, a take gets the stub of an exited process if one was kept (recycle.rs):
//! still traced by the sentry's thread, it needs neither a spawn nor an adoption.

use std::thread::ThreadId;

use std::io;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::SystrapAddressSpace;

type Make = Box<dyn FnOnce() -> Option<SystrapAddressSpace> + Send>;
type Job = (Make, Arc<Spares>);

/// How many spares a platform keeps: fork then exec (a shell's every command) takes two in
/// quick succession.
pub(crate) const DEPTH: usize = 2;

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
    /// A ready spare already traced by this thread and asked to stop (begin_adopt): only
    /// that thread can finish adopting it.
    seized: Option<(SystrapAddressSpace, ThreadId)>,
    /// Spares being made.
    making: usize,
    /// Stubs of exited processes kept for the next (recycle.rs), traced by the thread that
    /// kept them: taken before any other, once scrubbed.
    recycled: Vec<(SystrapAddressSpace, ThreadId)>,
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
        if let Some(a) = self.take_recycled() {
            return Some(a);
        }
        let me = std::thread::current().id();
        let seized = self.state.lock().unwrap().seized.take();
        let a = match seized {
            Some((a, by)) if by == me => {
                let finished = a.stub.lock().unwrap().finish_adopt();
                kept(a, finished)
            }
            Some((a, _)) => {
                // Traced by another thread, which alone could use it.
                release(a);
                None
            }
            None => None,
        };
        let a = a.or_else(|| self.take_ready());
        self.seize_next(me);
        a
    }

    /// Whether a released address space's stub should be kept (recycle.rs).
    pub(crate) fn wants_recycled(&self) -> bool {
        self.state.lock().unwrap().recycled.len() < DEPTH
    }

    pub(crate) fn keep_recycled(&self, a: SystrapAddressSpace, tracer: ThreadId) {
        self.state.lock().unwrap().recycled.push((a, tracer));
    }

    /// A kept stub, wiped for its next process; one that cannot be (its old threads linger,
    /// or it died) is let go.
    fn take_recycled(&self) -> Option<SystrapAddressSpace> {
        loop {
            let (a, tracer) = self.state.lock().unwrap().recycled.pop()?;
            if tracer == std::thread::current().id() && a.scrub() {
                return Some(a);
            }
            release(a);
        }
    }

    /// Begins adopting a ready spare on this thread, for the next take.
    fn seize_next(&self, me: ThreadId) {
        let mut st = self.state.lock().unwrap();
        if st.seized.is_some() {
            return;
        }
        let Some(a) = st.ready.pop() else { return };
        let begun = a.stub.lock().unwrap().begin_adopt();
        match begun {
            Ok(()) => st.seized = Some((a, me)),
            Err(_) => {
                drop(st);
                release(a);
            }
        }
    }

    /// A ready spare (or one on its way), adopted now.
    fn take_ready(&self) -> Option<SystrapAddressSpace> {
        let a = {
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
        kept(a, adopted)
    }

    /// Has spares made until `depth` are ready or on their way. `make` runs on the spare
    /// thread; what it returns must be detached (detach_parked).
    pub fn refill(self: &Arc<Self>, depth: usize, make: impl Fn() -> io::Result<SystrapAddressSpace> + Send + Sync + 'static) {
        let make = Arc::new(make);
        loop {
            {
                let mut st = self.state.lock().unwrap();
                if st.making + st.ready.len() + st.recycled.len() + usize::from(st.seized.is_some()) >= depth {
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
        let (ready, seized, recycled) = {
            let mut st = self.state.lock().unwrap();
            (std::mem::take(&mut st.ready), st.seized.take(), std::mem::take(&mut st.recycled))
        };
        for a in ready.into_iter().chain(seized.map(|(a, _)| a)).chain(recycled.into_iter().map(|(a, _)| a)) {
            release(a);
        }
    }
}

/// Lets a spare go (killed, its pages given back once the reaper has seen it die).
fn release(mut a: SystrapAddressSpace) {
    a.keeper = None; // not kept again
    let mf = a.mf.clone();
    crate::AddressSpaceOps::release_then_drop(&mut a, &mf, Vec::new());
}

/// The spare if its adoption went well, else let go.
fn kept(a: SystrapAddressSpace, adopted: io::Result<()>) -> Option<SystrapAddressSpace> {
    match adopted {
        Ok(()) => Some(a),
        Err(_) => {
            release(a);
            None
        }
    }
}
