//! napi-rs bindings: the only crate that knows Node exists. Each class here is a thin shell
//! over a core crate; the crossing itself is described in ts/native/addon.ts.
//! Errors cross as JS Errors whose message starts with the errno name ("ENOMEM: ...").

use std::io;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use tsvisor_memfile::MemoryFile as CoreMemoryFile;
use tsvisor_platform::{self as platform, Regs, NUM_REGS};

mod p9;
mod host_net;
mod host_watch;
mod helper_process;
mod js_wake;
mod wake_loop;
mod idle_wait;
mod handoff;
mod host_copy;
mod host_write_fault;

extern "C" {
    /// glibc 2.32+: the symbolic name of an errno value ("ENOTTY"), or NULL.
    fn strerrorname_np(errnum: libc::c_int) -> *const libc::c_char;
}

fn errno_name(e: i32) -> String {
    // SAFETY: strerrorname_np returns NULL or a pointer to a static NUL-terminated string.
    let p = unsafe { strerrorname_np(e) };
    if p.is_null() {
        return "EIO".to_string();
    }
    // SAFETY: non-NULL, static and NUL-terminated (above).
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

pub(crate) fn to_napi(e: io::Error) -> Error {
    let code = e.raw_os_error().unwrap_or(libc::EIO);
    Error::new(Status::GenericFailure, format!("{}: {}", errno_name(code), e))
}

fn u64_arg(v: f64) -> Result<u64> {
    if !(v >= 0.0 && v <= 9007199254740991.0 && v.fract() == 0.0) {
        return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    Ok(v as u64)
}

#[napi]
pub struct MemoryFile {
    inner: Arc<CoreMemoryFile>,
}

#[napi]
impl MemoryFile {
    #[napi(constructor)]
    pub fn new() -> Result<MemoryFile> {
        Ok(MemoryFile { inner: Arc::new(CoreMemoryFile::new().map_err(to_napi)?) })
    }

    #[napi]
    pub fn allocate(&self, pages: f64) -> Result<f64> {
        Ok(self.inner.allocate(u64_arg(pages)?).map_err(to_napi)? as f64)
    }

    #[napi]
    pub fn allocate_fresh(&self, pages: f64) -> Result<f64> {
        Ok(self.inner.allocate_fresh(u64_arg(pages)?).map_err(to_napi)? as f64)
    }

    /// One byte per page of [offset, +length) into out: 1 if the page is in memory.
    #[napi]
    pub fn residency(&self, offset: f64, length: f64, mut out: Uint8ArraySlice<'_>) -> Result<()> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let out = unsafe { out.as_mut() };
        self.inner.residency(u64_arg(offset)?, u64_arg(length)?, out).map_err(to_napi)
    }

    #[napi]
    pub fn populate(&self, offset: f64, length: f64) -> Result<()> {
        self.inner.populate(u64_arg(offset)?, u64_arg(length)?).map_err(to_napi)
    }

    #[napi]
    pub fn inc_ref(&self, offset: f64, length: f64) -> Result<()> {
        self.inner.inc_ref(u64_arg(offset)?, u64_arg(length)?).map_err(to_napi)
    }

    #[napi]
    pub fn dec_ref(&self, offset: f64, length: f64) -> Result<()> {
        self.inner.dec_ref(u64_arg(offset)?, u64_arg(length)?).map_err(to_napi)
    }

    #[napi]
    pub fn read(&self, offset: f64, mut dst: Uint8ArraySlice<'_>) -> Result<()> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let dst = unsafe { dst.as_mut() };
        self.inner.read(u64_arg(offset)?, dst).map_err(to_napi)
    }

    #[napi]
    pub fn write(&self, offset: f64, src: Uint8ArraySlice<'_>) -> Result<()> {
        self.inner.write(u64_arg(offset)?, &src).map_err(to_napi)
    }

    #[napi]
    pub fn read_from_host_fd(&self, host_fd: i32, file_offset: f64, offset: f64, length: f64) -> Result<f64> {
        let n = self
            .inner
            .read_from_fd(host_fd, u64_arg(file_offset)?, u64_arg(offset)?, u64_arg(length)? as usize)
            .map_err(to_napi)?;
        Ok(n as f64)
    }

    /// Reference count of the page at `offset` (0 if free).
    #[napi]
    pub fn ref_count(&self, offset: f64) -> Result<u32> {
        Ok(self.inner.ref_count(u64_arg(offset)?))
    }

    #[napi]
    pub fn allocated_bytes(&self) -> f64 {
        self.inner.allocated_bytes() as f64
    }

    /// The memory limit in bytes; Infinity (or anything past 2^53) for none.
    #[napi]
    pub fn set_limit(&self, bytes: f64) -> Result<()> {
        let b = if bytes > 9007199254740991.0 { u64::MAX } else { u64_arg(bytes)? };
        self.inner.set_limit(b);
        Ok(())
    }

    /// The memory limit in bytes, Infinity for none.
    #[napi]
    pub fn limit_bytes(&self) -> f64 {
        let l = self.inner.limit();
        if l == u64::MAX { f64::INFINITY } else { l as f64 }
    }
}

/// One number for a HostIo (no object per call): bytes moved (all, or up to the file's end);
/// -errno when the host call failed before any byte (after some, the short count, as Linux);
/// -(HOST_IO_HOLE + bytes) when it stopped at a page not mapped with the access needed.
fn host_io_result(r: platform::HostIo) -> f64 {
    const HOST_IO_HOLE: f64 = 4096.0;
    match r {
        platform::HostIo::Done(n) => n as f64,
        platform::HostIo::Hole(n) => -(HOST_IO_HOLE + n as f64),
        platform::HostIo::Failed(0, e) => -(e as f64),
        platform::HostIo::Failed(n, _) => n as f64,
    }
}

#[napi]
pub struct AddressSpace {
    inner: Mutex<platform::AddressSpace>,
}

#[napi]
impl AddressSpace {
    #[napi]
    pub fn map(&self, addr: f64, length: f64, file_offset: f64, prot: u32) -> Result<()> {
        let mut a = self.inner.lock().unwrap();
        a.map(u64_arg(addr)?, u64_arg(length)?, u64_arg(file_offset)?, prot).map_err(to_napi)
    }

    #[napi]
    pub fn unmap(&self, addr: f64, length: f64) -> Result<()> {
        self.inner.lock().unwrap().unmap(u64_arg(addr)?, u64_arg(length)?).map_err(to_napi)
    }

    #[napi]
    pub fn protect(&self, addr: f64, length: f64, prot: u32) -> Result<()> {
        self.inner.lock().unwrap().protect(u64_arg(addr)?, u64_arg(length)?, prot).map_err(to_napi)
    }

    /// Bytes mapped in [addr, addr+length) (the resident set of a VMA, for /proc).
    #[napi]
    pub fn resident_bytes(&self, addr: f64, length: f64) -> Result<f64> {
        Ok(self.inner.lock().unwrap().resident_bytes(u64_arg(addr)?, u64_arg(length)?) as f64)
    }

    /// Bytes mapped in the whole address space, and the most there has been since it was
    /// made or last reset by execve: [now, peak].
    #[napi]
    pub fn resident_total(&self) -> Vec<f64> {
        let (now, peak) = self.inner.lock().unwrap().resident_total();
        vec![now as f64, peak as f64]
    }

    #[napi]
    pub fn lookup(&self, addr: f64, mut prot_out: Int32ArraySlice<'_>) -> Result<f64> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let prot_out = unsafe { prot_out.as_mut() };
        match self.inner.lock().unwrap().lookup(u64_arg(addr)?) {
            Some((off, prot)) => {
                if let Some(p) = prot_out.first_mut() {
                    *p = prot as i32;
                }
                Ok(off as f64)
            }
            None => Ok(-1.0),
        }
    }

    /// The unmapped run around addr within [lo, hi) (a fault's window): its start, with its end
    /// in end_out[0]; -1 if addr is mapped. One crossing instead of a lookup per page.
    #[napi]
    pub fn hole_around(&self, addr: f64, lo: f64, hi: f64, mut end_out: Float64ArraySlice<'_>) -> Result<f64> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let end_out = unsafe { end_out.as_mut() };
        let (addr, lo, hi) = (u64_arg(addr)?, u64_arg(lo)?, u64_arg(hi)?);
        if !(lo <= addr && addr < hi) {
            return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
        }
        match self.inner.lock().unwrap().hole_around(addr, lo, hi) {
            Some((start, end)) => {
                if let Some(e) = end_out.first_mut() {
                    *e = end as f64;
                }
                Ok(start as f64)
            }
            None => Ok(-1.0),
        }
    }

    /// The run around addr within [lo, hi) of pages mapped without write whose memory-file
    /// page nobody else holds (exclusive) or someone else does (not): a write fault may deal
    /// with them all. Its start, its end in end_out[0]; empty at addr's page if that page is
    /// not one.
    #[napi]
    pub fn write_protected_run(&self, addr: f64, lo: f64, hi: f64, exclusive: bool, mut end_out: Float64ArraySlice<'_>) -> Result<f64> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let end_out = unsafe { end_out.as_mut() };
        let (start, end) = self.inner.lock().unwrap().write_protected_run(u64_arg(addr)?, u64_arg(lo)?, u64_arg(hi)?, exclusive);
        if let Some(e) = end_out.first_mut() {
            *e = end as f64;
        }
        Ok(start as f64)
    }

    /// Map into `target` at `to` whatever is mapped here in [from, from+length), run by
    /// run, with `prot`: fork's copy-on-write sharing and mremap's move in one crossing
    /// instead of a lookup per page. `target` may be this address space.
    #[napi]
    pub fn copy_mappings_to(&self, target: &AddressSpace, from: f64, to: f64, length: f64, prot: u32) -> Result<()> {
        let (from, to, length) = (u64_arg(from)?, u64_arg(to)?, u64_arg(length)?);
        // Collected before the target is locked: it may be this very address space.
        let runs = self.inner.lock().unwrap().mapped_runs(from, length);
        let mut t = target.inner.lock().unwrap();
        for (start, len, off, _) in runs {
            t.map(to + (start - from), len, off, prot).map_err(to_napi)?;
        }
        Ok(())
    }

    /// Copies application memory at `from` here to `to` in `target` (this address space or
    /// another over the same memory file), memory file to memory file: one copy, no JS buffer
    /// (a pipe's write straight into the buffer of a read blocked on it). Returns the bytes
    /// copied before the first page not readable here or not writable there; stop_out[0] says
    /// which ended it: 0 neither, 1 the source, 2 the target.
    #[napi]
    pub fn copy_to_space(&self, target: &AddressSpace, from: f64, to: f64, length: f64, mut stop_out: Int32ArraySlice<'_>) -> Result<f64> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let stop_out = unsafe { stop_out.as_mut() };
        let (from, to, length) = (u64_arg(from)?, u64_arg(to)?, u64_arg(length)? as usize);
        // Collected before the target is locked: it may be this very address space.
        let pieces = self.inner.lock().unwrap().readable_pieces(from, length);
        let t = target.inner.lock().unwrap();
        if !std::ptr::eq(self, target) && !self.inner.lock().unwrap().same_memory_file(&t) {
            return Err(to_napi(io::Error::from_raw_os_error(libc::EXDEV)));
        }
        let mut done = 0usize;
        let mut stop = 0;
        for (off, n) in pieces {
            let got = t.copy_out_from_file(to + done as u64, off, n);
            done += got;
            if got < n {
                stop = 2;
                break;
            }
        }
        if stop == 0 && done < length {
            stop = 1;
        }
        if let Some(s) = stop_out.first_mut() {
            *s = stop;
        }
        Ok(done as f64)
    }

    #[napi]
    pub fn copy_in(&self, addr: f64, mut dst: Uint8ArraySlice<'_>) -> Result<f64> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let dst = unsafe { dst.as_mut() };
        Ok(self.inner.lock().unwrap().copy_in(u64_arg(addr)?, dst) as f64)
    }

    #[napi]
    pub fn copy_out(&self, addr: f64, src: Uint8ArraySlice<'_>) -> Result<f64> {
        Ok(self.inner.lock().unwrap().copy_out(u64_arg(addr)?, &src) as f64)
    }

    #[napi]
    pub fn copy_out_from_file(&self, addr: f64, file_offset: f64, length: f64) -> Result<f64> {
        Ok(self.inner.lock().unwrap().copy_out_from_file(u64_arg(addr)?, u64_arg(file_offset)?, u64_arg(length)? as usize) as f64)
    }

    #[napi]
    pub fn copy_in_to_file(&self, addr: f64, file_offset: f64, length: f64) -> Result<f64> {
        Ok(self.inner.lock().unwrap().copy_in_to_file(u64_arg(addr)?, u64_arg(file_offset)?, u64_arg(length)? as usize) as f64)
    }

    #[napi]
    pub fn zero_out(&self, addr: f64, length: f64) -> Result<f64> {
        Ok(self.inner.lock().unwrap().zero_out(u64_arg(addr)?, u64_arg(length)? as usize) as f64)
    }

    // ---- Host-fd I/O into/out of application memory (the gofer's donated fds) ----

    /// pread(2) from host fd into application memory at [addr, +length): see host_io_result.
    #[napi]
    pub fn pread_into(&self, addr: f64, length: f64, host_fd: i32, offset: f64) -> Result<f64> {
        let r = self.inner.lock().unwrap().pread_into(u64_arg(addr)?, u64_arg(length)? as usize, host_fd, u64_arg(offset)?);
        Ok(host_io_result(r))
    }

    /// pwrite(2) of application memory at [addr, +length) to host fd: see host_io_result.
    #[napi]
    pub fn pwrite_from(&self, addr: f64, length: f64, host_fd: i32, offset: f64) -> Result<f64> {
        let r = self.inner.lock().unwrap().pwrite_from(u64_arg(addr)?, u64_arg(length)? as usize, host_fd, u64_arg(offset)?);
        Ok(host_io_result(r))
    }

    #[napi]
    pub fn release(&self) {
        self.inner.lock().unwrap().release();
    }

    /// execve in the same host process: see platform::AddressSpace::reset.
    #[napi]
    pub fn reset_for_exec(&self) -> Result<()> {
        self.inner.lock().unwrap().reset().map_err(to_napi)
    }

    /// See platform::AddressSpaceOps::begin_batch (fork's copy of an address space).
    #[napi]
    pub fn begin_batch(&self) -> Result<()> {
        self.inner.lock().unwrap().begin_batch().map_err(to_napi)
    }

    #[napi]
    pub fn end_batch(&self) -> Result<()> {
        self.inner.lock().unwrap().end_batch().map_err(to_napi)
    }
}

/// Stub threads' CPU clocks, kept from a released context for the next on the same thread.
static HOST_CLOCKS: platform::ClockCache = platform::ClockCache::new();

#[napi]
pub struct Context {
    inner: Arc<dyn platform::Context>,
    /// The platform's wake loop and this context's id in it, where stops are reported there.
    wake: Option<(std::rc::Rc<wake_loop::WakeLoop>, u32)>,
    /// The task's CPU clock on its stub thread (/proc, re-read with pread), counted from when
    /// the thread became this context's; None without a host thread.
    host_cpu: Mutex<Option<platform::TaskClock>>,
    handoff: handoff::Handoff,
    /// Where the sentry's thread sleeps on parked runs itself (idle_wait), and this
    /// context's id there.
    idle: Option<(std::rc::Rc<idle_wait::IdleWait>, u32)>,
}

fn regs_in(js: &[u64]) -> Result<Regs> {
    if js.len() < NUM_REGS + 5 {
        return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    let mut r = [0u64; NUM_REGS];
    r.copy_from_slice(&js[..NUM_REGS]);
    Ok(r)
}

impl Drop for Context {
    // Collected without release(): its callback must not hold the event loop.
    fn drop(&mut self) {
        if let Some((w, id)) = &self.wake {
            w.remove(*id);
        }
        if let Some((w, id)) = &self.idle {
            w.remove(*id);
        }
    }
}

impl Context {
    fn take_into(&self, regs: &mut [u64]) -> u32 {
        if !self.inner.poll() {
            return 0;
        }
        if let Some((w, id)) = &self.idle {
            w.unparked(*id);
        }
        let mut r = [0u64; NUM_REGS];
        let ev = self.inner.take(&mut r);
        regs[..NUM_REGS].copy_from_slice(&r);
        regs[NUM_REGS] = ev.signo;
        regs[NUM_REGS + 1] = ev.code;
        regs[NUM_REGS + 2] = ev.addr;
        regs[NUM_REGS + 3] = ev.access;
        regs[NUM_REGS + 4] = ev.status;
        ev.kind as u32
    }
}

#[napi]
impl Context {
    /// Fills `regs` with a fresh thread's registers (valid selectors and flags, zero elsewhere).
    #[napi]
    pub fn initial_regs(&self, mut regs: BigUint64ArraySlice<'_>) -> Result<()> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let regs = unsafe { regs.as_mut() };
        if regs.len() < NUM_REGS {
            return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
        }
        regs[..NUM_REGS].copy_from_slice(&self.inner.initial_regs());
        Ok(())
    }

    /// Resumes with `regs`; returns the event kind at once if the task stopped within the
    /// spin budget (registers and event slots written back into `regs`), else 0: the wake
    /// callback comes later, then take().
    #[napi]
    pub fn run(&self, mut regs: BigUint64ArraySlice<'_>) -> Result<u32> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let regs = unsafe { regs.as_mut() };
        let r = regs_in(regs)?;
        if self.handoff.spin(self.inner.as_ref(), &r) {
            return Ok(self.take_into(regs));
        }
        if !self.inner.park() {
            return Ok(self.take_into(regs));
        }
        if let Some((w, id)) = &self.wake {
            w.parked(*id);
        }
        if let Some((w, id)) = &self.idle {
            w.parked(*id, self.inner.clone());
        }
        Ok(0)
    }

    /// Takes the result of a finished run into `regs` (0 if it has not finished).
    #[napi]
    pub fn take(&self, mut regs: BigUint64ArraySlice<'_>) -> Result<u32> {
        // SAFETY: the JS thread is inside this call, so nothing else touches the array.
        let regs = unsafe { regs.as_mut() };
        regs_in(regs)?;
        Ok(self.take_into(regs))
    }

    #[napi]
    pub fn interrupt(&self) {
        self.inner.interrupt();
    }

    /// The stopped task's syscall blocks: its platform thread need not wait actively.
    #[napi]
    pub fn blocking(&self) {
        self.inner.blocking();
    }

    #[napi]
    pub fn kill(&self) {
        self.inner.kill();
    }

    /// CPU time the host has charged to the task's stub thread (on KVM: its vCPU thread's
    /// time in guest mode), in ns; -1 if the platform has no such thread or it is gone.
    #[napi]
    pub fn cpu_time_ns(&self) -> f64 {
        self.host_cpu.lock().unwrap().as_ref().and_then(platform::TaskClock::read_ns).map_or(-1.0, |ns| ns as f64)
    }

    /// The platform's side of the context, for a hang report (--debug-log).
    #[napi]
    pub fn describe(&self) -> String {
        let idle = self.idle.as_ref().map_or(String::new(), |(w, id)| format!(" idle_parked={}", w.is_parked(*id)));
        format!("{}{idle}", self.inner.describe())
    }

    #[napi]
    pub fn get_fp_state(&self) -> Result<Buffer> {
        Ok(self.inner.fp_state().map_err(to_napi)?.into())
    }

    #[napi]
    pub fn set_fp_state(&self, state: Uint8ArraySlice<'_>) -> Result<()> {
        self.inner.set_fp_state(&state).map_err(to_napi)
    }

    #[napi]
    pub fn release(&self) {
        // The waker goes now rather than when GC finalizes this object: a threadsafe function
        // is a libuv async handle, and every wake-up of the loop scans them all (thousands
        // after as many threads, 3% of the sentry's CPU in a thread create+join loop).
        self.inner.set_waker(Box::new(|| {}));
        self.inner.release();
        // The thread ran its last for this task: its total then is where its next task starts.
        if let Some(clock) = self.host_cpu.lock().unwrap().take() {
            clock.finish(&HOST_CLOCKS);
        }
        if let Some((w, id)) = &self.wake {
            w.remove(*id);
        }
        if let Some((w, id)) = &self.idle {
            w.remove(*id);
        }
    }
}

/// A platform by name: "ptrace", "systrap" or "kvm" (ENOSYS where it cannot work here).
#[napi]
pub struct Platform {
    inner: Box<dyn platform::Platform + Send + Sync>,
    mf: Arc<CoreMemoryFile>,
    wake: Option<std::rc::Rc<wake_loop::WakeLoop>>,
    idle: Option<std::rc::Rc<idle_wait::IdleWait>>,
}

impl Drop for Platform {
    fn drop(&mut self) {
        if let Some(w) = &self.wake {
            w.close();
        }
        if let Some(w) = &self.idle {
            w.close();
        }
    }
}

#[napi]
impl Platform {
    #[napi(constructor)]
    pub fn new(env: Env, mf: &MemoryFile, name: String) -> Result<Platform> {
        let inner: Box<dyn platform::Platform + Send + Sync> = match name.as_str() {
            "ptrace" => Box::new(tsvisor_ptrace::PtracePlatform::new(mf.inner.clone()).map_err(to_napi)?),
            "systrap" => Box::new(tsvisor_systrap::SystrapPlatform::new(mf.inner.clone()).map_err(to_napi)?),
            "kvm" => Box::new(tsvisor_kvm::KvmPlatform::new(mf.inner.clone()).map_err(to_napi)?),
            _ => return Err(to_napi(io::Error::from_raw_os_error(libc::ENOENT))),
        };
        // Stops of parked runs straight into the event loop, where the platform can.
        let wake = match inner.wake_source() {
            Some(src) => wake_loop::WakeLoop::new(&env, src)?,
            None => None,
        };
        // Otherwise the sentry's thread sleeps on parked runs itself when it is idle.
        let idle = if wake.is_none() && inner.has_stop_words() { idle_wait::IdleWait::new(&env)? } else { None };
        Ok(Platform { inner, mf: mf.inner.clone(), wake, idle })
    }

    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// How the platform set itself up (kvm: its memslot mode), or "": for --debug-log.
    #[napi(getter)]
    pub fn detail(&self) -> String {
        self.inner.detail()
    }

    #[napi(getter)]
    pub fn min_user_address(&self) -> f64 {
        self.inner.min_user_address() as f64
    }

    #[napi(getter)]
    pub fn max_user_address(&self) -> f64 {
        self.inner.max_user_address() as f64
    }

    /// [__vdso_clock_gettime, start, end) of the host's vDSO in every address space, or []
    /// where the platform has none to call (kvm, no host vDSO, a clocksource without one).
    #[napi(getter)]
    pub fn host_vdso_clock(&self) -> Vec<f64> {
        self.inner.host_vdso_clock().map(|(f, s, e)| vec![f as f64, s as f64, e as f64]).unwrap_or_default()
    }

    #[napi(getter)]
    pub fn syscall_patch_entry(&self) -> f64 {
        self.inner.syscall_patch_entry() as f64
    }

    /// The first address space will be asked for soon: the platform may start making it off
    /// the JS thread (systrap), overlapping the sandbox's own set-up.
    #[napi]
    pub fn prepare_address_space(&self) {
        self.inner.prepare_address_space();
    }

    #[napi]
    pub fn new_address_space(&self) -> Result<AddressSpace> {
        let ops = self.inner.new_address_space().map_err(to_napi)?;
        let a = platform::AddressSpace::new(
            self.mf.clone(),
            ops,
            self.inner.min_user_address(),
            self.inner.max_user_address(),
        );
        Ok(AddressSpace { inner: Mutex::new(a) })
    }

    /// A new task context in `space`; `on_wake` is called on the JS thread when a run that
    /// outlasted the spin budget has stopped.
    #[napi]
    pub fn new_context(&self, space: &AddressSpace, on_wake: Function<(), ()>) -> Result<Context> {
        let a = space.inner.lock().unwrap();
        let ctx: Arc<dyn platform::Context> = Arc::from(self.inner.new_context(a.ops().map_err(to_napi)?).map_err(to_napi)?);
        let handoff = handoff::Handoff::default();
        // Counted from now: the thread may have run other tasks before (a pooled vCPU).
        let kind = ctx.host_cpu_kind();
        let host_cpu = Mutex::new(ctx.host_thread().and_then(|(tgid, tid)| platform::TaskClock::start(&HOST_CLOCKS, tgid, tid, kind)));
        if let Some(w) = &self.wake {
            let (id, waker) = w.add(on_wake.value().value)?;
            ctx.set_waker(waker);
            return Ok(Context { inner: ctx, wake: Some((w.clone(), id)), host_cpu, handoff, idle: None });
        }
        let idle = match &self.idle {
            Some(w) => Some((w.clone(), w.add(on_wake.value().value)?)),
            None => None,
        };
        let tsfn: ThreadsafeFunction<(), (), (), Status, false> =
            on_wake.build_threadsafe_function().callee_handled::<false>().build()?;
        ctx.set_waker(Box::new(move || {
            tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }));
        Ok(Context { inner: ctx, wake: None, host_cpu, handoff, idle })
    }
}

/// Why the kvm platform cannot run here (no /dev/kvm, no access, a KVM lacking a
/// capability), or null if it can: for `--platform=auto` and the tests' skip reasons.
#[napi]
pub fn kvm_unavailable_reason() -> Option<String> {
    tsvisor_kvm::probe().err()
}

/// CPU time of the calling thread (the sentry's JS thread when called from JS), in ns: what
/// handling the tasks' syscalls and faults really cost, where wall time also counts the
/// time the host did not run the sentry.
#[napi]
pub fn sentry_thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return -1.0;
    }
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// _exit(2): leave now, without the process's exit handlers. Node's own exit joins libuv's
/// thread pool, which waits for ever for a host call a hung file system holds there
/// (ts/fsimpl/gofer/slow_host_calls.ts).
#[napi]
pub fn exit_now(status: i32) {
    // SAFETY: _exit ends the process; nothing of it runs afterwards.
    unsafe { libc::_exit(status) }
}

// The gofer's list of file systems whose calls end in bounded time, the one the gofer serves by.
#[path = "../../gofer/src/local_fs.rs"]
mod local_fs;

/// Whether calls on a host fd the sentry owns (a donated fd: ts/fsimpl/gofer/host_fd.ts) may
/// block without bound, by its file system's fstatfs magic; true when that cannot be read.
#[napi]
pub fn host_fd_may_block(fd: i32) -> bool {
    // SAFETY: statfs is plain data the kernel fills; fd is only read.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstatfs(fd, &mut st) } < 0 {
        return true;
    }
    local_fs::may_block(st.f_type as i64)
}

/// Whether a file system that may block is mounted at or below host directory `dir` (a FUSE
/// or NFS mount inside a gofer tree: its lookups then wait for the host), by the mount types
/// /proc/self/mountinfo gives; read at start-up (mounts made later are not seen).
#[napi]
pub fn host_tree_may_block(dir: String) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let dir = dir.trim_end_matches('/');
    info.lines().any(|line| {
        let mut halves = line.splitn(2, " - ");
        let (Some(head), Some(tail)) = (halves.next(), halves.next()) else { return false };
        let (Some(point), Some(fstype)) = (head.split(' ').nth(4), tail.split(' ').next()) else { return false };
        let point = unescape_mountinfo(point);
        let below = point == dir || (point.starts_with(dir) && point.as_bytes().get(dir.len()) == Some(&b'/'));
        below && local_fs::type_may_block(fstype)
    })
}

