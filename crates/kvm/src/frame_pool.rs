//! Frames the CPU reads by itself — page tables, the ring-0 stub's pages — carved from
//! blocks of the memory file whose memslots stay pinned (a miss in an MMU walk or an
//! exception delivery is not one KVM can hand back to us). Blocks keep those pins few: one
//! block of BLOCK_PAGES frames touches at most two chunks, where frames taken one by one
//! from the file's allocator would be spread over as many chunks as the program's memory.
//! A freed frame is zeroed and kept for the next table; blocks go back to the file when the
//! VM ends.

use std::io;
use std::sync::{Arc, Mutex};

use tsvisor_memfile::MemoryFile;

use crate::slot_table::SlotTable;

pub const BLOCK_PAGES: u64 = 64;
const PAGE: u64 = 4096;

pub struct FramePool {
    pub mf: Arc<MemoryFile>,
    slots: Arc<SlotTable>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    free: Vec<u64>,
    blocks: Vec<u64>,
}

impl FramePool {
    pub fn new(mf: Arc<MemoryFile>, slots: Arc<SlotTable>) -> FramePool {
        FramePool { mf, slots, state: Mutex::new(State::default()) }
    }

    /// A zeroed frame whose memslot is pinned. ENOMEM when the file is full or the pins are
    /// at their bound.
    pub fn alloc(&self) -> io::Result<u64> {
        let mut s = self.state.lock().unwrap();
        if let Some(f) = s.free.pop() {
            return Ok(f);
        }
        let b = self.mf.allocate(BLOCK_PAGES)?;
        let last = b + (BLOCK_PAGES - 1) * PAGE;
        if let Err(e) = self.slots.pin(b) {
            let _ = self.mf.dec_ref(b, BLOCK_PAGES * PAGE);
            return Err(e);
        }
        if let Err(e) = self.slots.pin(last) {
            self.slots.unpin(b);
            let _ = self.mf.dec_ref(b, BLOCK_PAGES * PAGE);
            return Err(e);
        }
        s.blocks.push(b);
        s.free.extend((1..BLOCK_PAGES).rev().map(|i| b + i * PAGE));
        Ok(b)
    }

    /// Back to the pool, zeroed (a new table must start empty).
    pub fn free(&self, gpa: u64) {
        if self.mf.zero(gpa, PAGE as usize).is_ok() {
            self.state.lock().unwrap().free.push(gpa);
        }
    }

    /// Frames held, free and in use (tests).
    pub fn frames(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap();
        (s.blocks.len() * BLOCK_PAGES as usize, s.free.len())
    }
}

impl Drop for FramePool {
    fn drop(&mut self) {
        for &b in &self.state.get_mut().unwrap().blocks {
            self.slots.unpin(b);
            self.slots.unpin(b + (BLOCK_PAGES - 1) * PAGE);
            let _ = self.mf.dec_ref(b, BLOCK_PAGES * PAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memslots::{GuestMemory, Memslots};
    use crate::slot_table::tests::Record;

    const MIB: u64 = 1 << 20;

    fn setup(max_slots: u32) -> (Arc<MemoryFile>, Arc<SlotTable>) {
        let size = 64 * MIB;
        let mf = Arc::new(MemoryFile::with_size(size).unwrap());
        // SAFETY: the file's own mapping of its memfd, alive as long as mf (dropped after).
        let mem = unsafe { GuestMemory::over_file(mf.fd(), mf.ptr(0, size as usize).unwrap(), size) }.unwrap();
        let lazy = Memslots::new(size, mem.hva_base(), 2 * MIB, max_slots);
        let t = SlotTable::with_sink(Arc::new(Record::default()), mem, Some(lazy), "lazy".into()).unwrap();
        (mf, Arc::new(t))
    }

    #[test]
    fn frames_come_zeroed_from_pinned_blocks_and_go_back_with_the_pool() {
        let (mf, slots) = setup(8);
        let before = mf.allocated_bytes();
        let pool = FramePool::new(mf.clone(), slots.clone());
        let f: Vec<u64> = (0..BLOCK_PAGES + 1).map(|_| pool.alloc().unwrap()).collect();
        assert_eq!(pool.frames(), (2 * BLOCK_PAGES as usize, BLOCK_PAGES as usize - 1));
        let distinct: std::collections::BTreeSet<u64> = f.iter().copied().collect();
        assert_eq!(distinct.len(), f.len());
        assert!(f.iter().all(|&g| slots.is_pinned(g)));
        mf.write(f[3], &[0xaa; 64]).unwrap();
        pool.free(f[3]);
        assert_eq!(pool.alloc().unwrap(), f[3]);
        let mut b = [0xffu8; 64];
        mf.read(f[3], &mut b).unwrap();
        assert_eq!(b, [0; 64], "a reused frame starts empty");
        drop(pool);
        assert_eq!(mf.allocated_bytes(), before);
        assert!(!slots.is_pinned(f[0]));
    }

    #[test]
    fn a_block_that_cannot_be_pinned_goes_back_to_the_file() {
        let (mf, slots) = setup(8);
        // Four chunks pinned elsewhere (the bound for 8 slots), and the file's low chunks taken,
        // so the pool's block lands in a fifth.
        for c in 20..24 {
            slots.pin(c * 2 * MIB).unwrap();
        }
        let filler = mf.allocate(8 * MIB / 4096).unwrap();
        let before = mf.allocated_bytes();
        let pool = FramePool::new(mf.clone(), slots.clone());
        assert_eq!(pool.alloc().unwrap_err().raw_os_error(), Some(libc::ENOMEM));
        assert_eq!(mf.allocated_bytes(), before);
        assert_eq!(pool.frames(), (0, 0));
        mf.dec_ref(filler, 8 * MIB).unwrap();
    }
}
