//! The socket to the sentry: whole messages in, replies out, a donated fd riding as
//! SCM_RIGHTS on the one sendmsg that carries a reply's first byte.

use crate::host::{errno, Errno};
use crate::wire::HEADER;
use std::os::fd::RawFd;

pub struct Conn {
    fd: RawFd,
    /// Bytes received: buf[start..end] not yet handed out.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

pub enum In<'a> {
    Msg(&'a [u8]),
    Eof,
    /// The stream cannot be trusted any more (size out of range): close it.
    Bad,
}

impl Conn {
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    pub fn new(fd: RawFd) -> Self {
        Conn { fd, buf: vec![0; 64 * 1024], start: 0, end: 0 }
    }

    /// Make buf[start..] hold at least `need` bytes, reading as much as the socket has.
    fn fill(&mut self, need: usize) -> Result<bool, Errno> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need.next_power_of_two(), 0);
        }
        while self.end < need {
            let room = &mut self.buf[self.end..];
            // SAFETY: room is writable for its length.
            let n = unsafe { libc::read(self.fd, room.as_mut_ptr().cast(), room.len()) };
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
            self.end += n as usize;
        }
        Ok(true)
    }

    /// The next whole message (header included), if its size is within [HEADER, msize].
    pub fn recv(&mut self, msize: u32) -> In<'_> {
        match self.fill(4) {
            Ok(true) => {}
            _ => return In::Eof,
        }
        let size = u32::from_le_bytes(self.buf[self.start..self.start + 4].try_into().unwrap());
        if (size as usize) < HEADER || size > msize {
            return In::Bad;
        }
        match self.fill(size as usize) {
            Ok(true) => {}
            _ => return In::Eof,
        }
        let m = self.start;
        self.start += size as usize;
        In::Msg(&self.buf[m..m + size as usize])
    }

    /// Does the buffer already hold a whole message (or a bad size), so that recv() will not
    /// read from the socket? Replies may then wait to go out together.
    pub fn has_buffered(&self) -> bool {
        if self.end - self.start < 4 {
            return false;
        }
        let size = u32::from_le_bytes(self.buf[self.start..self.start + 4].try_into().unwrap()) as usize;
        size < HEADER || self.end - self.start >= size
    }

    /// Best effort: the kernel caps it at net.core.wmem_max.
    pub fn grow_send_buffer(&self, bytes: i32) {
        // SAFETY: setsockopt with an int option value.
        unsafe {
            libc::setsockopt(
                self.fd,
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&bytes as *const i32).cast(),
                std::mem::size_of::<i32>() as u32,
            )
        };
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
