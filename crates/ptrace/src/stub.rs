//! Stub processes: one per address space, started from the tiny static stub in stub/stub.S
//! (never a fork of Node). The sentry's thread that creates it is its tracer; it injects the
//! address-space syscalls (mmap of memory-file windows, munmap, mprotect, clone) through the
//! stub's gadgets. The stub's leader thread never runs application code.
//!
//! Of the host, a stub keeps only its own text and the host kernel's vDSO ([vvar*] and
//! [vdso], moved above the application's range at start-up: host_vdso.rs says what that
//! shows the application and why it is accepted). Every stub, fresh, spare or for a fork
//! child, is made by spawn() and so the same way.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use tsvisor_platform::{Regs, REG_ORIG_RAX, REG_R10, REG_R8, REG_R9, REG_RAX, REG_RBX, REG_R12, REG_RDI, REG_RDX, REG_RIP, REG_RSI};

use crate::host_vdso::HOST_VDSO_AREA;
use crate::sys;

static STUB_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stub"));

/// The stub is linked here (build.rs); the application may use everything below.
pub const STUB_BASE: u64 = 0x7fff_0000_0000;
/// Offsets of the gadgets from the entry point (stub/stub.S).
pub const SYSCALL_GADGET: u64 = 0x10;
pub const CLONE_GADGET: u64 = 0x20;
pub const SYSTRAP_CLONE_GADGET: u64 = 0x40;
/// Runs a table of syscalls (stub.S `batch_gadget`): %rbx the first entry, %r12 the end.
pub const BATCH_GADGET: u64 = 0x80;
/// Bytes per entry of a batch table: number, six arguments, the result expected.
pub const BATCH_ENTRY: u64 = 64;
/// Where stub.S lists systrap_handler, systrap_thread_entry, systrap_restorer,
/// systrap_fast_entry, stub_name, stub_start.
const ADDRESS_TABLE: u64 = 0x50;

/// Addresses inside the stub image, read from the ELF file itself.
#[derive(Clone, Copy, Debug)]
pub struct StubImage {
    pub entry: u64,
    /// End of the stub's one loadable segment, page aligned.
    pub end: u64,
    pub systrap_handler: u64,
    pub systrap_thread_entry: u64,
    pub systrap_restorer: u64,
    pub systrap_fast_entry: u64,
    /// "tsvisor-stub\0", the stub's name on the host.
    pub name: u64,
    /// The leader's pause() loop, past its start-up checks (stub_init), where a parked
    /// stub waits.
    pub park: u64,
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

pub fn stub_image() -> StubImage {
    let b = STUB_ELF;
    let entry = u64_at(b, 24);
    let phoff = u64_at(b, 32) as usize;
    let memsz = u64_at(b, phoff + 40);
    let table = (entry - STUB_BASE + ADDRESS_TABLE) as usize; // file offset == vaddr - base
    StubImage {
        entry,
        end: (STUB_BASE + memsz + 0xfff) & !0xfff,
        systrap_handler: u64_at(b, table),
        systrap_thread_entry: u64_at(b, table + 8),
        systrap_restorer: u64_at(b, table + 16),
        systrap_fast_entry: u64_at(b, table + 24),
        name: u64_at(b, table + 32),
        park: u64_at(b, table + 40),
    }
}
/// The legacy vsyscall page (fixed by the x86-64 ABI).
pub const VSYSCALL_PAGE: u64 = 0xffff_ffff_ff60_0000;
/// Signals other than our own SIGTRAP that an injection tolerates before giving up.
const MAX_FOREIGN_STOPS: u32 = 1000;

/// Whether the signal a tracee stopped with is a fault its current instruction raised (and
/// would raise again on resume), rather than a signal sent to it.
pub(crate) fn is_synchronous_fault(tid: i32, sig: i32) -> bool {
    let faults = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL];
    faults.contains(&sig) && sys::get_siginfo(tid).map(|si| si.si_code > 0).unwrap_or(true)
}

/// The memory file's descriptor number inside every stub process.
pub const STUB_MEMFD: i32 = 3;
pub const TOP_OF_USER: u64 = 0x8000_0000_0000;

