//! An exited process's stub kept as the next spare (fork, exec): no spawn and no adoption
//! stop for the next address space, which under load waited milliseconds for the spare maker
//! (fork-exit-wait took ~1.7 ms in taking an address space at load 40).
//!
//! What the next process could read of the last one is wiped first. Every application
//! thread of the stub is made to exit (none is kept for the next process: a fresh thread is
//! cloned from the leader, which never ran application code, so no register or FP state
//! carries over; it is started as the stub is kept, and makes its first trap meanwhile); the
//! whole application range is unmapped; and once every old thread is gone, every other
//! slot's pages (messages with registers, XSAVE areas, signal stacks with their frames) and
//! the batch table (the old mappings' addresses) are zeroed. A stub whose threads cannot all
//! be accounted for (one let go while it ran application code) is killed as before.

use std::time::{Duration, Instant};

use crate::msg::Msg;
use crate::{batch, thread_alive, SystrapAddressSpace, SystrapContext, BATCH_TABLE, CONTROL_PAGE, SLOT_SIZE};

/// A stub with more slots than this is not kept: their pages would stay taken while it
/// waits, and all be zeroed when it is taken (1 MiB).
const MAX_SLOTS_KEPT: usize = 16;

/// How long taking a kept stub waits for its old threads to be gone (they were woken to
/// exit when it was kept; on a crowded host they wait for a CPU).
const WAIT_THREADS: Duration = Duration::from_millis(2);

impl SystrapAddressSpace {
    /// Keeps the stub for a next process if the platform wants one and the stub can be made
    /// clean; false: the caller tears it down.
    pub(crate) fn recycle(&mut self) -> bool {
        let Some((spares, tracer)) = self.keeper.clone() else { return false };
        // Only the tracer can drive the stub's leader.
        if tracer != std::thread::current().id() || !spares.wants_recycled() {
            return false;
        }
        {
            let mut slots = self.slots.lock().unwrap();
            for p in std::mem::take(&mut slots.parked) {
                // SAFETY: the slot's pages live in the memory file as long as the stub process.
                let Ok(ptr) = self.mf.ptr(p.slot_off, 0x1000) else { return false };
                slots.retire(&p, &unsafe { Msg::new(ptr) });
            }
            if slots.released_running || slots.owned.len() > MAX_SLOTS_KEPT {
                return false;
            }
        }
        // The unmap goes in the batch that maps the new thread's slot (one injection for both);
        // its slot, if it had an old thread's, is wiped whole before the clone.
        let unmap = batch::unmap(crate::MIN_USER_ADDRESS, crate::STUB_BASE - crate::MIN_USER_ADDRESS);
        self.queue.lock().unwrap().entries = vec![unmap];
        match SystrapContext::start_thread(self, true) {
            Ok(t) => self.slots.lock().unwrap().starting = Some(t),
            Err(_) => {
                // Whether or not the batch ran, the unmap runs again alone.
                self.queue.lock().unwrap().entries.clear();
                if self.flush_with(&[unmap]).is_err() {
                    return false;
                }
            }
        }
        spares.keep_recycled(SystrapAddressSpace {
            stub: self.stub.clone(),
            mf: self.mf.clone(),
            img: self.img,
            user_dispatch: self.user_dispatch,
            slots: self.slots.clone(),
            control_off: self.control_off,
            queue: Default::default(),
            keeper: None,
        }, tracer);
        true
    }

    /// Wipes what the last process left in the stub, once its threads are gone (waiting for
    /// them a little); false if they are not, or the stub is dead.
    pub(crate) fn scrub(&self) -> bool {
        let start = Instant::now();
        let mut slots = self.slots.lock().unwrap();
        while slots.exiting.iter().any(|&(_, _, tgid, tid)| thread_alive(tgid, tid)) {
            if start.elapsed() > WAIT_THREADS {
                return false;
            }
            std::thread::sleep(Duration::from_micros(20));
        }
        let gone: Vec<_> = slots.exiting.drain(..).map(|(idx, off, _, _)| (idx, off)).collect();
        slots.free.extend(gone);
        let batch_table = self.control_off + (BATCH_TABLE - CONTROL_PAGE);
        let fresh = slots.starting.as_ref().map(|t| t.slot_off);
        let wiped = slots.owned.iter().filter(|&&off| Some(off) != fresh).all(|&off| self.mf.zero(off, SLOT_SIZE as usize).is_ok())
            && self.mf.zero(batch_table, (batch::BATCH_PAGES * 0x1000) as usize).is_ok();
        wiped && self.stub.lock().unwrap().is_alive()
    }
}
