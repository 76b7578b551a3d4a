//! The systrap platform: application threads run in a stub process under a seccomp filter
//! that traps their syscalls to a SIGSYS handler in stub code; the handler hands the
//! registers to the sentry through a shared-memory message and waits for the answer
//! (spinning briefly, then on a futex). Faults and interrupts take the same path.
//!
//! Threat model. The application controls everything in its address space, including the
//! messages, start-up stacks and signal stacks in its stub slots (all mapped read-write into
//! its process), may jump anywhere in the stub's text with any registers, and runs as many
//! threads as it likes to race us. What keeps it from the host:
//! - Two invariants carry thread start-up. (1) No application thread executes an instruction
//!   of the application's choosing without its filter: a thread is cloned by the leader into
//!   `systrap_thread_entry` (stub text, read-only), which installs the filter before it traps
//!   for its first registers; and it is born with every signal but SIGTRAP blocked (the
//!   leader's mask, set before the first clone), unblocking them only once the filter is in
//!   force, so no handler can run in it earlier and resume it elsewhere. (2) Nothing the thread
//!   reads before its filter is in force is writable by the application: its registers come
//!   from the sentry through ptrace; the entry code keeps everything in registers and never
//!   touches its stack; the seccomp program, the signal-stack description and the dispatch
//!   range it reads are in the slot's set-up page (`setup`), written by the sentry through
//!   the memory file and mapped read-only in the stub from the slot's first use, so there is
//!   no moment at which the application could write it, for a fresh slot or a reused one.
//!   The application cannot remap or reprotect stub pages: its mmap/mprotect are the
//!   sentry's, bounded below `max_user_address`, and it cannot reach the same memory-file
//!   pages through a mapping of its own. (The review's escape wrote a forged program into a
//!   read-write page 1 while a slot was reused; `test/fixtures/hostile_slot.c` races all
//!   three variants.)
//! - every application thread is under `filter::stub_filter` and, where the kernel has it
//!   (5.11+), Syscall User Dispatch: any syscall from outside the stub text traps to the
//!   handler (through SUD first, which also catches the numbers that seccomp lets through
//!   without running filters, uretprobe 335 and uprobe 336); from inside the text only
//!   futex wait/wake, rt_sigreturn, exit and the entry's one rt_sigprocmask
//!   (to the empty set of its set-up page) pass, and anything
//!   else, or any other ABI, kills the stub process (so jumping onto our `syscall` with open,
//!   execve, ptrace or socket numbers ends the program and nothing else). The i386 ABI from
//!   application code traps like the rest and is reported as such.
//! - application threads hold no host fds at all (cloned without CLONE_FILES, then
//!   close_range), so even a permitted syscall has nothing of the host to act on;
//! - rt_sigaction/sigaltstack/sigprocmask from the application trap like any syscall and are
//!   emulated by the sentry; the stub's host handlers are installed once, before any
//!   application code runs. Blocking SIGSYS through a forged sigreturn frame only gets the
//!   process killed at its next syscall; blocking our interrupt signal (SIGCHLD) makes the
//!   thread deaf to interrupts, so a task that must die and does not stop within a grace
//!   period is killed on the host with its stub (`Context::kill`);
//! - address-space changes are made by the stub's leader thread, which never runs
//!   application code and is driven only by ptrace from the sentry (it alone holds the
//!   memory file's fd); everything it reads (sigactions, its signal mask, its filter) is in
//!   the control page, read-only in the stub. Before it clones the first application thread
//!   it locks itself into `filter::leader_filter` (only the calls the sentry injects and the
//!   thread entry makes, from the stub text), so every thread is also born filtered: even
//!   before its own filter stacks on top, its syscalls from anywhere else trap;
//! - the sentry reads a message as untrusted: registers it could have had anyway, an event
//!   kind, signal and ABI it checks (anything our handler never writes kills the process
//!   with SIGKILL), and an fpstate pointer it bounds-checks against the slot.
//! - the leader's batches of address-space calls (`batch`) come from a table in the pages
//!   after the control page, read-only in the stub like it, read by the leader only while the
//!   sentry waits for the injection; how far it got comes back in its registers, through
//!   ptrace, bounds-checked.
//! - a run that outlasts the sentry's spin is parked: the context's waiter thread (pooled,
//!   asleep on the message word from the context's first park, `waiters`) is woken by the
//!   stub's FUTEX_WAKE, or with TSVISOR_WAKE=ring one io_uring futex wait on the message word
//!   (`wakes`, `wake_ring`) lands it in the event loop. The sentry wakes the stub with a
//!   futex bitset the waiter does not wait on. The
//!   word, the sleeping flag and the wake itself are the application's to forge: a stop is
//!   taken only from a READY message, and a periodic sweep finds stops whose wake was
//!   suppressed and threads that died; forging costs only the forger time.
//! - a thread kept for reuse (`Slots::parked`) is under its filter like any stopped one, and
//!   is taken only if its message still says it is stopped (the application can write it).
//! - a spare stub (`spare`) is set up and detached by our own thread before any application
//!   code exists in it, and dies with that thread (PR_SET_PDEATHSIG) until adopted.
//! - the host kernel's vDSO and its data pages stay in every stub, moved to a fixed place
//!   above `max_user_address` (tsvisor_ptrace::host_vdso), so that the sandbox's vDSO reads
//!   the clock without a trap. The application may read and call them: it learns the host
//!   kernel's vDSO build and the host's clocks (which the sandbox's clocks are anyway), and
//!   nothing else, accepted for clock reads at native speed. It cannot change them (every
//!   address of its own syscalls is bounded below `max_user_address`), and the host vDSO's
//!   own `syscall` instruction lies outside the stub text: from there every syscall traps
//!   to the sentry like any other of the application's (the sentry answers a clock_gettime
//!   from there with the clock outside any time namespace).
//! Owns the stub slots and the handshake; knows nothing of Node.

