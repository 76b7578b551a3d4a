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
