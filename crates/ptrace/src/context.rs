//! A task's context on the ptrace platform: one stub thread and one host thread of ours that
//! is its tracer (ptrace requests must come from the tracer thread). The sentry hands it
//! commands; runs go out with PTRACE_SYSEMU and come back through the Completion cell.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tsvisor_platform::{
    Completion, Context, Event, EventKind, Regs, ACCESS_EXEC, ACCESS_UNKNOWN, NUM_REGS, REG_EFLAGS, REG_ORIG_RAX,
    REG_RAX, REG_RDI, REG_RIP, SYSCALL_ABI_I386,
};

use crate::host_vdso::HOST_VDSO_AREA;
use crate::stub::{is_synchronous_fault, STUB_BASE, TOP_OF_USER, VSYSCALL_PAGE};
use crate::sys;

const SEGV_MAPERR: u64 = 1;
const EFLAGS_TF: u64 = 0x100;
/// Stops (signals, faults) an exiting thread may take before we give up on a clean exit.
const MAX_EXIT_STOPS: u32 = 16;

/// How long the tracer spins for the next command before sleeping: long enough to cover the
/// sentry handling a typical syscall, short enough not to steal a core from it for long.
const TRACER_SPIN: Duration = Duration::from_micros(40);

enum Cmd {
    Run(Regs),
    GetFp(SyncSender<io::Result<Vec<u8>>>),
    SetFp(Vec<u8>, SyncSender<io::Result<()>>),
    Release(SyncSender<()>),
}

struct Shared {
    tgid: i32,
    tid: i32,
    exit_gadget: u64,
    /// The thread's registers when seized, in the stub's own code: 64-bit selectors and sane
    /// flags, whatever the application later did to its CS, SS or EFLAGS.
    template: Mutex<Regs>,
    completion: Completion,
    cmd: Mutex<Option<Cmd>>,
    has_cmd: AtomicBool,
    cv: Condvar,
    /// What the tracer thread is doing (TRACER_*), for a hang report.
    phase: AtomicU32,
}

const TRACER_WAITING: u32 = 0;
const TRACER_RUNNING: u32 = 1;
const TRACER_OTHER: u32 = 2;

pub struct PtraceContext {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Registers of the freshly created thread: valid selectors and flags, zero elsewhere.
    pub initial_regs: Regs,
}

impl PtraceContext {
    /// Seizes stub thread `tid` of process `tgid` from a new tracer thread.
    pub fn new(tgid: i32, tid: i32, syscall_gadget: u64) -> io::Result<PtraceContext> {
        let shared = Arc::new(Shared {
            tgid,
            tid,
            exit_gadget: syscall_gadget,
            template: Mutex::new([0; NUM_REGS]),
            completion: Completion::new(),
            cmd: Mutex::new(None),
            has_cmd: AtomicBool::new(false),
            cv: Condvar::new(),
            phase: AtomicU32::new(TRACER_OTHER),
        });
        let (tx, rx) = sync_channel::<io::Result<Regs>>(1);
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("ptrace-{tid}"))
            .stack_size(256 << 10)
            .spawn(move || match seize(s.tid) {
                Ok(regs) => {
                    *s.template.lock().unwrap() = regs;
                    let _ = tx.send(Ok(regs));
                    tracer_loop(&s);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            })?;
        let mut regs = rx.recv().map_err(|_| io::Error::from_raw_os_error(libc::EIO))??;
        for (i, r) in regs.iter_mut().enumerate() {
            // Keep the selectors (cs..gs, ss) and nothing else of the stub's state.
            if !(17..=20).contains(&i) && i < 23 {
                *r = 0;
            }
        }
        regs[REG_EFLAGS] = 0x202;
        Ok(PtraceContext { shared, thread: Mutex::new(Some(thread)), initial_regs: regs })
    }

    fn post(&self, c: Cmd) {
        *self.shared.cmd.lock().unwrap() = Some(c);
        self.shared.has_cmd.store(true, Ordering::Release);
        self.shared.cv.notify_one();
    }
}

