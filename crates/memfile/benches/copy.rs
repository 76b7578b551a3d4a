//! The memory-file copy path without Node: what copyIn/copyOut cost before the JS crossing.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tsvisor_memfile::MemoryFile;

fn copy(c: &mut Criterion) {
    let mf = MemoryFile::with_size(256 << 20).unwrap();
    let off = mf.allocate(256).unwrap();
    let mut g = c.benchmark_group("memfile");
    for size in [64usize, 4096, 1 << 20] {
        let mut buf = vec![7u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("write", size), &size, |b, _| b.iter(|| mf.write(off, &buf).unwrap()));
        g.bench_with_input(BenchmarkId::new("read", size), &size, |b, _| b.iter(|| mf.read(off, &mut buf).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, copy);
criterion_main!(benches);
