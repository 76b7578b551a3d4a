//! Where an address space's life goes on systrap, step by step (µs per step, median of N):
//! stub spawn + handlers, mapping runs one by one, the first thread (clone + first trap),
//! and the teardown. `cargo run --release -p tsvisor-systrap --example lifecycle [N] [RUNS] [one|batch] [GAP_US]`.
use std::sync::Arc;
use std::time::Instant;

use tsvisor_memfile::MemoryFile;
use tsvisor_platform::*;
use tsvisor_systrap::SystrapPlatform;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let runs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let batched = args.next().is_some_and(|s| s == "batch");
    // Idle time between address spaces (a child running): what a spare is made in.
    let gap = std::time::Duration::from_micros(args.next().and_then(|s| s.parse().ok()).unwrap_or(0));
    let mf = Arc::new(MemoryFile::with_size(256 << 20).unwrap());
    let p = SystrapPlatform::new(mf.clone()).expect("systrap");
    let pages = mf.allocate(runs * 2).unwrap();
    let mut t: [Vec<f64>; 4] = Default::default();
    for _ in 0..n {
        std::thread::sleep(gap);
        let s = Instant::now();
        let ops = p.new_address_space().unwrap();
        let mut a = AddressSpace::new(mf.clone(), ops, p.min_user_address(), p.max_user_address());
        t[0].push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        // Runs that do not join: every other page; one by one, or as one batch (fork's way).
        if batched {
            a.begin_batch().unwrap();
        }
        for i in 0..runs {
            a.map(0x40_0000 + i * 0x2000, 0x1000, pages + i * 0x2000, PROT_READ | PROT_WRITE).unwrap();
        }
        if batched {
            a.end_batch().unwrap();
        }
        t[1].push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        let ctx = p.new_context(a.ops().unwrap()).unwrap();
        t[2].push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        ctx.release();
        drop(ctx);
        a.release();
        t[3].push(s.elapsed().as_secs_f64());
    }
    // Medians: a loaded host makes means swing.
    let us = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2] * 1e6
    };
    println!("spawn {:.0} µs  map×{runs} {:.0} µs  context {:.0} µs  release {:.0} µs", us(&mut t[0]), us(&mut t[1]), us(&mut t[2]), us(&mut t[3]));
}
