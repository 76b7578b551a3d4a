//! End to end on /dev/kvm: hand-assembled ring-3 code run through the platform interface.
//! Where /dev/kvm is absent each test prints why and returns; run them in the QEMU guest:
//! `../shared/kvm/guest-run.sh -- target/debug/deps/kvm-<hash>` (see crates/kvm/README.md).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsvisor_kvm::{layout, KvmPlatform};
use tsvisor_memfile::MemoryFile;
use tsvisor_platform::{
    AddressSpaceOps, Context, Event, EventKind, Platform, Regs, ACCESS_READ, ACCESS_WRITE, PROT_EXEC, PROT_READ,
    PROT_WRITE, REG_CS, REG_EFLAGS, REG_FS_BASE, REG_ORIG_RAX, REG_RAX, REG_RDI, REG_RIP, REG_RSP, SYSCALL_ABI_I386,
};

const CODE: u64 = 0x40_0000;
const STACK: u64 = 0x7000_0000;
const DATA: u64 = 0x1000_0000;

struct Env {
    mf: Arc<MemoryFile>,
    p: KvmPlatform,
}

fn env() -> Option<Env> {
    if let Err(why) = tsvisor_kvm::probe() {
        // Straight to fd 2: the test harness captures println!, and a skip must be seen.
        let _ = writeln!(std::io::stderr(), "kvm test skipped: no usable /dev/kvm ({why})");
        return None;
    }
    let mf = Arc::new(MemoryFile::with_size(256 << 20).unwrap());
    let p = KvmPlatform::new(mf.clone()).expect("KVM platform");
    Some(Env { mf, p })
}

impl Env {
    /// An address space with `code` at CODE and a stack page.
    fn space(&self, code: &[u8]) -> Box<dyn AddressSpaceOps> {
        let mut s = self.p.new_address_space().unwrap();
        let c = self.page(code);
        s.map(CODE, 4096, c, PROT_READ | PROT_EXEC).unwrap();
        let st = self.page(&[]);
        s.map(STACK, 4096, st, PROT_READ | PROT_WRITE).unwrap();
        s
    }

    fn page(&self, bytes: &[u8]) -> u64 {
        let off = self.mf.allocate(1).unwrap();
        self.mf.write(off, bytes).unwrap();
        off
    }

    fn ctx(&self, s: &dyn AddressSpaceOps) -> (Box<dyn Context>, Regs) {
        let c = self.p.new_context(s).unwrap();
        let mut r = c.initial_regs();
        r[REG_RIP] = CODE;
        r[REG_RSP] = STACK + 4096;
        (c, r)
    }
}

fn run(c: &dyn Context, regs: &mut Regs) -> Event {
    c.switch_to_user(regs);
    let start = Instant::now();
    while !c.poll() {
        assert!(start.elapsed() < Duration::from_secs(60), "run did not stop");
        std::thread::sleep(Duration::from_micros(50));
    }
    c.take(regs)
}

/// mov $nr, %eax; syscall
fn sys(nr: u8) -> Vec<u8> {
    vec![0xb8, nr, 0, 0, 0, 0x0f, 0x05]
}

const MOV_RAX_RDI: [u8; 3] = [0x48, 0x89, 0xc7];
/// mov $DATA, %rbx
const MOV_DATA_RBX: [u8; 7] = [0x48, 0xc7, 0xc3, 0x00, 0x00, 0x00, 0x10];

#[test]
fn syscalls_exit_with_their_registers_and_resume_with_ours() {
    let Some(e) = env() else { return };
    let code = [sys(39), MOV_RAX_RDI.to_vec(), sys(60)].concat();
    let s = e.space(&code);
    let (c, mut r) = e.ctx(&*s);
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, 0));
    assert_eq!(r[REG_ORIG_RAX], 39);
    assert_eq!(r[REG_RIP], CODE + 7);
    assert_eq!(r[REG_RSP], STACK + 4096);
    assert_eq!(r[REG_CS], 0x33);
    r[REG_RAX] = 1234;
    let ev = run(&*c, &mut r);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!((r[REG_ORIG_RAX], r[REG_RDI]), (60, 1234));
    c.release();
}