fn stub_exe_fd() -> io::Result<RawFd> {
    static FD: OnceLock<Result<OwnedFd, i32>> = OnceLock::new();
    let r = FD.get_or_init(|| {
        // SAFETY: memfd_create with a valid name; checked below.
        let raw = unsafe { libc::memfd_create(c"tsvisor-stub".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
        if raw < 0 {
            return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO));
        }
        // SAFETY: raw is a fresh fd that we own from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut off = 0;
        while off < STUB_ELF.len() {
            // SAFETY: writing from a static buffer within its bounds.
            let n = unsafe { libc::write(raw, STUB_ELF[off..].as_ptr() as *const libc::c_void, STUB_ELF.len() - off) };
            if n <= 0 {
                return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO));
            }
            off += n as usize;
        }
        // SAFETY: fcntl on our own fd; seals keep the image immutable.
        unsafe {
            libc::fcntl(raw, libc::F_ADD_SEALS, libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL)
        };
        Ok(fd)
    });
    match r {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(io::Error::from_raw_os_error(*e)),
    }
}

/// TSVISOR_TEST_SEIZE_DELAY_US: a pause between a stub's spawn and its seize, only so that
/// test/sandbox/stub_leak.test.ts, which kills the sentry at random moments, lands in that
/// window (microseconds otherwise) often enough to show whether a stub outlives the sentry.
fn test_seize_delay() -> Option<std::time::Duration> {
    static D: OnceLock<Option<std::time::Duration>> = OnceLock::new();
    *D.get_or_init(|| {
        let us: u64 = std::env::var("TSVISOR_TEST_SEIZE_DELAY_US").ok()?.parse().ok()?;
        Some(std::time::Duration::from_micros(us.min(1_000_000)))
    })
}

pub struct StubProcess {
    pub pid: i32,
    pub entry: u64,
    /// Registers at the exec stop: valid segment selectors and flags for every injection.
    pub template: Regs,
    alive: bool,
}

/// What a terminal or a shell sends to a job's process group. One sent to tsvisor's group can
/// reach a new stub before posix_spawn has moved it to a group of its own: it is blocked
/// across the exec (a ^Z there stopped the child before its exec, with the sentry's thread
/// waiting on it for ever), stays blocked in a ptrace stub, and is ignored by a systrap one
/// before its threads unblock signals (which drops one pending). The application's signals
/// are the sentry's, never the host's.
pub const JOB_SIGNALS: [i32; 10] = [
    libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM,
    libc::SIGTERM, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU,
];