/// A mountinfo path with its octal escapes (\040 for a space) undone.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push(((b[i + 1] - b'0') as u32 * 64 + (b[i + 2] - b'0') as u32 * 8 + (b[i + 3] - b'0') as u32) as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// lseek(2) on a host fd the sentry owns (Node has none); the new offset, or -errno.
#[napi]
pub fn host_lseek(fd: i32, offset: f64, whence: i32) -> f64 {
    if offset.fract() != 0.0 || !(-9007199254740991.0..=9007199254740991.0).contains(&offset) {
        return -(libc::EINVAL as f64);
    }
    // SAFETY: plain syscall with integer arguments.
    let r = unsafe { libc::lseek(fd, offset as libc::off_t, whence) };
    if r < 0 {
        -(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as f64)
    } else {
        r as f64
    }
}

/// fallocate(2) on a host fd the sentry holds (a writable volume file's donated fd; Node has
/// none): 0, or -errno. The sentry has checked the mode and range as vfs_fallocate does.
#[napi]
pub fn host_fallocate(fd: i32, mode: i32, offset: f64, len: f64) -> i32 {
    let exact = |v: f64| v.fract() == 0.0 && (0.0..=9007199254740991.0).contains(&v);
    if !exact(offset) || !exact(len) {
        return -libc::EINVAL;
    }
    // SAFETY: plain syscall with integer arguments.
    let r = unsafe { libc::fallocate(fd, mode, offset as libc::off_t, len as libc::off_t) };
    if r < 0 {
        -io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
    } else {
        0
    }
}