fn seize(tid: i32) -> io::Result<Regs> {
    let opts = libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_EXITKILL;
    sys::ptrace(libc::PTRACE_SEIZE, tid, 0, opts as usize)?;
    sys::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0)?;
    let status = sys::wait(tid)?;
    if !libc::WIFSTOPPED(status) {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    sys::get_regs(tid)
}

fn next_cmd(s: &Shared) -> Cmd {
    let start = Instant::now();
    while !s.has_cmd.load(Ordering::Acquire) && start.elapsed() < TRACER_SPIN {
        std::hint::spin_loop();
    }
    let mut g = s.cmd.lock().unwrap();
    loop {
        if let Some(c) = g.take() {
            s.has_cmd.store(false, Ordering::Release);
            return c;
        }
        g = s.cv.wait(g).unwrap();
    }
}

fn tracer_loop(s: &Shared) {
    let mut dead = false;
    loop {
        s.phase.store(TRACER_WAITING, Ordering::Relaxed);
        let cmd = next_cmd(s);
        s.phase.store(if matches!(cmd, Cmd::Run(_)) { TRACER_RUNNING } else { TRACER_OTHER }, Ordering::Relaxed);
        match cmd {
            Cmd::Run(regs) => {
                let (ev, out) = if dead { (dead_event(0), regs) } else { run_once(s, regs) };
                dead |= ev.kind == EventKind::Dead;
                s.completion.publish(ev, &out);
            }
            Cmd::GetFp(reply) => {
                let _ = reply.send(sys::get_xstate(s.tid));
            }
            Cmd::SetFp(state, reply) => {
                let _ = reply.send(sys::set_xstate(s.tid, &state));
            }
            Cmd::Release(reply) => {
                if !dead {
                    exit_thread(s);
                }
                let _ = reply.send(());
                return;
            }
        }
    }
}

fn dead_event(status: i32) -> Event {
    Event { status: status as u64, ..Event::of(EventKind::Dead) }
}

fn run_once(s: &Shared, mut regs: Regs) -> (Event, Regs) {
    // orig_rax = -1: never let the host's syscall-restart logic rewrite our registers.
    regs[REG_ORIG_RAX] = u64::MAX;
    if sys::set_regs(s.tid, &regs).is_err() || sys::ptrace(libc::PTRACE_SYSEMU, s.tid, 0, 0).is_err() {
        return (dead_event(0), regs);
    }
    let status = match sys::wait(s.tid) {
        Ok(st) => st,
        Err(_) => return (dead_event(0), regs),
    };
    if !libc::WIFSTOPPED(status) {
        return (dead_event(status), regs);
    }
    let Ok(mut out) = sys::get_regs(s.tid) else { return (dead_event(0), regs) };
    let sig = libc::WSTOPSIG(status);
    let ev = if sig == libc::SIGTRAP | 0x80 {
        match syscall_abi(s.tid) {
            Ok(code) => Event { code, ..Event::of(EventKind::Syscall) },
            Err(_) => return (dead_event(0), regs),
        }
    } else if (status >> 16) == sys::PTRACE_EVENT_STOP {
        Event::of(EventKind::Interrupt)
    } else if let Some(ev) = vsyscall_event(s.tid, sig, &mut out) {
        // Its pc is the caller's return address, wherever that is: checked when it runs.
        return (ev, out);
    } else {
        classify_signal(s.tid, sig)
    };
    (outside_application(ev, &mut out), out)
}

/// The ABI of the syscall the thread is stopped at: 0 for x86-64, SYSCALL_ABI_I386.
///
/// Asked of the kernel (PTRACE_GET_SYSCALL_INFO's arch, from the TS_COMPAT its entry set) at
/// every stop: one more ptrace call, about 0.85 µs on the development VM, some 8% of a
/// getppid through the sentry on this platform. The registers cannot answer for free:
/// `syscall` leaves rcx = rip and r11 = eflags, but a program can load both before an
/// `int 0x80` and pass it off as x86-64.
fn syscall_abi(tid: i32) -> io::Result<u64> {
    Ok(if sys::syscall_arch(tid)? == sys::AUDIT_ARCH_I386 { SYSCALL_ABI_I386 } else { 0 })
}

