//! Guest-physical memory and its KVM memslots.
//!
//! The memory file is one contiguous host mapping, so gpa <-> hva is an offset both ways
//! (`GuestMemory`). KVM still wants it cut into memslots, and a slot costs kernel memory and
//! a scan on every lookup, so slots are registered lazily: a guest access to a gpa with no slot
//! exits to the host (KVM_EXIT_MMIO), and the exit is handled by registering the chunk that
//! holds it and resuming — the EPT then fills on the guest's own faults. Slots are bounded:
//! past the limit the least recently added chunk is unregistered and its id reused (its pages
//! stay in the memory file; a later touch registers the chunk again).

use std::collections::{BTreeMap, VecDeque};

/// A contiguous window of host memory seen by the guest at [0, size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestMemory {
    /// Host address of gpa 0 (the sentry's mapping of the memory file).
    pub hva_base: u64,
    pub size: u64,
}

impl GuestMemory {
    pub fn hva(&self, gpa: u64, len: u64) -> Option<u64> {
        let end = gpa.checked_add(len)?;
        (end <= self.size).then(|| self.hva_base + gpa)
    }

    pub fn gpa(&self, hva: u64, len: u64) -> Option<u64> {
        let off = hva.checked_sub(self.hva_base)?;
        let end = off.checked_add(len)?;
        (end <= self.size).then_some(off)
    }
}

/// What the caller must tell KVM (KVM_SET_USER_MEMORY_REGION), in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotChange {
    /// Register slot `id` for [gpa, gpa+size) backed by host memory at hva.
    Add { id: u32, gpa: u64, size: u64, hva: u64 },
    /// Unregister slot `id` (memory_size 0).
    Remove { id: u32 },
}

pub struct Memslots {
    mem: GuestMemory,
    chunk: u64,
    max_slots: u32,
    /// chunk index -> slot id
    by_chunk: BTreeMap<u64, u32>,
    /// chunk indices in the order they were added (eviction order)
    order: VecDeque<u64>,
    free_ids: Vec<u32>,
    next_id: u32,
}

impl Memslots {
    /// `chunk` (a power of two, at least 2 MiB so that huge guest pages never straddle two
    /// slots) is the registration granule; `max_slots` what KVM allows (KVM_CAP_NR_MEMSLOTS)
    /// less the slots reserved for others.
    pub fn new(mem: GuestMemory, chunk: u64, max_slots: u32) -> Memslots {
        assert!(chunk.is_power_of_two() && chunk >= 2 << 20 && max_slots > 0);
        Memslots { mem, chunk, max_slots, by_chunk: BTreeMap::new(), order: VecDeque::new(), free_ids: Vec::new(), next_id: 0 }
    }

    pub fn memory(&self) -> GuestMemory {
        self.mem
    }

    /// The slot covering gpa, if registered.
    pub fn slot_of(&self, gpa: u64) -> Option<u32> {
        self.by_chunk.get(&(gpa / self.chunk)).copied()
    }

    pub fn len(&self) -> usize {
        self.by_chunk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_chunk.is_empty()
    }