/// isatty(3) on a host fd: whether it is a terminal.
#[napi]
pub fn host_isatty(fd: i32) -> bool {
    // SAFETY: plain call with an integer argument.
    unsafe { libc::isatty(fd) == 1 }
}

/// Fills buf from the host's getrandom(2) (the sandbox's entropy source).
#[napi]
pub fn host_getrandom(mut buf: Uint8ArraySlice<'_>) -> Result<()> {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    let buf = unsafe { buf.as_mut() };
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writing within buf's bounds.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr() as *mut libc::c_void, buf.len() - done, 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(to_napi(e));
        }
        done += n as usize;
    }
    Ok(())
}

fn tty_ioctl(fd: i32, req: libc::c_ulong, buf: &mut [u8], need: usize) -> Result<()> {
    if buf.len() < need {
        return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    // SAFETY: buf holds at least `need` bytes, the size of the structure this request uses.
    if unsafe { libc::ioctl(fd, req, buf.as_mut_ptr()) } < 0 {
        return Err(to_napi(io::Error::last_os_error()));
    }
    Ok(())
}

/// TCGETS on a host terminal: the kernel's struct termios (36 bytes).
#[napi]
pub fn tty_get_attr(fd: i32, mut termios: Uint8ArraySlice<'_>) -> Result<()> {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    tty_ioctl(fd, libc::TCGETS, unsafe { termios.as_mut() }, 36)
}

/// TCSETS/TCSETSW/TCSETSF (actions 0, 1, 2) on a host terminal.
#[napi]
pub fn tty_set_attr(fd: i32, actions: u32, mut termios: Uint8ArraySlice<'_>) -> Result<()> {
    if actions > 2 {
        return Err(to_napi(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    tty_ioctl(fd, libc::TCSETS + actions as libc::c_ulong, unsafe { termios.as_mut() }, 36)
}

/// TIOCGWINSZ on a host terminal: struct winsize (8 bytes).
#[napi]
pub fn tty_get_winsize(fd: i32, mut winsize: Uint8ArraySlice<'_>) -> Result<()> {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    tty_ioctl(fd, libc::TIOCGWINSZ, unsafe { winsize.as_mut() }, 8)
}

/// poll(2) one host fd with a zero timeout; returns revents.
#[napi]
pub fn poll_host_fd(fd: i32, events: i32) -> i32 {
    let mut p = libc::pollfd { fd, events: events as i16, revents: 0 };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r < 0 {
        -1
    } else {
        p.revents as i32
    }
}

/// CLOCK_REALTIME minus CLOCK_MONOTONIC in ns, as [seconds, nanoseconds (0..1e9)]: the sandbox's
/// realtime clock is process.hrtime (monotonic) plus this, to the nanosecond, so timestamps
/// the host puts on packets (SO_TIMESTAMP) are never ahead of it.
#[napi]
pub fn host_realtime_offset() -> Vec<f64> {
    let mut m0 = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let mut r = m0;
    let mut m1 = m0;
    // SAFETY: valid timespecs to fill.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut m0);
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut r);
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut m1);
    }
    let ns = |t: &libc::timespec| t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128;
    let off = ns(&r) - (ns(&m0) + ns(&m1)) / 2;
    vec![off.div_euclid(1_000_000_000) as f64, off.rem_euclid(1_000_000_000) as f64]
}