pub mod batch;
pub mod filter;
pub mod msg;
mod reaper;
mod recycle;
pub mod setup;
mod spare;
pub mod wake_ring;
#[cfg(test)]
mod test_stub;
mod waiters;
mod wakes;

use waiters::Watch;

use std::any::Any;
use std::io;
use std::thread::ThreadId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tsvisor_memfile::MemoryFile;
use tsvisor_platform::completion::Waker;
use tsvisor_platform::{
    AddressSpaceOps, Context, Event, EventKind, PeerState, Platform, Regs, SpinPolicy, WakeSource, NUM_REGS, REG_CS, REG_EFLAGS, REG_SS, SYSCALL_ABI_I386,
};
use tsvisor_ptrace::{stub_image, StubImage, StubProcess, STUB_BASE, SYSTRAP_CLONE_GADGET};

use msg::*;

const SLOT_SIZE: u64 = 0x10000;
/// The lowest address the application may map.
const MIN_USER_ADDRESS: u64 = 0x10000;
const CONTROL_PAGE: u64 = STUB_BASE + 0x10_0000;
/// The batch table (`batch`), read-only in the stub like the control page it follows.
const BATCH_TABLE: u64 = CONTROL_PAGE + 0x1000;
const CONTROL_PAGES: u64 = 1 + batch::BATCH_PAGES;
const SLOTS_BASE: u64 = STUB_BASE + 0x20_0000;
const MAX_SLOTS: u64 = 8192;
/// Where the signal stack of a slot starts (it runs to the end of the slot).
const SLOT_SIGSTACK: u64 = 0x4000;
/// In the control page, after the sigactions: the signal mask the leader takes before it
/// clones any thread (every signal but SIGTRAP, which its injections raise).
const CONTROL_LEADER_MASK: u64 = 0x800;
/// In the control page: the leader's seccomp program (`filter::leader_filter`).
const CONTROL_LEADER_FILTER: u64 = 0x100;
const PR_SET_SYSCALL_USER_DISPATCH: i32 = 59;
const PR_SYS_DISPATCH_OFF: u64 = 0;
/// Signals whose handler is the systrap handler: the trap, the faults, and our interrupt.
const HANDLED: [i32; 7] = [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGCHLD];
const INTERRUPT_SIGNAL: i32 = libc::SIGCHLD;
/// The signals a fault event may carry (the handled ones but SIGCHLD, our interrupt).
const FAULT_SIGNALS: [u64; 6] = [
    libc::SIGSYS as u64, libc::SIGSEGV as u64, libc::SIGBUS as u64, libc::SIGFPE as u64, libc::SIGILL as u64, libc::SIGTRAP as u64,
];

fn eio() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}

pub struct SystrapPlatform {
    mf: Arc<MemoryFile>,
    img: StubImage,
    user_dispatch: bool,
    spares: Arc<spare::Spares>,
    /// Address spaces made: from the second on (the sandbox forks or execs), a spare is kept.
    made: std::sync::atomic::AtomicU64,
    /// Set once the caller asked for a wake source (`wake_source`): parked runs of the
    /// contexts made after that are reported through it instead of a waiter thread each.
    wakes: OnceLock<Option<Arc<wakes::Wakes>>>,
}

impl SystrapPlatform {
    /// Fails with ENOSYS where systrap cannot work (no FSGSBASE, no seccomp).
    pub fn new(mf: Arc<MemoryFile>) -> io::Result<SystrapPlatform> {
        // The handler saves and restores FS/GS bases with rdfsbase/wrfsbase.
        // SAFETY: getauxval has no preconditions.
        let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
        if hwcap2 & 2 == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSYS));
        }
        // SAFETY: prctl query with no pointers.
        if unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } < 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSYS));
        }
        // Syscall User Dispatch (Linux 5.11+) catches the syscalls that seccomp lets through
        // without running filters (uretprobe, uprobe). Turning it off in this thread is a
        // harmless probe: it is not on.
        // SAFETY: prctl with integer arguments only.
        let user_dispatch = unsafe { libc::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0u64, 0u64, 0u64) } == 0;
        Ok(SystrapPlatform { mf, img: stub_image(), user_dispatch, spares: Arc::default(), made: Default::default(), wakes: OnceLock::new() })
    }

    /// Whether application threads run under Syscall User Dispatch as well as seccomp.
    pub fn user_dispatch(&self) -> bool {
        self.user_dispatch
    }
}

/// The thread slots of one stub process. A slot's memory-file pages stay mapped in the stub
/// from its first use to the end of the process, so they stay allocated as long: freeing
/// them while a dying thread could still touch them would hand that thread somebody else's
/// memory.
struct Slots {
    /// Free slots: (index, memory-file offset of its pages).
    free: Vec<(u64, u64)>,
    /// Released slots whose thread may still be on its way out: (index, offset, tgid, tid).
    exiting: Vec<(u64, u64, i32, i32)>,
    next: u64,
    /// Every slot's pages, released with the address space.
    owned: Vec<u64>,
    /// Threads whose task ended while they were stopped at the sentry, kept for the next
    /// context of this address space (thread creation without a clone and a first trap).
    parked: Vec<Parked>,
    /// A thread was let go while it ran (not stopped at the sentry): it may still run the
    /// application's code, so the stub is never kept for another process (recycle).
    released_running: bool,
    /// The first thread of a kept stub's next process, started when the stub was kept.
    starting: Option<Starting>,
}

