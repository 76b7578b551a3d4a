//! Page-table frames in the memory file: the guest MMU reads the tables at their
//! guest-physical address, which is their memory-file offset, and the host edits them
//! through the sentry's mapping of the same file.

use std::sync::Arc;

use tsvisor_memfile::MemoryFile;
use tsvisor_pagetables::Frames;

use crate::frame_pool::FramePool;

const P: u64 = 1;
const US: u64 = 4;
const PS: u64 = 1 << 7;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// Table frames come from the pool, whose memslots stay pinned.
pub struct MemFrames {
    mf: Arc<MemoryFile>,
    pool: Arc<FramePool>,
}

impl MemFrames {
    pub fn new(pool: Arc<FramePool>) -> MemFrames {
        MemFrames { mf: pool.mf.clone(), pool }
    }

    fn entry(&self, gpa: u64, index: usize) -> *mut u64 {
        assert!(gpa % 4096 == 0 && index < 512, "not a table entry: {gpa:#x}[{index}]");
        self.mf.ptr(gpa + index as u64 * 8, 8).expect("table frame inside the memory file") as *mut u64
    }
}

impl Frames for MemFrames {
    fn alloc(&mut self) -> Option<u64> {
        self.pool.alloc().ok()
    }

    fn free(&mut self, gpa: u64) {
        self.pool.free(gpa);
    }

    fn read(&self, gpa: u64, index: usize) -> u64 {
        // SAFETY: an aligned u64 inside the memory file's mapping (checked by ptr); a volatile
        // access because the guest MMU sets accessed/dirty bits in it concurrently.
        unsafe { std::ptr::read_volatile(self.entry(gpa, index)) }
    }

    fn write(&mut self, gpa: u64, index: usize, value: u64) {
        // SAFETY: as in read; one aligned 8-byte store, so the MMU never sees half an entry.
        unsafe { std::ptr::write_volatile(self.entry(gpa, index), value) }
    }
}

/// The guest-physical address ring 3 would reach at `va` through the tables at `root`
/// (present and user-accessible at every level), as the MMU walks them.
pub fn user_translate(frames: &impl Frames, root: u64, va: u64) -> Option<u64> {
    let mut table = root;
    for level in (1..=4u32).rev() {
        let e = frames.read(table, ((va >> (12 + 9 * (level - 1))) & 511) as usize);
        if e & (P | US) != (P | US) {
            return None;
        }
        if level == 1 || (level == 2 && e & PS != 0) {
            let span = 1u64 << (12 + 9 * (level - 1));
            return Some((e & ADDR & !(span - 1)) + (va & (span - 1)));
        }
        table = e & ADDR;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsvisor_pagetables::{PageTables, Prot, VecFrames};

    #[test]
    fn user_translate_agrees_with_the_tables_and_refuses_the_upper_half() {
        let mut f = VecFrames::new(0x100_0000, 64);
        let mut t = PageTables::new(&mut f, None).unwrap();
        t.map(&mut f, 0x40_0000, 4096, 0x5000, Prot::R).unwrap();
        t.map(&mut f, 0x60_0000, 2 << 20, 0x20_0000, Prot::RW).unwrap();
        t.map(&mut f, 0xffff_8000_0000_0000, 4096, 0x7000, Prot::RW).unwrap();
        t.map(&mut f, 0x80_0000, 4096, 0x9000, Prot::NONE).unwrap();
        assert_eq!(user_translate(&f, t.root(), 0x40_0008), Some(0x5008));
        assert_eq!(user_translate(&f, t.root(), 0x61_2345), Some(0x21_2345));
        assert_eq!(user_translate(&f, t.root(), 0x40_1000), None);
        assert_eq!(user_translate(&f, t.root(), 0x80_0000), None);
        assert_eq!(user_translate(&f, t.root(), 0xffff_8000_0000_0000), None);
    }
}