#[test]
fn a_fault_on_an_unmapped_page_is_served_by_mapping_it() {
    let Some(e) = env() else { return };
    // mov $DATA, %rbx; mov (%rbx), %rax; mov %rax, %rdi; exit
    let code = [MOV_DATA_RBX.to_vec(), vec![0x48, 0x8b, 0x03], MOV_RAX_RDI.to_vec(), sys(60)].concat();
    let mut s = e.space(&code);
    let (c, mut r) = e.ctx(&*s);
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.signo, ev.addr, ev.access), (EventKind::Fault, libc::SIGSEGV as u64, DATA, ACCESS_READ));
    assert_eq!(r[REG_RIP], CODE + 7);
    let d = e.page(&42u64.to_le_bytes());
    s.map(DATA, 4096, d, PROT_READ | PROT_WRITE).unwrap();
    let ev = run(&*c, &mut r);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(r[REG_RDI], 42);
}

#[test]
fn protect_to_read_only_makes_the_next_write_fault() {
    let Some(e) = env() else { return };
    // mov $DATA, %rbx; movq $7, (%rbx); syscall 39; movq $8, (%rbx); exit
    let store = |v: u8| vec![0x48, 0xc7, 0x03, v, 0, 0, 0];
    let code = [MOV_DATA_RBX.to_vec(), store(7), sys(39), store(8), sys(60)].concat();
    let mut s = e.space(&code);
    let d = e.page(&[]);
    s.map(DATA, 4096, d, PROT_READ | PROT_WRITE).unwrap();
    let (c, mut r) = e.ctx(&*s);
    assert_eq!(run(&*c, &mut r).kind, EventKind::Syscall);
    let mut b = [0u8; 8];
    e.mf.read(d, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 7, "the guest wrote through the memory file");
    s.protect(DATA, 4096, PROT_READ).unwrap();
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.signo, ev.addr, ev.access), (EventKind::Fault, libc::SIGSEGV as u64, DATA, ACCESS_WRITE));
    assert_eq!(ev.code, 2, "SEGV_ACCERR: the page is there");
    s.protect(DATA, 4096, PROT_READ | PROT_WRITE).unwrap();
    assert_eq!(run(&*c, &mut r).kind, EventKind::Syscall);
    e.mf.read(d, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 8);
}

fn fault_of(e: &Env, code: &[u8]) -> (Event, Regs) {
    let s = e.space(code);
    let (c, mut r) = e.ctx(&*s);
    let ev = run(&*c, &mut r);
    (ev, r)
}

#[test]
fn exceptions_and_privileged_instructions_become_signals() {
    let Some(e) = env() else { return };
    let cases: [(&str, Vec<u8>, i32); 9] = [
        ("ud2", vec![0x0f, 0x0b], libc::SIGILL),
        ("int3", vec![0xcc], libc::SIGTRAP),
        ("hlt", vec![0xf4], libc::SIGSEGV),
        ("out %al, $0x80", vec![0xe6, 0x80], libc::SIGSEGV),
        ("cli", vec![0xfa], libc::SIGSEGV),
        ("wrmsr", vec![0x0f, 0x30], libc::SIGSEGV),
        ("int $0x81", vec![0xcd, 0x81], libc::SIGSEGV),
        ("mov $0x10, %ax; mov %ax, %ds", vec![0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8], libc::SIGSEGV),
        ("div by zero", vec![0x31, 0xc9, 0xf7, 0xf1], libc::SIGFPE),
    ];
    for (name, code, sig) in cases {
        let (ev, r) = fault_of(&e, &code);
        assert_eq!((ev.kind, ev.signo as i32), (EventKind::Fault, sig), "{name}");
        assert!(r[REG_RIP] >= CODE && r[REG_RIP] < CODE + 8, "{name}: rip {:#x}", r[REG_RIP]);
    }
}