/// A stub thread kept for reuse: it waits in its handler or on the patched path, as after
/// any stop, under its filter; the next context resumes it with the new task's registers.
struct Parked {
    slot: u64,
    slot_off: u64,
    tgid: i32,
    tid: i32,
    initial: Regs,
}

/// A thread cloned into its slot that has not yet been waited for (its first trap).
struct Starting {
    slot: u64,
    slot_off: u64,
    msg: Msg,
    tgid: i32,
    tid: i32,
}

/// How many idle threads an address space keeps.
const MAX_PARKED: usize = 4;

impl Slots {
    /// Tells a parked thread to exit; its slot is reused once it is gone (take).
    fn retire(&mut self, p: &Parked, m: &Msg) {
        // One the application set running again may be running its code.
        self.released_running |= m.state() != ST_READY && thread_alive(p.tgid, p.tid);
        m.atomic(OFF_EXIT).store(1, Ordering::SeqCst);
        m.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
        wake_stub(m);
        self.exiting.push(((p.slot - SLOTS_BASE) / SLOT_SIZE, p.slot_off, p.tgid, p.tid));
    }

    /// A slot to use: (index, its pages if they are already mapped in the stub).
    fn take(&mut self) -> Option<(u64, Option<u64>)> {
        let mut i = 0;
        while i < self.exiting.len() {
            let (idx, off, tgid, tid) = self.exiting[i];
            if thread_alive(tgid, tid) {
                i += 1;
            } else {
                self.exiting.swap_remove(i);
                self.free.push((idx, off));
            }
        }
        if let Some((idx, off)) = self.free.pop() {
            return Some((idx, Some(off)));
        }
        (self.next < MAX_SLOTS).then(|| {
            self.next += 1;
            (self.next - 1, None)
        })
    }
}

pub struct SystrapAddressSpace {
    stub: Arc<Mutex<StubProcess>>,
    mf: Arc<MemoryFile>,
    img: StubImage,
    user_dispatch: bool,
    slots: Arc<Mutex<Slots>>,
    control_off: u64,
    queue: Mutex<batch::Queue>,
    /// Where the stub goes when the address space is released, and the thread that traces
    /// it (recycle): set once the platform hands the address space out.
    keeper: Option<(Arc<spare::Spares>, ThreadId)>,
}

impl SystrapAddressSpace {
    /// A new stub process, traced by the calling thread, with its handlers and leader filter.
    fn make(mf: &Arc<MemoryFile>, img: StubImage, user_dispatch: bool) -> io::Result<SystrapAddressSpace> {
        let stub = StubProcess::spawn(mf.fd())?;
        let control_off = mf.allocate(CONTROL_PAGES)?;
        let mut a = SystrapAddressSpace {
            stub: Arc::new(Mutex::new(stub)),
            mf: mf.clone(),
            img,
            user_dispatch,
            slots: Arc::new(Mutex::new(Slots {
                free: Vec::new(),
                exiting: Vec::new(),
                next: 0,
                owned: Vec::new(),
                parked: Vec::new(),
                released_running: false,
                starting: None,
            })),
            control_off,
            queue: Mutex::new(batch::Queue::default()),
            keeper: None,
        };
        if let Err(e) = a.install_handlers() {
            a.release();
            return Err(e);
        }
        Ok(a)
    }

    /// Queues `e` if a batch is open (true), else leaves it to the caller (false).
    fn queued(&self, e: batch::Entry) -> bool {
        let mut q = self.queue.lock().unwrap();
        if q.depth == 0 {
            return false;
        }
        q.entries.push(e);
        true
    }

    /// Runs what is queued, then `more`, in as few injections as the table allows.
    fn flush_with(&self, more: &[batch::Entry]) -> io::Result<()> {
        let mut entries = std::mem::take(&mut self.queue.lock().unwrap().entries);
        entries.extend_from_slice(more);
        if entries.is_empty() {
            return Ok(());
        }
        let mut stub = self.stub.lock().unwrap();
        batch::run(&mut stub, &self.mf, self.control_off + 0x1000, BATCH_TABLE, &entries)
    }

    /// Every memory-file range the stub's side holds: control and batch pages, slots.
    fn own_refs(&self) -> Vec<(u64, u64)> {
        let mut refs = vec![(self.control_off, CONTROL_PAGES * 0x1000)];
        refs.extend(std::mem::take(&mut self.slots.lock().unwrap().owned).into_iter().map(|off| (off, SLOT_SIZE)));
        refs
    }

