//! The 9P transport: a unix stream socket to the gofer (or any 9P2000.L server such as diod),
//! over which the sentry sends whole messages and receives what the server sent, a batch of
//! replies per read, with the host fds that came with it as SCM_RIGHTS (MSG_CMSG_CLOEXEC).
//! Blocking calls with a deadline: the sentry's file-system interface is synchronous. The
//! framing (size[4]) and what a message means are ts/p9's business.

use std::io;
use std::mem;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::to_napi;

/// Most fds one message may carry; more are closed at once (a server only ever donates one).
const MAX_FDS: usize = 4;
/// How long recv polls without sleeping before it blocks in poll(2): a gofer answers most
/// requests within a few microseconds, and a sleep/wake pair costs more than that. Only while
/// the host has a CPU to spare (platform::SpinPolicy): otherwise the spin would take the CPU
/// the gofer needs to answer.
const RECV_SPIN: std::time::Duration = std::time::Duration::from_micros(40);

fn errno(e: i32) -> Error {
    to_napi(io::Error::from_raw_os_error(e))
}

/// A connected pair of unix stream sockets, close-on-exec, as [sentry end, server end].
#[napi]
pub fn p9_socketpair() -> Result<Vec<i32>> {
    let mut sv = [0i32; 2];
    // SAFETY: sv has room for the two fds socketpair writes.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) };
    if r < 0 {
        return Err(to_napi(io::Error::last_os_error()));
    }
    Ok(vec![sv[0], sv[1]])
}

/// Connects a close-on-exec unix stream socket to the server listening at `path`.
#[napi]
pub fn p9_connect_unix(path: String) -> Result<i32> {
    // SAFETY: sockaddr_un is plain data; all zero is a valid starting value.
    let mut addr: libc::sockaddr_un = unsafe { mem::zeroed() };
    let bytes = path.as_bytes();
    if bytes.is_empty() || bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(errno(libc::EINVAL));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(to_napi(io::Error::last_os_error()));
    }
    let len = (mem::size_of::<libc::sa_family_t>() + bytes.len()) as libc::socklen_t;
    // SAFETY: addr is a valid sockaddr_un of at least len bytes.
    if unsafe { libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len) } < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        return Err(to_napi(e));
    }
    Ok(fd)
}

/// Closes a transport socket (or a donated fd nobody took).
#[napi]
pub fn p9_close(fd: i32) {
    // SAFETY: plain syscall; the caller owns fd.
    unsafe { libc::close(fd) };
}

/// Waits until fd is ready for `events` or the deadline (ms since an arbitrary start) passes.
fn wait_ready(fd: i32, events: i16, deadline: std::time::Instant) -> Result<()> {
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(errno(libc::ETIMEDOUT));
        }
        let mut p = libc::pollfd { fd, events, revents: 0 };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms.max(1)) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(to_napi(e));
        }
        if r > 0 {
            return Ok(());
        }
    }
}

fn send_all(fd: i32, msg: &[u8], deadline: std::time::Instant) -> Result<()> {
    let mut done = 0;
    while done < msg.len() {
        // SAFETY: sending from within msg's bounds; MSG_NOSIGNAL: a dead server is EPIPE, not a signal.
        let n = unsafe {
            libc::send(fd, msg[done..].as_ptr() as *const libc::c_void, msg.len() - done, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => {
                    wait_ready(fd, libc::POLLOUT, deadline)?;
                    continue;
                }
                _ => return Err(to_napi(e)),
            }
        }
        done += n as usize;
    }
    Ok(())
}

