//! Guest-physical memory and its KVM memslots.
//!
//! The memory file is one contiguous host mapping, and guest-physical address = file offset.
//! `GuestMemory` describes it as a rust-vmm vm-memory region backed by the memfd (FileOffset
//! 0, the sentry's own mapping, not a second one), and translates gpa <-> hva both ways.
//!
//! KVM still wants it cut into memslots, and a slot costs kernel memory and a scan on every
//! lookup, so `Memslots` registers them lazily: a guest access to a gpa with no slot exits to
//! the host, and the exit is handled by registering the chunk that holds it and resuming (the
//! EPT/NPT then fills on the guest's own faults). Slots are bounded: past the limit the least
//! recently added chunk is unregistered and its id reused (its pages stay in the memory file;
//! a later touch registers the chunk again). Chunks holding what the CPU itself reads while
//! it translates or delivers an exception (page tables, the ring-0 stub) are pinned: a miss
//! there is not one KVM can hand back to us. Pure bookkeeping, no ioctl (`slot_table` does
//! those).

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, RawFd};

use vm_memory::Bytes;
use vm_memory::mmap::MmapRegionBuilder;
use vm_memory::{
    FileOffset, GuestAddress, GuestMemoryBackend as _, GuestMemoryMmap, GuestMemoryRegion,
    GuestRegionMmap, MmapRegion,
};

/// The guest's physical memory: one vm-memory region at gpa 0.
pub struct GuestMemory {
    mem: GuestMemoryMmap,
}

fn einval<E>(_: E) -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl GuestMemory {
    /// Over a mapping of the memfd `fd` at `base`, `size` bytes from file offset 0 (the memory
    /// file's own mapping: the region borrows it, never unmaps it).
    ///
    /// # Safety
    /// [base, base+size) must be a live MAP_SHARED mapping of `fd` from offset 0 that outlives
    /// the returned value.
    pub unsafe fn over_file(fd: RawFd, base: *mut u8, size: u64) -> io::Result<GuestMemory> {
        // vm-memory keeps the backing as a File: give it its own descriptor.
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor the caller vouches for; a new fd we own.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: dup is a fresh descriptor nothing else owns.
        let file = unsafe { File::from_raw_fd(dup) };
        let builder = MmapRegionBuilder::new(size as usize)
            .with_file_offset(FileOffset::new(file, 0))
            .with_mmap_prot(libc::PROT_READ | libc::PROT_WRITE)
            .with_mmap_flags(libc::MAP_SHARED);
        // SAFETY: the caller guarantees the mapping (see above).
        let region = unsafe { builder.with_raw_mmap_pointer(base) }
            .build()
            .map_err(einval)?;
        Self::of(region)
    }

    /// Fresh anonymous memory (tests, benches).
    pub fn anonymous(size: u64) -> io::Result<GuestMemory> {
        Self::of(MmapRegion::new(size as usize).map_err(einval)?)
    }

    fn of(region: MmapRegion) -> io::Result<GuestMemory> {
        let r = GuestRegionMmap::new(region, GuestAddress(0)).ok_or_else(|| einval(()))?;
        Ok(GuestMemory {
            mem: GuestMemoryMmap::from_regions(vec![r]).map_err(einval)?,
        })
    }

    pub fn size(&self) -> u64 {
        self.mem.iter().map(|r| r.len()).sum()
    }

    /// Host address of gpa 0.
    pub fn hva_base(&self) -> u64 {
        self.mem.iter().next().map_or(0, |r| r.as_ptr() as u64)
    }

    /// The host address of [gpa, gpa+len), if all of it is guest memory.
    pub fn hva(&self, gpa: u64, len: u64) -> Option<u64> {
        if len == 0
            || !self
                .mem
                .check_range(GuestAddress(gpa), usize::try_from(len).ok()?)
        {
            return None;
        }
        self.mem
            .get_host_address(GuestAddress(gpa))
            .ok()
            .map(|p| p as u64)
    }

    /// The guest-physical address of host [hva, hva+len), if all of it is guest memory.
    pub fn gpa(&self, hva: u64, len: u64) -> Option<u64> {
        let end = hva.checked_add(len)?;
        self.mem.iter().find_map(|r| {
            let base = r.as_ptr() as u64;
            (len > 0 && hva >= base && end <= base + r.len())
                .then(|| r.start_addr().0 + (hva - base))
        })
    }
}