    fn install_handlers(&mut self) -> io::Result<()> {
        // struct kernel_sigaction { handler, flags, restorer, mask }, one per signal.
        const SA_RESTORER: u64 = 0x0400_0000;
        let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
        let mut page = Vec::new();
        for _ in HANDLED {
            for v in [self.img.systrap_handler, flags, self.img.systrap_restorer, u64::MAX] {
                page.extend_from_slice(&v.to_le_bytes());
            }
        }
        // Then SIG_IGN for a terminal's signals (JOB_SIGNALS): the threads unblock them.
        let ignore = CONTROL_PAGE + page.len() as u64;
        for v in [libc::SIG_IGN as u64, 0, 0, 0] {
            page.extend_from_slice(&v.to_le_bytes());
        }
        assert!(page.len() <= CONTROL_LEADER_FILTER as usize);
        page.resize(CONTROL_LEADER_FILTER as usize, 0);
        let leader = filter::leader_filter(STUB_BASE, self.img.end);
        page.extend_from_slice(&filter::fprog_bytes(&leader, CONTROL_PAGE + CONTROL_LEADER_FILTER));
        assert!(page.len() <= CONTROL_LEADER_MASK as usize);
        page.resize(CONTROL_LEADER_MASK as usize, 0);
        page.extend_from_slice(&(!(1u64 << (libc::SIGTRAP - 1))).to_le_bytes());
        self.mf.write(self.control_off, &page)?;
        // The control page and the batch table after it, read-only in the stub.
        self.stub.lock().unwrap().map_file(CONTROL_PAGE, CONTROL_PAGES * 0x1000, self.control_off, libc::PROT_READ as u32)?;
        // A stub parked for later (spare.rs) is untraced for a while: it dies with the thread
        // that spawned it, as a traced one dies with its tracer (PTRACE_O_EXITKILL).
        let mut calls = vec![batch::entry(libc::SYS_prctl, [libc::PR_SET_PDEATHSIG as u64, libc::SIGKILL as u64, 0, 0, 0, 0], 0)];
        for (i, sig) in HANDLED.iter().enumerate() {
            calls.push(batch::entry(libc::SYS_rt_sigaction, [*sig as u64, CONTROL_PAGE + 32 * i as u64, 0, 8, 0, 0], 0));
        }
        for sig in tsvisor_ptrace::stub::JOB_SIGNALS {
            calls.push(batch::entry(libc::SYS_rt_sigaction, [sig as u64, ignore, 0, 8, 0, 0], 0));
        }
        // Every thread is cloned from the leader and inherits this mask: no signal handler
        // can run in a new thread before its filter is in force.
        let how = libc::SIG_SETMASK as u64;
        calls.push(batch::entry(libc::SYS_rt_sigprocmask, [how, CONTROL_PAGE + CONTROL_LEADER_MASK, 0, 8, 0, 0], 0));
        // And this filter: every thread is born under it (filters are inherited by clone).
        calls.push(batch::entry(libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0], 0));
        calls.push(batch::entry(libc::SYS_seccomp, [1 /* SECCOMP_SET_MODE_FILTER */, 0, CONTROL_PAGE + CONTROL_LEADER_FILTER, 0, 0, 0], 0));
        self.flush_with(&calls)
    }
}

