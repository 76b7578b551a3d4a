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

pub struct SlotTable {
    fd: Arc<VmFd>,
    pub mem: GuestMemory,
    lazy: Option<Mutex<Memslots>>,
    /// Misses served (lazy): registrations made on a guest exit.
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
        let Some(why) = why_not else {
            let nr = kvm.check_extension_int(Cap::NrMemslots).max(0) as u32;
            let max = cfg.max_slots.min(nr.saturating_sub(1)).max(2);
            let s = Memslots::new(mem.size(), mem.hva_base(), cfg.chunk, max);
            let mode = format!("lazy: {} MiB chunks, at most {max} slots", cfg.chunk / MIB);
            return Ok(SlotTable {
                fd,
                mem,
                lazy: Some(Mutex::new(s)),
                misses: AtomicU64::new(0),
                mode,
            });
        };
        let t = SlotTable {
            fd,
            mem,
            lazy: None,
            misses: AtomicU64::new(0),
            mode: format!("eager: {why}"),
        };
        t.apply(&[SlotChange::Add {
            id: 0,
            gpa: 0,
            size: t.mem.size(),
            hva: t.mem.hva_base(),
        }])?;
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
            // SAFETY: every slot lies inside the memory file's mapping (Memslots cuts chunks
            // from [0, size) of `mem`, which is that mapping), and the mapping outlives the VM:
            // the platform holds an Arc to the file and drops the VM first.
            unsafe { self.fd.set_user_memory_region(region) }.map_err(crate::vm::errno)?;
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

    pub fn unpin(&self, gpa: u64) {
        if let Some(lazy) = &self.lazy {
            lazy.lock().unwrap().unpin(gpa);
        }
    }
}
