//! A task's context on KVM: a vCPU borrowed from the platform's pool and bound to the task's
//! address space until release, when it goes back to the pool (KVM cannot destroy a vCPU).

use std::io;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use tsvisor_platform::{completion::Waker, Context, Event, Regs, NUM_REGS, REG_CS, REG_EFLAGS, REG_SS};

use crate::address_space::SpaceShared;
use crate::layout;
use crate::vcpu::{Cmd, VcpuShared};

/// Idle vCPUs; None once the platform is gone.
pub type Pool = Arc<Mutex<Option<Vec<Arc<VcpuShared>>>>>;

pub struct KvmContext {
    vcpu: Arc<VcpuShared>,
    space: Arc<SpaceShared>,
    pool: Pool,
    released: Mutex<bool>,
}

fn esrch<E>(_: E) -> io::Error {
    io::Error::from_raw_os_error(libc::ESRCH)
}

impl KvmContext {
    pub fn new(vcpu: Arc<VcpuShared>, space: Arc<SpaceShared>, pool: Pool) -> io::Result<KvmContext> {
        let (tx, rx) = sync_channel(1);
        vcpu.post(Cmd::Bind(space.clone(), tx));
        rx.recv().map_err(esrch)?;
        space.vcpus.lock().unwrap().push(Arc::downgrade(&vcpu));
        Ok(KvmContext { vcpu, space, pool, released: Mutex::new(false) })
    }
}

impl Context for KvmContext {
    fn initial_regs(&self) -> Regs {
        let mut r = [0u64; NUM_REGS];
        r[REG_CS] = layout::USER_CS as u64;
        r[REG_SS] = layout::USER_DS as u64;
        r[REG_EFLAGS] = 0x202;
        r
    }

    fn switch_to_user(&self, regs: &Regs) {
        self.vcpu.completion.begin();
        self.vcpu.post(Cmd::Run(*regs));
    }

    fn poll(&self) -> bool {
        self.vcpu.completion.is_done()
    }

    fn park(&self) -> bool {
        self.vcpu.completion.park()
    }

    fn take(&self, regs: &mut Regs) -> Event {
        self.vcpu.completion.take(regs)
    }

    fn set_waker(&self, w: Waker) {
        self.vcpu.completion.set_waker(w);
    }

    fn interrupt(&self) {
        self.vcpu.interrupt();
    }

    fn host_thread(&self) -> Option<(i32, i32)> {
        // SAFETY: getpid has no preconditions.
        Some((unsafe { libc::getpid() }, self.vcpu.tid.load(std::sync::atomic::Ordering::Acquire)))
    }

    /// The vCPU thread also runs the host side of every exit (many microseconds under
    /// nested virtualization): only its time in guest mode is the application's.
    fn host_cpu_kind(&self) -> tsvisor_platform::HostCpuKind {
        tsvisor_platform::HostCpuKind::Guest
    }

    fn fp_state(&self) -> io::Result<Vec<u8>> {
        let (tx, rx) = sync_channel(1);
        self.vcpu.post(Cmd::GetFp(tx));
        rx.recv().map_err(esrch)?
    }

    fn set_fp_state(&self, state: &[u8]) -> io::Result<()> {
        let (tx, rx) = sync_channel(1);
        self.vcpu.post(Cmd::SetFp(state.to_vec(), tx));
        rx.recv().map_err(esrch)?
    }

    fn release(&self) {
        let mut released = self.released.lock().unwrap();
        if *released {
            return;
        }
        *released = true;
        // A task released mid-run (its group was killed) must not keep the vCPU spinning.
        self.vcpu.interrupt();
        let (tx, rx) = sync_channel(1);
        self.vcpu.post(Cmd::Unbind(tx));
        let _ = rx.recv();
        self.space.vcpus.lock().unwrap().retain(|w| w.upgrade().is_some_and(|v| !Arc::ptr_eq(&v, &self.vcpu)));
        let broken = self.vcpu.broken.load(std::sync::atomic::Ordering::SeqCst);
        match self.pool.lock().unwrap().as_mut() {
            Some(idle) if !broken => idle.push(self.vcpu.clone()),
            _ => self.vcpu.post(Cmd::Quit),
        }
    }
}

impl Drop for KvmContext {
    fn drop(&mut self) {
        self.release();
    }
}