impl GuestMemory {
    /// Copies guest memory at gpa into buf (all of it or an error).
    pub fn read(&self, gpa: u64, buf: &mut [u8]) -> io::Result<()> {
        self.hva(gpa, buf.len() as u64).ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
        self.mem.read_slice(buf, GuestAddress(gpa)).map_err(einval)
    }

    /// Copies buf into guest memory at gpa (all of it or an error).
    pub fn write(&self, gpa: u64, buf: &[u8]) -> io::Result<()> {
        // Checked first: vm-memory would write the part that fits before failing.
        self.hva(gpa, buf.len() as u64).ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
        self.mem.write_slice(buf, GuestAddress(gpa)).map_err(einval)
    }
}

/// What the caller must tell KVM (KVM_SET_USER_MEMORY_REGION), in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotChange {
    /// Register slot `id` for [gpa, gpa+size) backed by host memory at hva.
    Add {
        id: u32,
        gpa: u64,
        size: u64,
        hva: u64,
    },
    /// Unregister slot `id` (memory_size 0).
    Remove { id: u32 },
}

/// Why a chunk could not be made present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not guest memory at all (a real MMIO access: the guest gets a fault).
    Outside,
    /// Every slot holds a pinned chunk.
    Full,
}

pub struct Memslots {
    hva_base: u64,
    size: u64,
    chunk: u64,
    max_slots: u32,
    /// chunk index -> slot id
    by_chunk: BTreeMap<u64, u32>,
    /// chunk indices in the order they were added (eviction order)
    order: VecDeque<u64>,
    /// chunk index -> pins (never evicted while there are any)
    pins: BTreeMap<u64, u32>,
    free_ids: Vec<u32>,
    next_id: u32,
}

impl Memslots {
    /// `size` bytes of guest memory at host `hva_base`. `chunk` (a power of two, at least
    /// 2 MiB so that huge guest pages never straddle two slots) is the registration granule;
    /// `max_slots` what KVM allows (KVM_CAP_NR_MEMSLOTS) less the slots reserved for others.
    pub fn new(size: u64, hva_base: u64, chunk: u64, max_slots: u32) -> Memslots {
        assert!(chunk.is_power_of_two() && chunk >= 2 << 20 && max_slots >= 2);
        Memslots {
            hva_base,
            size,
            chunk,
            max_slots,
            by_chunk: BTreeMap::new(),
            order: VecDeque::new(),
            pins: BTreeMap::new(),
            free_ids: Vec::new(),
            next_id: 0,
        }
    }

    pub fn chunk(&self) -> u64 {
        self.chunk
    }

