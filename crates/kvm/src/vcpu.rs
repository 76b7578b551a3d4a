//! One vCPU and the host thread that runs it (KVM wants every ioctl on a vCPU from the
//! thread that runs it). A context borrows a vCPU from the platform's pool for its life; the
//! thread takes commands (run, FP state, bind, release) and hands runs back through the
//! Completion cell, as the ptrace platform's tracer threads do.
//!
//! A run loads the application's registers and ring-3 segments into the vCPU, enters, and
//! leaves at the first `hlt` of the ring-0 stub (a syscall or an exception) or when kicked:
//! interrupt() and TLB shootdowns set `immediate_exit` and send the thread KICK_SIGNAL.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::{Duration, Instant};

use kvm_bindings::{kvm_msr_entry, kvm_regs, kvm_segment, kvm_sregs, kvm_xcrs, kvm_xsave, Msrs};
use kvm_ioctls::{SyncReg, VcpuExit, VcpuFd};
use tsvisor_platform::{Completion, Event, EventKind, Regs, REG_CS, REG_FS_BASE, REG_GS_BASE, REG_SS};

use crate::address_space::SpaceShared;
use crate::exits::{self, Extra, Frame, Gprs};
use crate::layout::{self, CpuArea, Entry, PAGE};
use crate::vm::{errno, Vm};

/// The signal that kicks a vCPU thread out of KVM_RUN. Its handler does nothing: the point
/// is the EINTR.
pub fn kick_signal() -> i32 {
    libc::SIGRTMIN() + 4
}

extern "C" fn on_kick(_: libc::c_int) {}

fn install_kick_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction with a handler that touches nothing; no SA_RESTART, so
        // KVM_RUN returns EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_kick as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(kick_signal(), &sa, std::ptr::null_mut());
        }
    });
}

pub enum Cmd {
    Run(Regs),
    GetFp(SyncSender<io::Result<Vec<u8>>>),
    SetFp(Vec<u8>, SyncSender<io::Result<()>>),
    Bind(Arc<SpaceShared>, SyncSender<()>),
    Unbind(SyncSender<()>),
    /// The platform is gone: end the thread, closing the vCPU.
    Quit,
}

/// The vCPU as other threads see it.
pub struct VcpuShared {
    pub index: u64,
    pub completion: Completion,
    cmd: Mutex<Option<Cmd>>,
    has_cmd: AtomicBool,
    cv: Condvar,
    /// interrupt() was called: the current or next run stops with an Interrupt event.
    interrupt: AtomicBool,
    in_guest: AtomicBool,
    /// The space generation the vCPU entered with (its TLB is good for it).
    entered_gen: AtomicU64,
    /// &kvm_run.immediate_exit in the vCPU's mapping of its run structure.
    immediate_exit: AtomicUsize,
    pub tid: AtomicI32,
    /// KVM gave up on this vCPU (a triple fault resets it): never lend it again.
    pub broken: AtomicBool,
}

impl VcpuShared {
    pub fn post(&self, c: Cmd) {
        *self.cmd.lock().unwrap() = Some(c);
        self.has_cmd.store(true, Ordering::Release);
        self.cv.notify_one();
    }

    fn next_cmd(&self) -> Cmd {
        let start = Instant::now();
        while !self.has_cmd.load(Ordering::Acquire) && start.elapsed() < Duration::from_micros(40) {
            std::hint::spin_loop();
        }
        let mut g = self.cmd.lock().unwrap();
        loop {
            if let Some(c) = g.take() {
                self.has_cmd.store(false, Ordering::Release);
                return c;
            }
            g = self.cv.wait(g).unwrap();
        }
    }

