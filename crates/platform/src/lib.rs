//! The platform interface (gVisor's `platform.Platform`), written down once for every
//! platform: ptrace today, systrap and KVM next.
//!
//! A platform can create address spaces, map, unmap and protect memory-file ranges in them,
//! and run a task's registers until the next syscall, fault or signal, interrupting it on
//! request. Many contexts (threads) may share one address space. Nothing here names ptrace.
//!
//! This crate also owns what every platform shares: the register file layout, the event a run
//! ends with, the completion cell that hands a finished run back to the sentry, and the
//! mapping table (`AddressSpace`) through which the sentry copies application memory.
//! It must not know about Node.

pub mod address_space;
pub mod completion;
pub mod host_copy;
pub mod host_cpu;
pub mod pma;
pub mod spin_policy;

use std::any::Any;
use std::io;

pub use address_space::{AddressSpace, HostIo};
pub use completion::Completion;
pub use host_cpu::{ClockCache, HostCpuClock, HostCpuKind, TaskClock};
pub use spin_policy::{AdaptiveSpin, PeerState, SpinPolicy};

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

pub const ACCESS_READ: u64 = 1;
pub const ACCESS_WRITE: u64 = 2;
pub const ACCESS_EXEC: u64 = 4;
pub const ACCESS_UNKNOWN: u64 = 8;

/// Linux's `struct user_regs_struct`, in its order.
pub const NUM_REGS: usize = 27;
pub type Regs = [u64; NUM_REGS];
pub const REG_R12: usize = 3;
pub const REG_RBX: usize = 5;
pub const REG_RAX: usize = 10;
pub const REG_RCX: usize = 11;
pub const REG_RDX: usize = 12;
pub const REG_RSI: usize = 13;
pub const REG_RDI: usize = 14;
pub const REG_ORIG_RAX: usize = 15;
pub const REG_RIP: usize = 16;
pub const REG_CS: usize = 17;
pub const REG_EFLAGS: usize = 18;
pub const REG_RSP: usize = 19;
pub const REG_SS: usize = 20;
pub const REG_FS_BASE: usize = 21;
pub const REG_GS_BASE: usize = 22;
pub const REG_R10: usize = 7;
pub const REG_R8: usize = 9;
pub const REG_R9: usize = 8;

/// Event::code of a syscall made through the i386 ABI.
pub const SYSCALL_ABI_I386: u64 = 0x4000_0003;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    Syscall = 1,
    Fault = 2,
    Interrupt = 3,
    Dead = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// Host signal behind a fault or death, else 0.
    pub signo: u64,
    /// si_code of that signal. For a Syscall event: the ABI it was made through, 0 for the
    /// x86-64 `syscall` instruction, AUDIT_ARCH_I386 for the i386 ABI (`int 0x80`, `sysenter`,
    /// or a syscall from 32-bit code), whose number and arguments are in eax, ebx, ecx, edx,
    /// esi, edi, ebp.
    pub code: u64,
    /// Faulting address.
    pub addr: u64,
    /// ACCESS_* bits, ACCESS_UNKNOWN when the platform cannot tell.
    pub access: u64,
    /// Wait status of a dead stub.
    pub status: u64,
}

impl Event {
    pub fn of(kind: EventKind) -> Event {
        Event { kind, signo: 0, code: 0, addr: 0, access: 0, status: 0 }
    }
}