    /// The guest touched gpa and KVM found no slot. Returns the changes that make it present,
    /// or None if gpa is not guest memory at all (a real MMIO access: the guest gets a fault).
    /// Idempotent: a gpa already covered needs no change.
    pub fn on_miss(&mut self, gpa: u64) -> Option<Vec<SlotChange>> {
        if gpa >= self.mem.size {
            return None;
        }
        let idx = gpa / self.chunk;
        if self.by_chunk.contains_key(&idx) {
            return Some(Vec::new());
        }
        let mut changes = Vec::new();
        if self.by_chunk.len() as u32 >= self.max_slots {
            let victim = self.order.pop_front().expect("slots are counted in order");
            let id = self.by_chunk.remove(&victim).expect("order and map agree");
            changes.push(SlotChange::Remove { id });
            self.free_ids.push(id);
        }
        let id = self.free_ids.pop().unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id - 1
        });
        let start = idx * self.chunk;
        let size = self.chunk.min(self.mem.size - start);
        self.by_chunk.insert(idx, id);
        self.order.push_back(idx);
        changes.push(SlotChange::Add { id, gpa: start, size, hva: self.mem.hva_base + start });
        Some(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn mem() -> GuestMemory {
        GuestMemory { hva_base: 0x7f00_0000_0000, size: 64 * MIB + 4096 }
    }

    #[test]
    fn translation_is_an_offset_both_ways_and_bounded() {
        let m = mem();
        assert_eq!(m.hva(0x1000, 8), Some(0x7f00_0000_1000));
        assert_eq!(m.gpa(0x7f00_0000_1000, 8), Some(0x1000));
        assert_eq!(m.hva(m.size - 8, 8), Some(m.hva_base + m.size - 8));
        assert_eq!(m.hva(m.size - 8, 9), None);
        assert_eq!(m.hva(u64::MAX, 2), None);
        assert_eq!(m.gpa(m.hva_base - 1, 1), None);
        assert_eq!(m.gpa(m.hva_base + m.size, 1), None);
    }

    #[test]
    fn misses_register_the_chunk_once() {
        let mut s = Memslots::new(mem(), 16 * MIB, 8);
        assert_eq!(s.on_miss(17 * MIB + 5), Some(vec![SlotChange::Add { id: 0, gpa: 16 * MIB, size: 16 * MIB, hva: mem().hva_base + 16 * MIB }]));
        assert_eq!(s.on_miss(31 * MIB), Some(vec![]));
        assert_eq!(s.slot_of(20 * MIB), Some(0));
        assert_eq!(s.slot_of(0), None);
        // The last chunk is cut at the end of memory; past it is not memory.
        assert_eq!(s.on_miss(64 * MIB + 100), Some(vec![SlotChange::Add { id: 1, gpa: 64 * MIB, size: 4096, hva: mem().hva_base + 64 * MIB }]));
        assert_eq!(s.on_miss(64 * MIB + 4096), None);
    }

    #[test]
    fn the_oldest_slot_makes_room_and_its_id_is_reused() {
        let mut s = Memslots::new(mem(), 16 * MIB, 2);
        s.on_miss(0).unwrap();
        s.on_miss(16 * MIB).unwrap();
        let c = s.on_miss(32 * MIB).unwrap();
        assert_eq!(c[0], SlotChange::Remove { id: 0 });
        assert_eq!(c[1], SlotChange::Add { id: 0, gpa: 32 * MIB, size: 16 * MIB, hva: mem().hva_base + 32 * MIB });
        assert_eq!(s.len(), 2);
        assert_eq!(s.slot_of(0), None);
        // Touched again, the evicted chunk comes back in place of the next oldest.
        let c = s.on_miss(1).unwrap();
        assert_eq!(c[0], SlotChange::Remove { id: 1 });
        assert!(matches!(c[1], SlotChange::Add { id: 1, gpa: 0, .. }));
    }

    #[test]
    fn random_misses_never_exceed_the_bound_or_overlap() {
        let mut s = Memslots::new(GuestMemory { hva_base: 0, size: 1 << 36 }, 2 * MIB, 32);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut live: BTreeMap<u32, u64> = BTreeMap::new();
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let gpa = x % (1 << 36);
            for c in s.on_miss(gpa).unwrap() {
                match c {
                    SlotChange::Remove { id } => assert!(live.remove(&id).is_some(), "removing a slot that is not there"),
                    SlotChange::Add { id, gpa, .. } => assert!(live.insert(id, gpa).is_none(), "id {id} reused while live"),
                }
            }
            assert!(live.len() <= 32);
            assert!(s.slot_of(gpa).is_some());
            let starts: std::collections::BTreeSet<u64> = live.values().copied().collect();
            assert_eq!(starts.len(), live.len(), "two slots for one chunk");
        }
    }
}