#[test]
fn the_stub_is_out_of_reach_of_ring3() {
    let Some(e) = env() else { return };
    for target in [layout::CODE_VA, layout::IDT_VA, layout::CPU_AREA_VA] {
        // movabs $target, %rbx; mov (%rbx), %rax
        let mut code = vec![0x48, 0xbb];
        code.extend_from_slice(&target.to_le_bytes());
        code.extend_from_slice(&[0x48, 0x8b, 0x03]);
        let (ev, _) = fault_of(&e, &code);
        assert_eq!((ev.kind, ev.signo, ev.addr), (EventKind::Fault, libc::SIGSEGV as u64, target));
        // jmp *%rbx: an instruction fetch from the stub
        let mut code = vec![0x48, 0xbb];
        code.extend_from_slice(&target.to_le_bytes());
        code.extend_from_slice(&[0xff, 0xe3]);
        let (ev, r) = fault_of(&e, &code);
        assert_eq!((ev.kind, ev.signo), (EventKind::Fault, libc::SIGSEGV as u64));
        assert_eq!(r[REG_RIP], target);
    }
}

#[test]
fn int_0x80_is_an_i386_syscall() {
    let Some(e) = env() else { return };
    let (ev, r) = fault_of(&e, &[0xb8, 20, 0, 0, 0, 0xcd, 0x80]);
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, SYSCALL_ABI_I386));
    assert_eq!((r[REG_ORIG_RAX], r[REG_RIP]), (20, CODE + 7));
}

#[test]
fn interrupt_stops_a_spinning_loop() {
    let Some(e) = env() else { return };
    let s = e.space(&[0xeb, 0xfe]);
    let (c, mut r) = e.ctx(&*s);
    c.switch_to_user(&r);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!c.poll(), "the loop runs until interrupted");
    c.interrupt();
    let start = Instant::now();
    while !c.poll() {
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::yield_now();
    }
    assert_eq!(c.take(&mut r).kind, EventKind::Interrupt);
    assert_eq!(r[REG_RIP], CODE);
    // An interrupt while stopped makes the next run return at once.
    c.interrupt();
    assert_eq!(run(&*c, &mut r).kind, EventKind::Interrupt);
}

#[test]
fn fp_state_round_trips() {
    let Some(e) = env() else { return };
    // movq %xmm0, %rdi; exit
    let code = [vec![0x66, 0x48, 0x0f, 0x7e, 0xc7], sys(60)].concat();
    let s = e.space(&code);
    let (c, mut r) = e.ctx(&*s);
    let mut fp = c.fp_state().unwrap();
    assert!(fp.len() >= 576, "an XSAVE image: {}", fp.len());
    assert_eq!(u32::from_le_bytes(fp[24..28].try_into().unwrap()), 0x1f80, "MXCSR at reset");
    fp[160..168].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    fp[512] |= 2; // XSTATE_BV: the SSE state is in the image, not in its init state
    c.set_fp_state(&fp).unwrap();
    assert_eq!(run(&*c, &mut r).kind, EventKind::Syscall);
    assert_eq!(r[REG_RDI], 0x1122_3344_5566_7788);
    assert_eq!(c.fp_state().unwrap()[160..168], fp[160..168]);
    assert!(c.set_fp_state(&[0u8; 10]).is_err());
}

