//! The VM: /dev/kvm, guest-physical memory over the memory file, the filtered CPUID and the
//! ring-0 pages every address space shares. Created once per platform; vCPUs are made from it.

use std::io;
use std::sync::{Arc, Mutex};

use kvm_bindings::{CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Cap, Kvm, VmFd};
use tsvisor_memfile::MemoryFile;
use tsvisor_pagetables::{PageTables, Prot};

use crate::frame_pool::FramePool;
use crate::frames::MemFrames;
use crate::layout::{self, CpuArea, PAGE};
use crate::memslots::GuestMemory;
use crate::slot_table::{SlotConfig, SlotTable};

pub fn errno(e: kvm_ioctls::Error) -> io::Error {
    io::Error::from_raw_os_error(e.errno())
}

fn enomem<E>(_: E) -> io::Error {
    io::Error::from_raw_os_error(libc::ENOMEM)
}

/// Whether this KVM offers what the platform needs: the API, the capabilities, XSAVE in
/// the guest's CPUID. (`crate::probe` also runs code in it: a KVM can pass this and still
/// not work, as nested KVM in some VMs does.)
pub fn check(kvm: &Kvm) -> Result<(), String> {
    if kvm.get_api_version() != 12 {
        return Err(format!("/dev/kvm: API version {} (want 12)", kvm.get_api_version()));
    }
    for (cap, name) in REQUIRED_CAPS {
        if !kvm.check_extension(cap) {
            return Err(format!("/dev/kvm: lacks {name}"));
        }
    }
    let cpuid = kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES).map_err(|e| format!("/dev/kvm: KVM_GET_SUPPORTED_CPUID: {}", errno(e)))?;
    let xsave = cpuid.as_slice().iter().any(|e| e.function == 1 && e.ecx & (1 << 26) != 0);
    if !xsave {
        return Err("/dev/kvm: guests get no XSAVE (CPUID.1:ECX.XSAVE clear)".into());
    }
    Ok(())
}

