//! cargo bench -p tsvisor-pagetables: map/protect/unmap and lookup costs, per page.

use std::time::Instant;
use tsvisor_pagetables::*;

fn per_op(label: &str, n: u64, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("{label:40} {ns:8.1} ns");
}

fn main() {
    let mut f = VecFrames::new(0, 1 << 20);
    let mut pt = PageTables::new(&mut f, None).unwrap();
    let pages = 1u64 << 16; // 256 MiB
    let base = 0x10_0000_0000;
    per_op("map 4 KiB pages (256 MiB, misaligned pa), per page", pages, || {
        pt.map(&mut f, base, pages * PAGE_SIZE, 0x1000, Prot::RW).unwrap();
    });
    let mut sink = 0u64;
    per_op("lookup, per call", pages, || {
        for i in 0..pages {
            sink ^= pt.lookup(&f, base + i * PAGE_SIZE).unwrap().pa;
        }
    });
    per_op("walk, per call", pages, || {
        for i in 0..pages {
            sink ^= pt.walk(&f, base + i * PAGE_SIZE).entries[3];
        }
    });
    per_op("protect, per page", pages, || {
        pt.protect(&mut f, base, pages * PAGE_SIZE, Prot::R).unwrap();
    });
    per_op("unmap, per page", pages, || {
        pt.unmap(&mut f, base, pages * PAGE_SIZE).unwrap();
    });
    per_op("map 2 MiB leaves (256 MiB), per 4 KiB page", pages, || {
        pt.map(&mut f, base, pages * PAGE_SIZE, 0, Prot::RW).unwrap();
    });
    per_op("map+unmap one 4 KiB page, per pair", 100_000, || {
        for i in 0..100_000u64 {
            let va = 0x4000_0000 + (i % 64) * PAGE_SIZE;
            pt.map(&mut f, va, PAGE_SIZE, i * PAGE_SIZE, Prot::RW).unwrap();
            pt.unmap(&mut f, va, PAGE_SIZE).unwrap();
        }
    });
    println!("(checksum {sink:x})");
}