    /// Forces the vCPU out of guest mode (or makes its next entry return at once).
    fn kick(&self) {
        let p = self.immediate_exit.load(Ordering::Acquire);
        if p != 0 {
            // SAFETY: p is &kvm_run.immediate_exit of this vCPU's run mapping, which lives as
            // long as the vCPU (never dropped while the platform lives); a byte store.
            unsafe { std::ptr::write_volatile(p as *mut u8, 1) };
        }
        let tid = self.tid.load(Ordering::Acquire);
        if tid > 0 {
            // SAFETY: plain syscall; tid is our own vCPU thread, which never exits before the
            // process does.
            unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, kick_signal()) };
        }
    }

    pub fn interrupt(&self) {
        self.interrupt.store(true, Ordering::SeqCst);
        self.kick();
    }

    /// Returns once this vCPU runs with generation `gen` or later, or not at all.
    pub fn flush_wait(&self, gen: u64) {
        let stale = || self.in_guest.load(Ordering::SeqCst) && self.entered_gen.load(Ordering::SeqCst) < gen;
        if !stale() {
            return;
        }
        self.kick();
        let start = Instant::now();
        while stale() {
            if start.elapsed() > Duration::from_millis(1) {
                // Signals can be lost to a thread between exits: kick again.
                self.kick();
                std::thread::sleep(Duration::from_micros(100));
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// The state only the vCPU thread touches.
struct Vcpu {
    vm: Arc<Vm>,
    fd: VcpuFd,
    area: CpuArea,
    /// Guest-physical address of the RSP0 stack page.
    stack_gpa: u64,
    sregs: kvm_sregs,
    pristine_fp: kvm_xsave,
    space: Option<Arc<SpaceShared>>,
    /// (space id, generation) the TLB holds, and the CR3 flag we toggle to force a flush.
    tlb: (u64, u64),
    cr3_toggle: bool,
    dead: bool,
    broken: bool,
    /// Registers travel through kvm_run (Vm::sync_regs).
    sync: bool,
}

const CR0_PE: u64 = 1;
const CR0_MP: u64 = 1 << 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_WP: u64 = 1 << 16;
const CR0_AM: u64 = 1 << 18;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_PGE: u64 = 1 << 7;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const CR4_FSGSBASE: u64 = 1 << 16;
const CR4_OSXSAVE: u64 = 1 << 18;
const EFER_SCE: u64 = 1;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;
/// PWT: flipped in CR3 to make KVM reload the MMU, which flushes the vCPU's TLB.
const CR3_FLUSH_BIT: u64 = 1 << 3;

/// The SVM exit code of a nested page fault.
const SVM_EXIT_NPF: u64 = 0x400;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SFMASK: u32 = 0xc000_0084;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;
/// Flags `syscall` clears on entry: TF, DF, IF, IOPL, AC, NT (as Linux).
const SYSCALL_MASK: u64 = 0x47700;

fn seg(selector: u16, code64: bool, dpl: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: if code64 || selector == layout::USER32_CS || selector == layout::KERNEL_CS { 0xb } else { 0x3 },
        present: 1,
        dpl,
        db: if code64 { 0 } else { 1 },
        s: 1,
        l: if code64 { 1 } else { 0 },
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

impl Vcpu {
    fn new(vm: Arc<Vm>) -> io::Result<Vcpu> {
        let (index, area, stack_gpa) = vm.new_cpu_area()?;
        let fd = vm.fd.create_vcpu(index).map_err(errno)?;
        fd.set_cpuid2(&vm.cpuid).map_err(errno)?;
        let mut sregs = fd.get_sregs().map_err(errno)?;
        sregs.cs = seg(layout::USER_CS, true, 3);
        sregs.ss = seg(layout::USER_DS, false, 3);
        sregs.ds = seg(layout::USER_DS, false, 3);
        sregs.es = seg(layout::USER_DS, false, 3);
        sregs.fs = seg(0, false, 3);
        sregs.gs = seg(0, false, 3);
        sregs.tr = kvm_segment { base: area.tss, limit: layout::TSS_LIMIT, selector: layout::TSS_SEL, type_: 0xb, present: 1, ..Default::default() };
        sregs.ldt = kvm_segment { unusable: 1, type_: 2, ..Default::default() };
        sregs.gdt.base = area.gdt;
        sregs.gdt.limit = (layout::GDT_ENTRIES * 8 - 1) as u16;
        sregs.idt.base = layout::IDT_VA;
        sregs.idt.limit = 4095;
        sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
        sregs.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE | if vm.fsgsbase { CR4_FSGSBASE } else { 0 };
        sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
        let star = (layout::USER32_CS as u64) << 48 | (layout::KERNEL_CS as u64) << 32;
        let msrs = [
            (MSR_STAR, star),
            (MSR_LSTAR, layout::CODE_VA + layout::SYSCALL_ENTRY),
            (MSR_CSTAR, layout::CODE_VA + layout::SYSCALL32_ENTRY),
            (MSR_SFMASK, SYSCALL_MASK),
            (MSR_KERNEL_GS_BASE, 0),
        ];
        let entries: Vec<kvm_msr_entry> = msrs.iter().map(|&(index, data)| kvm_msr_entry { index, data, ..Default::default() }).collect();
        let msrs = Msrs::from_entries(&entries).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        if fd.set_msrs(&msrs).map_err(errno)? != entries.len() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // CR4.OSXSAVE first (XSETBV needs it), then XCR0.
        fd.set_sregs(&sregs).map_err(errno)?;
        let mut xcrs = kvm_xcrs { nr_xcrs: 1, ..Default::default() };
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = vm.xcr0;
        fd.set_xcrs(&xcrs).map_err(errno)?;
        let pristine_fp = fd.get_xsave().map_err(errno)?;
        let mut fd = fd;
        let sync = vm.sync_regs;
        if sync {
            // KVM copies both into kvm_run at every exit (KVM_RUN's `out:` path, EINTR too).
            fd.set_sync_valid_reg(SyncReg::Register);
            fd.set_sync_valid_reg(SyncReg::SystemRegister);
        }
        Ok(Vcpu { vm, fd, area, stack_gpa, sregs, pristine_fp, space: None, tlb: (0, 0), cr3_toggle: false, dead: false, broken: false, sync })
    }

    /// The registers as of the last exit (or as last put, before the next entry).
    fn exit_regs(&self) -> io::Result<kvm_regs> {
        if self.sync {
            Ok(self.fd.sync_regs().regs)
        } else {
            self.fd.get_regs().map_err(errno)
        }
    }

    fn exit_sregs(&self) -> io::Result<kvm_sregs> {
        if self.sync {
            Ok(self.fd.sync_regs().sregs)
        } else {
            self.fd.get_sregs().map_err(errno)
        }
    }

    /// Registers for the next entry: with sync regs KVM loads them at KVM_RUN.
    fn put_regs(&mut self, r: &kvm_regs) -> io::Result<()> {
        if self.sync {
            self.fd.sync_regs_mut().regs = *r;
            self.fd.set_sync_dirty_reg(SyncReg::Register);
            Ok(())
        } else {
            self.fd.set_regs(r).map_err(errno)
        }
    }

    fn put_sregs(&mut self, s: &kvm_sregs) -> io::Result<()> {
        if self.sync {
            self.fd.sync_regs_mut().sregs = *s;
            self.fd.set_sync_dirty_reg(SyncReg::SystemRegister);
            Ok(())
        } else {
            self.fd.set_sregs(s).map_err(errno)
        }
    }

    fn get_fp(&self) -> io::Result<Vec<u8>> {
        let x = self.fd.get_xsave().map_err(errno)?;
        let mut out = Vec::with_capacity(self.vm.xsave_size);
        for w in x.region.iter() {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.truncate(self.vm.xsave_size);
        Ok(out)
    }

    fn set_fp(&self, state: &[u8]) -> io::Result<()> {
        if state.len() < 512 || state.len() > 4096 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut x = kvm_xsave::default();
        for (i, c) in state.chunks(4).enumerate() {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            x.region[i] = u32::from_le_bytes(w);
        }
        // SAFETY: the legacy 4 KiB kvm_xsave: KVM_CAP_XSAVE2 is never enabled, so KVM reads
        // exactly the region we filled.
        unsafe { self.fd.set_xsave(&x) }.map_err(errno)
    }

    fn load_sregs(&mut self, regs: &Regs, flush: bool) -> io::Result<()> {
        let space = self.space.as_ref().expect("bound");
        if flush {
            self.cr3_toggle = !self.cr3_toggle;
        }
        let mut s = self.sregs;
        if exits::is_compat(regs) {
            s.cs = seg(layout::USER32_CS, false, 3);
        }
        s.fs.base = regs[REG_FS_BASE];
        s.gs.base = regs[REG_GS_BASE];
        s.cr3 = space.root | if self.cr3_toggle { CR3_FLUSH_BIT } else { 0 };
        self.put_sregs(&s)
    }

    fn flush_cr3(&mut self) -> io::Result<()> {
        let root = self.space.as_ref().expect("bound").root;
        let mut s = self.exit_sregs()?;
        self.cr3_toggle = !self.cr3_toggle;
        s.cr3 = root | if self.cr3_toggle { CR3_FLUSH_BIT } else { 0 };
        self.put_sregs(&s)
    }

    fn dead(&mut self, why: &str, regs: &Regs) -> (Event, Regs) {
        if !why.is_empty() {
            eprintln!("tsvisor kvm: vCPU at {:#x}: {why}", self.area.gdt);
            self.broken = true;
        }
        self.dead = true;
        (Event::of(EventKind::Dead), *regs)
    }

    fn run(&mut self, sh: &VcpuShared, regs: &Regs) -> (Event, Regs) {
        let Some(space) = self.space.clone() else { return self.dead("run without an address space", regs) };
        if self.dead || space.released.load(Ordering::SeqCst) {
            return (Event::of(EventKind::Dead), *regs);
        }
        let g = exits::gprs_of(regs);
        let kr = kvm_regs {
            rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rsp: g.rsp, rbp: g.rbp,
            r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15,
            rip: g.rip, rflags: g.rflags,
        };
        if let Err(e) = self.put_regs(&kr) {
            return self.dead(&format!("KVM_SET_REGS: {e}"), regs);
        }
        let mut loaded = false;
        let mut entered = false;
        loop {
            let run = self.fd.get_kvm_run();
            // SAFETY: a byte of our own kvm_run mapping; other threads only ever store 1.
            unsafe { std::ptr::write_volatile(&mut run.immediate_exit, 0) };
            if sh.interrupt.swap(false, Ordering::SeqCst) {
                if !entered {
                    return (Event::of(EventKind::Interrupt), *regs);
                }
                return self.stopped_in_guest(regs);
            }
            if space.released.load(Ordering::SeqCst) {
                return self.dead("", regs);
            }
            let gen = space.gen.load(Ordering::SeqCst);
            let flush = self.tlb != (space.id, gen);
            let r = if !loaded { self.load_sregs(regs, flush) } else if flush { self.flush_cr3() } else { Ok(()) };
            if let Err(e) = r {
                return self.dead(&format!("KVM_SET_SREGS: {e}"), regs);
            }
            loaded = true;
            self.tlb = (space.id, gen);
            sh.entered_gen.store(gen, Ordering::SeqCst);
            sh.in_guest.store(true, Ordering::SeqCst);
            if space.gen.load(Ordering::SeqCst) != gen {
                sh.in_guest.store(false, Ordering::SeqCst);
                continue;
            }
            entered = true;
            let exit = self.fd.run();
            sh.in_guest.store(false, Ordering::SeqCst);
            match exit {
                Ok(VcpuExit::Hlt) => return self.stopped_at_stub(regs, true),
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => continue,
                Ok(VcpuExit::Shutdown) => return self.dead("triple fault", regs),
                Ok(VcpuExit::Intr) => continue,
                // A lazy memslot miss that KVM's emulator got as far as the access: do the
                // access here, register the chunk, resume (KVM completes the instruction).
                Ok(VcpuExit::MmioRead(gpa, data)) => match self.vm.slots.miss(gpa) {
                    Ok(true) if self.vm.slots.mem.read(gpa, data).is_ok() => continue,
                    r => return self.dead(&format!("guest read outside memory at gpa {gpa:#x} ({r:?})"), regs),
                },
                Ok(VcpuExit::MmioWrite(gpa, data)) => match self.vm.slots.miss(gpa) {
                    Ok(true) if self.vm.slots.mem.write(gpa, data).is_ok() => continue,
                    r => return self.dead(&format!("guest write outside memory at gpa {gpa:#x} ({r:?})"), regs),
                },
                // A miss the emulator could not take further: nothing was done, the
                // instruction runs again once its page has a slot.
                Ok(VcpuExit::InternalError) => match self.emulation_miss() {
                    Ok(()) => continue,
                    Err(why) => return self.dead(&why, regs),
                },
                Ok(other) => {
                    let why = format!("unexpected exit {other:?}");
                    return self.dead(&why, regs);
                }
                Err(e) => return self.dead(&format!("KVM_RUN: {e}"), regs),
            }
        }
    }

    /// KVM_EXIT_INTERNAL_ERROR: served if it is an emulation failure on a nested page fault
    /// (SVM exit code 0x400) at a guest-physical address the memslots can register.
    fn emulation_miss(&mut self) -> Result<(), String> {
        let run = self.fd.get_kvm_run();
        // SAFETY: KVM filled the `internal` member of the exit union for this exit reason.
        let int = unsafe { run.__bindgen_anon_1.internal };
        let data = &int.data[..(int.ndata as usize).min(int.data.len())];
        if int.suberror != kvm_bindings::KVM_INTERNAL_ERROR_EMULATION || data.is_empty() {
            return Err(format!("KVM internal error {} {data:#x?}", int.suberror));
        }
        // data[0] is the flags; with instruction bytes, two words of them follow; then the
        // exit code, exit_info_1 and exit_info_2 (the faulting gpa for an NPF).
        let at = 1 + if data[0] & kvm_bindings::KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES as u64 != 0 { 2 } else { 0 };
        match data.get(at..at + 3) {
            Some(&[SVM_EXIT_NPF, _, gpa]) => match self.vm.slots.miss(gpa) {
                Ok(true) => Ok(()),
                r => Err(format!("emulation failure at gpa {gpa:#x} outside memory ({r:?})")),
            },
            // Any other failure (KVM intercepts #UD on AMD to emulate sysenter and the like)
            // gets what KVM gives it without the capability: a #UD in the guest, which the
            // stub reports as SIGILL. Only ring 3 is emulated; ring 0 is the stub, never.
            _ if self.exit_sregs().is_ok_and(|s| s.cs.selector & 3 == 3) => self.inject_ud(),
            _ => Err(format!("emulation failure in ring 0: {data:#x?}")),
        }
    }

    fn inject_ud(&mut self) -> Result<(), String> {
        let mut ev = self.fd.get_vcpu_events().map_err(|e| format!("KVM_GET_VCPU_EVENTS: {}", errno(e)))?;
        ev.exception.injected = 1;
        ev.exception.nr = 6;
        ev.exception.has_error_code = 0;
        ev.exception.error_code = 0;
        self.fd.set_vcpu_events(&ev).map_err(|e| format!("KVM_SET_VCPU_EVENTS: {}", errno(e)))
    }

    /// Kicked while running: the application's registers as they are, or, if it had just
    /// entered the stub and not yet halted, the event it was about to report.
    fn stopped_in_guest(&mut self, regs: &Regs) -> (Event, Regs) {
        let (g, s) = match (self.exit_regs(), self.exit_sregs()) {
            (Ok(g), Ok(s)) => (g, s),
            _ => return self.dead("KVM_GET_REGS after a kick", regs),
        };
        if s.cs.selector & 3 == 0 {
            return self.stopped_at_stub(regs, false);
        }
        let mut r = exits::regs_of(&gprs(&g), &extra(&s));
        r[REG_CS] = s.cs.selector as u64;
        r[REG_SS] = s.ss.selector as u64;
        (Event::of(EventKind::Interrupt), r)
    }

    fn stopped_at_stub(&mut self, regs: &Regs, at_hlt: bool) -> (Event, Regs) {
        let (g, s) = match (self.exit_regs(), self.exit_sregs()) {
            (Ok(g), Ok(s)) => (g, s),
            _ => return self.dead("KVM_GET_REGS", regs),
        };
        let entry = g.rip.checked_sub(layout::CODE_VA).and_then(|o| layout::entry_of(o, at_hlt));
        let Some(entry) = entry else { return self.dead(&format!("stopped at rip {:#x} cs {:#x}", g.rip, s.cs.selector), regs) };
        let mut x = extra(&s);
        let mut words = [0u64; 6];
        if let Entry::Vector(v) = entry {
            // Only an exception from ring 3 switches to RSP0 and leaves its frame just below
            // it; one taken in ring 0 (a CPU that let ring 3 in, as QEMU TCG's iretq does)
            // pushes on whatever stack it had, and the words below RSP0 are an older frame.
            if g.rsp != layout::frame_rsp(&self.area, v) {
                return self.dead(&format!("vector {v} taken with rsp {:#x}, not on the ring-0 stack (from ring 0, rip {:#x})", g.rsp, g.rip), regs);
            }
            let mut buf = [0u8; 48];
            if self.vm.mf.read(self.stack_gpa + PAGE - 48, &mut buf).is_err() {
                return self.dead("exception frame unreadable", regs);
            }
            for (i, w) in words.iter_mut().enumerate() {
                *w = u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap());
            }
            if !layout::has_error_code(v) {
                // No error code pushed: the frame starts one slot higher.
                words = [0, words[1], words[2], words[3], words[4], words[5]];
            }
            if v == 1 {
                // Not in the synced state: one more ioctl, on a rare exit. Unreadable, it
                // stays the single step it almost always is.
                x.dr6 = self.fd.get_debug_regs().map_or(exits::DR6_BS, |d| d.dr6);
            }
            if v == 16 || v == 19 {
                if let Ok(f) = self.fd.get_fpu() {
                    x.fsw = f.fsw;
                    x.fcw = f.fcw;
                    x.mxcsr = f.mxcsr;
                }
            }
        }
        match exits::decode(entry, &gprs(&g), &Frame::from_words(words), &x) {
            Some((ev, mut r)) => {
                let sc = exits::vsyscall(&ev, &mut r, |sp| self.read_user_u64(sp));
                (sc.unwrap_or(ev), r)
            }
            None => self.dead(&format!("{entry:?} from ring 0 (frame {words:x?}, cr2 {:#x})", s.cr2), regs),
        }
    }
}

impl Vcpu {
    /// Reads 8 bytes the application could read at `va` (its page tables say so), as the
    /// CPU would: within one page, every level present and user-accessible.
    fn read_user_u64(&self, va: u64) -> Option<u64> {
        if va % 8 != 0 || va >= tsvisor_pagetables::USER_END {
            return None;
        }
        let root = self.space.as_ref()?.root;
        let frames = crate::frames::MemFrames::new(self.vm.pool.clone());
        let pa = crate::frames::user_translate(&frames, root, va)?;
        let mut b = [0u8; 8];
        self.vm.mf.read(pa, &mut b).ok()?;
        Some(u64::from_le_bytes(b))
    }
}

fn gprs(g: &kvm_regs) -> Gprs {
    Gprs {
        rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rsp: g.rsp, rbp: g.rbp,
        r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15,
        rip: g.rip, rflags: g.rflags,
    }
}

fn extra(s: &kvm_sregs) -> Extra {
    Extra { fs_base: s.fs.base, gs_base: s.gs.base, cr2: s.cr2, ..Default::default() }
}

/// Creates a vCPU and its thread.
pub fn spawn(vm: Arc<Vm>) -> io::Result<Arc<VcpuShared>> {
    install_kick_handler();
    let (tx, rx) = sync_channel::<io::Result<Arc<VcpuShared>>>(1);
    std::thread::Builder::new().name("kvm-vcpu".into()).stack_size(256 << 10).spawn(move || {
        let mut v = match Vcpu::new(vm) {
            Ok(v) => v,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        // SAFETY: unblocking one signal in this thread's own mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, kick_signal());
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        let run = v.fd.get_kvm_run();
        let sh = Arc::new(VcpuShared {
            index: v.area.gdt,
            completion: Completion::new(),
            cmd: Mutex::new(None),
            has_cmd: AtomicBool::new(false),
            cv: Condvar::new(),
            interrupt: AtomicBool::new(false),
            in_guest: AtomicBool::new(false),
            entered_gen: AtomicU64::new(0),
            immediate_exit: AtomicUsize::new(&mut run.immediate_exit as *mut u8 as usize),
            // SAFETY: gettid has no preconditions.
            tid: AtomicI32::new(unsafe { libc::gettid() }),
            broken: AtomicBool::new(false),
        });
        let _ = tx.send(Ok(sh.clone()));
        loop {
            match sh.next_cmd() {
                Cmd::Run(regs) => {
                    let (ev, out) = v.run(&sh, &regs);
                    if v.broken {
                        sh.broken.store(true, Ordering::SeqCst);
                    }
                    sh.completion.publish(ev, &out);
                }
                Cmd::GetFp(reply) => {
                    let _ = reply.send(v.get_fp());
                }
                Cmd::SetFp(state, reply) => {
                    let _ = reply.send(v.set_fp(&state));
                }
                Cmd::Bind(space, reply) => {
                    // A new task on a recycled vCPU: fresh FP state, no stale interrupt.
                    // SAFETY: the state read from this very vCPU at creation.
                    let _ = unsafe { v.fd.set_xsave(&v.pristine_fp) };
                    sh.interrupt.store(false, Ordering::SeqCst);
                    v.space = Some(space);
                    v.dead = false;
                    v.tlb = (0, 0);
                    let _ = reply.send(());
                }
                Cmd::Unbind(reply) => {
                    v.space = None;
                    let _ = reply.send(());
                }
                Cmd::Quit => return,
            }
        }
    })?;
    rx.recv().map_err(|_| io::Error::from_raw_os_error(libc::EIO))?
}
