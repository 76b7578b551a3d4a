//! AddressSpace: the mapping table of one application address space joined to the platform
//! that realises it. Every change goes to the platform and to the table together, and the
//! table holds one memory-file reference per mapped page. The sentry copies application
//! memory through the table and its own mapping of the memory file (no process_vm_readv).

use std::io;
use std::sync::Arc;

use tsvisor_memfile::{MemoryFile, PAGE_SIZE};

use crate::pma::{Pma, PmaTable};
use crate::{AddressSpaceOps, PROT_READ, PROT_WRITE};

/// How a pread_into/pwrite_from ended, with the bytes moved before that.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum HostIo {
    /// All of it, or the file ended (read) / was full (write) after these bytes.
    Done(usize),
    /// A page of the range is not mapped with the access needed: the caller faults it in
    /// and goes on, or reports the short count (EFAULT if nothing moved).
    Hole(usize),
    /// The host call failed with this errno after these bytes.
    Failed(usize, i32),
}

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
        // The host side maps exactly what the table holds (a stub starts with nothing below
        // its own code): a range with nothing in it needs no host call, which saves a stub
        // injection for each MADV_DONTNEED of a never-touched range (every thread exit's
        // stack advice in glibc).
        if !self.table.overlaps(addr, end) {
            return self.ops_mut().map(|_| ());
        }
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

    /// Bytes mapped in [addr, addr+len): the resident set of that range.
    pub fn resident_bytes(&self, addr: u64, len: u64) -> u64 {
        self.table.bytes_in(addr, addr.saturating_add(len))
    }

    /// Bytes mapped in the whole address space now, and the most there has been (hiwater_rss).
    pub fn resident_total(&self) -> (u64, u64) {
        (self.table.bytes(), self.table.peak())
    }

    /// Memory-file offset and protection of the page holding addr.
    pub fn lookup(&self, addr: u64) -> Option<(u64, u32)> {
        self.table.find(addr).map(|(s, p)| (p.file_offset + (addr - s), p.prot))
    }

    /// The unmapped run around addr within [lo, hi), or None if addr is mapped (a fault's
    /// window: pmas.ts's faultAround).
    pub fn hole_around(&self, addr: u64, lo: u64, hi: u64) -> Option<(u64, u64)> {
        self.table.hole_around(addr, lo, hi)
    }

    /// The run of pages around addr, within [lo, hi), that are mapped without write and whose
    /// memory-file page is `exclusive`ly ours (nobody else holds it: a copy-on-write page whose
    /// fork relative or page cache let go, Linux's wp_page_reuse case) or, if not, shared
    /// with someone (a copy-on-write page still to copy): a write fault on one may deal with
    /// them all. Empty (addr, addr) if addr's page is not such a page.
    pub fn write_protected_run(&self, addr: u64, lo: u64, hi: u64, exclusive: bool) -> (u64, u64) {
        let wanted = |a: u64| {
            self.table
                .find(a)
                .is_some_and(|(s, p)| p.prot & PROT_WRITE == 0 && (self.mf.ref_count(p.file_offset + (a - s)) == 1) == exclusive)
        };
        let addr = addr & !(PAGE_SIZE - 1);
        if !wanted(addr) {
            return (addr, addr);
        }
        let (mut start, mut end) = (addr, addr + PAGE_SIZE);
        while start >= lo + PAGE_SIZE && wanted(start - PAGE_SIZE) {
            start -= PAGE_SIZE;
        }
        while end + PAGE_SIZE <= hi && wanted(end) {
            end += PAGE_SIZE;
        }
        (start, end)
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

    /// The memory-file pieces (offset, length) behind [addr, +len), in order, up to the first
    /// page not mapped readable: the source side of a copy into another address space.
    pub fn readable_pieces(&self, addr: u64, len: usize) -> Vec<(u64, usize)> {
        let mut pieces = Vec::new();
        self.walk(addr, len, PROT_READ, |off, _, n| {
            pieces.push((off, n));
            Ok(())
        });
        pieces
    }

    /// Whether `other` maps the same memory file (then their pages can be copied directly).
    pub fn same_memory_file(&self, other: &AddressSpace) -> bool {
        Arc::ptr_eq(&self.mf, &other.mf)
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

    /// Copies memory-file [file_off, +len) to application memory at addr, as copy_out does
    /// from a buffer (a tmpfs file's pages to read(2)'s buffer: one copy, no JS buffer).
    pub fn copy_out_from_file(&self, addr: u64, file_off: u64, len: usize) -> usize {
        let mf = &self.mf;
        self.walk(addr, len, PROT_WRITE, |off, done, n| mf.copy(file_off + done as u64, off, n))
    }

    /// Copies application memory at addr to memory-file [file_off, +len), as copy_in does
    /// into a buffer (write(2)'s data to a tmpfs file's pages).
    pub fn copy_in_to_file(&self, addr: u64, file_off: u64, len: usize) -> usize {
        let mf = &self.mf;
        self.walk(addr, len, PROT_READ, |off, done, n| mf.write_within(off, file_off + done as u64, n))
    }

    pub fn zero_out(&self, addr: u64, len: usize) -> usize {
        let mf = &self.mf;
        self.walk(addr, len, PROT_WRITE, |off, _, n| mf.zero(off, n))
    }

    // ---- Host-fd I/O straight into and out of application memory (one copy) ----
    // The gofer donates host fds of regular files; read(2)/write(2) on them pread/pwrite
    // between that fd and the memory-file pages the application's range maps, through the
    // same translation as copy_in/copy_out, so the data is copied once, by the host kernel.

    /// pread(2) from `fd` at `offset` into application memory at [addr, +len): see HostIo.
    pub fn pread_into(&self, addr: u64, len: usize, fd: i32, offset: u64) -> HostIo {
        self.host_io(addr, len, fd, offset, PROT_WRITE)
    }

    /// pwrite(2) of application memory at [addr, +len) to `fd` at `offset`: see HostIo.
    pub fn pwrite_from(&self, addr: u64, len: usize, fd: i32, offset: u64) -> HostIo {
        self.host_io(addr, len, fd, offset, PROT_READ)
    }

    fn host_io(&self, addr: u64, len: usize, fd: i32, offset: u64, need: u32) -> HostIo {
        // The range is gathered into iovecs over the memory-file pages it maps (pages faulted
        // in one at a time are seldom contiguous in the file) and moved with one preadv or
        // pwritev per IOV_MAX pieces.
        const IOV_MAX: usize = 1024;
        let mut done = 0usize;
        let mut iov: Vec<libc::iovec> = Vec::with_capacity(16);
        while done < len {
            iov.clear();
            let mut want = 0usize;
            let mut hole = false;
            while done + want < len && iov.len() < IOV_MAX {
                let Some(a) = addr.checked_add((done + want) as u64) else { hole = true; break };
                let Some((s, p)) = self.table.find(a) else { hole = true; break };
                if p.prot & need != need {
                    hole = true;
                    break;
                }
                let n = ((p.end - a) as usize).min(len - done - want);
                let Ok(ptr) = self.mf.ptr(p.file_offset + (a - s), n) else { hole = true; break };
                iov.push(libc::iovec { iov_base: ptr.cast(), iov_len: n });
                want += n;
            }
            if iov.is_empty() {
                return HostIo::Hole(done);
            }
            let Some(at) = offset.checked_add(done as u64).filter(|&o| o <= i64::MAX as u64) else {
                return HostIo::Failed(done, libc::EINVAL);
            };
            let r = if need == PROT_WRITE {
                // SAFETY: every iovec lies inside our mapping of the memory file (ptr() checked
                // each); the kernel writes at most want bytes into them.
                unsafe { libc::preadv(fd, iov.as_ptr(), iov.len() as libc::c_int, at as libc::off_t) }
            } else {
                // SAFETY: as above; the kernel only reads from them.
                unsafe { libc::pwritev(fd, iov.as_ptr(), iov.len() as libc::c_int, at as libc::off_t) }
            };
            if r < 0 {
                let e = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
                if e == libc::EINTR {
                    continue;
                }
                return HostIo::Failed(done, e);
            }
            done += r as usize;
            if (r as usize) < want {
                // A regular file is short only at its end (read) or when it is full (write).
                return HostIo::Done(done);
            }
            if hole {
                return HostIo::Hole(done);
            }
        }
        HostIo::Done(done)
    }

    /// execve on the same host process (the stub and its threads stay): every mapping of the
    /// application's range goes in one platform call, queued with the new image's mappings
    /// when a batch is open, and every page reference with it.
    pub fn reset(&mut self) -> io::Result<()> {
        let (min, max) = (self.min, self.max);
        if self.table.overlaps(min, max) {
            self.ops_mut()?.unmap(min, max - min)?;
        }
        let removed = self.table.remove(0, u64::MAX);
        self.drop_refs(&removed);
        // The new image's mm starts its own high-water mark (the old one's went to the
        // process's maxrss, which the sentry keeps).
        self.table.reset_peak();
        Ok(())
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
    fn reset_unmaps_the_whole_range_once_and_drops_every_reference() {
        let (mf, mut a, log) = setup();
        let f = mf.allocate(4).unwrap();
        a.map(0x20000, 0x2000, f, 3).unwrap();
        a.map(0x40000, 0x2000, f + 0x2000, 1).unwrap();
        mf.dec_ref(f, 0x4000).unwrap();
        log.lock().unwrap().clear();
        a.reset().unwrap();
        assert_eq!(*log.lock().unwrap(), vec!["unmap 0x10000 0x6fff0000".to_string()]);
        assert_eq!(mf.allocated_bytes(), 0);
        assert_eq!(a.lookup(0x20000), None);
        // Nothing mapped: no platform call at all; the address space goes on working.
        a.reset().unwrap();
        assert_eq!(log.lock().unwrap().len(), 1);
        let g = mf.allocate(1).unwrap();
        a.map(0x20000, 0x1000, g, 3).unwrap();
        assert_eq!(a.lookup(0x20000), Some((g, 3)));
    }

    #[test]
    fn write_protected_runs_split_on_sharing() {
        let (mf, mut a, _) = setup();
        let f = mf.allocate(8).unwrap();
        // Pages 0x20000.. : read-only 0-4, then 5 writable, 6-7 read-only.
        a.map(0x20000, 0x5000, f, 1).unwrap();
        a.map(0x25000, 0x1000, f + 0x5000, 3).unwrap();
        a.map(0x26000, 0x2000, f + 0x6000, 1).unwrap();
        mf.dec_ref(f, 0x8000).unwrap();
        mf.inc_ref(f + 0x1000, 0x1000).unwrap(); // page 1 shared (a fork's child still has it)
        let reusable = |x, lo, hi| a.write_protected_run(x, lo, hi, true);
        assert_eq!(reusable(0x23010, 0x10000, 0x40000), (0x22000, 0x25000));
        assert_eq!(reusable(0x20000, 0x10000, 0x40000), (0x20000, 0x21000));
        assert_eq!(reusable(0x21000, 0x10000, 0x40000), (0x21000, 0x21000), "shared");
        assert_eq!(reusable(0x25000, 0x10000, 0x40000), (0x25000, 0x25000), "writable");
        assert_eq!(reusable(0x28000, 0x10000, 0x40000), (0x28000, 0x28000), "unmapped");
        assert_eq!(reusable(0x26000, 0x10000, 0x27000), (0x26000, 0x27000), "clipped");
        assert_eq!(reusable(0x24000, 0x23000, 0x40000), (0x23000, 0x25000), "clipped below");
        // The shared ones: page 1 alone, then 0-1 once page 0 is shared too.
        assert_eq!(a.write_protected_run(0x21000, 0x10000, 0x40000, false), (0x21000, 0x22000));
        assert_eq!(a.write_protected_run(0x22000, 0x10000, 0x40000, false), (0x22000, 0x22000));
        mf.inc_ref(f, 0x1000).unwrap();
        assert_eq!(a.write_protected_run(0x21000, 0x10000, 0x40000, false), (0x20000, 0x22000));
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
    fn readable_pieces_follow_pmas_and_stop_at_the_first_unreadable_page() {
        let (mf, mut a, _) = setup();
        let f = mf.allocate(4).unwrap();
        // Frames out of order, then a write-only page (not readable), then one readable again.
        a.map(0x20000, 0x1000, f + 0x1000, 1).unwrap();
        a.map(0x21000, 0x1000, f, 3).unwrap();
        a.map(0x22000, 0x1000, f + 0x2000, 2).unwrap();
        a.map(0x23000, 0x1000, f + 0x3000, 1).unwrap();
        assert_eq!(a.readable_pieces(0x20f00, 0x3000), vec![(f + 0x1f00, 0x100), (f, 0x1000)]);
        assert_eq!(a.readable_pieces(0x21800, 0x100), vec![(f + 0x800, 0x100)]);
        assert_eq!(a.readable_pieces(0x22000, 0x2000), vec![]);
        assert_eq!(a.readable_pieces(0x30000, 0x10), vec![]);
        assert!(a.same_memory_file(&a));
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
    fn protect_tells_the_platform_only_what_changes() {
        let (mf, mut a, log) = setup();
        let f = mf.allocate(4).unwrap();
        a.map(0x20000, 0x4000, f, 3).unwrap();
        a.protect(0x21000, 0x1000, 1).unwrap();
        log.lock().unwrap().clear();
        // A fork's write-protection of a range mostly read-only already: one call for each
        // run still writable, none for a range with nothing to change.
        a.protect(0x20000, 0x4000, 1).unwrap();
        a.protect(0x20000, 0x4000, 1).unwrap();
        assert_eq!(*log.lock().unwrap(), vec!["protect 0x20000 0x1000 1".to_string(), "protect 0x22000 0x2000 1".to_string()]);
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

    fn temp_file(name: &str, data: &[u8]) -> std::fs::File {
        let path = std::env::temp_dir().join(format!("tsvisor-as-{}-{name}", std::process::id()));
        std::fs::write(&path, data).unwrap();
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    #[test]
    fn pread_into_stops_at_holes_eof_and_read_only_pages() {
        use std::os::fd::AsRawFd;
        let (mf, mut a, _) = setup();
        let data: Vec<u8> = (0..0x5000u32).map(|i| (i % 251) as u8).collect();
        let f = temp_file("pread", &data);
        let fr = mf.allocate(3).unwrap();
        // Two pages, a hole, then a page mapped elsewhere in the file.
        a.map(0x20000, 0x2000, fr, 3).unwrap();
        a.map(0x23000, 0x1000, fr + 0x2000, 3).unwrap();
        assert_eq!(a.pread_into(0x20100, 0x3000, f.as_raw_fd(), 0x10), HostIo::Hole(0x1f00));
        let mut back = vec![0u8; 0x1f00];
        assert_eq!(a.copy_in(0x20100, &mut back), 0x1f00);
        assert_eq!(back[..], data[0x10..0x1f10]);
        // The file ends before the range does.
        assert_eq!(a.pread_into(0x23000, 0x1000, f.as_raw_fd(), 0x4800), HostIo::Done(0x800));
        assert_eq!(a.pread_into(0x23000, 0x1000, f.as_raw_fd(), 0x9000), HostIo::Done(0));
        // A read-only page is a hole for a read (the application could not write it).
        a.protect(0x21000, 0x1000, 1).unwrap();
        assert_eq!(a.pread_into(0x20000, 0x2000, f.as_raw_fd(), 0), HostIo::Hole(0x1000));
        // But the source of a write.
        assert_eq!(a.pwrite_from(0x20000, 0x2000, f.as_raw_fd(), 0x100), HostIo::Done(0x2000));
        assert_eq!(a.pwrite_from(0x22000, 0x10, f.as_raw_fd(), 0), HostIo::Hole(0));
        // A bad fd is the host's errno; an offset past i64 is EINVAL.
        assert_eq!(a.pread_into(0x20000, 0x10, -1, 0), HostIo::Failed(0, libc::EBADF));
        assert_eq!(a.pread_into(0x20000, 0x10, f.as_raw_fd(), u64::MAX), HostIo::Failed(0, libc::EINVAL));
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