/// A call to the vsyscall page, stopped by the stub's seccomp filter (stub.rs): the kernel
/// has skipped the call and already emulated its `ret` (rip = the popped return address,
/// rsp += 8), so the stop becomes an ordinary x86-64 syscall event whose result lands in rax.
/// Only the kernel's own record counts: si_code SYS_SECCOMP cannot be sent by another
/// process, and the application's kill and tgkill never reach the host.
fn vsyscall_event(tid: i32, sig: i32, regs: &mut Regs) -> Option<Event> {
    if sig != libc::SIGSYS {
        return None;
    }
    let si = sys::get_sigsys_info(tid).ok()?;
    let nr = si.syscall as libc::c_long;
    let known = [libc::SYS_gettimeofday, libc::SYS_time, libc::SYS_getcpu].contains(&nr);
    if si.code != sys::SYS_SECCOMP || si.call_addr & !0xfff != VSYSCALL_PAGE || !known || si.arch != sys::AUDIT_ARCH_X86_64
    {
        return None;
    }
    regs[REG_ORIG_RAX] = nr as u64;
    regs[REG_RAX] = (-libc::ENOSYS) as u64;
    Some(Event::of(EventKind::Syscall))
}

/// Whether pc is in the host's vDSO, which the sandbox's vDSO calls (host_vdso.rs): the
/// application runs there, is interrupted there, and its syscalls from there are its own.
fn in_host_vdso(pc: u64) -> bool {
    crate::host_vdso::host_vdso().is_some_and(|v| (HOST_VDSO_AREA..v.end).contains(&pc))
}

/// The stub's code lies above the application's address space, where Linux would have
/// nothing mapped for the program: a program that jumps there (to use the stub's syscall
/// instructions, or its pause loop) faults as it would natively, at the instruction it
/// reached, instead of running stub code under the sentry. The host's vDSO, up there too,
/// is the application's to run.
fn outside_application(ev: Event, regs: &mut Regs) -> Event {
    let pc = match ev.kind {
        // The syscall instruction is 2 bytes; undo the stop's rax = -ENOSYS too.
        EventKind::Syscall => regs[REG_RIP].wrapping_sub(2),
        EventKind::Fault | EventKind::Interrupt => regs[REG_RIP],
        _ => return ev,
    };
    if !(STUB_BASE..TOP_OF_USER).contains(&pc) || in_host_vdso(pc) {
        return ev;
    }
    if ev.kind == EventKind::Syscall {
        regs[REG_RIP] = pc;
        regs[REG_RAX] = regs[REG_ORIG_RAX];
        regs[REG_ORIG_RAX] = u64::MAX;
    }
    Event {
        kind: EventKind::Fault,
        signo: libc::SIGSEGV as u64,
        code: SEGV_MAPERR,
        addr: pc,
        access: ACCESS_EXEC,
        status: 0,
    }
}

/// A signal-delivery stop: a fault if the kernel raised a synchronous fault signal, else an
/// interrupt (ours, or a host signal sent to the stub). Either way the signal is discarded:
/// the next resume passes signal 0.
fn classify_signal(tid: i32, sig: i32) -> Event {
    let faults = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP];
    if faults.contains(&sig) {
        if let Ok(si) = sys::get_siginfo(tid) {
            if si.si_code > 0 {
                // SAFETY: for these kernel-generated signals the union holds si_addr.
                let addr = unsafe { si.si_addr() } as u64;
                return Event {
                    kind: EventKind::Fault,
                    signo: sig as u64,
                    code: si.si_code as u64,
                    addr,
                    access: ACCESS_UNKNOWN,
                    status: 0,
                };
            }
        }
    }
    Event { signo: sig as u64, ..Event::of(EventKind::Interrupt) }
}

