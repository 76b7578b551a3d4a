//! An io_uring used for one thing: futex waits that complete into an eventfd the sentry's
//! event loop watches. A stub thread's FUTEX_WAKE on its message then makes the event loop
//! runnable directly, with no waiter thread between them (one context switch per wake-up
//! instead of two, and no thread per context). Linux 6.7+ (IORING_OP_FUTEX_WAIT); `Ring::new`
//! probes for it and fails where it is missing, so the caller keeps its waiter threads.
//!
//! Only this file touches the ring's shared memory. Nothing here is reachable by the
//! application: the ring and the eventfd are the sentry's; the futex words it waits on are in
//! memory the application can write, which the caller (`wakes`) treats as untrusted.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const SYS_IO_URING_SETUP: libc::c_long = 425;
const SYS_IO_URING_ENTER: libc::c_long = 426;
const SYS_IO_URING_REGISTER: libc::c_long = 427;

const IORING_OFF_SQ_RING: i64 = 0;
const IORING_OFF_SQES: i64 = 0x1000_0000;
const IORING_FEAT_SINGLE_MMAP: u32 = 1;
const IORING_FEAT_NODROP: u32 = 1 << 1;
const IORING_SETUP_CQSIZE: u32 = 1 << 3;
const IORING_ENTER_GETEVENTS: u32 = 1;
const IORING_REGISTER_EVENTFD: u32 = 4;
const IORING_SQ_CQ_OVERFLOW: u32 = 1 << 1;

const IORING_OP_TIMEOUT: u8 = 11;
const IORING_OP_ASYNC_CANCEL: u8 = 14;
const IORING_OP_FUTEX_WAIT: u8 = 51;
/// futex2 flags (in the SQE's fd field): a 32-bit word, shared (the memory file is mapped by
/// the stub process too, so the wait must key on the file page, not on our address).
const FUTEX2_SIZE_U32: i32 = 0x02;
const FUTEX_BITSET_MATCH_ANY: u64 = 0xffff_ffff;

const SQ_ENTRIES: u32 = 64;
const CQ_ENTRIES: u32 = 4096;

#[repr(C)]
#[derive(Default)]
struct SqOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct CqOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct Params {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqOffsets,
    cq_off: CqOffsets,
}

/// struct io_uring_sqe, the fields we use.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Sqe {
    opcode: u8,
    flags: u8,
    ioprio: u16,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    op_flags: u32,
    user_data: u64,
    buf_index: u16,
    personality: u16,
    file_index: i32,
    addr3: u64,
    pad: u64,
}

#[repr(C)]
struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len came from one successful mmap and nothing uses them after the ring.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

pub struct Ring {
    fd: OwnedFd,
    event: OwnedFd,
    /// Kept mapped: the pointers below point into it.
    _rings: Mapping,
    sqes: Mapping,
    sq_tail: *const AtomicU32,
    sq_flags: *const AtomicU32,
    sq_mask: u32,
    sq_array: *mut u32,
    cq_head: *const AtomicU32,
    cq_tail: *const AtomicU32,
    cq_mask: u32,
    cqes: *const Cqe,
}

// SAFETY: the pointers are into the ring's own mappings, which live as long as the Ring; the
// caller serialises use (a Mutex), and the kernel's side is accessed through atomics.
unsafe impl Send for Ring {}

fn mmap_ring(fd: RawFd, len: usize, off: i64) -> io::Result<Mapping> {
    // SAFETY: a fresh shared mapping of the io_uring fd at one of its documented offsets.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_POPULATE, fd, off) };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(Mapping { ptr: p as *mut u8, len })
}

