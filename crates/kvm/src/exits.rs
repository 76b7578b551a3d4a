//! Turning a vCPU stop into the platform's event and the application's registers, and the
//! application's registers into the vCPU state that resumes it. Pure: the vCPU loop gathers
//! what the CPU left (registers, the exception frame on the ring-0 stack, CR2) and this file
//! decides what it means, with the signals and si_codes Linux would send for each exception.

use tsvisor_platform::{
    Event, EventKind, Regs, ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, REG_CS, REG_EFLAGS, REG_FS_BASE, REG_GS_BASE,
    REG_ORIG_RAX, REG_RAX, REG_RCX, REG_RIP, REG_RSP, REG_SS, SYSCALL_ABI_I386,
};

use crate::layout::{Entry, USER32_CS, USER_CS, USER_DS};

/// The general registers as KVM_GET_REGS gives them (the order of `struct kvm_regs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gprs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rsp: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
}

/// The exception frame the CPU pushed below RSP0 (error code slot first; it holds garbage
/// for vectors without one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl Frame {
    pub fn from_words(w: [u64; 6]) -> Frame {
        Frame { error: w[0], rip: w[1], cs: w[2], rflags: w[3], rsp: w[4], ss: w[5] }
    }
}

/// What the host read at a stop, beyond the general registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    pub fs_base: u64,
    pub gs_base: u64,
    pub cr2: u64,
    /// x87 status and control words, MXCSR: the cause of #MF / #XM.
    pub fsw: u16,
    pub fcw: u16,
    pub mxcsr: u32,
    /// DR6 at a #DB: why it came (single step, a breakpoint register, or neither: `int1`).
    pub dr6: u64,
}

/// The flags a program may set (Linux's FIX_EFLAGS): the rest are the kernel's.
pub const USER_FLAGS: u64 = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x10000 | 0x40000 | 0x20_0000;
const FLAG_IF: u64 = 0x200;
const FLAG_FIXED: u64 = 0x2;

const SI_KERNEL: u64 = 0x80;
const SEGV_MAPERR: u64 = 1;
const SEGV_ACCERR: u64 = 2;
const ILL_ILLOPN: u64 = 2;
const FPE_INTDIV: u64 = 1;
const FPE_FLTDIV: u64 = 3;
const FPE_FLTOVF: u64 = 4;
const FPE_FLTUND: u64 = 5;
const FPE_FLTRES: u64 = 6;
const FPE_FLTINV: u64 = 7;
const TRAP_BRKPT: u64 = 1;
const TRAP_TRACE: u64 = 2;
const TRAP_HWBKPT: u64 = 4;
/// DR6's cause bits: B0-B3 (a debug register matched) and BS (single step).
pub const DR6_TRAP_BITS: u64 = 0xf;
pub const DR6_BS: u64 = 1 << 14;
const BUS_ADRALN: u64 = 1;

/// The application's registers from the vCPU's general registers (rip, rsp, flags, cs and ss
/// are the caller's to fill from wherever the stop left them).
pub fn regs_of(g: &Gprs, x: &Extra) -> Regs {
    let mut r = [0u64; tsvisor_platform::NUM_REGS];
    r[0] = g.r15;
    r[1] = g.r14;
    r[2] = g.r13;
    r[3] = g.r12;
    r[4] = g.rbp;
    r[5] = g.rbx;
    r[6] = g.r11;
    r[7] = g.r10;
    r[8] = g.r9;
    r[9] = g.r8;
    r[REG_RAX] = g.rax;
    r[REG_RCX] = g.rcx;
    r[12] = g.rdx;
    r[13] = g.rsi;
    r[14] = g.rdi;
    r[REG_ORIG_RAX] = u64::MAX;
    r[REG_RIP] = g.rip;
    r[REG_CS] = USER_CS as u64;
    r[REG_EFLAGS] = g.rflags;
    r[REG_RSP] = g.rsp;
    r[REG_SS] = USER_DS as u64;
    r[REG_FS_BASE] = x.fs_base;
    r[REG_GS_BASE] = x.gs_base;
    r
}

