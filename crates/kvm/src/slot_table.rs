//! The memslots KVM holds over the memory file, kept in step with `Memslots`. Either eager
//! (the whole file one slot, registered with the VM) or lazy (chunks registered as the guest
//! touches them, bounded, least recently added reused). Lazy needs the miss handed back to
//! us with its guest-physical address in every case, which KVM does on AMD (SVM) when
//! KVM_CAP_EXIT_ON_EMULATION_FAILURE is on: an access its emulator can complete comes back as
//! KVM_EXIT_MMIO, one it cannot (an AVX store, a fetch from the unregistered page) as an
//! emulation failure carrying the nested page fault's gpa. Elsewhere (Intel's failure exit
//! has no gpa; an old KVM injects #UD instead) the table is eager.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kvm_bindings::{
    kvm_enable_cap, kvm_userspace_memory_region, KVM_CAP_EXIT_ON_EMULATION_FAILURE,
};
use kvm_ioctls::{Cap, Kvm, VmFd};

use crate::memslots::{GuestMemory, Memslots, Refused, SlotChange};

const MIB: u64 = 1 << 20;

/// How to register the memory file. `from_env` reads the knobs the tests use to make the
/// chunk small and the limit low (TSVISOR_KVM_SLOTS=eager|lazy, TSVISOR_KVM_SLOT_CHUNK_MB,
/// TSVISOR_KVM_SLOT_MAX).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotConfig {
    pub lazy: bool,
    pub chunk: u64,
    pub max_slots: u32,
}

impl Default for SlotConfig {
    /// 256 MiB chunks, at most 64 slots: a few misses per program, far under KVM's limits.
    fn default() -> SlotConfig {
        SlotConfig {
            lazy: true,
            chunk: 256 * MIB,
            max_slots: 64,
        }
    }
}

impl SlotConfig {
    pub fn from_env() -> Result<SlotConfig, String> {
        let mut c = SlotConfig::default();
        match std::env::var("TSVISOR_KVM_SLOTS").as_deref() {
            Err(_) | Ok("lazy") => {}
            Ok("eager") => c.lazy = false,
            Ok(v) => return Err(format!("TSVISOR_KVM_SLOTS={v}: want eager or lazy")),
        }
        if let Ok(v) = std::env::var("TSVISOR_KVM_SLOT_CHUNK_MB") {
            match v.parse::<u64>() {
                Ok(mb) if mb >= 2 && mb.is_power_of_two() && mb <= 1 << 20 => c.chunk = mb * MIB,
                _ => {
                    return Err(format!(
                        "TSVISOR_KVM_SLOT_CHUNK_MB={v}: want a power of two from 2 to 2^20"
                    ))
                }
            }
        }
        if let Ok(v) = std::env::var("TSVISOR_KVM_SLOT_MAX") {
            match v.parse::<u32>() {
                Ok(n) if (8..=32_000).contains(&n) => c.max_slots = n,
                _ => return Err(format!("TSVISOR_KVM_SLOT_MAX={v}: want 8 to 32000")),
            }
        }
        Ok(c)
    }
}

/// Where the slot changes go: the VM (KVM_SET_USER_MEMORY_REGION), or a test's record.
pub trait RegionSink: Send + Sync {
    fn set(&self, region: kvm_userspace_memory_region) -> io::Result<()>;
}

impl RegionSink for VmFd {
    fn set(&self, region: kvm_userspace_memory_region) -> io::Result<()> {
        // SAFETY: SlotTable, the only caller, passes regions cut from [0, size) of its
        // GuestMemory, which is the memory file's own mapping, and removals (size 0); that
        // mapping outlives the VM: the platform holds an Arc to the file and drops the VM first.
        unsafe { self.set_user_memory_region(region) }.map_err(crate::vm::errno)
    }
}

pub struct SlotTable {
    sink: Arc<dyn RegionSink>,
    pub mem: GuestMemory,
    lazy: Option<Mutex<Memslots>>,
    /// Guest exits served as misses (lazy).
    misses: AtomicU64,
    /// Why the table is what it is, for the debug log and the tests.
    pub mode: String,
}