/// recvmsg into buf, taking any SCM_RIGHTS fds into fds (extra ones are closed).
fn recv_some(fd: i32, buf: &mut [u8], fds: &mut Vec<i32>, deadline: std::time::Instant) -> Result<usize> {
    // Room for one SCM_RIGHTS header with MAX_FDS ints, aligned for cmsghdr.
    let mut cbuf = [0u64; 8];
    let spin = if tsvisor_platform::SpinPolicy::get().spinning() { RECV_SPIN } else { std::time::Duration::ZERO };
    let spin_until = std::time::Instant::now() + spin;
    loop {
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
        // SAFETY: msghdr is plain data; all zero is valid before the fields are set.
        let mut mh: libc::msghdr = unsafe { mem::zeroed() };
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        mh.msg_controllen = mem::size_of_val(&cbuf);
        // SAFETY: mh points at iov (within buf) and cbuf, both live for the call.
        let n = unsafe { libc::recvmsg(fd, &mut mh, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => {
                    if std::time::Instant::now() < spin_until {
                        std::hint::spin_loop();
                        continue;
                    }
                    wait_ready(fd, libc::POLLIN, deadline)?;
                    continue;
                }
                _ => return Err(to_napi(e)),
            }
        }
        // SAFETY: walking the control messages recvmsg wrote, with the libc macros over mh.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&mh);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(c) as *const i32;
                    let count = ((*c).cmsg_len as usize - (data as usize - c as usize)) / mem::size_of::<i32>();
                    for i in 0..count {
                        let f = std::ptr::read_unaligned(data.add(i));
                        if fds.len() < MAX_FDS {
                            fds.push(f);
                        } else {
                            libc::close(f);
                        }
                    }
                }
                c = libc::CMSG_NXTHDR(&mh, c);
            }
        }
        if n == 0 {
            return Err(errno(libc::ECONNRESET));
        }
        return Ok(n as usize);
    }
}

fn deadline_of(timeout_ms: u32) -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64)
}

/// Sends one whole message (blocking up to timeout_ms).
#[napi]
pub fn p9_send(fd: i32, msg: &[u8], timeout_ms: u32) -> Result<()> {
    send_all(fd, msg, deadline_of(timeout_ms))
}

thread_local! {
    /// What p9_recv_some reads into (reused: only the bytes read are copied out).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One recvmsg of whatever the socket has (waiting for something up to the deadline), at most
/// max_bytes: several whole replies in one crossing when the server sent them together. The
/// fds that came with it go to fds_out (fds_out[0] how many, then the fds, owned by the
/// caller; more than fit is EPROTO, all closed); they belong to the last message that
/// starts within these bytes (the kernel ends a read with the data the fds came on, and a
/// server sends a donating reply alone, from its first byte: PROTOCOL.md). Framing is the
/// caller's (ts/p9/transport.ts).
fn recv_chunk(fd: i32, fds_out: &mut [i32], max_bytes: u32, deadline: std::time::Instant) -> Result<Buffer> {
    let room = fds_out.len().saturating_sub(1);
    SCRATCH.with(|s| {
        let mut buf = s.borrow_mut();
        let want = (max_bytes as usize).clamp(7, 8 << 20);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let mut fds = Vec::new();
        let n = recv_some(fd, &mut buf[..want], &mut fds, deadline)?;
        if fds.len() > room {
            for f in fds {
                // SAFETY: fds we received and nobody else has seen.
                unsafe { libc::close(f) };
            }
            return Err(errno(libc::EPROTO));
        }
        fds_out[0] = fds.len() as i32;
        fds_out[1..=fds.len()].copy_from_slice(&fds);
        Ok(buf[..n].to_vec().into())
    })
}

/// Receives what the socket has (see recv_chunk), blocking up to timeout_ms for the first byte.
#[napi]
pub fn p9_recv_some(fd: i32, mut fds_out: Int32ArraySlice<'_>, max_bytes: u32, timeout_ms: u32) -> Result<Buffer> {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    let fds_out = unsafe { fds_out.as_mut() };
    if fds_out.is_empty() {
        return Err(errno(libc::EINVAL));
    }
    recv_chunk(fd, fds_out, max_bytes, deadline_of(timeout_ms))
}

/// p9_send then p9_recv_some: a request and what comes back, in one crossing.
#[napi]
pub fn p9_call_some(fd: i32, msg: &[u8], mut fds_out: Int32ArraySlice<'_>, max_bytes: u32, timeout_ms: u32) -> Result<Buffer> {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    let fds_out = unsafe { fds_out.as_mut() };
    if fds_out.is_empty() {
        return Err(errno(libc::EINVAL));
    }
    let deadline = deadline_of(timeout_ms);
    send_all(fd, msg, deadline)?;
    recv_chunk(fd, fds_out, max_bytes, deadline)
}
