//! Thin wrappers over the host calls the ptrace platform makes. Each returns io::Result and
//! keeps the one `unsafe` it needs next to its reason.

use std::io;

use tsvisor_platform::{Regs, NUM_REGS};

pub const NT_X86_XSTATE: libc::c_int = 0x202;
pub const PTRACE_EVENT_STOP: i32 = 128;

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
