//! The seccomp filter every application thread of a systrap stub runs under.
//!
//! A syscall issued from anywhere but the stub's text traps (SECCOMP_RET_TRAP: SIGSYS to the
//! stub's handler, which hands it to the sentry). From the stub's text only what the handler
//! itself needs passes: futex wait/wake on the message, rt_sigreturn, exit, rt_sigprocmask
//! (the handler's wait no longer yields: sched_yield from there kills like the rest). Anything else from there — the application jumping onto one of our
//! syscall instructions with registers of its choosing — kills the whole stub process. x32 numbers trap like any other and the sentry answers ENOSYS, as Linux without x32 does.
//! Outside the stub text every ABI traps (the handler tells the sentry which one it was);
//! from the stub text only x86-64 is allowed, and the i386 ABI kills.

pub use tsvisor_cbpf::SockFilter;
use tsvisor_cbpf::{st, AND_K, AUDIT_ARCH_X86_64, JEQ_K, JGE_K, JGT_K, LD_W_ABS, RET_K};
pub use tsvisor_cbpf::{RET_ALLOW, RET_KILL_PROCESS, RET_TRAP};

/// The filter for a stub whose text is [text_start, text_end) (same upper 32 bits), for a
/// thread whose entry unblocks its signals from the empty set at `unblock_set` (in its
/// read-only set-up page): rt_sigprocmask passes with that set only, so the application,
/// jumping onto that syscall, can neither block our signals nor read back a mask.
pub fn stub_filter(text_start: u64, text_end: u64, unblock_set: u64) -> Vec<SockFilter> {
    assert_eq!(text_start >> 32, (text_end - 1) >> 32, "stub text must not cross a 4 GiB boundary");
    let hi = (text_start >> 32) as u32;
    let (lo_start, lo_end) = (text_start as u32, text_end as u32);
    vec![
        st(LD_W_ABS, 0, 0, 12), // instruction_pointer, upper half
        st(JEQ_K, 1, 0, hi),
        st(RET_K, 0, 0, RET_TRAP),
        st(LD_W_ABS, 0, 0, 8), // instruction_pointer, lower half
        st(JGE_K, 0, 1, lo_start),
        st(JGE_K, 0, 1, lo_end),
        st(RET_K, 0, 0, RET_TRAP), // outside the stub text (either test failed), any ABI
        // From the stub's text: the x86-64 ABI, and only what its code uses.
        st(LD_W_ABS, 0, 0, 4), // arch
        st(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 0),
        st(JEQ_K, 0, 1, libc::SYS_rt_sigreturn as u32),
        st(RET_K, 0, 0, RET_ALLOW),
        st(JEQ_K, 0, 1, libc::SYS_exit as u32),
        st(RET_K, 0, 0, RET_ALLOW),
        st(JEQ_K, 7, 0, libc::SYS_rt_sigprocmask as u32),
        st(JEQ_K, 1, 0, libc::SYS_futex as u32),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 24), // futex op (args[1], lower half)
        st(AND_K, 0, 0, !128u32), // FUTEX_PRIVATE_FLAG does not matter
        st(JGT_K, 0, 1, 1),       // FUTEX_WAIT = 0, FUTEX_WAKE = 1
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(RET_K, 0, 0, RET_ALLOW),
        // rt_sigprocmask(SIG_SETMASK, unblock_set, ...): the entry's, and nothing else.
        st(LD_W_ABS, 0, 0, 16), // how
        st(JEQ_K, 1, 0, libc::SIG_SETMASK as u32),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 24), // set, lower half
        st(JEQ_K, 1, 0, unblock_set as u32),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 28), // set, upper half
        st(JEQ_K, 1, 0, (unblock_set >> 32) as u32),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(RET_K, 0, 0, RET_ALLOW),
    ]
}

