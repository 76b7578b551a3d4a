//! Requests that change a tree: setattr, lcreate (with fd donation), write, mkdir, symlink,
//! link, mknod, rename, renameat, unlinkat, remove. Each refuses a read-only tree with EROFS
//! and names a new node by one checked component below a directory fid.

use crate::host::{self, R};
use crate::ops_read::{openable, opened_reply, reopen, reopen_waiting, KEPT_FLAGS};
use crate::server::{fid_from, reply, Fid, Open, Reply, Server};
use crate::wire::{qid_of, t, Malformed, Reader, Writer};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::sync::Arc;


type H = Result<R<Reply>, Malformed>;

/// The directory fid new nodes go in: it exists, lies in a writable tree, is a directory.
fn dir_fid(s: &Server, fid: u32) -> R<&Fid> {
    let f = s.fid(fid)?;
    if f.mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(libc::ENOTDIR);
    }
    s.writable(f)?;
    Ok(f)
}

/// Give a node the caller's ownership when the gofer may (root in its namespace).
fn own(s: &Server, dir: &Fid, name: &CString, gid: u32) -> R<()> {
    if s.as_root && (dir.uid != !0 || gid != !0) {
        host::fchownat(dir.node(), name, dir.uid, gid)?;
    }
    Ok(())
}

fn qid_reply(rtype: u8, tag: u16, st: &libc::stat) -> Reply {
    let mut w = Writer::new(rtype, tag);
    w.qid(&qid_of(st));
    reply(w)
}

pub fn setattr(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, valid, mode, uid, gid) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?);
    let size = r.u64()?;
    let (a_s, a_ns, m_s, m_ns) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
    Ok((|| {
        let f = s.fid(fid)?;
        if valid & 0x1ff == 0 {
            return Ok(reply(Writer::new(t::TSETATTR + 1, tag)));
        }
        s.writable(f)?;
        let ftype = f.mode & libc::S_IFMT;
        if valid & 1 != 0 {
            if ftype == libc::S_IFLNK {
                return Err(libc::EOPNOTSUPP);
            }
            match host::fchmod_path(f.node(), mode & 0o7777) {
                Err(libc::ENOSYS) | Err(libc::EINVAL) => {
                    let fl = if ftype == libc::S_IFDIR { libc::O_RDONLY | libc::O_DIRECTORY } else { libc::O_RDONLY };
                    host::fchmod(reopen(f, fl)?.as_raw_fd(), mode & 0o7777)?
                }
                other => other?,
            }
        }
        if valid & 6 != 0 {
            let u = if valid & 2 != 0 { uid } else { !0 };
            let g = if valid & 4 != 0 { gid } else { !0 };
            host::fchown_fd(f.node(), u, g)?;
        }
        if valid & 8 != 0 {
            match ftype {
                libc::S_IFDIR => return Err(libc::EISDIR),
                libc::S_IFREG => {}
                _ => return Err(libc::EINVAL),
            }
            match &f.open {
                Open::File { fd, write: true, .. } => host::ftruncate(fd.as_raw_fd(), size)?,
                _ => host::ftruncate(reopen(f, libc::O_WRONLY)?.as_raw_fd(), size)?,
            }
        }
        if valid & 0x30 != 0 {
            let ts = |on: bool, set: bool, sec: u64, nsec: u64| libc::timespec {
                tv_sec: if set { sec as i64 } else { 0 },
                tv_nsec: if !on { libc::UTIME_OMIT } else if set { nsec as i64 } else { libc::UTIME_NOW },
            };
            let times = [ts(valid & 0x10 != 0, valid & 0x80 != 0, a_s, a_ns), ts(valid & 0x20 != 0, valid & 0x100 != 0, m_s, m_ns)];
            host::utimens_fd(f.node(), &times)?;
        }
        Ok(reply(Writer::new(t::TSETATTR + 1, tag)))
    })())
}