/// Ends the stub thread by injecting exit(0), so the tracer can go without EXITKILL taking
/// the whole stub process down with it. The registers come from the seize-time template, not
/// the thread's: the application may have left it in 32-bit mode (CS 0x23) or single-stepping,
/// where the gadget would fault on every resume. Should the thread still not exit within a
/// few stops, the whole stub process is killed: never loop on a thread that keeps stopping.
fn exit_thread(s: &Shared) {
    let mut r = *s.template.lock().unwrap();
    r[REG_RIP] = s.exit_gadget;
    r[REG_RAX] = libc::SYS_exit as u64;
    r[REG_ORIG_RAX] = u64::MAX;
    r[REG_RDI] = 0;
    r[REG_EFLAGS] &= !EFLAGS_TF;
    if sys::set_regs(s.tid, &r).is_ok() && sys::ptrace(libc::PTRACE_CONT, s.tid, 0, 0).is_ok() {
        let mut stops = 0;
        loop {
            let Ok(st) = sys::wait(s.tid) else { return };
            if !libc::WIFSTOPPED(st) {
                return;
            }
            stops += 1;
            if stops > MAX_EXIT_STOPS
                || is_synchronous_fault(s.tid, libc::WSTOPSIG(st))
                || sys::ptrace(libc::PTRACE_CONT, s.tid, 0, 0).is_err()
            {
                break;
            }
        }
    }
    sys::kill(s.tgid, libc::SIGKILL);
    // Reap it, so no zombie thread outlives its tracer; a failed wait means it is gone. A
    // killed thread stops no more, but even so the loop is bounded.
    for _ in 0..MAX_EXIT_STOPS {
        match sys::wait(s.tid) {
            Ok(st) if libc::WIFSTOPPED(st) => {
                let _ = sys::ptrace(libc::PTRACE_CONT, s.tid, 0, 0);
            }
            _ => return,
        }
    }
}

impl Context for PtraceContext {
    fn initial_regs(&self) -> Regs {
        self.initial_regs
    }

    fn switch_to_user(&self, regs: &Regs) {
        self.shared.completion.begin();
        self.post(Cmd::Run(*regs));
    }

    fn poll(&self) -> bool {
        self.shared.completion.is_done()
    }

    fn park(&self) -> bool {
        self.shared.completion.park()
    }

    fn take(&self, regs: &mut Regs) -> Event {
        self.shared.completion.take(regs)
    }

    fn set_waker(&self, w: tsvisor_platform::completion::Waker) {
        self.shared.completion.set_waker(w);
    }

    fn interrupt(&self) {
        // A signal makes the running thread stop with a signal-delivery stop at once; if it
        // is not running, the next run stops at once instead, which the sentry tolerates.
        let _ = sys::tgkill(self.shared.tgid, self.shared.tid, libc::SIGCHLD);
    }

    fn host_thread(&self) -> Option<(i32, i32)> {
        Some((self.shared.tgid, self.shared.tid))
    }

    /// The stub thread's scheduler state as the host shows it (t: stopped by us, R: running,
    /// S: asleep), what its tracer thread does, and the completion cell's state: a run that
    /// never ends shows whether the thread still runs, stopped unseen, or is gone.
    fn describe(&self) -> String {
        let (tgid, tid) = (self.shared.tgid, self.shared.tid);
        let stat = std::fs::read_to_string(format!("/proc/{tgid}/task/{tid}/stat")).ok();
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat.as_deref().and_then(|t| t.rsplit_once(')')).and_then(|(_, rest)| rest.split_whitespace().next());
        let tracer = match self.shared.phase.load(Ordering::Relaxed) {
            TRACER_WAITING => "waiting",
            TRACER_RUNNING => "running",
            _ => "busy",
        };
        format!(
            "host {tgid}/{tid} thread={} tracer={tracer} completion={}",
            state.unwrap_or("gone"),
            self.shared.completion.phase()
        )
    }

    fn fp_state(&self) -> io::Result<Vec<u8>> {
        let (tx, rx) = sync_channel(1);
        self.post(Cmd::GetFp(tx));
        rx.recv().map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?
    }

    fn set_fp_state(&self, state: &[u8]) -> io::Result<()> {
        let (tx, rx) = sync_channel(1);
        self.post(Cmd::SetFp(state.to_vec(), tx));
        rx.recv().map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?
    }

    fn release(&self) {
        let Some(t) = self.thread.lock().unwrap().take() else { return };
        let (tx, rx) = sync_channel(1);
        self.post(Cmd::Release(tx));
        let _ = rx.recv();
        let _ = t.join();
    }
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        self.release();
    }
}

#[allow(dead_code)]
const _: () = assert!(NUM_REGS == 27);
