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

/// sendto(2) with MSG_DONTWAIT | MSG_NOSIGNAL added; addr empty: no destination.
#[napi]
pub fn host_sendto(fd: i32, data: Uint8Array, flags: i32, addr: Uint8Array) -> f64 {
    let d: &[u8] = &data;
    let a: &[u8] = &addr;
    let f = flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // SAFETY: both buffers are live for the call, lengths from the slices.
    let r = unsafe {
        let (ap, al) = if a.is_empty() {
            (std::ptr::null(), 0)
        } else {
            (a.as_ptr() as *const libc::sockaddr, a.len() as libc::socklen_t)
        };
        libc::sendto(fd, d.as_ptr() as *const libc::c_void, d.len(), f, ap, al)
    };
    ret_size(r)
}

/// recvfrom(2) with MSG_DONTWAIT added into buf; the sender's address into addr with its
/// length in addr_len[0] (and msg_flags in addr_len[1]): the byte count, or -errno.
#[napi]
pub fn host_recvfrom(fd: i32, mut buf: Uint8Array, flags: i32, mut addr: Uint8Array, mut addr_len: Int32Array) -> f64 {
    // SAFETY: the JS thread is inside this call, so nothing else touches the arrays.
    let (b, a, al) = unsafe { (buf.as_mut(), addr.as_mut(), addr_len.as_mut()) };
    if al.len() < 2 {
        return -(libc::EINVAL as f64);
    }
    let mut iov = libc::iovec { iov_base: b.as_mut_ptr() as *mut libc::c_void, iov_len: b.len() };
    // SAFETY: an all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = a.as_mut_ptr() as *mut libc::c_void;
    msg.msg_namelen = a.len() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: msg points at buffers valid for the call.
    let r = unsafe { libc::recvmsg(fd, &mut msg, flags | libc::MSG_DONTWAIT) };
    if r >= 0 {
        al[0] = msg.msg_namelen as i32;
        al[1] = msg.msg_flags;
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

/// ioctl(FIONREAD): bytes waiting, or -errno.
#[napi]
pub fn host_fionread(fd: i32) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if r < 0 {
        neg_errno()
    } else {
        n
    }
}
