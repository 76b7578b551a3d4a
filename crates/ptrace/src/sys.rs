//! Thin wrappers over the host calls the ptrace platform makes. Each returns io::Result and
//! keeps the one `unsafe` it needs next to its reason.

use std::io;

use tsvisor_platform::{Regs, NUM_REGS};

pub const NT_X86_XSTATE: libc::c_int = 0x202;
pub const PTRACE_EVENT_STOP: i32 = 128;
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// si_code of a SIGSYS raised by a seccomp filter's SECCOMP_RET_TRAP.
pub const SYS_SECCOMP: i32 = 1;

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn ptrace(req: libc::c_uint, tid: i32, addr: usize, data: usize) -> io::Result<libc::c_long> {
    // SAFETY: the requests used here take integers or pointers to buffers owned by the caller
    // and sized for the request; the kernel validates the tracee.
    check(unsafe { libc::ptrace(req, tid, addr as *mut libc::c_void, data as *mut libc::c_void) })
}

pub fn get_regs(tid: i32) -> io::Result<Regs> {
    let mut r: Regs = [0; NUM_REGS];
    // user_regs_struct is exactly 27 u64 in this order.
    const _: () = assert!(std::mem::size_of::<libc::user_regs_struct>() == NUM_REGS * 8);
    ptrace(libc::PTRACE_GETREGS, tid, 0, r.as_mut_ptr() as usize)?;
    Ok(r)
}

pub fn set_regs(tid: i32, r: &Regs) -> io::Result<()> {
    ptrace(libc::PTRACE_SETREGS, tid, 0, r.as_ptr() as usize).map(|_| ())
}

pub fn get_siginfo(tid: i32) -> io::Result<libc::siginfo_t> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    ptrace(libc::PTRACE_GETSIGINFO, tid, 0, &mut si as *mut _ as usize)?;
    Ok(si)
}

/// The head of `siginfo_t` as the kernel fills it for SIGSYS (the `_sigsys` member), which
/// the libc crate does not expose.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigsysInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    _pad: i32,
    pub call_addr: u64,
    pub syscall: i32,
    pub arch: u32,
    _rest: [u64; 12],
}
const _: () = assert!(std::mem::size_of::<SigsysInfo>() == std::mem::size_of::<libc::siginfo_t>());

pub fn get_sigsys_info(tid: i32) -> io::Result<SigsysInfo> {
    let mut si = SigsysInfo { signo: 0, errno: 0, code: 0, _pad: 0, call_addr: 0, syscall: 0, arch: 0, _rest: [0; 12] };
    ptrace(libc::PTRACE_GETSIGINFO, tid, 0, &mut si as *mut _ as usize)?;
    Ok(si)
}

/// The AUDIT_ARCH_* of the syscall a tracee is stopped at: the kernel's own record of the
/// entry it came through (TS_COMPAT for int 0x80 and the compat entries), which registers
/// the application chose cannot fake. Asks only for the head of `ptrace_syscall_info`.
pub fn syscall_arch(tid: i32) -> io::Result<u32> {
    #[repr(C)]
    struct Head {
        op: u8,
        _pad: [u8; 3],
        arch: u32,
    }
    let mut h = Head { op: 0, _pad: [0; 3], arch: 0 };
    ptrace(libc::PTRACE_GET_SYSCALL_INFO, tid, std::mem::size_of::<Head>(), &mut h as *mut _ as usize)?;
    Ok(h.arch)
}

/// Writes one word into a stopped tracee's memory.
pub fn poke(tid: i32, addr: u64, word: u64) -> io::Result<()> {
    ptrace(libc::PTRACE_POKEDATA, tid, addr as usize, word as usize).map(|_| ())
}

pub fn get_xstate(tid: i32) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 16384];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
    ptrace(libc::PTRACE_GETREGSET, tid, NT_X86_XSTATE as usize, &mut iov as *mut _ as usize)?;
    buf.truncate(iov.iov_len);
    Ok(buf)
}

pub fn set_xstate(tid: i32, state: &[u8]) -> io::Result<()> {
    let mut copy = state.to_vec();
    let mut iov = libc::iovec { iov_base: copy.as_mut_ptr() as *mut libc::c_void, iov_len: copy.len() };
    ptrace(libc::PTRACE_SETREGSET, tid, NT_X86_XSTATE as usize, &mut iov as *mut _ as usize).map(|_| ())
}

/// waitpid(tid, __WALL), retrying EINTR. Returns the raw status.
pub fn wait(tid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out-pointer.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) }).map(|_| ())
}

pub fn kill(pid: i32, sig: i32) {
    // SAFETY: plain syscall with integer arguments.
    unsafe { libc::kill(pid, sig) };
}
