//! The socket to the sentry: whole messages in, replies out, a donated fd riding as
//! SCM_RIGHTS on the one sendmsg that carries a reply's first byte.

use crate::host::{errno, Errno};
use crate::wire::HEADER;
use std::os::fd::RawFd;

pub struct Conn {
    fd: RawFd,
    buf: Vec<u8>,
}

pub enum In {
    Msg(Vec<u8>),
    Eof,
    /// The stream cannot be trusted any more (size out of range): close it.
    Bad,
}

impl Conn {
    pub fn new(fd: RawFd) -> Self {
        Conn { fd, buf: Vec::new() }
    }

    fn fill(&mut self, need: usize) -> Result<bool, Errno> {
        while self.buf.len() < need {
            let mut chunk = vec![0u8; (need - self.buf.len()).max(64 * 1024)];
            // SAFETY: chunk is writable for its length.
            let n = unsafe { libc::read(self.fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            if n < 0 {
                let e = errno();
                if e == libc::EINTR {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Ok(false);
            }
            self.buf.extend_from_slice(&chunk[..n as usize]);
        }
        Ok(true)
    }

    /// The next whole message (header included), if its size is within [HEADER, msize].
    pub fn recv(&mut self, msize: u32) -> In {
        match self.fill(4) {
            Ok(true) => {}
            _ => return In::Eof,
        }
        let size = u32::from_le_bytes(self.buf[..4].try_into().unwrap());
        if (size as usize) < HEADER || size > msize {
            return In::Bad;
        }
        match self.fill(size as usize) {
            Ok(true) => {}
            _ => return In::Eof,
        }
        let rest = self.buf.split_off(size as usize);
        In::Msg(std::mem::replace(&mut self.buf, rest))
    }

    pub fn send(&self, msg: &[u8], donate: Option<RawFd>) -> Result<(), Errno> {
        let mut off = 0;
        let mut first = true;
        while off < msg.len() {
            let mut iov = libc::iovec { iov_base: msg[off..].as_ptr() as *mut _, iov_len: msg.len() - off };
            // Control buffer for one fd, u64-aligned as cmsghdr wants.
            let mut cbuf = [0u64; 4];
            // SAFETY: msghdr is plain data; every pointer in it outlives the sendmsg call.
            let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            if let (true, Some(fd)) = (first, donate) {
                // SAFETY: CMSG_SPACE/LEN are pure arithmetic; the buffer holds one cmsg with one int.
                unsafe {
                    let space = libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) as usize;
                    mh.msg_control = cbuf.as_mut_ptr().cast();
                    mh.msg_controllen = space;
                    let c = libc::CMSG_FIRSTHDR(&mh);
                    (*c).cmsg_level = libc::SOL_SOCKET;
                    (*c).cmsg_type = libc::SCM_RIGHTS;
                    (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as usize;
                    std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), fd);
                }
            }
            // SAFETY: mh is fully initialised above.
            let n = unsafe { libc::sendmsg(self.fd, &mh, libc::MSG_NOSIGNAL) };
            if n < 0 {
                let e = errno();
                if e == libc::EINTR {
                    continue;
                }
                return Err(e);
            }
            first = false;
            off += n as usize;
        }
        Ok(())
    }
}