#[test]
fn two_contexts_share_an_address_space_and_two_spaces_do_not() {
    let Some(e) = env() else { return };
    let code = [MOV_DATA_RBX.to_vec(), vec![0x48, 0x8b, 0x03], MOV_RAX_RDI.to_vec(), sys(60)].concat();
    let mut a = e.space(&code);
    let mut b = e.space(&code);
    a.map(DATA, 4096, e.page(&1u64.to_le_bytes()), PROT_READ).unwrap();
    b.map(DATA, 4096, e.page(&2u64.to_le_bytes()), PROT_READ).unwrap();
    let (c1, mut r1) = e.ctx(&*a);
    let (c2, mut r2) = e.ctx(&*a);
    let (c3, mut r3) = e.ctx(&*b);
    for (c, r, want) in [(&c1, &mut r1, 1), (&c2, &mut r2, 1), (&c3, &mut r3, 2)] {
        assert_eq!(run(&**c, r).kind, EventKind::Syscall);
        assert_eq!(r[REG_RDI], want);
    }
    // A released context's vCPU serves the next one, in another space, with fresh state.
    c1.release();
    let (c4, mut r4) = e.ctx(&*b);
    assert_eq!(run(&*c4, &mut r4).kind, EventKind::Syscall);
    assert_eq!(r4[REG_RDI], 2);
}

#[test]
fn unmap_reaches_a_vcpu_that_is_running() {
    let Some(e) = env() else { return };
    // mov $DATA, %rbx; 1: mov (%rbx), %rax; jmp 1b
    let code = [MOV_DATA_RBX.to_vec(), vec![0x48, 0x8b, 0x03, 0xeb, 0xfb]].concat();
    let mut s = e.space(&code);
    s.map(DATA, 4096, e.page(&[]), PROT_READ).unwrap();
    let (c, mut r) = e.ctx(&*s);
    c.switch_to_user(&r);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!c.poll());
    s.unmap(DATA, 4096).unwrap();
    let start = Instant::now();
    while !c.poll() {
        assert!(start.elapsed() < Duration::from_secs(30), "the loop still reads the unmapped page");
        std::thread::sleep(Duration::from_millis(1));
    }
    let ev = c.take(&mut r);
    assert_eq!((ev.kind, ev.addr), (EventKind::Fault, DATA));
}

#[test]
fn platform_shape() {
    let Some(e) = env() else { return };
    assert_eq!(e.p.name(), "kvm");
    assert_eq!(e.p.max_user_address(), (1 << 47) - 4096);
    let mut s = e.p.new_address_space().unwrap();
    // A frame past the end of the memory file is refused, not mapped.
    assert!(s.map(DATA, 4096, 1 << 40, PROT_READ).is_err());
}

#[test]
fn a_call_into_the_vsyscall_page_is_that_syscall() {
    let Some(e) = env() else { return };
    // movabs $0xffffffffff600400, %rax; call *%rax
    let mut code = vec![0x48, 0xb8];
    code.extend_from_slice(&0xffff_ffff_ff60_0400u64.to_le_bytes());
    code.extend_from_slice(&[0xff, 0xd0]);
    let (ev, r) = fault_of(&e, &code);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!((r[REG_ORIG_RAX], r[REG_RIP], r[REG_RSP]), (201, CODE + 12, STACK + 4096));
    // Inside the page but not at an entry: SIGSEGV at that address.
    let mut code = vec![0x48, 0xb8];
    code.extend_from_slice(&0xffff_ffff_ff60_0010u64.to_le_bytes());
    code.extend_from_slice(&[0xff, 0xd0]);
    let (ev, _) = fault_of(&e, &code);
    assert_eq!((ev.kind, ev.signo, ev.addr), (EventKind::Fault, libc::SIGSEGV as u64, 0xffff_ffff_ff60_0010));
}

