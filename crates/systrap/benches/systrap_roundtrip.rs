//! The systrap platform's syscall round trip without Node (compare with the ptrace crate's
//! bench and with getppid under `npm run bench` to see the crossing into JS).
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use tsvisor_memfile::MemoryFile;
use tsvisor_platform::*;
use tsvisor_systrap::SystrapPlatform;

fn roundtrip(c: &mut Criterion) {
    let mf = Arc::new(MemoryFile::with_size(16 << 20).unwrap());
    let Ok(p) = SystrapPlatform::new(mf.clone()) else {
        eprintln!("systrap unavailable: skipping");
        return;
    };
    let ops = p.new_address_space().unwrap();
    let mut a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
    let off = mf.allocate(1).unwrap();
    mf.write(off, &[0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7]).unwrap();
    a.map(0x400000, 0x1000, off, PROT_READ | PROT_EXEC).unwrap();
    let ctx = p.new_context(a.ops().unwrap()).unwrap();
    let mut regs = ctx.initial_regs();
    regs[REG_RIP] = 0x400000;
    c.bench_function("systrap_syscall_roundtrip", |b| {
        b.iter(|| {
            ctx.switch_to_user(&regs);
            while !ctx.poll() {
                std::hint::spin_loop();
            }
            ctx.take(&mut regs);
            regs[REG_RAX] = 1;
        })
    });
    ctx.release();
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
