//! Tearing a stub down off the sentry's path: the stub is sent SIGKILL and the sentry goes on;
//! this thread waits for the host to finish the process (unmapping a large address space takes
//! the kernel a while) and only then gives back the memory-file pages it mapped, so that no
//! page is reused while a dying thread of the stub could still touch it.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use tsvisor_memfile::MemoryFile;
use tsvisor_ptrace::sys;

struct Corpse {
    pid: i32,
    mf: Arc<MemoryFile>,
    refs: Vec<(u64, u64)>,
}

fn reaper() -> Option<Sender<Corpse>> {
    static TX: OnceLock<Option<Mutex<Sender<Corpse>>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = channel::<Corpse>();
        let spawned = std::thread::Builder::new().name("systrap-reaper".into()).stack_size(64 << 10).spawn(move || {
            for c in rx {
                bury(c);
            }
        });
        spawned.ok().map(|_| Mutex::new(tx))
    });
    tx.as_ref().map(|m| m.lock().unwrap().clone())
}

/// Waits until `pid` (a stub already sent SIGKILL, a child of this process) is gone — any
/// thread of the process may reap it — then drops the references.
fn bury(c: Corpse) {
    loop {
        match sys::wait(c.pid) {
            Ok(status) if libc::WIFSTOPPED(status) => continue,
            // Exited, or no longer ours to wait for (ECHILD): either way it is gone.
            _ => break,
        }
    }
    for (off, len) in c.refs {
        let _ = c.mf.dec_ref(off, len);
    }
}

/// Reaps `pid` and then drops `refs`, off the caller's thread if it can (else right here).
pub fn bury_later(pid: i32, mf: Arc<MemoryFile>, refs: Vec<(u64, u64)>) {
    let c = Corpse { pid, mf, refs };
    match reaper() {
        Some(tx) => {
            if let Err(e) = tx.send(c) {
                bury(e.0);
            }
        }
        None => bury(c),
    }
}
