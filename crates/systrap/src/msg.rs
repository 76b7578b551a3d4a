//! The per-thread message shared by a stub thread's signal handler and the sentry: page 0 of
//! the thread's slot, in the memory file. Layout must match `struct sysmsg` in
//! crates/ptrace/stub/systrap.c. Everything in it is written by the application's process
//! too, so the sentry treats every field as untrusted input.

use std::sync::atomic::{AtomicU32, Ordering};

use tsvisor_platform::{Regs, NUM_REGS};

pub const ST_READY: u32 = 1;
pub const ST_RESUME: u32 = 2;
/// Sentry to a thread stopped on the patched path: XSAVE at SLOT_XSAVE, then READY.
pub const ST_FPSAVE: u32 = 3;
/// Offset in the slot of the XSAVE area of the patched path (the start-up stack, unused
/// once the thread runs).
pub const SLOT_XSAVE: u64 = 0x2000;
pub const SLOT_XSAVE_MAX: usize = 0x2000;

/// Event kinds of OFF_KIND, as the stub writes them.
pub const EV_SYSCALL: u64 = 1;
pub const EV_FAULT: u64 = 2;
pub const EV_INTERRUPT: u64 = 3;

pub const OFF_STATE: usize = 0;
pub const OFF_STUB_SLEEPING: usize = 4;
pub const OFF_SENTRY_SLEEPING: usize = 8;
pub const OFF_EXIT: usize = 12;
pub const OFF_KIND: usize = 16;
pub const OFF_SIGNO: usize = 24;
pub const OFF_CODE: usize = 32;
pub const OFF_ADDR: usize = 40;
pub const OFF_ACCESS: usize = 48;
pub const OFF_FPSTATE: usize = 56;
/// OFF_FPSTATE of a thread stopped on the patched path that XSAVEd its FP state into its slot
/// on the way in (fork, vfork, clone, clone3: stub.S), as opposed to 0 (live in the registers)
/// or the address of a signal frame's.
pub const FP_SAVED: u64 = 1;
/// OFF_FPSTATE of a thread stopped on the patched path whose slot holds FP state the sentry
/// set: the thread loads it (XRSTOR) on its way out (stub.S), with no round trip meanwhile.
pub const FP_PENDING: u64 = 2;
pub const OFF_REGS: usize = 64;
/// Sentry to stub, before each resume: how many times the stub may poll for its next answer
/// before sleeping on the futex (platform::SpinPolicy); set to 0 while the stub waits once
/// the sentry knows the answer will be long (`Context::blocking`). Bounded by the stub
/// itself: the application can write it, and can only waste its own CPU that way.
pub const OFF_SPIN: usize = OFF_REGS + 8 * 27;
/// The stub's bound on OFF_SPIN, and what it is while spinning pays.
pub const SPIN_POLLS: u32 = 2000;
/// Under contention: a few pauses only, no yields.
pub const SPIN_POLLS_CROWDED: u32 = 64;

/// A view of one message through the sentry's mapping of the memory file.
#[derive(Clone, Copy)]
pub struct Msg {
    base: *mut u8,
}

// SAFETY: the pointer is into the memory file's mapping, which outlives every context; all
// accesses are atomic or plain copies of integers, racing only with the stub thread, whose
// writes can at worst give us wrong register values (which the application controls anyway).
unsafe impl Send for Msg {}
// SAFETY: as above.
unsafe impl Sync for Msg {}

impl Msg {
    /// # Safety
    /// `base` must point at a page of the memory file's mapping that stays mapped.
    pub unsafe fn new(base: *mut u8) -> Msg {
        Msg { base }
    }

    pub fn atomic(&self, off: usize) -> &AtomicU32 {
        // SAFETY: off is one of the aligned u32 fields inside the page.
        unsafe { AtomicU32::from_ptr(self.base.add(off) as *mut u32) }
    }

    pub fn state(&self) -> u32 {
        self.atomic(OFF_STATE).load(Ordering::Acquire)
    }

    pub fn get(&self, off: usize) -> u64 {
        // SAFETY: off is an aligned u64 field inside the page.
        unsafe { std::ptr::read_volatile(self.base.add(off) as *const u64) }
    }

    pub fn set(&self, off: usize, v: u64) {
        // SAFETY: off is an aligned u64 field inside the page.
        unsafe { std::ptr::write_volatile(self.base.add(off) as *mut u64, v) }
    }

    pub fn read_regs(&self, r: &mut Regs) {
        for (i, v) in r.iter_mut().enumerate() {
            *v = self.get(OFF_REGS + 8 * i);
        }
    }

    pub fn write_regs(&self, r: &Regs) {
        for (i, v) in r.iter().enumerate().take(NUM_REGS) {
            self.set(OFF_REGS + 8 * i, *v);
        }
    }

    pub fn futex_addr(&self) -> *mut u32 {
        self.base as *mut u32
    }
}