    pub fn max_slots(&self) -> u32 {
        self.max_slots
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

    /// The guest touched gpa and KVM found no slot. Returns the changes that make it present.
    /// Idempotent: a gpa already covered needs no change.
    pub fn on_miss(&mut self, gpa: u64) -> Result<Vec<SlotChange>, Refused> {
        if gpa >= self.size {
            return Err(Refused::Outside);
        }
        let idx = gpa / self.chunk;
        if self.by_chunk.contains_key(&idx) {
            return Ok(Vec::new());
        }
        let mut changes = Vec::new();
        if self.by_chunk.len() as u32 >= self.max_slots {
            // The oldest chunk nobody pinned.
            let at = self
                .order
                .iter()
                .position(|c| !self.pins.contains_key(c))
                .ok_or(Refused::Full)?;
            let victim = self.order.remove(at).expect("position is in range");
            let id = self.by_chunk.remove(&victim).expect("order and map agree");
            changes.push(SlotChange::Remove { id });
            self.free_ids.push(id);
        }
        let id = self.free_ids.pop().unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id - 1
        });
        let start = idx * self.chunk;
        let size = self.chunk.min(self.size - start);
        self.by_chunk.insert(idx, id);
        self.order.push_back(idx);
        changes.push(SlotChange::Add {
            id,
            gpa: start,
            size,
            hva: self.hva_base + start,
        });
        Ok(changes)
    }

    /// Keeps gpa's chunk registered until as many unpins. At most half the slots may be
    /// pinned, so that one instruction's misses always find room.
    pub fn pin(&mut self, gpa: u64) -> Result<Vec<SlotChange>, Refused> {
        let idx = gpa / self.chunk;
        if !self.pins.contains_key(&idx) && self.pins.len() as u32 >= self.max_slots / 2 {
            return Err(Refused::Full);
        }
        let changes = self.on_miss(gpa)?;
        *self.pins.entry(idx).or_insert(0) += 1;
        Ok(changes)
    }

    pub fn unpin(&mut self, gpa: u64) {
        let idx = gpa / self.chunk;
        if let Some(n) = self.pins.get_mut(&idx) {
            *n -= 1;
            if *n == 0 {
                self.pins.remove(&idx);
            }
        }
    }

    pub fn is_pinned(&self, gpa: u64) -> bool {
        self.pins.contains_key(&(gpa / self.chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const HVA: u64 = 0x7f00_0000_0000;
    const SIZE: u64 = 64 * MIB + 4096;

    fn slots(max: u32) -> Memslots {
        Memslots::new(SIZE, HVA, 16 * MIB, max)
    }

    #[test]
    fn translation_is_an_offset_both_ways_and_bounded() {
        let m = GuestMemory::anonymous(SIZE).unwrap();
        let b = m.hva_base();
        assert_eq!(m.size(), SIZE);
        assert_eq!(m.hva(0x1000, 8), Some(b + 0x1000));
        assert_eq!(m.gpa(b + 0x1000, 8), Some(0x1000));
        assert_eq!(m.hva(SIZE - 8, 8), Some(b + SIZE - 8));
        assert_eq!(m.gpa(b + SIZE - 8, 8), Some(SIZE - 8));
        assert_eq!(m.hva(SIZE - 8, 9), None);
        assert_eq!(m.hva(SIZE, 1), None);
        assert_eq!(m.hva(u64::MAX, 2), None);
        assert_eq!(m.hva(0, 0), None);
        assert_eq!(m.gpa(b - 1, 1), None);
        assert_eq!(m.gpa(b + SIZE, 1), None);
        assert_eq!(m.gpa(b + SIZE - 8, 9), None);
        assert_eq!(m.gpa(u64::MAX, 2), None);
    }

    #[test]
    fn reads_and_writes_stay_inside_guest_memory() {
        let m = GuestMemory::anonymous(SIZE).unwrap();
        m.write(SIZE - 4, &[1, 2, 3, 4]).unwrap();
        let mut b = [0u8; 4];
        m.read(SIZE - 4, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
        assert!(m.write(SIZE - 3, &[0; 4]).is_err(), "a write past the end");
        assert!(m.read(SIZE, &mut b).is_err());
        assert!(m.read(u64::MAX - 1, &mut b).is_err());
        m.read(SIZE - 4, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4], "a refused write changed nothing");
    }

    #[test]
    fn translation_of_a_file_region_uses_the_given_mapping() {
        let size = 4 * MIB;
        // SAFETY: a fresh memfd and a shared mapping of it, both dropped at the end.
        let fd = unsafe { libc::memfd_create(c"gm".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        assert_eq!(unsafe { libc::ftruncate(fd, size as libc::off_t) }, 0);
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        {
            let m = unsafe { GuestMemory::over_file(fd, base as *mut u8, size) }.unwrap();
            assert_eq!(m.hva_base(), base as u64);
            let hva = m.hva(0x2345, 1).unwrap();
            // SAFETY: inside the mapping.
            unsafe { *(hva as *mut u8) = 0x5a };
            let mut b = [0u8; 1];
            assert_eq!(
                unsafe { libc::pread(fd, b.as_mut_ptr().cast(), 1, 0x2345) },
                1
            );
            assert_eq!(
                b[0], 0x5a,
                "the region is the file, through the caller's mapping"
            );
        }
        // Dropping the region left the mapping alone.
        assert_eq!(unsafe { *(base as *const u8).add(0x2345) }, 0x5a);
        unsafe {
            libc::munmap(base, size as usize);
            libc::close(fd);
        }
    }

    #[test]
    fn misses_register_the_chunk_once() {
        let mut s = slots(8);
        assert_eq!(
            s.on_miss(17 * MIB + 5),
            Ok(vec![SlotChange::Add {
                id: 0,
                gpa: 16 * MIB,
                size: 16 * MIB,
                hva: HVA + 16 * MIB
            }])
        );
        assert_eq!(s.on_miss(31 * MIB), Ok(vec![]));
        assert_eq!(s.slot_of(20 * MIB), Some(0));
        assert_eq!(s.slot_of(0), None);
        // The last chunk is cut at the end of memory; past it is not memory.
        assert_eq!(
            s.on_miss(64 * MIB + 100),
            Ok(vec![SlotChange::Add {
                id: 1,
                gpa: 64 * MIB,
                size: 4096,
                hva: HVA + 64 * MIB
            }])
        );
        assert_eq!(s.on_miss(64 * MIB + 4096), Err(Refused::Outside));
    }

    #[test]
    fn the_oldest_slot_makes_room_and_its_id_is_reused() {
        let mut s = slots(2);
        s.on_miss(0).unwrap();
        s.on_miss(16 * MIB).unwrap();
        let c = s.on_miss(32 * MIB).unwrap();
        assert_eq!(c[0], SlotChange::Remove { id: 0 });
        assert_eq!(
            c[1],
            SlotChange::Add {
                id: 0,
                gpa: 32 * MIB,
                size: 16 * MIB,
                hva: HVA + 32 * MIB
            }
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s.slot_of(0), None);
        // Touched again, the evicted chunk comes back in place of the next oldest.
        let c = s.on_miss(1).unwrap();
        assert_eq!(c[0], SlotChange::Remove { id: 1 });
        assert!(matches!(c[1], SlotChange::Add { id: 1, gpa: 0, .. }));
    }

    #[test]
    fn pinned_chunks_are_never_evicted_and_pins_are_bounded() {
        let mut s = slots(4);
        assert_eq!(s.pin(0).unwrap().len(), 1);
        assert_eq!(
            s.pin(4096).unwrap(),
            vec![],
            "a second pin of the same chunk changes nothing"
        );
        s.pin(16 * MIB).unwrap();
        assert_eq!(
            s.pin(32 * MIB),
            Err(Refused::Full),
            "half the slots at most"
        );
        for i in 2..20 {
            for c in s.on_miss(i * 16 * MIB % SIZE).unwrap() {
                if let SlotChange::Remove { id } = c {
                    assert!(
                        id != s.slot_of(0).unwrap() && id != s.slot_of(16 * MIB).unwrap(),
                        "evicted a pinned chunk"
                    );
                }
            }
            assert!(s.slot_of(0).is_some() && s.slot_of(16 * MIB).is_some());
            assert!(s.len() <= 4);
        }
        // Unpinned as often as pinned, the chunk becomes evictable again.
        s.unpin(0);
        assert!(s.is_pinned(0));
        s.unpin(0);
        assert!(!s.is_pinned(0));
        s.on_miss(32 * MIB).unwrap();
        s.on_miss(48 * MIB).unwrap();
        s.on_miss(64 * MIB).unwrap();
        assert_eq!(s.slot_of(0), None);
        assert!(s.slot_of(16 * MIB).is_some());
        // Pins outside memory are refused too.
        assert_eq!(s.pin(SIZE), Err(Refused::Outside));
        assert!(!s.is_pinned(SIZE));
    }

    #[test]
    fn a_full_table_of_pins_refuses_a_miss_instead_of_evicting_one() {
        let mut s = Memslots::new(SIZE, HVA, 16 * MIB, 2);
        s.pin(0).unwrap();
        s.on_miss(16 * MIB).unwrap();
        // Room is made from the unpinned one...
        assert_eq!(
            s.on_miss(32 * MIB).unwrap()[0],
            SlotChange::Remove { id: 1 }
        );
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn random_misses_never_exceed_the_bound_or_overlap() {
        let mut s = Memslots::new(1 << 36, 0, 2 * MIB, 32);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut live: BTreeMap<u32, u64> = BTreeMap::new();
        let mut pinned: Vec<u64> = Vec::new();
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let gpa = x % (1 << 36);
            let changes = match x % 16 {
                0 => match s.pin(gpa) {
                    Ok(c) => {
                        pinned.push(gpa);
                        c
                    }
                    Err(Refused::Full) => vec![],
                    Err(Refused::Outside) => unreachable!(),
                },
                1 if !pinned.is_empty() => {
                    s.unpin(pinned.swap_remove((x >> 8) as usize % pinned.len()));
                    vec![]
                }
                _ => s.on_miss(gpa).unwrap(),
            };
            for c in changes {
                match c {
                    SlotChange::Remove { id } => {
                        let start = live.remove(&id).expect("removing a slot that is not there");
                        assert!(!s.is_pinned(start), "evicted a pinned chunk");
                    }
                    SlotChange::Add { id, gpa, .. } => {
                        assert!(live.insert(id, gpa).is_none(), "id {id} reused while live")
                    }
                }
            }
            assert!(live.len() <= 32);
            for p in &pinned {
                assert!(s.slot_of(*p).is_some(), "a pinned chunk lost its slot");
            }
            let starts: std::collections::BTreeSet<u64> = live.values().copied().collect();
            assert_eq!(starts.len(), live.len(), "two slots for one chunk");
        }
    }
}