/// The vCPU's general registers that resume `r` in ring 3: flags sanitised (IF on, IOPL 0).
pub fn gprs_of(r: &Regs) -> Gprs {
    Gprs {
        r15: r[0],
        r14: r[1],
        r13: r[2],
        r12: r[3],
        rbp: r[4],
        rbx: r[5],
        r11: r[6],
        r10: r[7],
        r9: r[8],
        r8: r[9],
        rax: r[REG_RAX],
        rcx: r[REG_RCX],
        rdx: r[12],
        rsi: r[13],
        rdi: r[14],
        rip: r[REG_RIP],
        rflags: (r[REG_EFLAGS] & USER_FLAGS) | FLAG_IF | FLAG_FIXED,
        rsp: r[REG_RSP],
    }
}

/// The legacy vsyscall page (Linux's fixed 0xffffffffff600000): a call to one of its three
/// entries is emulated as the syscall it names.
pub const VSYSCALL_PAGE: u64 = 0xffff_ffff_ff60_0000;

/// The syscall number of a vsyscall entry.
pub fn vsyscall_nr(addr: u64) -> Option<u64> {
    match addr.checked_sub(VSYSCALL_PAGE)? {
        0 => Some(96),     // gettimeofday
        0x400 => Some(201), // time
        0x800 => Some(309), // getcpu
        _ => None,
    }
}

/// A fetch fault at a vsyscall entry becomes that syscall, with the caller's `ret` done:
/// rip = the return address read from the stack (`ret_addr`: None if unreadable), rsp + 8.
/// Linux's emulate_vsyscall; anything else in the page stays a SIGSEGV.
pub fn vsyscall(ev: &Event, r: &mut Regs, ret_addr: impl FnOnce(u64) -> Option<u64>) -> Option<Event> {
    if ev.kind != EventKind::Fault || ev.access != ACCESS_EXEC || r[REG_RIP] != ev.addr || r[REG_CS] != USER_CS as u64 {
        return None;
    }
    let nr = vsyscall_nr(ev.addr)?;
    let ret = ret_addr(r[REG_RSP])?;
    r[REG_RIP] = ret;
    r[REG_RSP] = r[REG_RSP].wrapping_add(8);
    r[REG_ORIG_RAX] = nr;
    r[REG_RAX] = (-libc::ENOSYS) as u64;
    Some(Event::of(EventKind::Syscall))
}

/// Is `r` to run as 32-bit code? Anything but the i386 selector runs as 64-bit code: the
/// sentry's registers name a selector, the platform decides what it may be.
pub fn is_compat(r: &Regs) -> bool {
    r[REG_CS] & 0xffff == USER32_CS as u64
}

/// The event and registers of a stop at the ring-0 entry `entry`. `frame` is only read for
/// vectors. None: not a stop from ring 3 (a fault in the stub itself: the platform's bug).
pub fn decode(entry: Entry, g: &Gprs, frame: &Frame, x: &Extra) -> Option<(Event, Regs)> {
    let mut r = regs_of(g, x);
    match entry {
        Entry::Syscall | Entry::Syscall32 => {
            // The CPU left the return address in rcx and the flags in r11.
            r[REG_RIP] = g.rcx;
            r[REG_EFLAGS] = g.r11;
            r[REG_ORIG_RAX] = g.rax;
            if entry == Entry::Syscall {
                return Some((Event::of(EventKind::Syscall), r));
            }
            // Linux's 32-bit syscall entry: the second argument travels in ebp.
            r[REG_CS] = USER32_CS as u64;
            r[REG_RCX] = g.rbp;
            return Some((Event { code: SYSCALL_ABI_I386, ..Event::of(EventKind::Syscall) }, r));
        }
        Entry::Vector(v) => {
            if frame.cs & 3 != 3 {
                return None;
            }
            r[REG_RIP] = frame.rip;
            r[REG_CS] = frame.cs & 0xffff;
            r[REG_EFLAGS] = frame.rflags;
            r[REG_RSP] = frame.rsp;
            r[REG_SS] = frame.ss & 0xffff;
            if v == 0x80 {
                r[REG_ORIG_RAX] = g.rax;
                return Some((Event { code: SYSCALL_ABI_I386, ..Event::of(EventKind::Syscall) }, r));
            }
            Some((fault_event(v, frame, x)?, r))
        }
    }
}

