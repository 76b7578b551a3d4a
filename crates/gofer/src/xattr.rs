//! Extended attributes, user.* namespace only: Txattrwalk lists (name "") or gets a value into
//! a new fid read with Tread; Txattrcreate turns a fid into a value written with Twrite and set
//! at Tclunk. Size 0 with XATTR_REPLACE alone is a removal (Linux v9fs's removexattr); size 0
//! with other flags sets an empty value. Every other namespace is EOPNOTSUPP.

use crate::host::{self, R};
use crate::ops_read::reopen;
use crate::server::{reply, Fid, Open, Reply, Server};
use crate::wire::{t, Malformed, Reader, Writer};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

type H = Result<R<Reply>, Malformed>;
const XATTR_SIZE_MAX: u64 = 65536;

fn user_name(name: &[u8]) -> R<CString> {
    if !name.starts_with(b"user.") || name.len() <= 5 || name.len() > 255 {
        return Err(libc::EOPNOTSUPP);
    }
    CString::new(name).map_err(|_| libc::EINVAL)
}

/// A readable fd on the node (f*xattr refuse O_PATH fds); symlinks have no user.* xattrs.
fn real_fd(f: &Fid) -> R<Option<OwnedFd>> {
    match f.mode & libc::S_IFMT {
        libc::S_IFREG => reopen(f, libc::O_RDONLY).map(Some),
        libc::S_IFDIR => reopen(f, libc::O_RDONLY | libc::O_DIRECTORY).map(Some),
        _ => Ok(None),
    }
}

pub fn xattrwalk(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, newfid, name) = (r.u32()?, r.u32()?, r.str()?);
    Ok((|| {
        let f = s.fid(fid)?;
        if newfid != fid && s.fids.contains_key(&newfid) {
            return Err(libc::EBADF);
        }
        let data = if name.is_empty() {
            let list = match real_fd(f)? {
                Some(fd) => host::flistxattr(fd.as_raw_fd())?,
                None => Vec::new(),
            };
            let mut out = Vec::new();
            for n in list.split(|&b| b == 0).filter(|n| n.starts_with(b"user.")) {
                out.extend_from_slice(n);
                out.push(0);
            }
            out
        } else {
            let cname = user_name(name)?;
            match real_fd(f)? {
                Some(fd) => host::fgetxattr(fd.as_raw_fd(), &cname)?,
                None => return Err(libc::ENODATA),
            }
        };
        let nf = f.unopened_copy();
        let size = data.len() as u64;
        s.fids.insert(newfid, Fid { open: Open::XattrRead { data }, ..nf });
        let mut w = Writer::new(t::TXATTRWALK + 1, tag);
        w.u64(size);
        Ok(reply(w))
    })())
}

pub fn xattrcreate(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name, size, flags) = (r.u32()?, r.str()?, r.u64()?, r.u32()?);
    Ok((|| {
        let f = s.fid(fid)?;
        if f.is_open() {
            return Err(libc::EINVAL);
        }
        s.writable(f)?;
        let cname = user_name(name)?;
        if size > XATTR_SIZE_MAX {
            return Err(libc::E2BIG);
        }
        if flags & !3 != 0 {
            return Err(libc::EINVAL);
        }
        let fd = real_fd(f)?.ok_or(libc::EPERM)?;
        s.fid_mut(fid)?.open =
            Open::XattrWrite { fd, name: cname, data: Vec::new(), size, flags: flags as i32 };
        Ok(reply(Writer::new(t::TXATTRCREATE + 1, tag)))
    })())
}

/// At Tclunk of an xattrcreate fid: set (or remove) the attribute.
pub fn commit(fd: &OwnedFd, name: &CString, data: &[u8], size: u64, flags: i32) -> R<()> {
    if size == 0 && flags == libc::XATTR_REPLACE {
        return host::fremovexattr(fd.as_raw_fd(), name);
    }
    if data.len() as u64 != size {
        return Err(libc::EINVAL);
    }
    host::fsetxattr(fd.as_raw_fd(), name, data, flags)
}
