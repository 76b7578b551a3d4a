//! gpa <-> hva through the vm-memory region, and the memslot bookkeeping of a miss with
//! eviction: pure host code, no /dev/kvm, so it runs everywhere (`cargo bench -p tsvisor-kvm
//! --bench translate`). Figures depend on the host's load: compare runs made together.

use std::hint::black_box;
use std::time::Instant;

use tsvisor_kvm::{GuestMemory, Memslots};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2_000_000);
    let size = 1u64 << 30;
    let mem = GuestMemory::anonymous(size).unwrap();
    let base = mem.hva_base();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let t = Instant::now();
    let mut sum = 0u64;
    for _ in 0..n {
        sum = sum.wrapping_add(mem.hva(next() % (size - 8), 8).unwrap());
    }
    black_box(sum);
    println!("gpa -> hva: {:.1} ns", t.elapsed().as_nanos() as f64 / n as f64);
    let t = Instant::now();
    for _ in 0..n {
        sum = sum.wrapping_add(mem.gpa(base + next() % (size - 8), 8).unwrap());
    }
    black_box(sum);
    println!("hva -> gpa: {:.1} ns", t.elapsed().as_nanos() as f64 / n as f64);
    // Every miss past the first 64 evicts: the worst case of the bookkeeping.
    let mut slots = Memslots::new(1 << 40, 0, 2 << 20, 64);
    let t = Instant::now();
    for _ in 0..n / 10 {
        black_box(slots.on_miss(next() % (1 << 40)).unwrap());
    }
    println!("memslot miss with eviction (bookkeeping only): {:.1} ns", t.elapsed().as_nanos() as f64 / (n / 10) as f64);
}