fn fault(signo: i32, code: u64, addr: u64) -> Event {
    Event { signo: signo as u64, code, addr, ..Event::of(EventKind::Fault) }
}

/// The signal Linux sends for exception `v` taken in ring 3 (arch/x86/kernel/traps.c).
fn fault_event(v: u8, f: &Frame, x: &Extra) -> Option<Event> {
    Some(match v {
        0 => fault(libc::SIGFPE, FPE_INTDIV, f.rip),
        1 => fault(libc::SIGTRAP, debug_code(x.dr6), f.rip),
        3 => fault(libc::SIGTRAP, SI_KERNEL, 0),
        4 | 5 => fault(libc::SIGSEGV, SI_KERNEL, 0),
        6 => fault(libc::SIGILL, ILL_ILLOPN, f.rip),
        10 | 13 => fault(libc::SIGSEGV, SI_KERNEL, 0),
        11 | 12 => fault(libc::SIGBUS, SI_KERNEL, 0),
        14 => {
            // Error code: bit 0 present (a protection fault), bit 1 write, bit 4 fetch.
            let access = if f.error & 16 != 0 {
                ACCESS_EXEC
            } else if f.error & 2 != 0 {
                ACCESS_WRITE
            } else {
                ACCESS_READ
            };
            let code = if f.error & 1 != 0 { SEGV_ACCERR } else { SEGV_MAPERR };
            Event { access, ..fault(libc::SIGSEGV, code, x.cr2) }
        }
        16 => {
            // Unmasked x87 exceptions: status bits not masked in the control word.
            let pending = x.fsw & !x.fcw & 0x3f;
            fault(libc::SIGFPE, fpe_code(pending as u32), f.rip)
        }
        17 => fault(libc::SIGBUS, BUS_ADRALN, 0),
        19 => {
            let pending = (x.mxcsr & 0x3f) & !((x.mxcsr >> 7) & 0x3f);
            fault(libc::SIGFPE, fpe_code(pending), f.rip)
        }
        // #NM (no FPU: we never set CR0.TS), #DF, #MC, #VC and the rest cannot come from a
        // sane ring 3: the stub or the VM is broken.
        _ => return None,
    })
}

/// Linux's get_si_code(): a single step first, then a breakpoint register, and a #DB with
/// neither (`int1`, icebp) is TRAP_BRKPT.
fn debug_code(dr6: u64) -> u64 {
    if dr6 & DR6_BS != 0 {
        TRAP_TRACE
    } else if dr6 & DR6_TRAP_BITS != 0 {
        TRAP_HWBKPT
    } else {
        TRAP_BRKPT
    }
}