fn is_amd() -> bool {
    let r = std::arch::x86_64::__cpuid(0);
    let mut v = [0u8; 12];
    v[..4].copy_from_slice(&r.ebx.to_le_bytes());
    v[4..8].copy_from_slice(&r.edx.to_le_bytes());
    v[8..].copy_from_slice(&r.ecx.to_le_bytes());
    &v == b"AuthenticAMD" || &v == b"HygonGenuine"
}

impl SlotTable {
    pub fn new(
        kvm: &Kvm,
        fd: Arc<VmFd>,
        mem: GuestMemory,
        cfg: SlotConfig,
    ) -> io::Result<SlotTable> {
        let why_not = if !cfg.lazy {
            Some("asked for (TSVISOR_KVM_SLOTS=eager)".to_string())
        } else if !is_amd() {
            Some("not AMD: an emulation failure exit carries no guest-physical address".to_string())
        } else {
            let cap = kvm_enable_cap {
                cap: KVM_CAP_EXIT_ON_EMULATION_FAILURE,
                args: [1, 0, 0, 0],
                ..Default::default()
            };
            fd.enable_cap(&cap)
                .err()
                .map(|e| format!("KVM_CAP_EXIT_ON_EMULATION_FAILURE: {}", crate::vm::errno(e)))
        };
        let (lazy, mode) = match why_not {
            None => {
                let nr = kvm.check_extension_int(Cap::NrMemslots).max(0) as u32;
                let max = cfg.max_slots.min(nr.saturating_sub(1)).max(2);
                (Some(Memslots::new(mem.size(), mem.hva_base(), cfg.chunk, max)), format!("lazy: {} MiB chunks, at most {max} slots", cfg.chunk / MIB))
            }
            Some(why) => (None, format!("eager: {why}")),
        };
        SlotTable::with_sink(fd, mem, lazy, mode)
    }

    /// Lazy with `lazy`'s bookkeeping, or eager (the whole of `mem` registered now) without.
    pub fn with_sink(sink: Arc<dyn RegionSink>, mem: GuestMemory, lazy: Option<Memslots>, mode: String) -> io::Result<SlotTable> {
        let eager = lazy.is_none();
        let t = SlotTable { sink, mem, lazy: lazy.map(Mutex::new), misses: AtomicU64::new(0), mode };
        if eager {
            t.apply(&[SlotChange::Add { id: 0, gpa: 0, size: t.mem.size(), hva: t.mem.hva_base() }])?;
        }
        Ok(t)
    }

