//! The seccomp allowlist the gofer serves under: exactly the syscalls of the serving loop (and
//! of Rust's allocator and exit path); anything else, another ABI, or an x32 number kills the
//! process. No socket, no connect, no execve, no ptrace, no mount: the socket it was given is
//! all it can talk to.

pub use tsvisor_cbpf::SockFilter;
use tsvisor_cbpf::{st, AUDIT_ARCH_X86_64, JEQ_K, JGE_K, JSET_K, LD_W_ABS, RET_ALLOW, RET_K, RET_KILL_PROCESS, X32_SYSCALL_BIT};

const SYS_FCHMODAT2: i64 = 452;

/// Every syscall the gofer makes once serving (see host.rs, transport.rs, main.rs).
pub const ALLOWED: &[i64] = &[
    // transport and the debug log; poll waits for the socket or a worker (workers.rs)
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_sendmsg,
    libc::SYS_poll,
    // lookups and opens (host.rs)
    libc::SYS_openat,
    libc::SYS_close,
    libc::SYS_newfstatat,
    libc::SYS_fstatfs,
    libc::SYS_readlinkat,
    libc::SYS_fcntl,
    // data
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_lseek,
    libc::SYS_getdents64,
    libc::SYS_fsync,
    libc::SYS_fdatasync,
    libc::SYS_ftruncate,
    // changes
    libc::SYS_mkdirat,
    libc::SYS_symlinkat,
    libc::SYS_mknodat,
    libc::SYS_linkat,
    // every rename is renameat2 (host::renameat), flags 0 included: no plain renameat
    libc::SYS_renameat2,
    libc::SYS_unlinkat,
    libc::SYS_fchownat,
    libc::SYS_fchmod,
    SYS_FCHMODAT2,
    libc::SYS_utimensat,
    libc::SYS_fgetxattr,
    libc::SYS_flistxattr,
    libc::SYS_fsetxattr,
    libc::SYS_fremovexattr,
    // memory and process (allocator, panics, exit)
    libc::SYS_brk,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_rt_sigreturn,
    // a poll resumed after the gofer was stopped and continued (kill -STOP / -CONT)
    libc::SYS_restart_syscall,
    libc::SYS_rt_sigprocmask,
    libc::SYS_sigaltstack,
    libc::SYS_getrandom,
    // a given-up job's deadline (deferred.rs): Instant::now, a vDSO read unless the clock
    // source has no vDSO path
    libc::SYS_clock_gettime,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// ALLOWED, plus tgkill of a thread of the process `tgid` only (a worker's open is cancelled
/// with SIGUSR1: workers.rs).
pub fn filter(tgid: i32) -> Vec<SockFilter> {
    let n = ALLOWED.len();
    assert!(n < 250, "jump offsets are 8 bits");
    let mut f = vec![
        st(LD_W_ABS, 0, 0, 4), // arch
        st(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 0), // nr
        st(JGE_K, 0, 1, X32_SYSCALL_BIT),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        // mmap never executable: the gofer maps no code after start-up.
        st(JEQ_K, 0, 4, libc::SYS_mmap as u32),
        st(LD_W_ABS, 0, 0, 32), // args[2] (prot), lower half
        st(JSET_K, 0, 1, libc::PROT_EXEC as u32),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(RET_K, 0, 0, RET_ALLOW),
        // tgkill(tgid, ..., SIGUSR1) only: no other process, no other signal.
        st(JEQ_K, 0, 6, libc::SYS_tgkill as u32),
        st(LD_W_ABS, 0, 0, 16), // args[0], lower half
        st(JEQ_K, 0, 3, tgid as u32),
        st(LD_W_ABS, 0, 0, 32), // args[2], lower half
        st(JEQ_K, 0, 1, libc::SIGUSR1 as u32),
        st(RET_K, 0, 0, RET_ALLOW),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
    ];
    for (i, &nr) in ALLOWED.iter().enumerate() {
        // Past the remaining tests and the kill, onto the allow.
        f.push(st(JEQ_K, (n - i) as u8, 0, nr as u32));
    }
    f.push(st(RET_K, 0, 0, RET_KILL_PROCESS));
    f.push(st(RET_K, 0, 0, RET_ALLOW));
    f
}

/// Install the filter (no_new_privs is already set by confine).
pub fn install() -> Result<(), String> {
    // SAFETY: getpid has no preconditions.
    let prog = filter(unsafe { libc::getpid() });
    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }
    let fprog = SockFprog { len: prog.len() as u16, filter: prog.as_ptr() };
    // SAFETY: integer prctl; seccomp(SECCOMP_SET_MODE_FILTER) reads `prog` during the call only.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err("PR_SET_NO_NEW_PRIVS refused".into());
        }
        // TSYNC: the worker threads, made before, get the same filter.
        if libc::syscall(libc::SYS_seccomp, 1u32, 1u32, &fprog as *const SockFprog) != 0 {
            return Err(format!("seccomp: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the filter as the kernel would for (arch, nr, prot in args[2]).
    fn run_prot(f: &[SockFilter], arch: u32, nr: u32, prot: u32) -> u32 {
        run_args(f, arch, nr, [0, 0, prot as u64, 0, 0, 0])
    }

    fn run_args(f: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        tsvisor_cbpf::run(f, &tsvisor_cbpf::SeccompData { nr, arch, args, ..Default::default() })
    }

    #[test]
    fn tgkill_only_own_threads_with_sigusr1() {
        let f = filter(4242);
        let tgkill = libc::SYS_tgkill as u32;
        let usr1 = libc::SIGUSR1 as u64;
        assert_eq!(run_args(&f, AUDIT_ARCH_X86_64, tgkill, [4242, 4243, usr1, 0, 0, 0]), RET_ALLOW);
        assert_eq!(run_args(&f, AUDIT_ARCH_X86_64, tgkill, [4241, 4243, usr1, 0, 0, 0]), RET_KILL_PROCESS, "another process");
        assert_eq!(run_args(&f, AUDIT_ARCH_X86_64, tgkill, [4242, 4243, libc::SIGKILL as u64, 0, 0, 0]), RET_KILL_PROCESS, "another signal");
        assert_eq!(run_args(&f, AUDIT_ARCH_X86_64, libc::SYS_kill as u32, [4242, usr1, 0, 0, 0, 0]), RET_KILL_PROCESS);
        assert_eq!(run_args(&f, AUDIT_ARCH_X86_64, libc::SYS_tkill as u32, [4243, usr1, 0, 0, 0, 0]), RET_KILL_PROCESS);
    }

    fn run(f: &[SockFilter], arch: u32, nr: u32) -> u32 {
        run_prot(f, arch, nr, 0)
    }

    #[test]
    fn mmap_never_executable() {
        let f = filter(4242);
        let mmap = libc::SYS_mmap as u32;
        assert_eq!(run_prot(&f, AUDIT_ARCH_X86_64, mmap, (libc::PROT_READ | libc::PROT_WRITE) as u32), RET_ALLOW);
        assert_eq!(run_prot(&f, AUDIT_ARCH_X86_64, mmap, (libc::PROT_READ | libc::PROT_EXEC) as u32), RET_KILL_PROCESS);
        assert_eq!(run_prot(&f, AUDIT_ARCH_X86_64, libc::SYS_read as u32, libc::PROT_EXEC as u32), RET_ALLOW);
    }

    #[test]
    fn allows_exactly_the_list() {
        let f = filter(4242);
        for nr in 0..600u32 {
            let want = if ALLOWED.contains(&(nr as i64)) { RET_ALLOW } else { RET_KILL_PROCESS };
            assert_eq!(run(&f, AUDIT_ARCH_X86_64, nr), want, "syscall {nr}");
        }
        for nr in [libc::SYS_socket, libc::SYS_connect, libc::SYS_execve, libc::SYS_ptrace, libc::SYS_mount, libc::SYS_open] {
            assert_eq!(run(&f, AUDIT_ARCH_X86_64, nr as u32), RET_KILL_PROCESS);
        }
        assert_eq!(run(&f, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | libc::SYS_read as u32), RET_KILL_PROCESS);
        assert_eq!(run(&f, 0x4000_0003, 3), RET_KILL_PROCESS, "i386 ABI");
    }
}
