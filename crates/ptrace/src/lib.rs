//! The ptrace platform: each address space is a stub process traced by the sentry, each task
//! a thread of it traced by a host thread of ours, run with PTRACE_SYSEMU so that every
//! syscall the application makes stops before the host executes it. Simple and runs
//! everywhere ptrace is allowed; slow (several context switches per syscall).
//! Threat model: every syscall of the application stops for the tracer, whatever its
//! address (the host vDSO's own fallback syscall included: host_vdso.rs); the host vDSO is
//! the only thing of the host's image left in a stub, above max_user_address.
//! Owns the stub (stub/), its processes and tracer threads; knows nothing of Node.

mod context;
pub mod host_vdso;
pub mod stub;
pub mod sys;

use std::any::Any;
use std::io;
use std::sync::{Arc, Mutex};

use tsvisor_memfile::MemoryFile;
use tsvisor_platform::{AddressSpaceOps, Context, Platform};

pub use context::PtraceContext;
pub use stub::{stub_image, StubImage, StubProcess, BATCH_ENTRY, STUB_BASE, SYSTRAP_CLONE_GADGET};

pub struct PtracePlatform {
    mf: Arc<MemoryFile>,
}

impl PtracePlatform {
    pub fn new(mf: Arc<MemoryFile>) -> io::Result<PtracePlatform> {
        Ok(PtracePlatform { mf })
    }

    pub fn new_ptrace_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<PtraceContext> {
        let pas = ops
            .as_any()
            .downcast_ref::<PtraceAddressSpace>()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mut stub = pas.stub.lock().unwrap();
        let tid = stub.clone_thread()?;
        let gadget = stub.entry + stub::SYSCALL_GADGET;
        PtraceContext::new(stub.pid, tid, gadget)
    }
}

pub struct PtraceAddressSpace {
    stub: Arc<Mutex<StubProcess>>,
}

impl PtraceAddressSpace {
    pub fn pid(&self) -> i32 {
        self.stub.lock().unwrap().pid
    }
}

impl AddressSpaceOps for PtraceAddressSpace {
    fn map(&mut self, addr: u64, len: u64, file_offset: u64, prot: u32) -> io::Result<()> {
        self.stub.lock().unwrap().map_file(addr, len, file_offset, prot)
    }

    fn unmap(&mut self, addr: u64, len: u64) -> io::Result<()> {
        self.stub.lock().unwrap().unmap(addr, len)
    }

    fn protect(&mut self, addr: u64, len: u64, prot: u32) -> io::Result<()> {
        self.stub.lock().unwrap().protect(addr, len, prot)
    }

    fn release(&mut self) {
        self.stub.lock().unwrap().kill();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn min_user_address(&self) -> u64 {
        0x10000
    }

    fn max_user_address(&self) -> u64 {
        STUB_BASE
    }

    fn new_address_space(&self) -> io::Result<Box<dyn AddressSpaceOps>> {
        let mut stub = StubProcess::spawn(self.mf.fd())?;
        stub.install_vsyscall_filter()?;
        Ok(Box::new(PtraceAddressSpace { stub: Arc::new(Mutex::new(stub)) }))
    }

    fn new_context(&self, ops: &dyn AddressSpaceOps) -> io::Result<Box<dyn Context>> {
        Ok(Box::new(self.new_ptrace_context(ops)?))
    }

    fn host_vdso_clock(&self) -> Option<(u64, u64, u64)> {
        host_vdso::host_vdso_clock()
    }
}