impl AddressSpaceOps for SystrapAddressSpace {
    fn map(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()> {
        if self.queued(batch::map_file(addr, len, file_offset, prot)) {
            return Ok(());
        }
        self.stub.lock().unwrap().map_file(addr, len, file_offset, prot)
    }

    fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()> {
        if self.queued(batch::unmap(addr, len)) {
            return Ok(());
        }
        self.stub.lock().unwrap().unmap(addr, len)
    }

    fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()> {
        if self.queued(batch::protect(addr, len, prot)) {
            return Ok(());
        }
        self.stub.lock().unwrap().protect(addr, len, prot)
    }

    fn begin_batch(&mut self) {
        self.queue.lock().unwrap().depth += 1;
    }

    fn end_batch(&mut self) -> io::Result<()> {
        {
            let mut q = self.queue.lock().unwrap();
            q.depth = q.depth.saturating_sub(1);
            if q.depth > 0 {
                return Ok(());
            }
        }
        self.flush_with(&[])
    }

    fn release(&mut self) {
        self.queue.lock().unwrap().entries.clear();
        self.stub.lock().unwrap().kill();
        for (off, len) in self.own_refs() {
            let _ = self.mf.dec_ref(off, len);
        }
    }

    fn release_then_drop(&mut self, mf: &Arc<MemoryFile>, mut refs: Vec<(u64, u64)>) {
        // The stub kept for the next process: its mappings are gone, so the pages go now.
        if self.recycle() {
            for (off, len) in refs {
                let _ = mf.dec_ref(off, len);
            }
            return;
        }
        // Near the memory limit the pages must be back before anyone allocates again (the
        // parent of an OOM-killed child would be refused them): wait, as release() does.
        // With half the limit free, what the reaper still holds cannot be what refuses a
        // page, short of a burst of half the limit within the few milliseconds it takes.
        if mf.limit() != u64::MAX && mf.allocated_bytes() > mf.limit() / 2 {
            self.release();
            for (off, len) in refs {
                let _ = mf.dec_ref(off, len);
            }
            return;
        }
        // The sentry does not wait for the host to tear the stub down: the reaper does, and
        // gives the pages back after.
        self.queue.lock().unwrap().entries.clear();
        let pid = self.stub.lock().unwrap().kill_nowait();
        refs.extend(self.own_refs());
        match pid {
            Some(pid) => reaper::bury_later(pid, mf.clone(), refs),
            // Never started, or already gone (and waited for).
            None => {
                for (off, len) in refs {
                    let _ = mf.dec_ref(off, len);
                }
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for SystrapPlatform {
    fn drop(&mut self) {
        self.spares.drain();
    }
}

impl SystrapPlatform {
    /// Has spares made off the JS thread until `depth` are ready or on their way.
    fn refill_spares(&self, depth: usize) {
        let (mf, img, ud) = (self.mf.clone(), self.img, self.user_dispatch);
        self.spares.refill(depth, move || {
            let mut a = SystrapAddressSpace::make(&mf, img, ud)?;
            // Its first thread too (clone, filter, first trap), parked for the first
            // context: a fork's child or an exec'd program starts on it.
            let parked = SystrapContext::new(&a).and_then(|c| {
                c.release();
                a.stub.lock().unwrap().detach_parked()
            });
            if let Err(e) = parked {
                a.release();
                return Err(e);
            }
            Ok(a)
        });
    }
}

impl Platform for SystrapPlatform {
    fn name(&self) -> &'static str {
        "systrap"
    }

    fn min_user_address(&self) -> u64 {
        MIN_USER_ADDRESS
    }

    fn max_user_address(&self) -> u64 {
        STUB_BASE
    }

    fn host_vdso_clock(&self) -> Option<(u64, u64, u64)> {
        tsvisor_ptrace::host_vdso::host_vdso_clock()
    }

    fn new_address_space(&self) -> io::Result<Box<dyn AddressSpaceOps>> {
        let mut a = match self.spares.take() {
            Some(a) => a,
            None => SystrapAddressSpace::make(&self.mf, self.img, self.user_dispatch)?,
        };
        // Traced by this thread from now on (made or adopted here).
        a.keeper = Some((self.spares.clone(), std::thread::current().id()));
        if self.made.fetch_add(1, Ordering::Relaxed) >= 1 {
            self.refill_spares(spare::DEPTH);
        }
        Ok(Box::new(a))
    }

    fn prepare_address_space(&self) {
        // One, for the first address space (the initial program's): more only once it forks.
        if self.made.load(Ordering::Relaxed) == 0 {
            self.refill_spares(1);
        }
    }

    fn syscall_patch_entry(&self) -> u64 {
        self.img.systrap_fast_entry
    }

    fn has_stop_words(&self) -> bool {
        true
    }

    fn new_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<Box<dyn Context>> {
        let a = ops.as_any().downcast_ref::<SystrapAddressSpace>().ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mut c = SystrapContext::new(a)?;
        c.wakes = self.wakes.get().cloned().flatten();
        Ok(Box::new(c))
    }

    /// An io_uring of futex waits (`wakes`), where the kernel has them (6.7+), with
    /// TSVISOR_WAKE=ring. Not the default yet: on this 2-core host under contention.sh it made
    /// fork and thread creation 10-30% slower than waiter threads (cause not found; measured
    /// again in session 18: fork x3 worst 7.2-16.0 ms vs 5.5-9.5), though it halves the
    /// context switches of a pipe round trip (and the pipe row was no faster at load 8-10).
    fn wake_source(&self) -> Option<WakeSource> {
        let w = self.wakes.get_or_init(|| {
            if std::env::var("TSVISOR_WAKE").as_deref() != Ok("ring") {
                return None;
            }
            wakes::Wakes::new().ok().map(Arc::new)
        });
        let w = w.clone()?;
        let fd = w.event_fd();
        Some(WakeSource { fd, dispatch: Arc::new(move || w.dispatch()) })
    }
}

struct Shared {
    msg: Msg,
    tgid: i32,
    tid: i32,
    dead: AtomicBool,
    watch: Mutex<Watch>,
    waker: Mutex<Option<Waker>>,
    /// The ring key of the futex wait armed for a parked run (`wakes`), 0 if none.
    armed_key: AtomicU64,
    /// The memory file the message lives in, kept mapped while anything holding this (a
    /// pooled waiter still finishing its last look at a released context) may read the
    /// message: the platform and its file may be dropped first (a test's end, a sandbox's).
    _backing: Option<Arc<MemoryFile>>,
}

pub struct SystrapContext {
    shared: Arc<Shared>,
    slot: u64,
    slot_off: u64,
    slots: Arc<Mutex<Slots>>,
    mf: Arc<MemoryFile>,
    initial: Regs,
    /// A pooled waiter thread serves this context (`waiters`), from its first park.
    waiter: AtomicBool,
    released: AtomicBool,
    wakes: Option<Arc<wakes::Wakes>>,
}

/// Wakes the stub thread sleeping on its message (`waiters::STUB_BITS`: never the waiter).
fn wake_stub(m: &Msg) {
    // SAFETY: the word is in the memory file's mapping; the kernel validates the rest.
    unsafe { libc::syscall(libc::SYS_futex, m.futex_addr(), libc::FUTEX_WAKE_BITSET, 1, 0usize, 0usize, waiters::STUB_BITS) };
}

fn futex(addr: *mut u32, op: i32, val: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|d| libc::timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 });
    let tp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: addr points into the memory file's mapping; the kernel validates the rest.
    unsafe { libc::syscall(libc::SYS_futex, addr, op, val, tp, 0usize, 0u32) };
}

fn thread_alive(tgid: i32, tid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, 0) == 0 }
}

impl SystrapContext {
    fn new(a: &SystrapAddressSpace) -> io::Result<SystrapContext> {
        // A thread started for the stub's next process (recycle), else one kept by this one.
        let started = a.slots.lock().unwrap().starting.take();
        if let Some(t) = started {
            return Self::finish_start(a, t);
        }
        if let Some(c) = Self::unpark(a)? {
            return Ok(c);
        }
        let t = Self::start_thread(a, false)?;
        Self::finish_start(a, t)
    }

