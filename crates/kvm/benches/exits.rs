//! What a VM exit costs through the platform interface, without Node: a ring-3 getppid
//! round trip (exit, decode, resume) and a page fault served by mapping the page (exit,
//! map with its TLB shootdown, resume). Prints "skipped" where /dev/kvm is unusable. Under
//! the QEMU guest of shared/kvm (TSVISOR_KVM_GUEST=1) the figures are functional only: the
//! exits there are emulated and cost 10-40x what they do on hardware.

use std::sync::Arc;
use std::time::Instant;

use tsvisor_kvm::KvmPlatform;
use tsvisor_memfile::MemoryFile;
use tsvisor_platform::*;

fn run(ctx: &dyn Context, regs: &mut Regs) -> Event {
    ctx.switch_to_user(regs);
    // Yield rather than spin: in a guest with one or two (emulated) CPUs a spinning waiter
    // keeps the vCPU thread from running.
    while !ctx.poll() {
        std::thread::yield_now();
    }
    ctx.take(regs)
}

fn main() {
    if let Err(why) = tsvisor_kvm::probe() {
        println!("skipped: no usable /dev/kvm ({why})");
        return;
    }
    let label = if std::env::var_os("TSVISOR_KVM_GUEST").is_some() { " (nested QEMU TCG guest: functional only)" } else { "" };
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mf = Arc::new(MemoryFile::with_size(1 << 30).unwrap());
    let p = KvmPlatform::new(mf.clone()).unwrap();
    let ops = p.new_address_space().unwrap();
    let mut a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    let code = mf.allocate(1).unwrap();
    // 1: mov $110, %eax; syscall; mov (%rbx), %rax; add $4096, %rbx; jmp 1b
    let prog = [0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0x48, 0x8b, 0x03, 0x48, 0x81, 0xc3, 0x00, 0x10, 0, 0, 0xeb, 0xed];
    mf.write(code, &prog).unwrap();
    a.map(0x400000, 0x1000, code, PROT_READ | PROT_EXEC).unwrap();
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = 0x400000;
    regs[5] = 0x1000_0000; // rbx: the pages the loop touches, one per iteration
    let data = mf.allocate(n + 1).unwrap();
    let (mut sys_ns, mut fault_ns) = (0u128, 0u128);
    for i in 0..n {
        let t = Instant::now();
        let ev = run(&*ctx, &mut regs);
        sys_ns += t.elapsed().as_nanos();
        assert_eq!(ev.kind, EventKind::Syscall);
        let t = Instant::now();
        let ev = run(&*ctx, &mut regs);
        assert_eq!((ev.kind, ev.addr), (EventKind::Fault, 0x1000_0000 + i * 4096));
        a.map(ev.addr, 4096, data + i * 4096, PROT_READ).unwrap();
        fault_ns += t.elapsed().as_nanos();
    }
    println!("kvm syscall round trip: {:.1} us{label}", sys_ns as f64 / n as f64 / 1000.0);
    println!("kvm page fault + map + resume: {:.1} us{label}", fault_ns as f64 / n as f64 / 1000.0);
}
