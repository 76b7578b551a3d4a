//! Host sockets for --network=host (ts/net/host): thin, non-blocking socket calls on fds the
//! sentry made itself. Each returns its result or -errno, never blocks (every socket is made
//! SOCK_NONBLOCK) and reads or writes only within the buffers given. What reaches here was
//! checked by the sentry: families, types, addresses rebuilt from parsed fields, and a fixed
//! list of options.

use napi::bindgen_prelude::*;
use napi_derive::napi;

fn neg_errno() -> i32 {
    -std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn ret(r: libc::c_int) -> i32 {
    if r < 0 {
        neg_errno()
    } else {
        r
    }
}

fn ret_size(r: libc::ssize_t) -> f64 {
    if r < 0 {
        neg_errno() as f64
    } else {
        r as f64
    }
}

/// socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added: the fd, or -errno.
#[napi]
pub fn host_socket(domain: i32, ty: i32, protocol: i32) -> i32 {
    // SAFETY: no pointers.
    ret(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, protocol) })
}

/// bind(2) (connect when connect is true) to the sockaddr bytes in addr.
#[napi]
pub fn host_bind_connect(fd: i32, addr: Uint8Array, connect: bool) -> i32 {
    let a: &[u8] = &addr;
    // SAFETY: addr is a live buffer of a.len() bytes for the duration of the call.
    let r = unsafe {
        let p = a.as_ptr() as *const libc::sockaddr;
        let l = a.len() as libc::socklen_t;
        if connect {
            libc::connect(fd, p, l)
        } else {
            libc::bind(fd, p, l)
        }
    };
    ret(r)
}

#[napi]
pub fn host_listen(fd: i32, backlog: i32) -> i32 {
    // SAFETY: no pointers.
    ret(unsafe { libc::listen(fd, backlog) })
}

#[napi]
pub fn host_shutdown(fd: i32, how: i32) -> i32 {
    // SAFETY: no pointers.
    ret(unsafe { libc::shutdown(fd, how) })
}

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the new fd, or -errno.
#[napi]
pub fn host_accept(fd: i32) -> i32 {
    // SAFETY: null address pointers are allowed.
    ret(unsafe { libc::accept4(fd, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) })
}

/// getsockname(2) (getpeername when peer) into out: the address length, or -errno.
#[napi]
pub fn host_sock_name(fd: i32, peer: bool, mut out: Uint8Array) -> i32 {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    let o = unsafe { out.as_mut() };
    let mut l = o.len() as libc::socklen_t;
    // SAFETY: o has l writable bytes; l is updated by the kernel.
    let r = unsafe {
        let p = o.as_mut_ptr() as *mut libc::sockaddr;
        if peer {
            libc::getpeername(fd, p, &mut l)
        } else {
            libc::getsockname(fd, p, &mut l)
        }
    };
    if r < 0 {
        neg_errno()
    } else {
        l as i32
    }
}

/// sendmsg(2) with MSG_DONTWAIT | MSG_NOSIGNAL added; addr empty: no destination; control
/// empty: no ancillary data (what is there the sentry rebuilt from checked messages).
#[napi]
pub fn host_sendmsg(fd: i32, data: Uint8Array, flags: i32, addr: Uint8Array, control: Uint8Array) -> f64 {
    let d: &[u8] = &data;
    let a: &[u8] = &addr;
    let c: &[u8] = &control;
    let f = flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let mut iov = libc::iovec { iov_base: d.as_ptr() as *mut libc::c_void, iov_len: d.len() };
    // SAFETY: an all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    if !a.is_empty() {
        msg.msg_name = a.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = a.len() as libc::socklen_t;
    }
    if !c.is_empty() {
        msg.msg_control = c.as_ptr() as *mut libc::c_void;
        msg.msg_controllen = c.len();
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: msg points at buffers live for the call; the kernel only reads them.
    ret_size(unsafe { libc::sendmsg(fd, &msg, f) })
}

/// recvmsg(2) with MSG_DONTWAIT added into buf; the sender's address into addr, ancillary
/// data into control; meta[0] gets msg_namelen, meta[1] msg_flags, meta[2] msg_controllen.
/// Returns the byte count, or -errno.
#[napi]
pub fn host_recvmsg(fd: i32, mut buf: Uint8Array, flags: i32, mut addr: Uint8Array, mut control: Uint8Array, mut meta: Int32Array) -> f64 {
    // SAFETY: the JS thread is inside this call, so nothing else touches the arrays.
    let (b, a, c, m) = unsafe { (buf.as_mut(), addr.as_mut(), control.as_mut(), meta.as_mut()) };
    if m.len() < 3 {
        return -(libc::EINVAL as f64);
    }
    let mut iov = libc::iovec { iov_base: b.as_mut_ptr() as *mut libc::c_void, iov_len: b.len() };
    // SAFETY: an all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = a.as_mut_ptr() as *mut libc::c_void;
    msg.msg_namelen = a.len() as libc::socklen_t;
    if !c.is_empty() {
        msg.msg_control = c.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = c.len();
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: msg points at buffers valid for the call; control messages are written within
    // msg_controllen bytes. MSG_CMSG_CLOEXEC: an fd can never come on an inet socket, but if
    // one did it would not leak into a child.
    let r = unsafe { libc::recvmsg(fd, &mut msg, flags | libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
    if r >= 0 {
        m[0] = msg.msg_namelen as i32;
        m[1] = msg.msg_flags;
        m[2] = msg.msg_controllen.min(c.len()) as i32;
    }
    ret_size(r)
}

/// setsockopt(2) with the option bytes in val.
#[napi]
pub fn host_setsockopt(fd: i32, level: i32, name: i32, val: Uint8Array) -> i32 {
    let v: &[u8] = &val;
    // SAFETY: v is live for the call.
    ret(unsafe { libc::setsockopt(fd, level, name, v.as_ptr() as *const libc::c_void, v.len() as libc::socklen_t) })
}

/// getsockopt(2) into out: the option's length, or -errno.
#[napi]
pub fn host_getsockopt(fd: i32, level: i32, name: i32, mut out: Uint8Array) -> i32 {
    // SAFETY: the JS thread is inside this call, so nothing else touches the array.
    let o = unsafe { out.as_mut() };
    let mut l = o.len() as libc::socklen_t;
    // SAFETY: o has l writable bytes.
    let r = unsafe { libc::getsockopt(fd, level, name, o.as_mut_ptr() as *mut libc::c_void, &mut l) };
    if r < 0 {
        neg_errno()
    } else {
        l as i32
    }
}

/// The socket ioctls a host socket answers with an int: FIONREAD (SIOCINQ), SIOCATMARK,
/// TIOCOUTQ (SIOCOUTQ) and SIOCOUTQNSD. Returns the value, or -errno (EINVAL for any other).
#[napi]
pub fn host_sock_ioctl(fd: i32, cmd: u32) -> i32 {
    const SIOCATMARK: u32 = 0x8905;
    const SIOCOUTQNSD: u32 = 0x894b;
    let allowed = [libc::FIONREAD as u32, SIOCATMARK, libc::TIOCOUTQ as u32, SIOCOUTQNSD];
    if !allowed.contains(&cmd) {
        return -libc::EINVAL;
    }
    let mut n: libc::c_int = 0;
    // SAFETY: each of these writes one int.
    let r = unsafe { libc::ioctl(fd, cmd as _, &mut n) };
    if r < 0 {
        neg_errno()
    } else {
        n
    }
}