    /// Clones a new application thread into a free slot; it runs its entry code meanwhile.
    /// `whole`: its slot, if reused, is wiped whole (another process had it), not only its
    /// message page.
    fn start_thread(a: &SystrapAddressSpace, whole: bool) -> io::Result<Starting> {
        let (idx, reused) = a.slots.lock().unwrap().take().ok_or_else(|| io::Error::from_raw_os_error(libc::EAGAIN))?;
        let slot = SLOTS_BASE + idx * SLOT_SIZE;
        let slot_off = match reused {
            Some(off) => {
                // Its previous thread is gone; start from a clean page for the message.
                a.mf.zero(off, if whole { SLOT_SIZE as usize } else { 0x1000 })?;
                off
            }
            None => {
                let off = a.mf.allocate(SLOT_SIZE / 0x1000)?;
                a.slots.lock().unwrap().owned.push(off);
                off
            }
        };
        let setup = (|| -> io::Result<(Msg, i32)> {
            let prog = filter::stub_filter(STUB_BASE, a.img.end, slot + setup::SETUP_PAGE + setup::OFF_UNBLOCKED as u64);
            let page = setup::setup_page(&setup::Setup {
                slot,
                filter: &prog,
                sigstack: (slot + SLOT_SIGSTACK, SLOT_SIZE - SLOT_SIGSTACK),
                user_dispatch: a.user_dispatch.then_some((STUB_BASE, a.img.end - STUB_BASE)),
            });
            // Written before the clone, by us only: the stub maps the page read-only from the
            // start, and a reused slot's thread is gone (Slots::take).
            a.mf.write(slot_off + setup::SETUP_PAGE, &page)?;
            // SAFETY: the slot's pages live in the memory file as long as the stub process.
            let m = unsafe { Msg::new(a.mf.ptr(slot_off, 0x1000)?) };
            // The slot's pages, with whatever mapping changes are queued: the thread must
            // find the address space complete.
            let mut maps = Vec::new();
            if reused.is_none() {
                let (rw, ro) = ((libc::PROT_READ | libc::PROT_WRITE) as u32, libc::PROT_READ as u32);
                let sp = setup::SETUP_PAGE;
                maps.push(batch::map_file(slot, sp, slot_off, rw));
                maps.push(batch::map_file(slot + sp, 0x1000, slot_off + sp, ro));
                maps.push(batch::map_file(slot + sp + 0x1000, SLOT_SIZE - sp - 0x1000, slot_off + sp + 0x1000, rw));
            }
            a.flush_with(&maps)?;
            let flags = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_SIGHAND | libc::CLONE_THREAD | libc::CLONE_SYSVSEM) as u64;
            let mut stub = a.stub.lock().unwrap();
            let gadget = stub.entry + SYSTRAP_CLONE_GADGET;
            let tid = stub.inject(gadget, libc::SYS_clone, [flags, slot + SLOT_SIGSTACK - 8, 0, 0, 0, 0], &[(3, a.img.systrap_thread_entry)])?;
            if tid <= 0 {
                return Err(io::Error::from_raw_os_error(if tid < 0 { -tid as i32 } else { libc::EIO }));
            }
            Ok((m, tid as i32))
        })();
        let (m, tid) = match setup {
            Ok(v) => v,
            Err(e) => {
                a.slots.lock().unwrap().free.push((idx, slot_off));
                return Err(e);
            }
        };
        let tgid = a.stub.lock().unwrap().pid;
        Ok(Starting { slot, slot_off, msg: m, tgid, tid })
    }

    /// Waits for a started thread's first trap and makes it a context.
    fn finish_start(a: &SystrapAddressSpace, t: Starting) -> io::Result<SystrapContext> {
        let Starting { slot, slot_off, msg: m, tgid, tid } = t;
        // The new thread traps once (ud2) after locking itself in; its registers then give
        // valid selectors for the application's first run.
        // The trap's handler wakes a sleeping sentry.
        let spin = if SpinPolicy::get().spinning() { Duration::from_micros(50) } else { Duration::ZERO };
        if !wait_ready(&m, tgid, tid, spin, Duration::from_secs(10)) {
            return Err(eio());
        }
        let mut initial = [0u64; NUM_REGS];
        m.read_regs(&mut initial);
        let (cs, ss) = (initial[REG_CS], initial[REG_SS]);
        initial = [0; NUM_REGS];
        (initial[REG_CS], initial[REG_SS], initial[REG_EFLAGS]) = (cs, ss, 0x202);
        Ok(Self::with_thread(a, slot, slot_off, m, tgid, tid, initial))
    }

    /// A parked thread of the address space, if one is still stopped where it parked.
    fn unpark(a: &SystrapAddressSpace) -> io::Result<Option<SystrapContext>> {
        loop {
            let Some(p) = a.slots.lock().unwrap().parked.pop() else { return Ok(None) };
            // SAFETY: the slot's pages live in the memory file as long as the stub process.
            let m = unsafe { Msg::new(a.mf.ptr(p.slot_off, 0x1000)?) };
            // The application can write the message: a thread it set running again (or that
            // died) is not taken, but told to exit, like any released one.
            if m.state() != ST_READY || !thread_alive(p.tgid, p.tid) {
                a.slots.lock().unwrap().retire(&p, &m);
                continue;
            }
            // The thread must find the address space complete when it runs.
            a.flush_with(&[])?;
            return Ok(Some(Self::with_thread(a, p.slot, p.slot_off, m, p.tgid, p.tid, p.initial)));
        }
    }

    fn with_thread(a: &SystrapAddressSpace, slot: u64, slot_off: u64, m: Msg, tgid: i32, tid: i32, initial: Regs) -> SystrapContext {
        let shared = Arc::new(Shared {
            msg: m,
            tgid,
            tid,
            dead: AtomicBool::new(false),
            watch: Mutex::new(Watch::new()),
            waker: Mutex::new(None),
            armed_key: AtomicU64::new(0),
            _backing: Some(a.mf.clone()),
        });
        SystrapContext {
            shared,
            slot,
            slot_off,
            slots: a.slots.clone(),
            mf: a.mf.clone(),
            initial,
            waiter: AtomicBool::new(false),
            released: AtomicBool::new(false),
            wakes: None,
        }
    }

    fn slot_index(&self) -> u64 {
        (self.slot - SLOTS_BASE) / SLOT_SIZE
    }
}

/// Waits on the sentry's own thread for the stub thread to report READY (its first trap, an
/// FP save or restore): spins for `spin`, then sleeps on the message's futex, which the stub
/// wakes — spinning on a crowded host holds the CPU the stub thread needs to answer. False if
/// the thread dies or `limit` passes first.
fn wait_ready(m: &Msg, tgid: i32, tid: i32, spin: Duration, limit: Duration) -> bool {
    let start = Instant::now();
    while m.state() != ST_READY && start.elapsed() < spin {
        std::hint::spin_loop();
    }
    let sleeping = m.atomic(OFF_SENTRY_SLEEPING);
    let mut ready = true;
    loop {
        sleeping.store(1, Ordering::SeqCst);
        let st = m.state();
        if st == ST_READY {
            break;
        }
        if start.elapsed() > limit || !thread_alive(tgid, tid) {
            ready = false;
            break;
        }
        futex(m.futex_addr(), libc::FUTEX_WAIT, st, Some(Duration::from_millis(1)));
    }
    sleeping.store(0, Ordering::SeqCst);
    ready
}

