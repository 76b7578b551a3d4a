//! The KVM platform (issue 11): the application runs in guest ring 3 of a VM whose
//! guest-physical memory is the memory file; the sentry stays in the host process.
//!
//! Guest-physical address = memory-file offset, so a page the sentry allocates is at the same
//! place for the guest MMU, for the page tables (`tsvisor-pagetables`, whose frames are
//! memory-file pages too) and for the sentry's own mapping of the file. A tiny ring-0 stub
//! (`layout`: GDT, IDT, TSS, one `hlt` per entry) sits in the supervisor-only upper half of
//! every address space; a syscall or exception halts there and the host reads the event
//! (`exits`). vCPUs are pooled host threads (`vcpu`); contexts borrow them (`context`);
//! address spaces are page tables with TLB shootdown (`address_space`).
//!
//! Memslots (`memslots`, `slot_table`): registered lazily, a chunk at a time, as the guest
//! touches memory with no slot (the vCPU loop serves the exit and resumes); bounded, the
//! least recently added reused; page-table and stub frames pinned. Where KVM cannot hand every
//! miss back (Intel, no KVM_CAP_EXIT_ON_EMULATION_FAILURE) the whole file is one slot.
//! This crate must not know about Node or the sentry.

pub mod address_space;
pub mod context;
pub mod exits;
pub mod frame_pool;
pub mod frames;
pub mod layout;
pub mod memslots;
mod self_test;
pub mod slot_table;
pub mod vcpu;
pub mod vm;

use std::io;
use std::sync::{Arc, Mutex};

use tsvisor_memfile::MemoryFile;
use tsvisor_pagetables::{PAGE_SIZE, USER_END};
use tsvisor_platform::{AddressSpaceOps, Context, Platform};

pub use address_space::KvmAddressSpace;
pub use context::KvmContext;
pub use memslots::{GuestMemory, Memslots, SlotChange};
pub use slot_table::{SlotConfig, SlotTable};

pub struct KvmPlatform {
    vm: Arc<vm::Vm>,
    pool: context::Pool,
}

impl KvmPlatform {
    /// Fails with the errno of opening /dev/kvm (ENOENT, EACCES) or of the VM's creation,
    /// and a message saying which.
    pub fn new(mf: Arc<MemoryFile>) -> io::Result<KvmPlatform> {
        let cfg = SlotConfig::from_env().map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        Self::with_slots(mf, cfg)
    }

    /// As `new`, the memslots set up as `cfg` asks (tests make them small and few).
    pub fn with_slots(mf: Arc<MemoryFile>, cfg: SlotConfig) -> io::Result<KvmPlatform> {
        let p = KvmPlatform { vm: Arc::new(vm::Vm::new(mf, cfg)?), pool: Arc::new(Mutex::new(Some(Vec::new()))) };
        self_test::run(&p).map_err(|why| io::Error::new(io::ErrorKind::Unsupported, format!("/dev/kvm fails a self-test: {why}")))?;
        Ok(p)
    }

    /// The guest's memory and its memslots (mode, misses served, slots live).
    pub fn slots(&self) -> &SlotTable {
        &self.vm.slots
    }

    pub fn new_kvm_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<KvmContext> {
        let space = ops
            .as_any()
            .downcast_ref::<KvmAddressSpace>()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let idle = self.pool.lock().unwrap().as_mut().and_then(|p| p.pop());
        let vcpu = match idle {
            Some(v) => v,
            None => vcpu::spawn(self.vm.clone())?,
        };
        KvmContext::new(vcpu, space.shared.clone(), self.pool.clone())
    }
}

impl Drop for KvmPlatform {
    /// Idle vCPUs end with the platform; one lent to a live context ends at its release.
    fn drop(&mut self) {
        for v in self.pool.lock().unwrap().take().unwrap_or_default() {
            v.post(vcpu::Cmd::Quit);
        }
    }
}

/// Why the platform cannot run here (no /dev/kvm, no access to it, a KVM lacking what we
/// need or failing to run a syscall in ring 3), or Ok if it can.
pub fn probe() -> Result<(), String> {
    let mf = Arc::new(MemoryFile::with_size(4 << 20).map_err(|e| format!("memory file: {e}"))?);
    match KvmPlatform::new(mf) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error().is_some() => Err(format!("/dev/kvm: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

impl Platform for KvmPlatform {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn min_user_address(&self) -> u64 {
        0x10000
    }

    fn max_user_address(&self) -> u64 {
        USER_END - PAGE_SIZE
    }

    fn detail(&self) -> String {
        format!("memslots {}", self.vm.slots.mode)
    }

    fn new_address_space(&self) -> io::Result<Box<dyn AddressSpaceOps>> {
        Ok(Box::new(KvmAddressSpace::new(self.vm.clone())?))
    }

    fn new_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<Box<dyn Context>> {
        Ok(Box::new(self.new_kvm_context(ops)?))
    }
}
