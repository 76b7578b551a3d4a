//! End-to-end tests of the systrap platform without Node: syscalls trap to the sentry side,
//! faults report address and access, interrupts stop a spinning thread, and code that jumps
//! onto the stub's own syscall instructions gets the stub process killed, not the host.

use std::sync::Arc;

use tsvisor_memfile::MemoryFile;
use tsvisor_platform::*;
use tsvisor_systrap::SystrapPlatform;

const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x60_0000;

fn setup() -> Option<(Arc<MemoryFile>, SystrapPlatform, AddressSpace)> {
    let mf = Arc::new(MemoryFile::with_size(64 << 20).unwrap());
    let p = match SystrapPlatform::new(mf.clone()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping: systrap unavailable here: {e}");
            return None;
        }
    };
    let ops = p.new_address_space().unwrap();
    let a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    Some((mf, p, a))
}

fn load_code(mf: &MemoryFile, a: &mut AddressSpace, code: &[u8]) {
    let off = mf.allocate(1).unwrap();
    mf.write(off, code).unwrap();
    a.map(CODE, 0x1000, off, PROT_READ | PROT_EXEC).unwrap();
    mf.dec_ref(off, 0x1000).unwrap();
}

/// movabs addr,%rbx; movq $value,(%rbx); mov $39,%eax; syscall
fn store_then_getppid(addr: u64, value: u8) -> Vec<u8> {
    let mut code = vec![0x48, 0xbb];
    code.extend_from_slice(&addr.to_le_bytes());
    code.extend_from_slice(&[0x48, 0xc7, 0x03, value, 0, 0, 0, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    code
}

fn run(ctx: &dyn Context, regs: &mut Regs) -> Event {
    ctx.switch_to_user(regs);
    let start = std::time::Instant::now();
    while !ctx.poll() {
        assert!(start.elapsed().as_secs() < 10, "run did not stop");
        std::thread::yield_now();
    }
    ctx.take(regs)
}

/// A context of `a` that ran one getppid (mov $39,%eax; syscall) and stopped on it; the
/// caller releases it (the stub-reuse tests).
fn released_after_one_getppid(mf: &MemoryFile, p: &SystrapPlatform, a: &mut AddressSpace) -> Box<dyn Context> {
    load_code(mf, a, &[0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*ctx, &mut regs).kind, EventKind::Syscall);
    ctx
}

#[test]
fn syscalls_trap_with_registers() {
    let Some((mf, p, mut a)) = setup() else { return };
    // mov $39,%eax; mov $7,%edi; syscall; mov %rax,%rbx; mov $60,%eax; syscall
    load_code(&mf, &mut a, &[0xb8, 39, 0, 0, 0, 0xbf, 7, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc3, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    regs[REG_FS_BASE] = 0x1234_5000;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(regs[REG_ORIG_RAX], 39);
    assert_eq!(regs[REG_RDI], 7);
    assert_eq!(regs[REG_RIP], CODE + 12);
    assert_eq!(regs[REG_FS_BASE], 0x1234_5000, "fs base round-trips");
    regs[REG_RAX] = 4242;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    assert_eq!(regs[REG_ORIG_RAX], 60);
    assert_eq!(regs[5], 4242, "rbx got the result we returned");
    assert!(!ctx.fp_state().unwrap().is_empty());
    ctx.release();
}

#[test]
fn faults_report_address_and_write_access() {
    let Some((mf, p, mut a)) = setup() else { return };
    load_code(&mf, &mut a, &store_then_getppid(DATA, 5));
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Fault);
    assert_eq!((ev.signo, ev.addr, ev.access), (libc::SIGSEGV as u64, DATA, ACCESS_WRITE));
    let off = mf.allocate(1).unwrap();
    a.map(DATA, 0x1000, off, PROT_READ | PROT_WRITE).unwrap();
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    let mut b = [0u8; 8];
    mf.read(off, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 5);
    ctx.release();
}

#[test]
fn interrupt_stops_a_spinning_thread() {
    let Some((mf, p, mut a)) = setup() else { return };
    load_code(&mf, &mut a, &[0xeb, 0xfe]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    ctx.switch_to_user(&regs);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!ctx.poll());
    ctx.interrupt();
    let start = std::time::Instant::now();
    while !ctx.poll() {
        assert!(start.elapsed().as_secs() < 5);
        std::thread::yield_now();
    }
    assert_eq!(ctx.take(&mut regs).kind, EventKind::Interrupt);
    assert_eq!(regs[REG_RIP], CODE);
    ctx.release();
}

#[test]
fn jumping_onto_a_stub_syscall_kills_the_stub_not_the_host() {
    let Some((mf, p, mut a)) = setup() else { return };
    let path = std::env::temp_dir().join(format!("tsvisor-hostile-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // Put the path in data, then: open(path, O_CREAT|O_WRONLY, 0644) by jumping to the
    // syscall instruction of the stub's syscall gadget.
    let doff = mf.allocate(1).unwrap();
    mf.write(doff, cpath.as_bytes_with_nul()).unwrap();
    a.map(DATA, 0x1000, doff, PROT_READ).unwrap();
    let gadget = tsvisor_ptrace::stub_image().entry + 0x10;
    let mut code = vec![0xb8, 2, 0, 0, 0]; // mov $2,%eax (open)
    code.extend_from_slice(&[0x48, 0xbf]);
    code.extend_from_slice(&DATA.to_le_bytes()); // movabs DATA,%rdi
    code.extend_from_slice(&[0xbe, 0x41, 0, 0, 0]); // mov $O_CREAT|O_WRONLY,%esi
    code.extend_from_slice(&[0xba, 0xa4, 1, 0, 0]); // mov $0644,%edx
    code.extend_from_slice(&[0x48, 0xb9]);
    code.extend_from_slice(&gadget.to_le_bytes()); // movabs gadget,%rcx
    code.extend_from_slice(&[0xff, 0xe1]); // jmp *%rcx
    load_code(&mf, &mut a, &code);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    ctx.switch_to_user(&regs);
    assert!(!ctx.park() || true);
    let start = std::time::Instant::now();
    while !ctx.poll() {
        assert!(start.elapsed().as_secs() < 5, "the stub must die");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(ctx.take(&mut regs).kind, EventKind::Dead);
    assert!(!path.exists(), "the host file must not have been created");
}

/// The batch table after the stub's control page (crates/systrap/src/batch.rs).
const BATCH_TABLE: u64 = 0x7fff_0010_1000;

#[test]
fn a_batch_applies_in_order_and_stops_at_the_first_failure() {
    let Some((mf, p, _a)) = setup() else { return };
    let mut ops = p.new_address_space().unwrap();
    // movabs DATA,%rbx; mov (%rbx),%rax; mov $39,%eax; syscall
    let mut code = vec![0x48, 0xbb];
    code.extend_from_slice(&DATA.to_le_bytes());
    code.extend_from_slice(&[0x48, 0x8b, 0x03, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let (text, data) = (mf.allocate(1).unwrap(), mf.allocate(1).unwrap());
    mf.write(text, &code).unwrap();
    ops.begin_batch();
    ops.begin_batch();
    ops.map(CODE, 0x1000, text, PROT_READ | PROT_EXEC).unwrap();
    assert!(ops.end_batch().is_ok(), "an inner end applies nothing yet");
    // The host refuses an unaligned address: the batch stops there, DATA is never mapped.
    ops.map(DATA + 1, 0x1000, data, PROT_READ).unwrap();
    ops.map(DATA, 0x1000, data, PROT_READ).unwrap();
    assert_eq!(ops.end_batch().unwrap_err().raw_os_error(), Some(libc::EINVAL));
    let ctx = p.new_context(&*ops).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Fault, "the code before the failure was mapped and ran");
    assert_eq!((ev.signo, ev.addr), (libc::SIGSEGV as u64, DATA));
    // Once it ends, a batch leaves nothing queued: a map now is a map at once.
    ops.map(DATA, 0x1000, data, PROT_READ).unwrap();
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Syscall);
    ctx.release();
    ops.release();
}

#[test]
fn the_application_cannot_write_the_batch_table() {
    let Some((mf, p, mut a)) = setup() else { return };
    // A forged mmap entry.
    load_code(&mf, &mut a, &store_then_getppid(BATCH_TABLE, 9));
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    let ev = run(&*ctx, &mut regs);
    assert_eq!(ev.kind, EventKind::Fault);
    assert_eq!((ev.signo, ev.addr, ev.access), (libc::SIGSEGV as u64, BATCH_TABLE, ACCESS_WRITE));
    // And the next batch still does what the sentry asked.
    let off = mf.allocate(1).unwrap();
    a.begin_batch().unwrap();
    a.map(DATA, 0x1000, off, PROT_READ).unwrap();
    a.end_batch().unwrap();
    assert_eq!(a.lookup(DATA), Some((off, PROT_READ)));
    ctx.release();
}

#[test]
fn a_released_thread_is_reused_by_the_next_context_with_new_registers() {
    let Some((mf, p, mut a)) = setup() else { return };
    // mov $39,%eax; syscall; mov %rdi,%rbx; mov $60,%eax; syscall
    load_code(&mf, &mut a, &[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xfb, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]);
    let first = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = first.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*first, &mut regs).kind, EventKind::Syscall);
    let host = first.host_thread();
    first.release();
    // Its thread stopped at the sentry: the next context takes it, with the next task's state.
    let second = p.new_context(a.ops().unwrap()).unwrap();
    assert_eq!(second.host_thread(), host, "the stopped thread is reused");
    let mut regs = second.initial_regs();
    assert_eq!(regs[REG_RIP], 0, "a fresh context's registers, not the old task's");
    regs[REG_RIP] = CODE + 7;
    regs[REG_RDI] = 77;
    let ev = run(&*second, &mut regs);
    assert_eq!((ev.kind, regs[REG_ORIG_RAX], regs[REG_RBX]), (EventKind::Syscall, 60, 77));
    second.release();
}

#[test]
fn a_parked_thread_whose_message_was_forged_is_not_reused() {
    let Some((mf, p, mut a)) = setup() else { return };
    // mov $39,%eax; syscall  — then, at CODE+7, another thread's forgery:
    // movabs $SLOT0,%rbx; movl $5,(%rbx) (a state no stub writes); mov $39,%eax; syscall
    let mut code = vec![0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0xbb];
    code.extend_from_slice(&0x7fff_0020_0000u64.to_le_bytes());
    code.extend_from_slice(&[0xc7, 0x03, 5, 0, 0, 0, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    load_code(&mf, &mut a, &code);
    let parked = p.new_context(a.ops().unwrap()).unwrap();
    let forger = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = parked.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*parked, &mut regs).kind, EventKind::Syscall);
    let host = parked.host_thread();
    parked.release();
    let mut regs = forger.initial_regs();
    regs[REG_RIP] = CODE + 7;
    assert_eq!(run(&*forger, &mut regs).kind, EventKind::Syscall);
    // Slot 0's thread is no longer stopped where it parked: the next context is a new thread.
    let next = p.new_context(a.ops().unwrap()).unwrap();
    assert_ne!(next.host_thread(), host);
    let mut regs = next.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*next, &mut regs).kind, EventKind::Syscall);
    next.release();
    forger.release();
}

#[test]
fn teardown_gives_the_pages_back_once_the_stub_is_gone() {
    let Some((mf, p, mut a)) = setup() else { return };
    let ctx = released_after_one_getppid(&mf, &p, &mut a);
    let (tgid, _) = ctx.host_thread().unwrap();
    ctx.release();
    drop(ctx);
    assert!(mf.allocated_bytes() > 0);
    // The stub is kept for a next process (recycle.rs), with its own pages (slots, control
    // pages): they come back once the platform lets it go and the host has torn it down.
    a.release();
    // SAFETY: signal 0 only checks existence.
    assert!(unsafe { libc::kill(tgid, 0) } == 0, "the stub was not kept");
    // release() returns before the host has torn the stub down; the pages come back after.
    drop(p);
    let start = std::time::Instant::now();
    while mf.allocated_bytes() != 0 {
        assert!(start.elapsed().as_secs() < 10, "{} bytes never came back", mf.allocated_bytes());
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // SAFETY: signal 0 only checks existence.
    let alive = unsafe { libc::kill(tgid, 0) } == 0;
    assert!(!alive, "the pages came back while the stub was still there");
}

#[test]
fn a_released_address_space_s_stub_serves_the_next_one_with_a_fresh_thread() {
    let Some((mf, p, mut a)) = setup() else { return };
    let ctx = released_after_one_getppid(&mf, &p, &mut a);
    let old = ctx.host_thread().unwrap();
    ctx.release();
    drop(ctx);
    a.release();
    // The same stub (recycle.rs), emptied: the old code is gone (a fault at CODE), and the
    // first thread is a new one.
    let ops = p.new_address_space().unwrap();
    let mut b = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    let ctx = p.new_context(b.ops().unwrap()).unwrap();
    let (tgid, tid) = ctx.host_thread().unwrap();
    assert_eq!(tgid, old.0, "the stub was not reused");
    assert_ne!(tid, old.1, "the old thread was kept");
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*ctx, &mut regs).kind, EventKind::Fault, "the old mapping is still there");
    ctx.release();
    drop(ctx);
    load_code(&mf, &mut b, &[0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(b.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    assert_eq!(run(&*ctx, &mut regs).kind, EventKind::Syscall);
    ctx.release();
    b.release();
}

/// A new address space's first thread runs `getppid` (39) with `tag` in rdi and stops there.
fn first_thread_runs(mf: &Arc<MemoryFile>, p: &SystrapPlatform, tag: u64) {
    let ops = p.new_address_space().unwrap();
    let mut a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    load_code(mf, &mut a, &[0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = CODE;
    regs[REG_RDI] = tag;
    let ev = run(&*ctx, &mut regs);
    assert_eq!((ev.kind, regs[REG_ORIG_RAX], regs[REG_RDI]), (EventKind::Syscall, 39, tag));
    ctx.release();
    a.release();
}

#[test]
fn address_spaces_from_spares_run_their_first_thread() {
    let Some((mf, p, _a)) = setup() else { return };
    // From the second address space on, the platform keeps spares (made on its own thread,
    // adopted by this one): each must run code on its first context like a new one.
    for i in 0..6 {
        first_thread_runs(&mf, &p, i);
        // Time for the next spare to be made.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn parked_runs_are_reported_by_pooled_waiters_and_a_parked_context_is_let_go() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let Some((mf, p, mut a)) = setup() else { return };
    // jmp . at CODE; mov $39,%eax; syscall at CODE+2
    load_code(&mf, &mut a, &[0xeb, 0xfe, 0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    let wait_for = |n: &AtomicUsize, want: usize| {
        let start = Instant::now();
        while n.load(Ordering::SeqCst) < want {
            assert!(start.elapsed() < Duration::from_secs(10), "a parked run's stop was not reported");
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    // Several contexts one after the other, each parking runs: a waiter thread, taken from the
    // pool after the first, reports each stop once.
    for round in 0..4 {
        let ctx = p.new_context(a.ops().unwrap()).unwrap();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        ctx.set_waker(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }));
        let mut regs = ctx.initial_regs();
        for i in 0..3 {
            regs[REG_RIP] = CODE + 2;
            regs[REG_RDI] = round * 10 + i;
            ctx.switch_to_user(&regs);
            if ctx.park() {
                wait_for(&woken, i as usize + 1);
            } else {
                woken.fetch_add(1, Ordering::SeqCst); // stopped before it could be parked
            }
            assert_eq!(ctx.take(&mut regs).kind, EventKind::Syscall);
            assert_eq!((regs[REG_ORIG_RAX], regs[REG_RDI]), (39, round * 10 + i));
        }
        // A run that never stops, parked, then the context released: release returns (its
        // waiter is told to let go) and nothing is reported for it.
        regs[REG_RIP] = CODE;
        ctx.switch_to_user(&regs);
        assert!(ctx.park(), "a spinning run cannot have stopped");
        std::thread::sleep(Duration::from_millis(5));
        let start = Instant::now();
        ctx.release();
        assert!(start.elapsed() < Duration::from_secs(2), "release waited too long for the waiter");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(woken.load(Ordering::SeqCst), 3, "no report for a released context");
    }
}

#[test]
fn address_spaces_asked_for_back_to_back_wait_for_the_spare_being_made() {
    let Some((mf, p, _a)) = setup() else { return };
    // No pause between them: most find the spare still being made and wait for it (or, past
    // the wait's bound, make their own); either way each runs its first thread.
    for i in 0..8 {
        first_thread_runs(&mf, &p, 100 + i);
    }
}

#[test]
fn a_spare_seized_by_one_thread_is_never_used_from_another() {
    let Some((mf, p, _a)) = setup() else { return };
    // Taking a spare seizes the next one for the taking thread (it alone can trace it): when
    // another thread asks next, that one is let go and the other thread still gets an address
    // space it can run.
    let p = Arc::new(p);
    for i in 0..6 {
        if i % 2 == 0 {
            first_thread_runs(&mf, &p, 200 + i);
        } else {
            let (mf, p) = (mf.clone(), p.clone());
            std::thread::spawn(move || first_thread_runs(&mf, &p, 200 + i)).join().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
