//! Where the tables themselves live. Under KVM each table is a page of guest-physical memory
//! (the memory file) that the guest MMU reads; the page-table code only ever reads and writes
//! one 8-byte entry at a time through this trait, so it needs no pointer into that memory.

/// A source of 4 KiB table frames, addressed by guest-physical address.
pub trait Frames {
    /// A zeroed frame, or None when out of memory.
    fn alloc(&mut self) -> Option<u64>;
    /// Give back a frame that `alloc` returned and that no entry references any more.
    fn free(&mut self, gpa: u64);
    /// Entry `index` (0..512) of the table in frame `gpa`.
    fn read(&self, gpa: u64, index: usize) -> u64;
    /// Set entry `index` of the table in frame `gpa`.
    fn write(&mut self, gpa: u64, index: usize, value: u64);
}

/// Frames in a Vec: for tests and benchmarks, and for building tables before a VM exists.
/// Frame n has guest-physical address `base + n * 4096`.
pub struct VecFrames {
    base: u64,
    tables: Vec<[u64; 512]>,
    free_list: Vec<usize>,
    limit: usize,
    live: usize,
}

impl VecFrames {
    /// At most `limit` frames live at once.
    pub fn new(base: u64, limit: usize) -> VecFrames {
        VecFrames { base, tables: Vec::new(), free_list: Vec::new(), limit, live: 0 }
    }

    /// Frames currently allocated (tests check that unmap gives tables back).
    pub fn live(&self) -> usize {
        self.live
    }

    fn slot(&self, gpa: u64) -> usize {
        assert!(gpa >= self.base && (gpa - self.base) % 4096 == 0, "not a frame: {gpa:#x}");
        let n = ((gpa - self.base) / 4096) as usize;
        assert!(n < self.tables.len(), "frame out of range: {gpa:#x}");
        n
    }
}

impl Frames for VecFrames {
    fn alloc(&mut self) -> Option<u64> {
        if self.live >= self.limit {
            return None;
        }
        let n = match self.free_list.pop() {
            Some(n) => {
                self.tables[n] = [0; 512];
                n
            }
            None => {
                self.tables.push([0; 512]);
                self.tables.len() - 1
            }
        };
        self.live += 1;
        Some(self.base + n as u64 * 4096)
    }

    fn free(&mut self, gpa: u64) {
        let n = self.slot(gpa);
        self.live -= 1;
        self.free_list.push(n);
    }

    fn read(&self, gpa: u64, index: usize) -> u64 {
        self.tables[self.slot(gpa)][index]
    }

    fn write(&mut self, gpa: u64, index: usize, value: u64) {
        let n = self.slot(gpa);
        self.tables[n][index] = value;
    }
}
