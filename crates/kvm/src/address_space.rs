//! One application address space on KVM: a set of guest page tables (frames in the memory
//! file, the ring-0 upper half shared in) and the TLB shootdown that makes a change visible
//! to every vCPU running in it before the change returns, as munmap must.

use std::any::Any;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tsvisor_pagetables::{PageTables, Prot};
use tsvisor_platform::AddressSpaceOps;

use crate::frames::MemFrames;
use crate::vcpu::VcpuShared;
use crate::vm::Vm;

const PAGE: u64 = 4096;
/// Above this a map is assumed to replace something rather than looked up page by page.
const MAP_CHECK_LIMIT: u64 = 64 * PAGE;

static NEXT_SPACE_ID: AtomicU64 = AtomicU64::new(1);

/// What the vCPUs need of an address space.
pub struct SpaceShared {
    /// Unique for the platform's life: a new space may get a freed root frame back.
    pub id: u64,
    pub root: u64,
    /// Bumped by every change; a vCPU flushes its TLB when it enters with a newer one.
    pub gen: AtomicU64,
    /// The vCPUs bound to this space (its contexts).
    pub vcpus: Mutex<Vec<Weak<VcpuShared>>>,
    /// Set once the tables are freed: a vCPU must never enter them again.
    pub released: AtomicBool,
}

impl SpaceShared {
    /// Makes every vCPU of the space forget what it cached: those in guest mode with an
    /// older generation are kicked out and waited for (they flush on re-entry).
    fn shootdown(&self) {
        let gen = self.gen.fetch_add(1, Ordering::SeqCst) + 1;
        let vcpus: Vec<Arc<VcpuShared>> = self.vcpus.lock().unwrap().iter().filter_map(Weak::upgrade).collect();
        for v in &vcpus {
            v.flush_wait(gen);
        }
    }
}

pub struct KvmAddressSpace {
    vm: Arc<Vm>,
    frames: MemFrames,
    tables: Option<PageTables>,
    pub shared: Arc<SpaceShared>,
}

fn err(e: tsvisor_pagetables::Error) -> io::Error {
    io::Error::from_raw_os_error(match e {
        tsvisor_pagetables::Error::OutOfFrames => libc::ENOMEM,
        _ => libc::EINVAL,
    })
}

impl KvmAddressSpace {
    pub fn new(vm: Arc<Vm>) -> io::Result<KvmAddressSpace> {
        let mut frames = MemFrames::new(vm.pool.clone());
        let mut tables = PageTables::new(&mut frames, None).map_err(err)?;
        tables.share_upper_half(&mut frames, &vm.kernel.lock().unwrap().tables);
        let shared = Arc::new(SpaceShared {
            id: NEXT_SPACE_ID.fetch_add(1, Ordering::Relaxed),
            root: tables.root(),
            gen: AtomicU64::new(0),
            vcpus: Mutex::new(Vec::new()),
            released: AtomicBool::new(false),
        });
        Ok(KvmAddressSpace { vm, frames, tables: Some(tables), shared })
    }

    fn tables(&mut self) -> io::Result<&mut PageTables> {
        self.tables.as_mut().ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))
    }

    /// The guest-physical address `va` translates to, for tests and the sentry's debugging.
    pub fn translate(&self, va: u64) -> Option<u64> {
        self.tables.as_ref()?.lookup(&self.frames, va).filter(|m| !m.prot.is_none()).map(|m| m.pa)
    }
}

impl AddressSpaceOps for KvmAddressSpace {
    fn map(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()> {
        if file_offset.checked_add(len).map_or(true, |e| e > self.vm.mf.size()) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // A TLB never holds a translation that was not present, so filling a hole (the page
        // fault path) needs no shootdown; replacing a mapping does.
        let replaces = len > MAP_CHECK_LIMIT || (0..len / PAGE).any(|i| self.translate(addr + i * PAGE).is_some());
        let mut frames = MemFrames::new(self.vm.pool.clone());
        let r = self.tables()?.map(&mut frames, addr, len, file_offset, Prot::from_bits(prot)).map_err(err);
        if replaces {
            self.shared.shootdown();
        }
        r
    }

    fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()> {
        let mut frames = MemFrames::new(self.vm.pool.clone());
        let r = self.tables()?.unmap(&mut frames, addr, len).map_err(err);
        self.shared.shootdown();
        r
    }

    fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()> {
        let mut frames = MemFrames::new(self.vm.pool.clone());
        let r = self.tables()?.protect(&mut frames, addr, len, Prot::from_bits(prot)).map_err(err);
        self.shared.shootdown();
        r
    }

    fn release(&mut self) {
        if let Some(t) = self.tables.take() {
            self.shared.released.store(true, Ordering::SeqCst);
            self.shared.shootdown();
            t.release(&mut self.frames);
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for KvmAddressSpace {
    fn drop(&mut self) {
        self.release();
    }
}