/// The host side of one address space: applies mapping changes to wherever the application
/// really runs (a stub process, guest page tables). The mapping table in `AddressSpace`
/// calls these after validating; they must not be called with ranges outside
/// [min_user_address, max_user_address).
pub trait AddressSpaceOps: Send {
    fn map(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()>;
    fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()>;
    fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()>;
    fn release(&mut self);
    fn as_any(&self) -> &dyn Any;
    /// From here to end_batch, map/unmap/protect may be queued and applied together (fork's
    /// copy of a whole address space): their errors then come from end_batch. Batches nest.
    fn begin_batch(&mut self) {}
    /// Applies what begin_batch queued. On an error the host side may hold any prefix of it.
    fn end_batch(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// release(), after which the memory-file ranges `refs` (offset, length), which the
    /// mapping table held, are given back — once nothing on the host can touch them any more,
    /// which a platform may leave to a reaper off the caller's path.
    fn release_then_drop(&mut self, mf: &std::sync::Arc<tsvisor_memfile::MemoryFile>, refs: Vec<(u64, u64)>) {
        self.release();
        for (off, len) in refs {
            let _ = mf.dec_ref(off, len);
        }
    }
}

/// One task's execution context on a platform.
///
/// A run is: switch_to_user(), then poll() until it says the task stopped — the caller
/// spins on it for a short budget — or park(), after which the waker is called once the
/// task has stopped; then take() returns the event and the registers at the stop.
pub trait Context: Send + Sync {
    /// Registers for a fresh thread: valid selectors and flags, zero elsewhere.
    fn initial_regs(&self) -> Regs;
    /// Starts running `regs`. Returns at once.
    fn switch_to_user(&self, regs: &Regs);
    /// True once the run has stopped.
    fn poll(&self) -> bool;
    /// Stops waiting synchronously: false if the run has already stopped (take it now),
    /// true if the waker will be called when it does.
    fn park(&self) -> bool;
    /// The event and registers of a stopped run.
    fn take(&self, regs: &mut Regs) -> Event;
    /// Called from any thread when a parked run stops.
    fn set_waker(&self, w: completion::Waker);
    /// The task is stopped and its answer will be long (its syscall blocks): a platform whose
    /// thread waits actively for the answer may stop spinning and sleep now.
    fn blocking(&self) {}
    /// Whether the thread that runs the task has a CPU now, as far as the platform can tell
    /// (spin_policy::PeerState): the sentry spins for a stop only while its peer can run.
    fn peer_state(&self) -> spin_policy::PeerState {
        spin_policy::PeerState::Unknown
    }
    /// For the sentry's own thread to sleep on while it has nothing else to do, instead of
    /// waiting for the waker to come through its event loop (one thread hop less per
    /// parked run): the address of a futex word the platform's stop wakes, and the value it
    /// holds while the parked run goes on. None if the platform has no such word, or if the
    /// run has stopped already (then claim_stop()). The word may be the application's to
    /// write: a forged value only makes that sleep end early or last its full timeout.
    fn stop_word(&self) -> Option<(usize, u32)> {
        None
    }
    /// Takes the report of a parked run's stop away from the waker while the caller sleeps on
    /// stop_word(): true if it did (the caller must end it with release_stop), false if the
    /// waker is reporting the stop already.
    fn hold_stop(&self) -> bool {
        false
    }
    /// Ends hold_stop: true if the run has stopped (the caller reports it; the waker will
    /// not), false if the waker has the report back.
    fn release_stop(&self) -> bool {
        false
    }
    /// Makes a running task stop soon with an Interrupt event. Harmless if it is not running.
    fn interrupt(&self);
    /// Ends a task that must die but did not stop for interrupt() (on systrap, a thread that
    /// blocked the interrupt signal on the host through a forged sigreturn frame). The run
    /// then ends with a Dead event. A platform may have to end every thread of the address
    /// space to do it; one whose interrupt cannot be refused needs nothing more.
    fn kill(&self) {
        self.interrupt();
    }
    /// The host thread the task runs in, (tgid, tid), if it is one: its CPU time is the
    /// task's (see `host_thread_cpu_ns`).
    fn host_thread(&self) -> Option<(i32, i32)> {
        None
    }
    /// Which of that thread's times is the task's (host_cpu.rs).
    fn host_cpu_kind(&self) -> HostCpuKind {
        HostCpuKind::Runtime
    }
    /// The platform's side of the context for a hang report (--debug-log): what the run
    /// waits on, as words; "" where there is nothing to say.
    fn describe(&self) -> String {
        String::new()
    }
    /// The XSAVE area of a stopped task.
    fn fp_state(&self) -> io::Result<Vec<u8>>;
    fn set_fp_state(&self, state: &[u8]) -> io::Result<()>;
    fn release(&self);
}


pub trait Platform {
    fn name(&self) -> &'static str;
    fn min_user_address(&self) -> u64;
    fn max_user_address(&self) -> u64;
    fn new_address_space(&self) -> io::Result<Box<dyn AddressSpaceOps>>;
    /// An address space will be asked for soon (the sandbox's first): a platform that can make
    /// one off the caller's thread starts now, so that the making overlaps the caller's work
    /// until then. A hint: new_address_space works the same without it.
    fn prepare_address_space(&self) {}
    fn new_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<Box<dyn Context>>;
    /// Whether its contexts give stop words (Context::stop_word) the sentry's thread may sleep
    /// on while idle, rather than only their wakers.
    fn has_stop_words(&self) -> bool {
        false
    }
    /// Where a patched syscall site may jump to enter the sentry without a trap (with %eax
    /// the syscall number and %rcx the return address), or 0 if the platform has no such path.
    fn syscall_patch_entry(&self) -> u64 {
        0
    }
    /// Where every address space of the platform holds the host's vDSO:
    /// (__vdso_clock_gettime, start, end of its pages), for the sandbox's vDSO to read the
    /// host's CLOCK_MONOTONIC without a trap; None where it cannot (kvm, no host vDSO).
    fn host_vdso_clock(&self) -> Option<(u64, u64, u64)> {
        None
    }
    /// How the platform set itself up, for --debug-log (e.g. kvm's memslot mode), or "".
    fn detail(&self) -> String {
        String::new()
    }
    /// Switches the platform to reporting parked runs through an fd the caller watches:
    /// whenever `fd` is readable the caller must call `dispatch` on its own thread, which calls
    /// the wakers of the runs that stopped (on that thread). None: wakers are called from the
    /// platform's own threads, as before. Contexts made from then on use it.
    fn wake_source(&self) -> Option<WakeSource> {
        None
    }
}

/// See `Platform::wake_source`.
pub struct WakeSource {
    pub fd: i32,
    pub dispatch: std::sync::Arc<dyn Fn() + Send + Sync>,
}