pub fn lcreate(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name) = (r.u32()?, r.str()?);
    let (flags, mode, gid) = (r.u32()? as i32, r.u32()?, r.u32()?);
    Ok((|| {
        let dir = dir_fid(s, fid)?;
        if dir.is_open() {
            return Err(libc::EINVAL);
        }
        let cname = host::check_name(name)?;
        let kept = flags & KEPT_FLAGS;
        let fl = kept | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        let (fd, node) = match host::openat(dir.node(), &cname, fl, mode & 0o7777) {
            Ok(fd) => {
                own(s, dir, &cname, gid)?;
                (fd, host::open_path(dir.node(), &cname)?)
            }
            // Without O_EXCL from the client, an existing regular file is opened, as
            // open(O_CREAT) does; anything else there is refused as lopen would.
            Err(libc::EEXIST) if flags & libc::O_EXCL == 0 => {
                let node = host::open_path(dir.node(), &cname)?;
                let st = host::fstat(node.as_raw_fd())?;
                if openable(st.st_mode)? {
                    return Err(libc::EISDIR);
                }
                let f = fid_from(dir.tree, node, dir.child_steps(cname.clone()), dir.uid)?;
                // A lease holder makes it wait as Tlopen would (nothing was created).
                (reopen_waiting(s, &f, kept)?, Arc::try_unwrap(f.node).map_err(|_| libc::EIO)?)
            }
            Err(e) => return Err(e),
        };
        let (a, b) = (host::fstat(fd.as_raw_fd())?, host::fstat(node.as_raw_fd())?);
        if a.st_ino != b.st_ino || a.st_dev != b.st_dev {
            return Err(libc::ESTALE);
        }
        let nf = fid_from(dir.tree, node, dir.child_steps(cname), dir.uid)?;
        s.fids.insert(fid, nf);
        opened_reply(s, fid, t::TLCREATE + 1, tag, fd, kept)
    })())
}

pub fn write(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, off, count) = (r.u32()?, r.u64()?, r.u32()?);
    let data = r.bytes(count as usize)?;
    Ok((|| {
        let ro = s.trees[s.fid(fid)?.tree].ro;
        let f = s.fid_mut(fid)?;
        let n = match &mut f.open {
            Open::File { fd, append, .. } => {
                if ro {
                    return Err(libc::EROFS);
                }
                host::pwrite(fd.as_raw_fd(), data, off, *append)?
            }
            Open::XattrWrite { data: buf, size, .. } => {
                if off != buf.len() as u64 {
                    return Err(libc::EINVAL);
                }
                if buf.len() as u64 + data.len() as u64 > *size {
                    return Err(libc::ERANGE);
                }
                buf.extend_from_slice(data);
                data.len()
            }
            Open::Dir { .. } => return Err(libc::EISDIR),
            _ => return Err(libc::EBADF),
        };
        let mut w = Writer::new(t::TWRITE + 1, tag);
        w.u32(n as u32);
        Ok(reply(w))
    })())
}

pub fn mkdir(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name, mode, gid) = (r.u32()?, r.str()?, r.u32()?, r.u32()?);
    Ok((|| {
        let dir = dir_fid(s, fid)?;
        let cname = host::check_name(name)?;
        host::mkdirat(dir.node(), &cname, mode & 0o7777)?;
        own(s, dir, &cname, gid)?;
        Ok(qid_reply(t::TMKDIR + 1, tag, &host::fstatat(dir.node(), &cname)?))
    })())
}

pub fn symlink(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name, target, gid) = (r.u32()?, r.str()?, r.str()?, r.u32()?);
    Ok((|| {
        let dir = dir_fid(s, fid)?;
        let cname = host::check_name(name)?;
        if target.is_empty() {
            return Err(libc::ENOENT);
        }
        let ctarget = CString::new(target).map_err(|_| libc::EINVAL)?;
        host::symlinkat(&ctarget, dir.node(), &cname)?;
        own(s, dir, &cname, gid)?;
        Ok(qid_reply(t::TSYMLINK + 1, tag, &host::fstatat(dir.node(), &cname)?))
    })())
}

pub fn mknod(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name, mode) = (r.u32()?, r.str()?, r.u32()?);
    let (_major, _minor, gid) = (r.u32()?, r.u32()?, r.u32()?);
    Ok((|| {
        let dir = dir_fid(s, fid)?;
        let cname = host::check_name(name)?;
        let ty = match mode & libc::S_IFMT {
            0 | libc::S_IFREG => libc::S_IFREG,
            libc::S_IFIFO => libc::S_IFIFO,
            libc::S_IFSOCK => libc::S_IFSOCK,
            libc::S_IFCHR | libc::S_IFBLK => return Err(libc::EPERM),
            _ => return Err(libc::EINVAL),
        };
        host::mknodat(dir.node(), &cname, ty | (mode & 0o7777), 0)?;
        own(s, dir, &cname, gid)?;
        Ok(qid_reply(t::TMKNOD + 1, tag, &host::fstatat(dir.node(), &cname)?))
    })())
}