impl Ring {
    /// A ring whose completions signal an eventfd; fails (ENOSYS, EPERM, EINVAL...) where the
    /// kernel has no io_uring or no futex waits in it.
    pub fn new() -> io::Result<Ring> {
        let mut p = Params { flags: IORING_SETUP_CQSIZE, cq_entries: CQ_ENTRIES, ..Default::default() };
        // SAFETY: io_uring_setup writes the params struct we own.
        let fd = unsafe { libc::syscall(SYS_IO_URING_SETUP, SQ_ENTRIES, &mut p as *mut Params) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new fd the kernel just gave us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        if p.features & IORING_FEAT_SINGLE_MMAP == 0 || p.features & IORING_FEAT_NODROP == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSYS));
        }
        let sq_len = p.sq_off.array as usize + p.sq_entries as usize * 4;
        let cq_len = p.cq_off.cqes as usize + p.cq_entries as usize * std::mem::size_of::<Cqe>();
        let rings = mmap_ring(fd.as_raw_fd(), sq_len.max(cq_len), IORING_OFF_SQ_RING)?;
        let sqes = mmap_ring(fd.as_raw_fd(), p.sq_entries as usize * std::mem::size_of::<Sqe>(), IORING_OFF_SQES)?;
        // SAFETY: eventfd with flags only.
        let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new fd the kernel just gave us.
        let event = unsafe { OwnedFd::from_raw_fd(efd) };
        let b = rings.ptr;
        // SAFETY: the offsets are the kernel's, inside the mapping of the size it implies.
        let ring = unsafe {
            Ring {
                sq_tail: b.add(p.sq_off.tail as usize) as *const AtomicU32,
                sq_flags: b.add(p.sq_off.flags as usize) as *const AtomicU32,
                sq_mask: *(b.add(p.sq_off.ring_mask as usize) as *const u32),
                sq_array: b.add(p.sq_off.array as usize) as *mut u32,
                cq_head: b.add(p.cq_off.head as usize) as *const AtomicU32,
                cq_tail: b.add(p.cq_off.tail as usize) as *const AtomicU32,
                cq_mask: *(b.add(p.cq_off.ring_mask as usize) as *const u32),
                cqes: b.add(p.cq_off.cqes as usize) as *const Cqe,
                fd,
                event,
                _rings: rings,
                sqes,
            }
        };
        let efd = ring.event.as_raw_fd();
        // SAFETY: registers the eventfd we own; the kernel reads one int.
        if unsafe { libc::syscall(SYS_IO_URING_REGISTER, ring.fd.as_raw_fd(), IORING_REGISTER_EVENTFD, &efd as *const i32, 1) } < 0 {
            return Err(io::Error::last_os_error());
        }
        ring.probe_futex()?;
        Ok(ring)
    }

    /// Waits on a local word whose value differs: a kernel with futex waits in io_uring says
    /// EAGAIN, one without says EINVAL.
    fn probe_futex(&self) -> io::Result<()> {
        let word = AtomicU32::new(1);
        self.push(futex_sqe(0, word.as_ptr(), 0))?;
        // SAFETY: plain io_uring_enter on our fd, no signal mask.
        let r = unsafe { libc::syscall(SYS_IO_URING_ENTER, self.fd.as_raw_fd(), 1u32, 1u32, IORING_ENTER_GETEVENTS, 0usize, 0usize) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut res = None;
        self.reap(|_, r| res = Some(r));
        let mut n = [0u8; 8];
        // SAFETY: reads 8 bytes into our buffer from our nonblocking eventfd.
        unsafe { libc::read(self.event.as_raw_fd(), n.as_mut_ptr() as *mut libc::c_void, 8) };
        match res {
            Some(r) if r == -libc::EAGAIN => Ok(()),
            Some(r) => Err(io::Error::from_raw_os_error(-r)),
            None => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    /// The eventfd that becomes readable when completions are there.
    pub fn event_fd(&self) -> RawFd {
        self.event.as_raw_fd()
    }

    fn push(&self, sqe: Sqe) -> io::Result<()> {
        // SAFETY: we are the only producer (callers hold the Ring by &mut or under a lock) and
        // submit every entry at once, so the slot at tail is free.
        unsafe {
            let tail = (*self.sq_tail).load(Ordering::Relaxed);
            let i = tail & self.sq_mask;
            *(self.sqes.ptr as *mut Sqe).add(i as usize) = sqe;
            *self.sq_array.add(i as usize) = i;
            (*self.sq_tail).store(tail.wrapping_add(1), Ordering::Release);
        }
        Ok(())
    }

    fn submit(&self, sqe: Sqe) -> io::Result<()> {
        self.push(sqe)?;
        loop {
            // SAFETY: plain io_uring_enter on our fd.
            let r = unsafe { libc::syscall(SYS_IO_URING_ENTER, self.fd.as_raw_fd(), 1u32, 0u32, 0u32, 0usize, 0usize) };
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                // Take the entry back: it was not consumed.
                // SAFETY: as in push; the kernel did not advance past it.
                unsafe { (*self.sq_tail).fetch_sub(1, Ordering::Release) };
                return Err(e);
            }
        }
    }

    /// Waits (asynchronously) for a FUTEX_WAKE on `word` while it holds `val`; completes with
    /// `key`: 0 when woken, -EAGAIN if the word did not hold `val`, -ECANCELED if cancelled.
    pub fn futex_wait(&self, key: u64, word: *const AtomicU32, val: u32) -> io::Result<()> {
        self.submit(futex_sqe(key, word as *mut u32, val))
    }

    /// Cancels the request made with `key`, if still pending (its completion then says so).
    pub fn cancel(&self, key: u64) -> io::Result<()> {
        self.submit(Sqe { opcode: IORING_OP_ASYNC_CANCEL, fd: -1, addr: key, user_data: key | CANCEL_BIT, ..Default::default() })
    }

    /// Completes with `key` (and -ETIME) after `d`.
    pub fn timeout(&self, key: u64, d: Duration) -> io::Result<()> {
        let ts = libc::timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 };
        // The kernel copies the timespec while submitting, within this call.
        self.submit(Sqe { opcode: IORING_OP_TIMEOUT, fd: -1, addr: &ts as *const _ as u64, len: 1, user_data: key, ..Default::default() })
    }

    /// Empties the eventfd, then hands every completion to `f(key, res)` (completions of
    /// cancel requests themselves are dropped).
    pub fn drain(&self, mut f: impl FnMut(u64, i32)) {
        let mut n = [0u8; 8];
        // SAFETY: reads 8 bytes into our buffer from our nonblocking eventfd.
        unsafe { libc::read(self.event.as_raw_fd(), n.as_mut_ptr() as *mut libc::c_void, 8) };
        loop {
            self.reap(|k, r| {
                if k & CANCEL_BIT == 0 {
                    f(k, r)
                }
            });
            // SAFETY: sq_flags points into the ring mapping.
            if unsafe { (*self.sq_flags).load(Ordering::Acquire) } & IORING_SQ_CQ_OVERFLOW == 0 {
                return;
            }
            // Completions the CQ had no room for wait in the kernel: flush them in.
            // SAFETY: plain io_uring_enter on our fd.
            unsafe { libc::syscall(SYS_IO_URING_ENTER, self.fd.as_raw_fd(), 0u32, 0u32, IORING_ENTER_GETEVENTS, 0usize, 0usize) };
        }
    }

    fn reap(&self, mut f: impl FnMut(u64, i32)) {
        // SAFETY: we are the only consumer; entries between head and tail are the kernel's
        // finished writes (acquire on tail), released back by the store to head.
        unsafe {
            let mut head = (*self.cq_head).load(Ordering::Relaxed);
            let tail = (*self.cq_tail).load(Ordering::Acquire);
            while head != tail {
                let c = &*self.cqes.add((head & self.cq_mask) as usize);
                let (k, r) = (c.user_data, c.res);
                head = head.wrapping_add(1);
                (*self.cq_head).store(head, Ordering::Release);
                f(k, r);
            }
        }
    }
}