#[test]
fn ring0_tricks_from_ring3_fault() {
    let Some(e) = env() else { return };
    let cases: [(&str, Vec<u8>); 7] = [
        ("iretq to ring 0", vec![0x6a, 0x18, 0x54, 0x9c, 0x6a, 0x10, 0x68, 0x00, 0x00, 0x40, 0x00, 0x48, 0xcf]),
        ("swapgs", vec![0x0f, 0x01, 0xf8]),
        ("mov %rax, %cr3", vec![0x0f, 0x22, 0xd8]),
        ("lgdt (%rax)", vec![0x0f, 0x01, 0x10]),
        ("int $0x0e", vec![0xcd, 0x0e]),
        ("int $8", vec![0xcd, 0x08]),
        ("ljmp to the kernel code segment", vec![0x48, 0xc7, 0xc0, 0x00, 0x00, 0x40, 0x00, 0x6a, 0x10, 0x50, 0x48, 0xff, 0x2c, 0x24]),
    ];
    for (name, code) in cases {
        let (ev, r) = fault_of(&e, &code);
        assert_eq!((ev.kind, ev.signo as i32), (EventKind::Fault, libc::SIGSEGV), "{name}");
        assert!(r[REG_RIP] >= CODE && r[REG_RIP] < CODE + 16, "{name}: rip {:#x}", r[REG_RIP]);
        assert_eq!(r[REG_CS], 0x33, "{name}");
    }
    // sysenter: #UD on AMD, #GP on Intel (no SYSENTER_CS): a signal either way.
    let (ev, _) = fault_of(&e, &[0x0f, 0x34]);
    assert_eq!(ev.kind, EventKind::Fault);
    assert!([libc::SIGILL, libc::SIGSEGV].contains(&(ev.signo as i32)), "sysenter: {ev:?}");
}

#[test]
fn avx_runs_in_ring3() {
    let Some(e) = env() else { return };
    // vpcmpeqd %ymm1, %ymm1, %ymm1 (all ones); vmovq %xmm1, %rdi; exit
    let code = [vec![0xc5, 0xf5, 0x76, 0xc9, 0xc4, 0xe1, 0xf9, 0x7e, 0xcf], sys(60)].concat();
    let (ev, r) = fault_of(&e, &code);
    assert_eq!(ev.kind, EventKind::Syscall, "{ev:?}");
    assert_eq!(r[REG_RDI], u64::MAX);
}

#[test]
fn remapping_a_page_reaches_a_vcpu_that_is_running() {
    let Some(e) = env() else { return };
    // mov $DATA, %rbx; 1: mov (%rbx), %rax; cmp $2, %rax; jne 1b; mov %rax, %rdi; exit
    let code = [MOV_DATA_RBX.to_vec(), vec![0x48, 0x8b, 0x03, 0x48, 0x83, 0xf8, 0x02, 0x75, 0xf7], MOV_RAX_RDI.to_vec(), sys(60)].concat();
    let mut s = e.space(&code);
    s.map(DATA, 4096, e.page(&1u64.to_le_bytes()), PROT_READ).unwrap();
    let (c, mut r) = e.ctx(&*s);
    c.switch_to_user(&r);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!c.poll(), "the loop sees the first page");
    s.map(DATA, 4096, e.page(&2u64.to_le_bytes()), PROT_READ).unwrap();
    let start = Instant::now();
    while !c.poll() {
        assert!(start.elapsed() < Duration::from_secs(30), "the loop still reads the old page");
        std::thread::sleep(Duration::from_millis(1));
    }
    let ev = c.take(&mut r);
    assert_eq!((ev.kind, r[REG_RDI]), (EventKind::Syscall, 2));
}