impl Context for SystrapContext {
    fn initial_regs(&self) -> Regs {
        self.initial
    }

    fn switch_to_user(&self, regs: &Regs) {
        let m = &self.shared.msg;
        m.write_regs(regs);
        let polls = if SpinPolicy::get().spinning() { SPIN_POLLS } else { SPIN_POLLS_CROWDED };
        m.atomic(OFF_SPIN).store(polls, Ordering::Relaxed);
        m.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
        if m.atomic(OFF_STUB_SLEEPING).load(Ordering::SeqCst) != 0 {
            wake_stub(&m);
        }
    }

    fn poll(&self) -> bool {
        self.shared.msg.state() == ST_READY || self.shared.dead.load(Ordering::Acquire)
    }

    fn park(&self) -> bool {
        if self.poll() {
            return false;
        }
        if let Some(w) = &self.wakes {
            // Where the ring fails (it should not), the waiter thread below takes over.
            if let Ok(armed) = w.park(&self.shared) {
                return armed;
            }
        }
        // The waiter is taken on the first park: many contexts never need one. Without one
        // the caller must keep polling: false says the run is done so that it takes it...
        // which take() reports as Dead if it is not.
        waiters::park(&self.shared, &self.waiter)
    }

    fn stop_word(&self) -> Option<(usize, u32)> {
        // The ring reports stops itself (`wakes`); a stop already there is claimed instead.
        if self.wakes.is_some() || !self.waiter.load(Ordering::Relaxed) {
            return None;
        }
        let v = self.shared.msg.state();
        if v == ST_READY || self.shared.dead.load(Ordering::Acquire) {
            return None;
        }
        Some((self.shared.msg.futex_addr() as usize, v))
    }

    fn hold_stop(&self) -> bool {
        self.wakes.is_none() && waiters::hold(&self.shared)
    }

    fn release_stop(&self) -> bool {
        waiters::release_hold(&self.shared)
    }

    fn take(&self, regs: &mut Regs) -> Event {
        let m = &self.shared.msg;
        if self.shared.dead.load(Ordering::Acquire) || m.state() != ST_READY {
            return Event::of(EventKind::Dead);
        }
        m.read_regs(regs);
        // Every field was writable by the application: anything our handler never writes
        // means it forged the message, and the process dies as if by SIGKILL.
        let signo = m.get(OFF_SIGNO);
        let code = m.get(OFF_CODE);
        let kind = match m.get(OFF_KIND) {
            EV_SYSCALL if code == 0 || code == SYSCALL_ABI_I386 => EventKind::Syscall,
            EV_FAULT if FAULT_SIGNALS.contains(&signo) => EventKind::Fault,
            EV_INTERRUPT => EventKind::Interrupt,
            _ => {
                self.kill();
                return Event { signo: libc::SIGKILL as u64, ..Event::of(EventKind::Dead) };
            }
        };
        Event { kind, signo, code, addr: m.get(OFF_ADDR), access: m.get(OFF_ACCESS) & 0xf, status: 0 }
    }

    fn set_waker(&self, w: Waker) {
        *self.shared.waker.lock().unwrap() = Some(w);
    }

    fn blocking(&self) {
        // The stub re-reads its budget on every poll: it goes to sleep on the futex at once,
        // leaving the CPU to whoever will produce the answer.
        self.shared.msg.atomic(OFF_SPIN).store(0, Ordering::Relaxed);
    }

    fn peer_state(&self) -> PeerState {
        // The stub clears its sleeping flag as soon as its wake-up gives it a CPU. The
        // application can write the flag: a forged value changes only how long the sentry
        // spins for this task's own stops.
        if self.shared.msg.atomic(OFF_STUB_SLEEPING).load(Ordering::Relaxed) != 0 {
            PeerState::Waking
        } else {
            PeerState::Running
        }
    }

    fn interrupt(&self) {
        // SAFETY: plain syscall with integer arguments.
        unsafe { libc::syscall(libc::SYS_tgkill, self.shared.tgid, self.shared.tid, INTERRUPT_SIGNAL) };
    }

    fn kill(&self) {
        // SIGKILL cannot be blocked; it takes the whole stub process, whose other threads then
        // report Dead too. Its waiter is told to look.
        // SAFETY: plain syscall with integer arguments.
        unsafe { libc::syscall(libc::SYS_tgkill, self.shared.tgid, self.shared.tid, libc::SIGKILL) };
        self.shared.dead.store(true, Ordering::SeqCst);
        waiters::poke(&self.shared);
    }

    fn host_thread(&self) -> Option<(i32, i32)> {
        Some((self.shared.tgid, self.shared.tid))
    }

    fn describe(&self) -> String {
        let m = &self.shared.msg;
        let word = |off| m.atomic(off).load(Ordering::SeqCst);
        let parked = self.shared.watch.lock().map(|w| w.parked).unwrap_or(false);
        format!(
            "host {}/{}{} state={} stub_sleeping={} sentry_sleeping={} waiter={} parked={} dead={} nr={}",
            self.shared.tgid,
            self.shared.tid,
            if thread_alive(self.shared.tgid, self.shared.tid) { "" } else { " (gone)" },
            word(OFF_STATE),
            word(OFF_STUB_SLEEPING),
            word(OFF_SENTRY_SLEEPING),
            self.waiter.load(Ordering::Relaxed),
            parked,
            self.shared.dead.load(Ordering::SeqCst),
            m.get(OFF_REGS + 15 * 8) as i64,
        )
    }

