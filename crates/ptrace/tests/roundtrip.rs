//! End-to-end tests of the ptrace platform without Node: map memory into a stub, run
//! machine code in it, and see syscalls and faults come back with the right registers.

use std::sync::Arc;

use tsvisor_memfile::MemoryFile;
use tsvisor_platform::*;
use tsvisor_ptrace::PtracePlatform;

const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x60_0000;

fn setup() -> (Arc<MemoryFile>, PtracePlatform, AddressSpace) {
    let mf = Arc::new(MemoryFile::with_size(64 << 20).unwrap());
    let p = PtracePlatform::new(mf.clone()).unwrap();
    let ops = p.new_address_space().expect("ptrace must be permitted to run these tests");
    let a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    (mf, p, a)
}

fn load_code(mf: &MemoryFile, a: &mut AddressSpace, code: &[u8]) {
    let off = mf.allocate(1).unwrap();
    mf.write(off, code).unwrap();
    a.map(CODE, 0x1000, off, PROT_READ | PROT_EXEC).unwrap();
    mf.dec_ref(off, 0x1000).unwrap();
}

fn run(ctx: &dyn Context, regs: &mut Regs) -> Event {
    ctx.switch_to_user(regs);
    while !ctx.poll() {
        std::thread::yield_now();
    }
    ctx.take(regs)
}

#[test]
fn syscalls_are_trapped_not_executed() {
    let (mf, p, mut a) = setup();
    // mov $39,%eax (getpid); syscall; mov $60,%eax; syscall
    load_code(&mf, &mut a, &[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(regs[REG_ORIG_RAX], 39);
    assert_eq!(regs[REG_RIP], CODE + 7);
    regs[REG_RAX] = 12345;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(regs[REG_ORIG_RAX], 60, "exit was trapped too: the stub is still alive");
    ctx.release();
}

#[test]
fn faults_report_the_address_and_resume_after_mapping() {
    let (mf, p, mut a) = setup();
    // mov (DATA),%rax ; mov $39,%eax? no: movabs DATA,%rbx; mov (%rbx),%rax; syscall
    let mut code = vec![0x48, 0xbb];
    code.extend_from_slice(&DATA.to_le_bytes());
    code.extend_from_slice(&[0x48, 0x8b, 0x03, 0x0f, 0x05]);
    load_code(&mf, &mut a, &code);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Fault);
    assert_eq!(ev.signo, libc::SIGSEGV as u64);
    assert_eq!(ev.addr, DATA);
    let off = mf.allocate(1).unwrap();
    mf.write(off, &0xdead_beef_u64.to_le_bytes()).unwrap();
    a.map(DATA, 0x1000, off, PROT_READ).unwrap();
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(regs[REG_ORIG_RAX], 0xdead_beef, "the load saw memory-file contents");
    ctx.release();
}

#[test]
fn interrupt_stops_a_spinning_task() {
    let (mf, p, mut a) = setup();
    load_code(&mf, &mut a, &[0xeb, 0xfe]); // jmp .
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    ctx.switch_to_user(&regs);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!ctx.poll());
    ctx.interrupt();
    while !ctx.poll() {
        std::thread::yield_now();
    }
    assert_eq!(ctx.take(&mut regs).kind, EventKind::Interrupt);
    assert_eq!(regs[REG_RIP], CODE);
    assert!(!ctx.fp_state().unwrap().is_empty());
    ctx.release();
}

#[test]
fn each_syscall_reports_the_abi_it_was_made_through() {
    let (mf, p, mut a) = setup();
    // mov $20,%eax; int $0x80; mov $39,%eax; syscall
    load_code(&mf, &mut a, &[0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, SYSCALL_ABI_I386));
    assert_eq!(regs[REG_ORIG_RAX], 20);
    assert_eq!(regs[REG_RIP], CODE + 7);
    regs[REG_RAX] = 1;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, 0));
    assert_eq!(regs[REG_ORIG_RAX], 39);
    ctx.release();
}

#[test]
fn vsyscall_calls_stop_as_syscalls_returning_to_the_caller() {
    let (mf, p, mut a) = setup();
    let stack = mf.allocate(1).unwrap();
    a.map(DATA, 0x1000, stack, PROT_READ | PROT_WRITE).unwrap();
    // movabs $0xffffffffff600800,%rax; call *%rax; int3   (getcpu)
    let mut code = vec![0x48, 0xb8];
    code.extend_from_slice(&0xffff_ffff_ff60_0800u64.to_le_bytes());
    code.extend_from_slice(&[0xff, 0xd0, 0xcc]);
    load_code(&mf, &mut a, &code);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    regs[REG_RSP] = DATA + 0x800;
    regs[REG_RDI] = 0;
    regs[REG_RSI] = 0;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, 0), "{ev:?}");
    assert_eq!(regs[REG_ORIG_RAX], libc::SYS_getcpu as u64);
    assert_eq!(regs[REG_RIP], CODE + 12, "the vsyscall returned to its caller");
    assert_eq!(regs[REG_RSP], DATA + 0x800);
    regs[REG_RAX] = 7;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, ev.signo), (EventKind::Fault, libc::SIGTRAP as u64));
    assert_eq!(regs[REG_RAX], 7);
    ctx.release();
}

#[test]
fn running_stub_code_faults_like_unmapped_memory() {
    let (mf, p, mut a) = setup();
    load_code(&mf, &mut a, &[0xeb, 0xfe]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    let gadget = tsvisor_ptrace::stub_image().entry + 0x10;
    regs[REG_RIP] = gadget;
    regs[REG_RAX] = 39;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, ev.signo, ev.addr), (EventKind::Fault, libc::SIGSEGV as u64, gadget), "{ev:?}");
    assert_eq!((regs[REG_RIP], regs[REG_RAX]), (gadget, 39));
    ctx.release();
}

#[test]
fn releasing_a_thread_left_in_32_bit_mode_ends_it_alone() {
    let (mf, p, mut a) = setup();
    // ud2; mov $39,%eax; syscall
    load_code(&mf, &mut a, &[0x0f, 0x0b, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let other = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    regs[REG_CS] = 0x23;
    regs[REG_EFLAGS] |= 0x100;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Fault, "{ev:?}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        ctx.release();
        let _ = tx.send(());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10)).expect("release did not end");
    // The thread exited by itself: the stub process, and its other threads, live on.
    let mut regs = other.initial_regs();
    regs[REG_RIP] = CODE + 2;
    let ev = run(&*other, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall, "{ev:?}");
    assert_eq!(regs[REG_ORIG_RAX], 39);
    other.release();
}

#[test]
fn an_int80_dressed_as_syscall_is_still_i386() {
    let (mf, p, mut a) = setup();
    // lea 1f(%rip),%rcx; pushf; pop %r11; mov $20,%eax; int $0x80; 1:
    load_code(&mf, &mut a, &[0x48, 0x8d, 0x0d, 0x0a, 0, 0, 0, 0x9c, 0x41, 0x5b, 0xb8, 20, 0, 0, 0, 0xcd, 0x80]);
    let stack = mf.allocate(1).unwrap();
    a.map(DATA, 0x1000, stack, PROT_READ | PROT_WRITE).unwrap();
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    regs[REG_RSP] = DATA + 0x800;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((regs[REG_RCX], regs[6]), (regs[REG_RIP], regs[REG_EFLAGS]), "the disguise");
    assert_eq!((ev.kind, ev.code), (EventKind::Syscall, SYSCALL_ABI_I386));
    ctx.release();
}