#[test]
fn hostile_registers_from_the_sentry_never_reach_ring0() {
    let Some(e) = env() else { return };
    let s = e.space(&sys(39));
    // A forged sigreturn frame can hand the platform any registers: a kernel code selector,
    // IOPL 3, a non-canonical pc or FS base. Each run ends in an event, never in ring 0.
    let forged: [(&str, usize, u64); 5] = [
        ("kernel CS", REG_CS, 0x10),
        ("IOPL 3 and VM", REG_EFLAGS, 0x3202 | 0x20000),
        ("non-canonical rip", REG_RIP, 0x8000_0000_0000_0000),
        ("rip in the stub", REG_RIP, layout::CODE_VA + layout::SYSCALL_ENTRY),
        ("non-canonical FS base", REG_FS_BASE, 0x8000_0000_0000_0000),
    ];
    for (name, reg, value) in forged {
        let (c, mut r) = e.ctx(&*s);
        r[reg] = value;
        let ev = run(&*c, &mut r);
        match ev.kind {
            EventKind::Syscall => assert_eq!(r[REG_CS], 0x33, "{name}"),
            EventKind::Fault => assert!(r[REG_RIP] == value || r[REG_RIP] < (1 << 47), "{name}: {ev:?}"),
            EventKind::Dead => {}
            EventKind::Interrupt => panic!("{name}: {ev:?}"),
        }
        println!("{name}: {:?} signo {}", ev.kind, ev.signo);
        c.release();
    }
    // The platform still runs programs.
    let (c, mut r) = e.ctx(&*s);
    assert_eq!(run(&*c, &mut r).kind, EventKind::Syscall);
}

#[test]
fn back_to_back_exceptions_each_decode_their_own_frame() {
    let Some(e) = env() else { return };
    // ud2 (#UD, no error code); mov (%rbx) on an unmapped page (#PF, error code); int3 (#BP,
    // no error code, after the instruction); exit. One vCPU, each frame a different size below
    // RSP0: a frame taken for the wrong one (or an older one) would give the wrong rip or a
    // dead vCPU.
    let code = [vec![0x0f, 0x0b], MOV_DATA_RBX.to_vec(), vec![0x48, 0x8b, 0x03], vec![0xcc], sys(60)].concat();
    let s = e.space(&code);
    let (c, mut r) = e.ctx(&*s);
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.signo as i32, r[REG_RIP]), (EventKind::Fault, libc::SIGILL, CODE), "{ev:?}");
    assert_eq!(r[REG_RSP], STACK + 4096);
    r[REG_RIP] += 2;
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.signo as i32, ev.addr, r[REG_RIP]), (EventKind::Fault, libc::SIGSEGV, DATA, CODE + 9), "{ev:?}");
    assert_eq!(r[REG_RSP], STACK + 4096);
    r[REG_RIP] += 3;
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, ev.signo as i32, r[REG_RIP]), (EventKind::Fault, libc::SIGTRAP, CODE + 13), "{ev:?}");
    let ev = run(&*c, &mut r);
    assert_eq!((ev.kind, r[REG_ORIG_RAX]), (EventKind::Syscall, 60));
    c.release();
}

