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
use std::sync::{Arc, Mutex, OnceLock};

use crate::SystrapAddressSpace;

type Make = Box<dyn FnOnce() -> Option<SystrapAddressSpace> + Send>;
type Job = (Make, Arc<Spares>);

/// How many spares a platform keeps: fork then exec (a shell's every command) takes two in
/// quick succession.
const DEPTH: usize = 2;

/// One platform's spares.
#[derive(Default)]
pub struct Spares {
    ready: Mutex<Vec<SystrapAddressSpace>>,
    /// Spares being made.
    making: Mutex<usize>,
}

fn maker() -> Option<Sender<Job>> {
    static TX: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new().name("systrap-spares".into()).stack_size(256 << 10).spawn(move || {
            for (make, pool) in rx {
                // A panic here must not end the thread: its stubs would die with it.
                let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(make)).ok().flatten();
                pool.ready.lock().unwrap().extend(made);
                *pool.making.lock().unwrap() -= 1;
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
    /// The spare, adopted by the calling thread, if one is ready.
    pub fn take(&self) -> Option<SystrapAddressSpace> {
        let mut a = self.ready.lock().unwrap().pop()?;
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
                let mut making = self.making.lock().unwrap();
                if *making + self.ready.lock().unwrap().len() >= DEPTH {
                    return;
                }
                *making += 1;
            }
            let m = make.clone();
            let job: Make = Box::new(move || m().ok());
            match maker() {
                Some(tx) if tx.send((job, self.clone())).is_ok() => {}
                _ => {
                    *self.making.lock().unwrap() -= 1;
                    return;
                }
            }
        }
    }

    /// Kills the spare (the platform is going away).
    pub fn drain(&self) {
        for mut a in std::mem::take(&mut *self.ready.lock().unwrap()) {
            let mf = a.mf.clone();
            crate::AddressSpaceOps::release_then_drop(&mut a, &mf, Vec::new());
        }
    }
}