/// Linux's fpu__exception_code order: invalid, divide by zero, overflow, underflow or
/// denormal, precision.
fn fpe_code(pending: u32) -> u64 {
    if pending & 0x01 != 0 {
        FPE_FLTINV
    } else if pending & 0x04 != 0 {
        FPE_FLTDIV
    } else if pending & 0x08 != 0 {
        FPE_FLTOVF
    } else if pending & 0x12 != 0 {
        FPE_FLTUND
    } else if pending & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gprs() -> Gprs {
        Gprs { rax: 39, rcx: 0x401234, r11: 0x246, rsp: 0x7ffe_0000, rdi: 1, rbp: 77, rip: 0xdead, ..Default::default() }
    }

    #[test]
    fn a_syscall_reports_rcx_as_pc_and_r11_as_flags() {
        let (ev, r) = decode(Entry::Syscall, &gprs(), &Frame::default(), &Extra { fs_base: 9, ..Default::default() }).unwrap();
        assert_eq!(ev.kind, EventKind::Syscall);
        assert_eq!(ev.code, 0);
        assert_eq!(r[REG_RIP], 0x401234);
        assert_eq!(r[REG_EFLAGS], 0x246);
        assert_eq!(r[REG_ORIG_RAX], 39);
        assert_eq!(r[REG_RAX], 39);
        assert_eq!(r[REG_RSP], 0x7ffe_0000);
        assert_eq!(r[14], 1);
        assert_eq!(r[REG_FS_BASE], 9);
        assert_eq!(r[REG_CS], 0x33);
    }

    #[test]
    fn i386_syscalls_are_marked_and_take_ebp_as_the_second_argument() {
        let (ev, r) = decode(Entry::Syscall32, &gprs(), &Frame::default(), &Extra::default()).unwrap();
        assert_eq!(ev.code, SYSCALL_ABI_I386);
        assert_eq!(r[REG_RCX], 77);
        assert_eq!(r[REG_CS], 0x23);
        let f = Frame { rip: 0x8049002, cs: 0x23, rflags: 0x202, rsp: 0xffd0, ss: 0x2b, error: 0 };
        let (ev, r) = decode(Entry::Vector(0x80), &gprs(), &f, &Extra::default()).unwrap();
        assert_eq!((ev.kind, ev.code), (EventKind::Syscall, SYSCALL_ABI_I386));
        assert_eq!((r[REG_RIP], r[REG_CS], r[REG_RSP]), (0x8049002, 0x23, 0xffd0));
    }

    #[test]
    fn page_faults_carry_cr2_and_the_access() {
        let x = Extra { cr2: 0x1000_0008, ..Default::default() };
        let mut f = Frame { rip: 0x400000, cs: 0x33, rflags: 0x10246, rsp: 0x7000, ss: 0x2b, error: 6 };
        let (ev, r) = decode(Entry::Vector(14), &gprs(), &f, &x).unwrap();
        assert_eq!((ev.kind, ev.signo, ev.code, ev.addr, ev.access), (EventKind::Fault, 11, SEGV_MAPERR, 0x1000_0008, ACCESS_WRITE));
        assert_eq!((r[REG_RIP], r[REG_RSP], r[REG_EFLAGS], r[REG_ORIG_RAX]), (0x400000, 0x7000, 0x10246, u64::MAX));
        f.error = 0x15;
        let (ev, _) = decode(Entry::Vector(14), &gprs(), &f, &x).unwrap();
        assert_eq!((ev.code, ev.access), (SEGV_ACCERR, ACCESS_EXEC));
        f.error = 4;
        assert_eq!(decode(Entry::Vector(14), &gprs(), &f, &x).unwrap().0.access, ACCESS_READ);
    }

    #[test]
    fn exceptions_get_linux_signals() {
        let f = Frame { rip: 0x400010, cs: 0x33, ..Default::default() };
        let sig = |v: u8, x: Extra| decode(Entry::Vector(v), &gprs(), &f, &x).map(|(e, _)| (e.signo as i32, e.code, e.addr));
        let x = Extra::default();
        assert_eq!(sig(0, x), Some((libc::SIGFPE, FPE_INTDIV, 0x400010)));
        assert_eq!(sig(3, x), Some((libc::SIGTRAP, SI_KERNEL, 0)));
        assert_eq!(sig(6, x), Some((libc::SIGILL, ILL_ILLOPN, 0x400010)));
        assert_eq!(sig(13, x), Some((libc::SIGSEGV, SI_KERNEL, 0)));
        assert_eq!(sig(12, x), Some((libc::SIGBUS, SI_KERNEL, 0)));
        assert_eq!(sig(17, x), Some((libc::SIGBUS, BUS_ADRALN, 0)));
        // Divide by zero unmasked in MXCSR (ZM bit 9 clear, ZE bit 2 set).
        let xm = Extra { mxcsr: 0x1f80 & !0x200 | 0x4, ..x };
        assert_eq!(sig(19, xm), Some((libc::SIGFPE, FPE_FLTDIV, 0x400010)));
        let mf = Extra { fsw: 0x1, fcw: 0x37e, ..x };
        assert_eq!(sig(16, mf), Some((libc::SIGFPE, FPE_FLTINV, 0x400010)));
        assert_eq!(sig(8, x), None);
        assert_eq!(sig(2, x), None);
        // #DB by its DR6: BS wins over a breakpoint bit; no cause bit is int1.
        let db = |dr6: u64| sig(1, Extra { dr6, ..x });
        assert_eq!(db(0xffff0ff0 | DR6_BS), Some((libc::SIGTRAP, TRAP_TRACE, 0x400010)));
        assert_eq!(db(0xffff0ff0 | DR6_BS | 1), Some((libc::SIGTRAP, TRAP_TRACE, 0x400010)));
        assert_eq!(db(0xffff0ff0 | 4), Some((libc::SIGTRAP, TRAP_HWBKPT, 0x400010)));
        assert_eq!(db(0xffff0ff0), Some((libc::SIGTRAP, TRAP_BRKPT, 0x400010)));
    }

    #[test]
    fn a_frame_from_ring0_is_not_the_application() {
        let f = Frame { rip: 0xffff_8000_0000_0000, cs: 0x10, ..Default::default() };
        assert_eq!(decode(Entry::Vector(14), &gprs(), &f, &Extra::default()), None);
    }

    #[test]
    fn vsyscall_entries_become_syscalls_with_the_ret_done() {
        let x = Extra { cr2: VSYSCALL_PAGE + 0x400, ..Default::default() };
        let f = Frame { rip: VSYSCALL_PAGE + 0x400, cs: 0x33, rsp: 0x7000, ss: 0x2b, error: 0x15, rflags: 0x202 };
        let (ev, mut r) = decode(Entry::Vector(14), &gprs(), &f, &x).unwrap();
        let sc = vsyscall(&ev, &mut r, |sp| (sp == 0x7000).then_some(0x401000)).unwrap();
        assert_eq!(sc.kind, EventKind::Syscall);
        assert_eq!((r[REG_RIP], r[REG_RSP], r[REG_ORIG_RAX]), (0x401000, 0x7008, 201));
        // An unreadable stack, a non-entry address, a data access: stay faults.
        let (ev, mut r) = decode(Entry::Vector(14), &gprs(), &f, &x).unwrap();
        assert_eq!(vsyscall(&ev, &mut r, |_| None), None);
        assert_eq!(r[REG_RIP], VSYSCALL_PAGE + 0x400);
        let x2 = Extra { cr2: VSYSCALL_PAGE + 0x10, ..x };
        let f2 = Frame { rip: VSYSCALL_PAGE + 0x10, ..f };
        let (ev, mut r) = decode(Entry::Vector(14), &gprs(), &f2, &x2).unwrap();
        assert_eq!(vsyscall(&ev, &mut r, |_| Some(1)), None);
        let f3 = Frame { error: 4, rip: 0x400000, ..f };
        let (ev, mut r) = decode(Entry::Vector(14), &gprs(), &f3, &x).unwrap();
        assert_eq!(vsyscall(&ev, &mut r, |_| Some(1)), None);
    }

    #[test]
    fn resume_flags_are_sanitised() {
        let mut r = [0u64; tsvisor_platform::NUM_REGS];
        r[REG_EFLAGS] = u64::MAX;
        let g = gprs_of(&r);
        assert_eq!(g.rflags & 0x3000, 0, "IOPL stays 0");
        assert_eq!(g.rflags & 0x20000, 0, "no virtual-8086");
        assert_ne!(g.rflags & FLAG_IF, 0);
        r[REG_EFLAGS] = 0;
        assert_eq!(gprs_of(&r).rflags, 0x202);
        // Round trip of the general registers.
        let g0 = Gprs { r15: 1, r14: 2, r13: 3, r12: 4, rbp: 5, rbx: 6, r11: 7, r10: 8, r9: 9, r8: 10, rax: 11, rcx: 12, rdx: 13, rsi: 14, rdi: 15, rip: 16, rflags: 0x202, rsp: 18 };
        assert_eq!(gprs_of(&regs_of(&g0, &Extra::default())), g0);
    }
}
