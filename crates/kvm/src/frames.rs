//! Page-table frames in the memory file: the guest MMU reads the tables at their
//! guest-physical address, which is their memory-file offset, and the host edits them
//! through the sentry's mapping of the same file.

use std::sync::Arc;

use tsvisor_memfile::MemoryFile;
use tsvisor_pagetables::Frames;

pub struct MemFrames {
    mf: Arc<MemoryFile>,
}

impl MemFrames {
    pub fn new(mf: Arc<MemoryFile>) -> MemFrames {
        MemFrames { mf }
    }

    fn entry(&self, gpa: u64, index: usize) -> *mut u64 {
        assert!(gpa % 4096 == 0 && index < 512, "not a table entry: {gpa:#x}[{index}]");
        self.mf.ptr(gpa + index as u64 * 8, 8).expect("table frame inside the memory file") as *mut u64
    }
}

impl Frames for MemFrames {
    fn alloc(&mut self) -> Option<u64> {
        // Fresh or punched-out pages: zeroed.
        self.mf.allocate(1).ok()
    }

    fn free(&mut self, gpa: u64) {
        let _ = self.mf.dec_ref(gpa, 4096);
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