pub fn link(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (dfid, fid, name) = (r.u32()?, r.u32()?, r.str()?);
    Ok((|| {
        let dir = dir_fid(s, dfid)?;
        let f = s.fid(fid)?;
        if f.tree != dir.tree {
            return Err(libc::EXDEV);
        }
        if f.mode & libc::S_IFMT == libc::S_IFDIR {
            return Err(libc::EPERM);
        }
        let cname = host::check_name(name)?;
        match f.parent() {
            Some((p, old)) => host::linkat(p.as_raw_fd(), old, dir.node(), &cname)?,
            None => return Err(libc::EPERM),
        }
        Ok(reply(Writer::new(t::TLINK + 1, tag)))
    })())
}

pub fn rename(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, dfid, name) = (r.u32()?, r.u32()?, r.str()?);
    Ok((|| {
        let dir = dir_fid(s, dfid)?;
        let f = s.fid(fid)?;
        if f.tree != dir.tree {
            return Err(libc::EXDEV);
        }
        let cname = host::check_name(name)?;
        let (p, old) = f.parent().cloned().ok_or(libc::EBUSY)?;
        let steps = dir.child_steps(cname.clone());
        host::renameat(p.as_raw_fd(), &old, dir.node(), &cname, 0)?;
        s.fid_mut(fid)?.steps = steps;
        Ok(reply(Writer::new(t::TRENAME + 1, tag)))
    })())
}

pub fn renameat(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (ofid, oname, nfid, nname) = (r.u32()?, r.str()?, r.u32()?, r.str()?);
    Ok(rename_names(s, ofid, oname, nfid, nname, 0).map(|()| reply(Writer::new(t::TRENAMEAT + 1, tag))))
}

/// Trenameat2 (our extension): Trenameat with renameat2's flags.
pub fn renameat2(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (ofid, oname, nfid, nname, flags) = (r.u32()?, r.str()?, r.u32()?, r.str()?, r.u32()?);
    Ok(rename_names(s, ofid, oname, nfid, nname, flags).map(|()| reply(Writer::new(t::TRENAMEAT2 + 1, tag))))
}

const RENAME_NOREPLACE: u32 = 1;
const RENAME_EXCHANGE: u32 = 2;
const RENAME_WHITEOUT: u32 = 4;

fn rename_names(s: &Server, ofid: u32, oname: &[u8], nfid: u32, nname: &[u8], flags: u32) -> R<()> {
    // do_renameat2's checks, before anything is looked at.
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 && flags & RENAME_EXCHANGE != 0)
    {
        return Err(libc::EINVAL);
    }
    let (od, nd) = (dir_fid(s, ofid)?, dir_fid(s, nfid)?);
    if od.tree != nd.tree {
        return Err(libc::EXDEV);
    }
    let (o, n) = (host::check_name(oname)?, host::check_name(nname)?);
    host::renameat(od.node(), &o, nd.node(), &n, flags)
}

pub fn unlinkat(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, name, flags) = (r.u32()?, r.str()?, r.u32()?);
    Ok((|| {
        let dir = dir_fid(s, fid)?;
        if flags & !(libc::AT_REMOVEDIR as u32) != 0 {
            return Err(libc::EINVAL);
        }
        let cname = host::check_name(name)?;
        host::unlinkat(dir.node(), &cname, flags as i32)?;
        Ok(reply(Writer::new(t::TUNLINKAT + 1, tag)))
    })())
}

pub fn remove(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let fid = r.u32()?;
    Ok((|| {
        let f = s.fids.remove(&fid).ok_or(libc::EIO)?;
        s.writable(&f)?;
        let (p, name) = f.parent().ok_or(libc::EBUSY)?;
        let st = host::fstatat(p.as_raw_fd(), name)?;
        if st.st_ino != f.ino || st.st_dev != f.dev {
            return Err(libc::ESTALE);
        }
        let flags = if f.mode & libc::S_IFMT == libc::S_IFDIR { libc::AT_REMOVEDIR } else { 0 };
        host::unlinkat(p.as_raw_fd(), name, flags)?;
        Ok(reply(Writer::new(t::TREMOVE + 1, tag)))
    })())
}

