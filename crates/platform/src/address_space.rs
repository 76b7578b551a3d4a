//! AddressSpace: the mapping table of one application address space joined to the platform
//! that realises it. Every change goes to the platform and to the table together, and the
//! table holds one memory-file reference per mapped page. The sentry copies application
//! memory through the table and its own mapping of the memory file (no process_vm_readv).

use std::io;
use std::sync::Arc;

use tsvisor_memfile::{MemoryFile, PAGE_SIZE};

use crate::pma::{Pma, PmaTable};
use crate::{AddressSpaceOps, PROT_READ, PROT_WRITE};

pub struct AddressSpace {
    table: PmaTable,
    mf: Arc<MemoryFile>,
    ops: Option<Box<dyn AddressSpaceOps>>,
    min: u64,
    max: u64,
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl AddressSpace {
    pub fn new(mf: Arc<MemoryFile>, ops: Box<dyn AddressSpaceOps>, min: u64, max: u64) -> AddressSpace {
        AddressSpace { table: PmaTable::new(), mf, ops: Some(ops), min, max }
    }

    pub fn ops(&self) -> io::Result<&dyn AddressSpaceOps> {
        self.ops.as_deref().ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))
    }

    fn ops_mut(&mut self) -> io::Result<&mut Box<dyn AddressSpaceOps>> {
        self.ops.as_mut().ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))
    }

    fn check_range(&self, addr: u64, len: u64) -> io::Result<u64> {
        let end = addr.checked_add(len).ok_or_else(einval)?;
        if addr % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 || len == 0 || addr < self.min || end > self.max {
            return Err(einval());
        }
        Ok(end)
    }

    fn drop_refs(&self, removed: &[(u64, Pma)]) {
        for (s, p) in removed {
            let _ = self.mf.dec_ref(p.file_offset, p.end - s);
        }
    }

    pub fn map(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()> {
        let end = self.check_range(addr, len)?;
        self.mf.inc_ref(file_offset, len)?;
        if let Err(e) = self.ops_mut()?.map(addr, len, file_offset, prot) {
            let _ = self.mf.dec_ref(file_offset, len);
            return Err(e);
        }
        let removed = self.table.remove(addr, end);
        self.drop_refs(&removed);
        self.table.insert(addr, Pma { end, file_offset, prot });
        Ok(())
    }

    pub fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()> {
        let end = self.check_range(addr, len)?;
        self.ops_mut()?.unmap(addr, len)?;
        let removed = self.table.remove(addr, end);
        self.drop_refs(&removed);
        Ok(())
    }

    pub fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()> {
        let end = self.check_range(addr, len)?;
        let changed = self.table.protect(addr, end, prot);
        let ops = self.ops_mut()?;
        // Coalesce adjacent pieces so the platform sees one call per contiguous run.
        let mut run: Option<(u64, u64)> = None;
        for (s, e) in changed {
            run = match run {
                Some((rs, re)) if re == s => Some((rs, e)),
                Some((rs, re)) => {
                    ops.protect(rs, re - rs, prot)?;
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((rs, re)) = run {
            ops.protect(rs, re - rs, prot)?;
        }
        Ok(())
    }

    /// Memory-file offset and protection of the page holding addr.
    pub fn lookup(&self, addr: u64) -> Option<(u64, u32)> {
        self.table.find(addr).map(|(s, p)| (p.file_offset + (addr - s), p.prot))
    }

    /// The mapped pieces of [addr, addr+len) as (start, length, file_offset, prot), adjacent
    /// pieces with contiguous file offsets and equal protections joined into one run.
    pub fn mapped_runs(&self, addr: u64, len: u64) -> Vec<(u64, u64, u64, u32)> {
        let end = addr.saturating_add(len);
        let mut runs: Vec<(u64, u64, u64, u32)> = Vec::new();
        // A pma straddling addr starts before it.
        let first = self.table.find(addr).map_or(addr, |(s, _)| s);
        for (s, p) in self.table.range_from(first) {
            if s >= end {
                break;
            }
            let lo = s.max(addr);
            let hi = p.end.min(end);
            if lo >= hi {
                continue;
            }
            let off = p.file_offset + (lo - s);
            match runs.last_mut() {
                Some(r) if r.0 + r.1 == lo && r.2 + r.1 == off && r.3 == p.prot => r.1 += hi - lo,
                _ => runs.push((lo, hi - lo, off, p.prot)),
            }
        }
        runs
    }

    pub fn mapped_pmas(&self) -> usize {
        self.table.len()
    }

    /// Walks [addr, addr+len) through pieces mapped with `need`, calling f(file_offset,
    /// done, n) for each; stops at the first hole. Returns the bytes walked.
    fn walk(&self, addr: u64, len: usize, need: u32, mut f: impl FnMut(u64, usize, usize) -> io::Result<()>) -> usize {
        let mut done = 0usize;
        while done < len {
            let a = match addr.checked_add(done as u64) {
                Some(a) => a,
                None => break,
            };
            let Some((s, p)) = self.table.find(a) else { break };
            if p.prot & need != need {
                break;
            }
            let n = ((p.end - a) as usize).min(len - done);
            if f(p.file_offset + (a - s), done, n).is_err() {
                break;
            }
            done += n;
        }
        done
    }

    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> usize {
        let mf = &self.mf;
        let len = dst.len();
        self.walk(addr, len, PROT_READ, |off, done, n| mf.read(off, &mut dst[done..done + n]))
    }

    pub fn copy_out(&self, addr: u64, src: &[u8]) -> usize {
        let mf = &self.mf;
        self.walk(addr, src.len(), PROT_WRITE, |off, done, n| mf.write(off, &src[done..done + n]))
    }

    pub fn zero_out(&self, addr: u64, len: usize) -> usize {
        let mf = &self.mf;
        self.walk(addr, len, PROT_WRITE, |off, _, n| mf.zero(off, n))
    }

    /// Tears the address space down: the platform side first, then every page reference
    /// (the platform may defer those until its host side is gone).
    pub fn release(&mut self) {
        let removed = self.table.remove(0, u64::MAX);
        let refs: Vec<(u64, u64)> = removed.iter().map(|(s, p)| (p.file_offset, p.end - s)).collect();
        match self.ops.take() {
            Some(mut ops) => ops.release_then_drop(&self.mf, refs),
            None => self.drop_refs(&removed),
        }
    }
}

// Batches of mapping changes (fork): the table changes at once, the platform's side at
// end_batch, which the caller must reach before anything runs in the address space.
impl AddressSpace {
    pub fn begin_batch(&mut self) -> io::Result<()> {
        self.ops_mut()?.begin_batch();
        Ok(())
    }

    pub fn end_batch(&mut self) -> io::Result<()> {
        self.ops_mut()?.end_batch()
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::any::Any;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);
    impl AddressSpaceOps for Recorder {
        fn map(&mut self, a: u64, l: u64, o: u64, p: u32) -> io::Result<()> {
            self.0.lock().unwrap().push(format!("map {a:#x} {l:#x} {o:#x} {p}"));
            Ok(())
        }
        fn unmap(&mut self, a: u64, l: u64) -> io::Result<()> {
            self.0.lock().unwrap().push(format!("unmap {a:#x} {l:#x}"));
            Ok(())
        }
        fn protect(&mut self, a: u64, l: u64, p: u32) -> io::Result<()> {
            self.0.lock().unwrap().push(format!("protect {a:#x} {l:#x} {p}"));
            Ok(())
        }
        fn release(&mut self) {}
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    fn setup() -> (Arc<MemoryFile>, AddressSpace, Arc<Mutex<Vec<String>>>) {
        let mf = Arc::new(MemoryFile::with_size(16 << 20).unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let as_ = AddressSpace::new(mf.clone(), Box::new(Recorder(log.clone())), 0x10000, 0x7000_0000);
        (mf, as_, log)
    }

    #[test]
    fn mapped_runs_join_contiguous_pieces_and_clip() {
        let (mf, mut a, _) = setup();
        let f = mf.allocate(8).unwrap();
        // Three maps of contiguous frames, a fourth with another prot, then a hole, then one
        // whose frame does not follow.
        a.map(0x20000, 0x1000, f, 3).unwrap();
        a.map(0x21000, 0x2000, f + 0x1000, 3).unwrap();
        a.map(0x23000, 0x1000, f + 0x3000, 1).unwrap();
        a.map(0x25000, 0x1000, f + 0x5000, 1).unwrap();
        a.map(0x26000, 0x1000, f, 1).unwrap();
        assert_eq!(
            a.mapped_runs(0x20800 & !0xfff, 0x10000),
            vec![(0x20000, 0x3000, f, 3), (0x23000, 0x1000, f + 0x3000, 1), (0x25000, 0x1000, f + 0x5000, 1), (0x26000, 0x1000, f, 1)]
        );
        // Clipped at both ends, inside pmas.
        assert_eq!(a.mapped_runs(0x21000, 0x2000), vec![(0x21000, 0x2000, f + 0x1000, 3)]);
        assert_eq!(a.mapped_runs(0x24000, 0x1000), vec![]);
    }

    #[test]
    fn copies_cross_pmas_and_stop_at_holes() {
        let (mf, mut a, _) = setup();
        let f1 = mf.allocate(1).unwrap();
        let f2 = mf.allocate(1).unwrap();
        a.map(0x20000, 0x1000, f2, 3).unwrap();
        a.map(0x21000, 0x1000, f1, 3).unwrap();
        let data: Vec<u8> = (0..200u8).collect();
        assert_eq!(a.copy_out(0x20fa0, &data), 200);
        let mut back = vec![0u8; 200];
        assert_eq!(a.copy_in(0x20fa0, &mut back), 200);
        assert_eq!(back, data);
        let mut b = [0u8; 4];
        mf.read(f1, &mut b).unwrap();
        assert_eq!(b, [96, 97, 98, 99]);
        // A hole stops the copy exactly at the page boundary.
        let mut big = vec![0u8; 0x3000];
        assert_eq!(a.copy_in(0x20000, &mut big), 0x2000);
    }

    #[test]
    fn protections_are_enforced_by_copies() {
        let (mf, mut a, _) = setup();
        let f = mf.allocate(2).unwrap();
        a.map(0x30000, 0x2000, f, 3).unwrap();
        a.protect(0x31000, 0x1000, 1).unwrap();
        assert_eq!(a.copy_out(0x30ff0, &[1u8; 32]), 16, "write stops at the read-only page");
        a.protect(0x30000, 0x1000, 0).unwrap();
        let mut b = [0u8; 8];
        assert_eq!(a.copy_in(0x30000, &mut b), 0);
    }

    #[test]
    fn mapping_holds_references() {
        let (mf, mut a, log) = setup();
        let f = mf.allocate(4).unwrap();
        a.map(0x40000, 0x4000, f, 3).unwrap();
        mf.dec_ref(f, 0x4000).unwrap();
        assert_eq!(mf.allocated_bytes(), 0x4000);
        a.unmap(0x41000, 0x1000).unwrap();
        assert_eq!(mf.allocated_bytes(), 0x3000);
        assert_eq!(a.lookup(0x42010), Some((f + 0x2010, 3)));
        a.release();
        assert_eq!(mf.allocated_bytes(), 0);
        assert_eq!(log.lock().unwrap()[0], format!("map 0x40000 0x4000 {f:#x} 3"));
    }

    #[test]
    fn bad_ranges_are_einval() {
        let (mf, mut a, _) = setup();
        let f = mf.allocate(1).unwrap();
        assert!(a.map(0x1000, 0x1000, f, 3).is_err(), "below min");
        assert!(a.map(0x7000_0000, 0x1000, f, 3).is_err(), "above max");
        assert!(a.map(0x20001, 0x1000, f, 3).is_err(), "unaligned");
        assert!(a.unmap(u64::MAX - 0xfff, 0x2000).is_err(), "overflow");
    }
}