    fn fp_state(&self) -> io::Result<Vec<u8>> {
        if self.stopped_on_fast_path() {
            // Saved on the way in (the clone family), or set by the sentry and not yet loaded:
            // what the application wrote there since could only be FP state it could have
            // loaded into its registers itself.
            let f = self.shared.msg.get(OFF_FPSTATE);
            if f != FP_SAVED && f != FP_PENDING {
                self.fp_save()?;
            }
            let mut buf = vec![0u8; xsave_size()];
            self.mf.read(self.slot_off + SLOT_XSAVE, &mut buf)?;
            return Ok(buf);
        }
        let (off, len) = self.fp_area()?;
        let mut buf = vec![0u8; len];
        self.mf.read(off, &mut buf)?;
        Ok(buf)
    }

    fn set_fp_state(&self, state: &[u8]) -> io::Result<()> {
        if self.stopped_on_fast_path() {
            // Loaded by the thread on its way out (stub.S): no round trip now. A state shorter
            // than the area (a legacy image) completes what the last XSAVE left there.
            let n = state.len().min(xsave_size());
            self.mf.write(self.slot_off + SLOT_XSAVE, &state[..n])?;
            self.shared.msg.set(OFF_FPSTATE, FP_PENDING);
            return Ok(());
        }
        let (off, len) = self.fp_area()?;
        self.mf.write(off, &state[..state.len().min(len)])
    }

    fn release(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(w) = &self.wakes {
            w.forget(&self.shared);
        }
        waiters::stop(&self.shared);
        let m = &self.shared.msg;
        // A thread stopped at the sentry, as a task's last stop (its exit) leaves it, waits
        // there for the next context of the address space.
        {
            let mut slots = self.slots.lock().unwrap();
            if slots.parked.len() < MAX_PARKED && !self.shared.dead.load(Ordering::SeqCst) && m.state() == ST_READY {
                m.atomic(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
                let (slot, slot_off, tgid, tid) = (self.slot, self.slot_off, self.shared.tgid, self.shared.tid);
                slots.parked.push(Parked { slot, slot_off, tgid, tid, initial: self.initial });
                return;
            }
        }
        let running = m.state() != ST_READY && !self.shared.dead.load(Ordering::SeqCst);
        m.atomic(OFF_EXIT).store(1, Ordering::SeqCst);
        m.atomic(OFF_STATE).store(ST_RESUME, Ordering::SeqCst);
        wake_stub(&m);
        // The slot may be reused only once the thread is gone; Slots::take checks.
        let mut slots = self.slots.lock().unwrap();
        slots.released_running |= running;
        slots.exiting.push((self.slot_index(), self.slot_off, self.shared.tgid, self.shared.tid));
    }
}

/// How long fp_save spins for the stub's XSAVE before sleeping, when spinning
/// pays and when the host is crowded.
const FP_SPIN: Duration = Duration::from_micros(50);
const FP_CROWDED_SPIN: Duration = Duration::from_micros(2);

/// Size of the XSAVE area for the features enabled in XCR0 (CPUID leaf 0xD, EBX), read once:
/// in a VM every CPUID is an exit to the hypervisor (16 us of each thread creation here, two
/// reads per clone, went to it).
fn xsave_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        // CPUID leaf 0xD exists wherever XSAVE does, which FSGSBASE-capable CPUs (required by
        // this platform) all have.
        let r = std::arch::x86_64::__cpuid_count(0xd, 0);
        (r.ebx as usize).clamp(576, SLOT_XSAVE_MAX)
    })
}

impl SystrapContext {
    /// A thread stopped on the patched path has no signal frame: its FP state is live (and
    /// maybe saved in the slot too: FP_SAVED), or waits in the slot (FP_PENDING).
    fn stopped_on_fast_path(&self) -> bool {
        let m = &self.shared.msg;
        m.state() == ST_READY && matches!(m.get(OFF_FPSTATE), 0 | FP_SAVED | FP_PENDING)
    }

    /// Asks a thread stopped on the patched path to XSAVE, and waits for it.
    fn fp_save(&self) -> io::Result<()> {
        let m = &self.shared.msg;
        m.atomic(OFF_STATE).store(ST_FPSAVE, Ordering::SeqCst);
        if m.atomic(OFF_STUB_SLEEPING).load(Ordering::SeqCst) != 0 {
            wake_stub(&m);
        }
        let spin = if SpinPolicy::get().spinning() { FP_SPIN } else { FP_CROWDED_SPIN };
        if !wait_ready(m, self.shared.tgid, self.shared.tid, spin, Duration::from_secs(5)) {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    }

    /// The XSAVE area of the signal frame the thread is stopped in, bounded by its slot.
    fn fp_area(&self) -> io::Result<(u64, usize)> {
        let p = self.shared.msg.get(OFF_FPSTATE);
        if p < self.slot + SLOT_SIGSTACK || p + 512 > self.slot + SLOT_SIZE {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        let off = self.slot_off + (p - self.slot);
        let mut sw = [0u8; 48];
        self.mf.read(off + 464, &mut sw)?;
        let magic = u32::from_le_bytes(sw[0..4].try_into().unwrap());
        let size = u32::from_le_bytes(sw[16..20].try_into().unwrap()) as u64;
        let len = if magic == 0x4650_5853 && size >= 512 && p + size <= self.slot + SLOT_SIZE { size } else { 512 };
        Ok((off, len as usize))
    }
}

impl Drop for SystrapContext {
    fn drop(&mut self) {
        self.release();
    }
}
