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