const REQUIRED_CAPS: [(Cap, &str); 5] = [
    (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
    (Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"),
    (Cap::ExtCpuid, "KVM_CAP_EXT_CPUID"),
    (Cap::Xsave, "KVM_CAP_XSAVE"),
    (Cap::Xcrs, "KVM_CAP_XCRS"),
];

/// The supervisor-only upper half, shared into every address space.
pub struct Kernel {
    pub frames: MemFrames,
    pub tables: PageTables,
    /// vCPUs made so far (each has its CpuArea; KVM never destroys a vCPU before its VM).
    pub vcpus: u64,
}

pub struct Vm {
    pub kvm: Kvm,
    pub fd: Arc<VmFd>,
    pub mf: Arc<MemoryFile>,
    /// Guest-physical memory (the memory file) and its memslots.
    pub slots: Arc<SlotTable>,
    /// Frames for page tables and the stub (memslots pinned).
    pub pool: Arc<FramePool>,
    pub cpuid: CpuId,
    /// XCR0 the guest runs with, and the size of its XSAVE image (standard format).
    pub xcr0: u64,
    pub xsave_size: usize,
    pub fsgsbase: bool,
    /// KVM_CAP_SYNC_REGS covers the registers and system registers: a round trip is one
    /// KVM_RUN, the state moving through kvm_run instead of four GET/SET ioctls.
    pub sync_regs: bool,
    pub kernel: Mutex<Kernel>,
}

impl Vm {
    pub fn new(mf: Arc<MemoryFile>, slot_cfg: SlotConfig) -> io::Result<Vm> {
        // Opening /dev/kvm fails with its errno (ENOENT, EACCES); a KVM without what we need
        // is ENOSYS with the reason.
        let kvm = Kvm::new().map_err(errno)?;
        check(&kvm).map_err(|why| io::Error::new(io::ErrorKind::Unsupported, why))?;
        let fd = Arc::new(kvm.create_vm().map_err(errno)?);
        let size = mf.size();
        let hva = mf.ptr(0, size as usize)?;
        // SAFETY: the memory file's own MAP_SHARED mapping of its memfd from offset 0, which
        // lives as long as the file; the VM holds an Arc to the file.
        let mem = unsafe { GuestMemory::over_file(mf.fd(), hva, size) }?;
        let slots = Arc::new(SlotTable::new(&kvm, fd.clone(), mem, slot_cfg)?);
        let mut cpuid = kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES).map_err(errno)?;
        let (xcr0, xsave_size, fsgsbase) = filter_cpuid(&mut cpuid);
        let pool = Arc::new(FramePool::new(mf.clone(), slots.clone()));
        let mut frames = MemFrames::new(pool.clone());
        let mut tables = PageTables::new(&mut frames, None).map_err(enomem)?;
        // The stub's pages are read by the CPU itself (fetch, IDT, event delivery): pinned.
        let code = pool.alloc()?;
        mf.write(code, &layout::code_page())?;
        let idt = pool.alloc()?;
        mf.write(idt, &layout::idt_page())?;
        tables.map(&mut frames, layout::CODE_VA, PAGE, code, Prot::RX).map_err(enomem)?;
        tables.map(&mut frames, layout::IDT_VA, PAGE, idt, Prot::R).map_err(enomem)?;
        let sync_regs = sync_regs_usable(&kvm);
        Ok(Vm { kvm, fd, mf, slots, pool, cpuid, xcr0, xsave_size, fsgsbase, sync_regs, kernel: Mutex::new(Kernel { frames, tables, vcpus: 0 }) })
    }

    /// A new vCPU's index and ring-0 pages, mapped in the shared upper half. Returns the
    /// area and the guest-physical address of its RSP0 stack page (where the host reads
    /// exception frames).
    pub fn new_cpu_area(&self) -> io::Result<(u64, CpuArea, u64)> {
        let mut k = self.kernel.lock().unwrap();
        let index = k.vcpus;
        let area = CpuArea::of(index);
        let pages = [self.pool.alloc()?, self.pool.alloc()?, self.pool.alloc()?];
        self.mf.write(pages[0], &layout::cpu_page(&area))?;
        let Kernel { frames, tables, .. } = &mut *k;
        for (i, &p) in pages.iter().enumerate() {
            tables.map(frames, area.gdt + i as u64 * PAGE, PAGE, p, Prot::RW).map_err(enomem)?;
        }
        k.vcpus += 1;
        Ok((index, area, pages[1]))
    }
}

/// KVM_SYNC_X86_REGS and KVM_SYNC_X86_SREGS both offered, unless TSVISOR_KVM_SYNC_REGS=0
/// asks for the ioctls (to compare the two, and as a way around a KVM that gets them wrong).
fn sync_regs_usable(kvm: &Kvm) -> bool {
    let want = kvm_bindings::KVM_SYNC_X86_REGS | kvm_bindings::KVM_SYNC_X86_SREGS;
    let offered = kvm.check_extension_int(Cap::SyncRegs).max(0) as u32;
    offered & want == want && std::env::var("TSVISOR_KVM_SYNC_REGS").map_or(true, |v| v != "0")
}

fn cpuid_count(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = std::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Trims what KVM offers to what this guest can use, and picks XCR0: the host's own
/// features that KVM can give the guest (so FP images move between platforms unchanged).
/// Returns (xcr0, XSAVE image size, FSGSBASE available).
fn filter_cpuid(cpuid: &mut CpuId) -> (u64, usize, bool) {
    let mut supported = 0u64;
    let mut fsgsbase = false;
    for e in cpuid.as_slice() {
        if e.function == 0xd && e.index == 0 {
            supported = e.eax as u64 | (e.edx as u64) << 32;
        }
        if e.function == 7 && e.index == 0 {
            fsgsbase = e.ebx & 1 != 0;
        }
    }
    // SAFETY: xgetbv(0) is valid: the host kernel has set CR4.OSXSAVE (we require XSAVE).
    let host = unsafe { std::arch::x86_64::_xgetbv(0) };
    let xcr0 = host & supported & 0x2ff; // x87, SSE, AVX, MPX, AVX-512, PKRU: no AMX (XSAVE2)
    let mut size = 576usize;
    for i in 2..10 {
        if xcr0 & (1 << i) != 0 {
            let (sz, off, _, _) = cpuid_count(0xd, i);
            size = size.max((off + sz) as usize);
        }
    }
    for e in cpuid.as_mut_slice() {
        if e.function == 1 {
            // No monitor/mwait in a guest we never idle in ring 0.
            e.ecx &= !(1 << 3);
        }
    }
    (xcr0, size.min(4096), fsgsbase)
}