    pub fn is_lazy(&self) -> bool {
        self.lazy.is_some()
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Slots registered now.
    pub fn live(&self) -> usize {
        self.lazy.as_ref().map_or(1, |l| l.lock().unwrap().len())
    }

    fn apply(&self, changes: &[SlotChange]) -> io::Result<()> {
        for c in changes {
            let region = match *c {
                SlotChange::Add { id, gpa, size, hva } => kvm_userspace_memory_region {
                    slot: id,
                    flags: 0,
                    guest_phys_addr: gpa,
                    memory_size: size,
                    userspace_addr: hva,
                },
                SlotChange::Remove { id } => kvm_userspace_memory_region {
                    slot: id,
                    ..Default::default()
                },
            };
            self.sink.set(region)?;
        }
        Ok(())
    }

    /// The guest touched gpa and KVM found no slot. Ok(true): gpa is memory and has a slot
    /// now; Ok(false): gpa is not guest memory (or the table is eager and had it already).
    pub fn miss(&self, gpa: u64) -> io::Result<bool> {
        let Some(lazy) = &self.lazy else {
            return Ok(false);
        };
        let mut s = lazy.lock().unwrap();
        match s.on_miss(gpa) {
            Ok(changes) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                self.apply(&changes)?;
                Ok(true)
            }
            Err(Refused::Outside) => Ok(false),
            Err(Refused::Full) => Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "every memslot holds pinned memory",
            )),
        }
    }

    /// Keeps gpa's slot registered: the page holds what the CPU reads on its own (a page
    /// table, the stub), where a miss would not come back to us as one.
    pub fn pin(&self, gpa: u64) -> io::Result<()> {
        let Some(lazy) = &self.lazy else {
            return Ok(());
        };
        let mut s = lazy.lock().unwrap();
        match s.pin(gpa) {
            Ok(changes) => self.apply(&changes),
            Err(_) => Err(io::Error::from_raw_os_error(libc::ENOMEM)),
        }
    }

    pub fn is_pinned(&self, gpa: u64) -> bool {
        self.lazy.as_ref().is_some_and(|l| l.lock().unwrap().is_pinned(gpa))
    }

    pub fn unpin(&self, gpa: u64) {
        if let Some(lazy) = &self.lazy {
            lazy.lock().unwrap().unpin(gpa);
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Records what KVM would be told: (slot, gpa, size).
    #[derive(Default)]
    pub struct Record(pub Mutex<Vec<(u32, u64, u64)>>);

    impl RegionSink for Record {
        fn set(&self, r: kvm_userspace_memory_region) -> io::Result<()> {
            self.0.lock().unwrap().push((r.slot, r.guest_phys_addr, r.memory_size));
            Ok(())
        }
    }

    fn lazy(max: u32) -> (Arc<Record>, SlotTable) {
        let mem = GuestMemory::anonymous(64 * MIB).unwrap();
        let s = Memslots::new(mem.size(), mem.hva_base(), 2 * MIB, max);
        let rec = Arc::new(Record::default());
        let t = SlotTable::with_sink(rec.clone(), mem, Some(s), "lazy".into()).unwrap();
        (rec, t)
    }

    #[test]
    fn lazy_registers_nothing_up_front_and_a_chunk_per_miss() {
        let (rec, t) = lazy(4);
        assert!(rec.0.lock().unwrap().is_empty());
        assert!(t.miss(3 * MIB).unwrap());
        assert!(t.miss(3 * MIB + 4096).unwrap(), "served again, a second vCPU's race");
        assert_eq!(*rec.0.lock().unwrap(), vec![(0, 2 * MIB, 2 * MIB)]);
        assert!(!t.miss(64 * MIB).unwrap(), "past memory: not a miss");
        for c in [2, 3, 4] {
            t.miss(c * 2 * MIB).unwrap();
        }
        assert_eq!(t.live(), 4);
        t.miss(10 * MIB).unwrap();
        let r = rec.0.lock().unwrap();
        // The oldest slot is removed (size 0) before its id is given to the new chunk.
        assert_eq!(r[r.len() - 2..], [(0, 0, 0), (0, 10 * MIB, 2 * MIB)]);
        assert_eq!((t.live(), t.misses()), (4, 6));
    }

    #[test]
    fn pins_keep_their_slot_and_are_bounded() {
        let (_rec, t) = lazy(8);
        for c in 0..4 {
            t.pin(c * 2 * MIB).unwrap();
        }
        assert_eq!(t.pin(8 * MIB).unwrap_err().raw_os_error(), Some(libc::ENOMEM));
        for c in 4..20 {
            t.miss(c * 2 * MIB % (64 * MIB)).unwrap();
        }
        assert!((0..4).all(|c| t.is_pinned(c * 2 * MIB)));
        t.unpin(0);
        assert!(!t.is_pinned(0));
        t.pin(8 * MIB).unwrap();
    }

    #[test]
    fn eager_registers_the_whole_memory_once_and_has_no_misses() {
        let mem = GuestMemory::anonymous(64 * MIB).unwrap();
        let rec = Arc::new(Record::default());
        let t = SlotTable::with_sink(rec.clone(), mem, None, "eager".into()).unwrap();
        assert_eq!(*rec.0.lock().unwrap(), vec![(0, 0, 64 * MIB)]);
        assert!(!t.miss(MIB).unwrap());
        t.pin(MIB).unwrap();
        assert!(!t.is_pinned(MIB));
        assert_eq!((t.live(), t.misses(), t.is_lazy()), (1, 0, false));
    }
}