/// Marks the user_data of a cancel request (never a key we hand out: keys stay below 2^62).
const CANCEL_BIT: u64 = 1 << 63;

fn futex_sqe(key: u64, word: *mut u32, val: u32) -> Sqe {
    Sqe { opcode: IORING_OP_FUTEX_WAIT, fd: FUTEX2_SIZE_U32, addr: word as u64, off: val as u64, addr3: FUTEX_BITSET_MATCH_ANY, user_data: key, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wake(word: &AtomicU32) {
        // SAFETY: FUTEX_WAKE (shared) on a word we own.
        unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1, 0usize, 0usize, 0u32) };
    }

    fn wait_event(r: &Ring) {
        let mut pfd = libc::pollfd { fd: r.event_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd we own.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5000) }, 1, "the eventfd must become readable");
    }

    #[test]
    fn a_futex_wake_completes_the_wait_and_signals_the_eventfd() {
        let Ok(r) = Ring::new() else {
            eprintln!("skipping: no io_uring futex waits here");
            return;
        };
        let word = Box::new(AtomicU32::new(2));
        r.futex_wait(7, &*word, 2).unwrap();
        let mut got = Vec::new();
        r.drain(|k, res| got.push((k, res)));
        assert!(got.is_empty(), "nothing completes before the wake: {got:?}");
        word.store(1, Ordering::SeqCst);
        wake(&word);
        wait_event(&r);
        r.drain(|k, res| got.push((k, res)));
        assert_eq!(got, vec![(7, 0)]);
    }

    #[test]
    fn a_changed_word_a_cancel_and_a_timeout_each_complete() {
        let Ok(r) = Ring::new() else { return };
        let word = Box::new(AtomicU32::new(5));
        r.futex_wait(1, &*word, 4).unwrap();
        r.futex_wait(2, &*word, 5).unwrap();
        r.cancel(2).unwrap();
        r.timeout(3, Duration::from_millis(1)).unwrap();
        let mut got = Vec::new();
        let start = std::time::Instant::now();
        while got.len() < 3 && start.elapsed() < Duration::from_secs(5) {
            wait_event(&r);
            r.drain(|k, res| got.push((k, res)));
        }
        got.sort();
        assert_eq!(got, vec![(1, -libc::EAGAIN), (2, -libc::ECANCELED), (3, -libc::ETIME)]);
    }
}