/// The filter of the stub's leader thread, installed before it clones the first application
/// thread, so that every thread is born filtered: until a new thread's own (stricter) filter
/// stacks on top, a syscall from outside the stub text traps, and from inside only what the
/// leader's injected calls and the thread entry use passes. It bounds the leader itself too,
/// should the application ever find a way to steer it.
pub fn leader_filter(text_start: u64, text_end: u64) -> Vec<SockFilter> {
    assert_eq!(text_start >> 32, (text_end - 1) >> 32, "stub text must not cross a 4 GiB boundary");
    let hi = (text_start >> 32) as u32;
    let (lo_start, lo_end) = (text_start as u32, text_end as u32);
    let allowed = [
        libc::SYS_mmap, libc::SYS_munmap, libc::SYS_mprotect, libc::SYS_clone, libc::SYS_rt_sigaction,
        libc::SYS_rt_sigprocmask, libc::SYS_rt_sigreturn, libc::SYS_pause, libc::SYS_close, libc::SYS_close_range,
        libc::SYS_sigaltstack, libc::SYS_prctl, libc::SYS_seccomp, libc::SYS_futex, libc::SYS_sched_yield, libc::SYS_exit,
    ];
    let mut p = vec![
        st(LD_W_ABS, 0, 0, 12),
        st(JEQ_K, 1, 0, hi),
        st(RET_K, 0, 0, RET_TRAP),
        st(LD_W_ABS, 0, 0, 8),
        st(JGE_K, 0, 1, lo_start),
        st(JGE_K, 0, 1, lo_end),
        st(RET_K, 0, 0, RET_TRAP),
        st(LD_W_ABS, 0, 0, 4),
        st(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        st(RET_K, 0, 0, RET_KILL_PROCESS),
        st(LD_W_ABS, 0, 0, 0),
    ];
    // One test per number: jump over the rest to the ALLOW at the end when it matches.
    let n = allowed.len();
    for (i, nr) in allowed.iter().enumerate() {
        p.push(st(JEQ_K, (n - i) as u8, 0, *nr as u32));
    }
    p.push(st(RET_K, 0, 0, RET_KILL_PROCESS));
    p.push(st(RET_K, 0, 0, RET_ALLOW));
    p
}

/// Serialises the program as `struct sock_fprog` followed by its instructions, for a page at
/// `page_addr` in the stub (the fprog's filter pointer points 16 bytes in).
pub fn fprog_bytes(prog: &[SockFilter], page_addr: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + 8 * prog.len());
    b.extend_from_slice(&(prog.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    b.extend_from_slice(&(page_addr + 16).to_le_bytes());
    for f in prog {
        b.extend_from_slice(&f.code.to_le_bytes());
        b.push(f.jt);
        b.push(f.jf);
        b.extend_from_slice(&f.k.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(prog: &[SockFilter], arch: u32, nr: u32, ip: u64, arg1: u64) -> u32 {
        run_args(prog, arch, nr, ip, [0, arg1])
    }

    fn run_args(prog: &[SockFilter], arch: u32, nr: u32, ip: u64, args: [u64; 2]) -> u32 {
        let data = tsvisor_cbpf::SeccompData { nr, arch, ip, args: [args[0], args[1], 0, 0, 0, 0] };
        tsvisor_cbpf::run(prog, &data)
    }

    const S: u64 = 0x7fff_0000_0000;
    const SET: u64 = 0x7fff_0020_1838;

    #[test]
    fn application_syscalls_trap() {
        let p = stub_filter(S, S + 0x1000, SET);
        for ip in [0x40_1000u64, 0x7ffe_ffff_f000, S + 0x1000, S + 0x10_0000, 0xffff_ffff_ff60_0000] {
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, 39, ip, 0), RET_TRAP, "ip {ip:#x}");
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, 202, ip, 0), RET_TRAP);
        }
    }

    #[test]
    fn the_host_vdso_gets_nothing() {
        // Its fallback syscall (or a jump onto it) is the application's: it traps, whatever it is.
        let p = stub_filter(S, S + 0x1000, SET);
        let l = leader_filter(S, S + 0x1000);
        let area = tsvisor_ptrace::host_vdso::HOST_VDSO_AREA;
        for ip in [area, area + 0x6f13, area + 0xf000] {
            for nr in [228u32, 59, 2, 257, 15, 60, 202, 14] {
                assert_eq!(run(&p, AUDIT_ARCH_X86_64, nr, ip, 0), RET_TRAP, "nr {nr} ip {ip:#x}");
                assert_eq!(run(&l, AUDIT_ARCH_X86_64, nr, ip, 0), RET_TRAP, "leader: nr {nr} ip {ip:#x}");
            }
        }
    }

    #[test]
    fn stub_text_gets_only_its_own_syscalls() {
        let p = stub_filter(S, S + 0x1000, SET);
        let ip = S + 0x200;
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 15, ip, 0), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 60, ip, 0), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 202, ip, 0), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 202, ip, 129), RET_ALLOW);
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 202, ip, 3), RET_KILL_PROCESS, "FUTEX_REQUEUE");
        assert_eq!(run_args(&p, AUDIT_ARCH_X86_64, 14, ip, [2, SET]), RET_ALLOW, "rt_sigprocmask of the entry");
        assert_eq!(run_args(&p, AUDIT_ARCH_X86_64, 14, ip, [0, SET]), RET_KILL_PROCESS, "SIG_BLOCK");
        assert_eq!(run_args(&p, AUDIT_ARCH_X86_64, 14, ip, [2, SET + 8]), RET_KILL_PROCESS, "another set");
        assert_eq!(run_args(&p, AUDIT_ARCH_X86_64, 14, ip, [2, SET + (1 << 32)]), RET_KILL_PROCESS, "another set");
        assert_eq!(run_args(&p, AUDIT_ARCH_X86_64, 14, ip, [2, 0]), RET_KILL_PROCESS, "a query");
        for nr in [2u32, 24, 257, 59, 101, 41, 13, 9, 10, 56, 157, 317, 435, 334, 335, 336] {
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, nr, ip, 0), RET_KILL_PROCESS, "nr {nr}");
        }
    }

    #[test]
    fn leader_filter_decisions() {
        let p = leader_filter(S, S + 0x1000);
        let ip = S + 0x10;
        for nr in [9u32, 11, 10, 56, 13, 14, 15, 34, 3, 436, 131, 157, 317, 202, 24, 60] {
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, nr, ip, 0), RET_ALLOW, "nr {nr}");
        }
        for nr in [0u32, 1, 2, 257, 59, 322, 101, 41, 42, 49, 62, 200, 231, 435, 335, 336] {
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, nr, ip, 0), RET_KILL_PROCESS, "nr {nr}");
        }
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 9, 0x40_1000, 0), RET_TRAP, "outside the text");
        assert_eq!(run(&p, 0x4000_0003, 9, ip, 0), RET_KILL_PROCESS, "i386 from the text");
        assert!(p.len() < 64);
    }

    #[test]
    fn other_abis() {
        let p = stub_filter(S, S + 0x1000, SET);
        assert_eq!(run(&p, 0x4000_0003, 1, 0x40_0000, 0), RET_TRAP, "i386 from the application traps");
        assert_eq!(run(&p, 0x4000_0003, 1, S + 0x100, 0), RET_KILL_PROCESS, "i386 from the stub");
        assert_eq!(run(&p, 0x4000_0003, 202, S + 0x100, 0), RET_KILL_PROCESS, "i386 from the stub");
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 0x4000_0001, 0x40_0000, 0), RET_TRAP, "x32 numbers trap");
        assert_eq!(run(&p, AUDIT_ARCH_X86_64, 0x4000_0001, S + 0x100, 0), RET_KILL_PROCESS);
    }
}