/// A program whose pages lie in more 2 MiB chunks than there are slots, its code in one more:
/// every first touch is a memslot miss (an AVX store the emulator cannot do, a plain store,
/// loads, and the code fetch itself), chunks are evicted and come back, and the results are
/// exactly what the program wrote.
fn run_spread_program(cfg: tsvisor_kvm::SlotConfig) -> Option<(KvmPlatform, Arc<MemoryFile>)> {
    if let Err(why) = tsvisor_kvm::probe() {
        let _ = writeln!(
            std::io::stderr(),
            "kvm test skipped: no usable /dev/kvm ({why})"
        );
        return None;
    }
    const PAGES: u64 = 32;
    const CHUNK_PAGES: u64 = 512;
    let mf = Arc::new(MemoryFile::with_size(256 << 20).unwrap());
    let p = KvmPlatform::with_slots(mf.clone(), cfg).expect("KVM platform");
    // Far from the low chunks the tables and the stub sit in.
    let block = mf.allocate((PAGES + 2) * CHUNK_PAGES).unwrap();
    let base = (block / (2 << 20) + 1) * (2 << 20);
    let code_gpa = base + PAGES * CHUNK_PAGES * 4096;
    #[rustfmt::skip]
    let code: Vec<u8> = [
        &[0xc5, 0xfd, 0x76, 0xc0][..],              // vpcmpeqd %ymm0, %ymm0, %ymm0
        &MOV_DATA_RBX,
        &[0xb9, PAGES as u8, 0, 0, 0],              // mov $PAGES, %ecx
        &[0xc5, 0xfe, 0x7f, 0x43, 0x40],            // 1: vmovdqu %ymm0, 0x40(%rbx)
        &[0x48, 0x89, 0x0b],                        // mov %rcx, (%rbx)
        &[0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00], // add $4096, %rbx
        &[0xff, 0xc9, 0x75, 0xed],                  // dec %ecx; jnz 1b
        &MOV_DATA_RBX,
        &[0xb9, PAGES as u8, 0, 0, 0],              // mov $PAGES, %ecx
        &[0x31, 0xc0],                              // xor %eax, %eax
        &[0x48, 0x03, 0x03],                        // 2: add (%rbx), %rax
        &[0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00], // add $4096, %rbx
        &[0xff, 0xc9, 0x75, 0xf2],                  // dec %ecx; jnz 2b
        &MOV_RAX_RDI,
        &sys(39),
    ].concat();
    mf.write(code_gpa, &code).unwrap();
    let mut s = p.new_address_space().unwrap();
    s.map(CODE, 4096, code_gpa, PROT_READ | PROT_EXEC).unwrap();
    for i in 0..PAGES {
        s.map(
            DATA + i * 4096,
            4096,
            base + i * CHUNK_PAGES * 4096,
            PROT_READ | PROT_WRITE,
        )
        .unwrap();
    }
    let c = p.new_context(&*s).unwrap();
    let mut r = c.initial_regs();
    r[REG_RIP] = CODE;
    r[REG_RSP] = STACK + 4096;
    let ev = run(&*c, &mut r);
    assert_eq!(
        (ev.kind, r[REG_ORIG_RAX]),
        (EventKind::Syscall, 39),
        "{ev:?} at {:#x}",
        r[REG_RIP]
    );
    assert_eq!(
        r[REG_RDI],
        PAGES * (PAGES + 1) / 2,
        "the loads saw what the stores wrote"
    );
    for i in 0..PAGES {
        let mut b = [0u8; 0x60];
        mf.read(base + i * CHUNK_PAGES * 4096, &mut b).unwrap();
        assert_eq!(
            u64::from_le_bytes(b[..8].try_into().unwrap()),
            PAGES - i,
            "page {i}"
        );
        assert!(
            b[8..0x40].iter().all(|&x| x == 0) && b[0x40..].iter().all(|&x| x == 0xff),
            "page {i}: {b:x?}"
        );
    }
    c.release();
    s.release();
    Some((p, mf))
}

#[test]
fn lazy_memslots_serve_a_program_spread_over_more_chunks_than_slots() {
    let cfg = tsvisor_kvm::SlotConfig {
        lazy: true,
        chunk: 2 << 20,
        max_slots: 8,
    };
    let Some((p, _mf)) = run_spread_program(cfg) else {
        return;
    };
    let t = p.slots();
    if !t.is_lazy() {
        let _ = writeln!(
            std::io::stderr(),
            "lazy memslots not checked here: {}",
            t.mode
        );
        return;
    }
    // Each of the 32 data chunks missed at least twice (stored, evicted, loaded), the code's too.
    assert!(t.misses() >= 64, "{} misses ({})", t.misses(), t.mode);
    assert!(t.live() <= 8, "{} slots live", t.live());
}

#[test]
fn eager_memslots_run_the_same_program() {
    let cfg = tsvisor_kvm::SlotConfig {
        lazy: false,
        chunk: 2 << 20,
        max_slots: 8,
    };
    let Some((p, _mf)) = run_spread_program(cfg) else {
        return;
    };
    assert!(!p.slots().is_lazy());
    assert_eq!(
        (p.slots().misses(), p.slots().live()),
        (0, 1),
        "{}",
        p.slots().mode
    );
}