impl StubProcess {
    /// Starts a stub process traced by the calling thread, with the memory file at STUB_MEMFD.
    ///
    /// posix_spawn (a vfork, so Node's large address space is not copied) runs the stub from
    /// its sealed memfd; the stub parks in pause() until we seize it, which also makes the
    /// calling thread its tracer with PTRACE_O_EXITKILL: if the sentry dies, so does the stub.
    /// Before that, the stub's own parent-death signal covers the time between the spawn
    /// and the seize (stub.S, stub_init).
    pub fn spawn(memfd: RawFd) -> io::Result<StubProcess> {
        // With address-space randomisation the kernel may place the stub's initial stack
        // over the stub's fixed address, or the host's vDSO where ours moves it to; that
        // start fails (ENOMEM, EEXIST), and a second try will not.
        match Self::spawn_once(memfd) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) || e.raw_os_error() == Some(libc::ENOMEM) => Self::spawn_once(memfd),
            r => r,
        }
    }

    fn spawn_once(memfd: RawFd) -> io::Result<StubProcess> {
        const STUB_EXE_FD: i32 = 4;
        let exe = stub_exe_fd()?;
        let path = CString::new(format!("/proc/self/fd/{STUB_EXE_FD}")).unwrap();
        let argv0 = CString::new("tsvisor-stub").unwrap();
        // The stub checks that its parent is still this process (stub.S, stub_init).
        let sentry = CString::new(std::process::id().to_string()).unwrap();
        let argv = [argv0.as_ptr() as *mut libc::c_char, sentry.as_ptr() as *mut libc::c_char, std::ptr::null_mut()];
        let envp: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
        let mut pid: libc::pid_t = 0;
        // SAFETY: the attribute and file-action objects are initialised before use and
        // destroyed after; every pointer passed lives until posix_spawn returns.
        let rc = unsafe {
            let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
            let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
            libc::posix_spawn_file_actions_init(&mut fa);
            libc::posix_spawnattr_init(&mut attr);
            // JOB_SIGNALS sent to tsvisor's process group before the child is in its own.
            let mut blocked: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut blocked);
            for sig in JOB_SIGNALS {
                libc::sigaddset(&mut blocked, sig);
            }
            libc::posix_spawnattr_setsigmask(&mut attr, &blocked);
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::posix_spawnattr_setsigdefault(&mut attr, &all);
            // A process group of its own (a terminal's job-control signals do not reach it),
            // in the sentry's session: a new session would also be a new scheduling autogroup,
            // and then every hand-off to or from the stub is a switch between groups, which
            // on a busy host waits for another group's slice to end (milliseconds) where a
            // switch inside the sandbox's one group does not.
            libc::posix_spawnattr_setpgroup(&mut attr, 0);
            libc::posix_spawnattr_setflags(
                &mut attr,
                (libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETPGROUP) as libc::c_short,
            );
            libc::posix_spawn_file_actions_adddup2(&mut fa, memfd, STUB_MEMFD);
            libc::posix_spawn_file_actions_adddup2(&mut fa, exe, STUB_EXE_FD);
            libc::posix_spawn_file_actions_addclosefrom_np(&mut fa, STUB_EXE_FD + 1);
            for fd in 0..3 {
                libc::posix_spawn_file_actions_addclose(&mut fa, fd);
            }
            let rc = libc::posix_spawn(&mut pid, path.as_ptr(), &fa, &attr, argv.as_ptr(), envp.as_ptr());
            libc::posix_spawn_file_actions_destroy(&mut fa);
            libc::posix_spawnattr_destroy(&mut attr);
            rc
        };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if let Some(d) = test_seize_delay() {
            std::thread::sleep(d);
        }
        let mut stub = StubProcess { pid, entry: 0, template: [0; 27], alive: true };
        let setup = (|| -> io::Result<()> {
            sys::ptrace(libc::PTRACE_SEIZE, pid, 0, libc::PTRACE_O_EXITKILL as usize)?;
            sys::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0)?;
            let status = sys::wait(pid)?;
            if !libc::WIFSTOPPED(status) {
                stub.alive = false;
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            let img = stub_image();
            stub.entry = img.entry;
            stub.template = sys::get_regs(pid)?;
            if stub.template[REG_RIP] & !0xfff != STUB_BASE {
                return Err(io::Error::from_raw_os_error(libc::ENOEXEC));
            }
            // Leave nothing of the host in the address space but the stub's own text and the
            // host's vDSO (moved to its fixed place: host_vdso.rs), and no fd but the memory
            // file.
            stub.syscall(libc::SYS_close, [STUB_EXE_FD as u64, 0, 0, 0, 0, 0])?;
            crate::host_vdso::relocate(&mut stub)?;
            stub.syscall(libc::SYS_munmap, [0, STUB_BASE, 0, 0, 0, 0])?;
            match crate::host_vdso::host_vdso() {
                Some(v) => {
                    stub.syscall(libc::SYS_munmap, [img.end, HOST_VDSO_AREA - img.end, 0, 0, 0, 0])?;
                    stub.syscall(libc::SYS_munmap, [v.end, TOP_OF_USER - v.end, 0, 0, 0, 0])?;
                }
                None => {
                    stub.syscall(libc::SYS_munmap, [img.end, TOP_OF_USER - img.end, 0, 0, 0, 0])?;
                }
            }
            // So that ps on the host says what this is.
            stub.syscall(libc::SYS_prctl, [libc::PR_SET_NAME as u64, img.name, 0, 0, 0, 0])?;
            Ok(())
        })();
        if let Err(e) = setup {
            stub.kill();
            return Err(e);
        }
        Ok(stub)
    }

    /// Runs one syscall in the stub's leader thread and returns its raw result.
    pub fn syscall(&mut self, nr: libc::c_long, args: [u64; 6]) -> io::Result<i64> {
        self.inject(self.entry + SYSCALL_GADGET, nr, args, &[])
    }

    /// Runs one syscall at `rip` with extra registers set: (register index, value).
    pub fn inject(&mut self, rip: u64, nr: libc::c_long, args: [u64; 6], extra: &[(usize, u64)]) -> io::Result<i64> {
        Ok(self.inject_regs(rip, nr, args, extra)?[REG_RAX] as i64)
    }

    /// Runs the batch table [first, end) of the stub's address space (entries of BATCH_ENTRY
    /// bytes, in a page the application cannot write) through the batch gadget. Returns the
    /// entries completed and the result of the one that stopped the batch (or of the last).
    pub fn run_batch(&mut self, first: u64, end: u64) -> io::Result<(u64, i64)> {
        let r = self.inject_regs(self.entry + BATCH_GADGET, 0, [0; 6], &[(REG_RBX, first), (REG_R12, end)])?;
        // The leader never runs application code, but its answer is checked all the same.
        let at = r[REG_RBX];
        if at < first || at > end || !(at - first).is_multiple_of(BATCH_ENTRY) {
            self.kill();
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(((at - first) / BATCH_ENTRY, r[REG_RAX] as i64))
    }

    fn inject_regs(&mut self, rip: u64, nr: libc::c_long, args: [u64; 6], extra: &[(usize, u64)]) -> io::Result<Regs> {
        if !self.alive {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let mut r = self.template;
        r[REG_RIP] = rip;
        r[REG_RAX] = nr as u64;
        r[REG_ORIG_RAX] = u64::MAX;
        (r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9]) =
            (args[0], args[1], args[2], args[3], args[4], args[5]);
        for &(i, v) in extra {
            r[i] = v;
        }
        sys::set_regs(self.pid, &r)?;
        sys::ptrace(libc::PTRACE_CONT, self.pid, 0, 0)?;
        let mut stops = 0;
        loop {
            let status = sys::wait(self.pid)?;
            if !libc::WIFSTOPPED(status) {
                self.alive = false;
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP {
                break;
            }
            // A fault in the gadget would recur on every resume; a storm of signals from the
            // host should not hold us either. Either way the stub is beyond use.
            stops += 1;
            if stops > MAX_FOREIGN_STOPS || is_synchronous_fault(self.pid, sig) {
                self.kill();
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            // Some other signal reached the leader: discard it and let the syscall finish.
            sys::ptrace(libc::PTRACE_CONT, self.pid, 0, 0)?;
        }
        sys::get_regs(self.pid)
    }

    /// One address-space syscall in the leader, with the kernel's error as an io::Error.
    pub fn checked(&mut self, nr: libc::c_long, args: [u64; 6]) -> io::Result<i64> {
        let r = self.syscall(nr, args)?;
        if r < 0 && r > -4096 {
            return Err(io::Error::from_raw_os_error(-r as i32));
        }
        Ok(r)
    }

    /// Maps memory-file [file_offset, +len) at addr in the stub, replacing what was there.
    pub fn map_file(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        let r = self.checked(libc::SYS_mmap, [addr, len, prot as u64, flags, STUB_MEMFD as u64, file_offset])?;
        if r as u64 != addr {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }

    pub fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()> {
        self.checked(libc::SYS_munmap, [addr, len, 0, 0, 0, 0]).map(|_| ())
    }

    pub fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()> {
        self.checked(libc::SYS_mprotect, [addr, len, prot as u64, 0, 0, 0]).map(|_| ())
    }

    /// Makes the legacy vsyscall page's entries trap: the host kernel emulates a call to
    /// them (gettimeofday, time, getcpu) in its page-fault handler, where PTRACE_SYSEMU never
    /// looks, and asks only seccomp. The filter, installed in the leader and so inherited by
    /// every task thread cloned from it, returns SECCOMP_RET_TRAP when the instruction
    /// pointer is in that page and ALLOW otherwise: ordinary syscalls of the application stop
    /// for SYSEMU before seccomp runs, and our own injected ones must go through. The tracer
    /// turns the resulting SIGSYS into a syscall event (context.rs).
    pub fn install_vsyscall_filter(&mut self) -> io::Result<()> {
        const BPF_LD_W_ABS: u16 = 0x20;
        const BPF_JEQ_K: u16 = 0x15;
        const BPF_AND_K: u16 = 0x54;
        const BPF_RET_K: u16 = 0x06;
        // seccomp_data: nr (0), arch (4), instruction_pointer (8, low word first), args.
        let prog: [(u16, u8, u8, u32); 7] = [
            (BPF_LD_W_ABS, 0, 0, 12),
            (BPF_JEQ_K, 0, 3, (VSYSCALL_PAGE >> 32) as u32),
            (BPF_LD_W_ABS, 0, 0, 8),
            (BPF_AND_K, 0, 0, 0xffff_f000),
            (BPF_JEQ_K, 1, 0, VSYSCALL_PAGE as u32),
            (BPF_RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
            (BPF_RET_K, 0, 0, libc::SECCOMP_RET_TRAP),
        ];
        // A scratch page above the stub's text: no application code has run here yet, and
        // the sentry never maps anything at or above STUB_BASE.
        let scratch = stub_image().end;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE) as u64;
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let r = self.checked(libc::SYS_mmap, [scratch, 0x1000, prot, flags, u64::MAX, 0])?;
        if r as u64 != scratch {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let installed = (|| -> io::Result<()> {
            let insns = scratch + 16;
            for (i, &(code, jt, jf, k)) in prog.iter().enumerate() {
                let word = code as u64 | (jt as u64) << 16 | (jf as u64) << 24 | (k as u64) << 32;
                sys::poke(self.pid, insns + 8 * i as u64, word)?;
            }
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            sys::poke(self.pid, scratch, prog.len() as u64)?;
            sys::poke(self.pid, scratch + 8, insns)?;
            self.checked(libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0])?;
            self.checked(libc::SYS_seccomp, [libc::SECCOMP_SET_MODE_FILTER as u64, 0, scratch, 0, 0, 0])?;
            Ok(())
        })();
        self.checked(libc::SYS_munmap, [scratch, 0x1000, 0, 0, 0, 0])?;
        installed
    }

    /// Creates a new thread in the stub, parked in pause(), untraced; returns its tid.
    pub fn clone_thread(&mut self) -> io::Result<i32> {
        let flags = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD | libc::CLONE_SYSVSEM) as u64;
        let r = self.inject(self.entry + CLONE_GADGET, libc::SYS_clone, [flags, 0, 0, 0, 0, 0], &[])?;
        if r < 0 {
            return Err(io::Error::from_raw_os_error(-r as i32));
        }
        Ok(r as i32)
    }

    /// Lets the stub go from the calling thread's tracing, parked in its start-up pause()
    /// loop, so that another thread can adopt() it: stubs made off the sentry's thread. It
    /// must be stopped (as after any injection). Until adopted, nothing but its
    /// parent-death signal ties it to the sentry: the caller sets one.
    pub fn detach_parked(&mut self) -> io::Result<()> {
        let mut r = self.template;
        r[REG_RIP] = stub_image().park; // the pause() loop, past stub_init's checks
        r[REG_ORIG_RAX] = u64::MAX;
        sys::set_regs(self.pid, &r)?;
        sys::ptrace(libc::PTRACE_DETACH, self.pid, 0, 0).map(|_| ())
    }

    /// Makes the calling thread the tracer of a stub detach_parked() let go, as spawn() does.
    pub fn adopt(&mut self) -> io::Result<()> {
        self.begin_adopt()?;
        self.finish_adopt()
    }

    /// adopt()'s first half: the calling thread traces the stub and asks it to stop, without
    /// waiting for it to get there (a crowded host may take milliseconds to run it).
    pub fn begin_adopt(&mut self) -> io::Result<()> {
        if !self.alive {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        sys::ptrace(libc::PTRACE_SEIZE, self.pid, 0, libc::PTRACE_O_EXITKILL as usize)?;
        sys::ptrace(libc::PTRACE_INTERRUPT, self.pid, 0, 0).map(|_| ())
    }

    /// adopt()'s second half, on the thread that called begin_adopt: waits for the stop.
    pub fn finish_adopt(&mut self) -> io::Result<()> {
        let status = sys::wait(self.pid)?;
        if !libc::WIFSTOPPED(status) {
            self.alive = false;
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    }

    /// Whether the stub is still ours to drive (not killed, nor found gone).
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Kills the stub without waiting for it to go; returns its pid, which the caller must
    /// reap (sys::wait) before it frees any memory-file page the stub maps.
    pub fn kill_nowait(&mut self) -> Option<i32> {
        if !self.alive {
            return None;
        }
        self.alive = false;
        sys::kill(self.pid, libc::SIGKILL);
        Some(self.pid)
    }

    /// Kills the stub and, normally, waits until it is gone: the memory-file pages it maps are
    /// freed (and reused) after this returns, and a dying stub must not touch them then.
    pub fn kill(&mut self) {
        if !self.alive {
            return;
        }
        self.alive = false;
        sys::kill(self.pid, libc::SIGKILL);
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(100) {
            let mut status = 0;
            // SAFETY: status is a valid out-pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL | libc::WNOHANG) };
            if r == self.pid || (r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD)) {
                return;
            }
            std::thread::yield_now();
        }
        // The leader is reaped only once every thread is gone, and traced threads are reaped
        // by their own tracers; keep waiting off the sentry's thread.
        let pid = self.pid;
        std::thread::spawn(move || {
            let _ = sys::wait(pid);
        });
    }
}

impl Drop for StubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
