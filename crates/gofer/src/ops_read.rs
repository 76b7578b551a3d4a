//! Requests that do not change the tree: version, attach, walk, getattr, lopen (with fd
//! donation), read, readdir (and our readdirattr), readlink, statfs, fsync, clunk, flush.

use crate::host::{self, R};
use crate::server::{fid_from, reply, Fid, Open, Reply, Server, MAX_MSIZE};
use crate::wire::{qid_of, t, Malformed, Reader, Writer, NOFID, QTDIR};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

type H = Result<R<Reply>, Malformed>;

pub fn version(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let msize = r.u32()?;
    let ver = r.str()?;
    if msize < 64 {
        return Ok(Err(libc::EINVAL));
    }
    crate::deferred::reset(s);
    s.fids.clear();
    s.locks = Default::default();
    s.msize = msize.min(MAX_MSIZE);
    let mut w = Writer::new(t::TVERSION + 1, tag);
    w.u32(s.msize).str(if ver == b"9P2000.L" { b"9P2000.L" } else { b"unknown" });
    Ok(Ok(reply(w)))
}

pub fn attach(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, afid) = (r.u32()?, r.u32()?);
    let (_uname, aname) = (r.str()?, r.str()?);
    let n_uname = r.u32()?;
    Ok((|| {
        if s.fids.contains_key(&fid) {
            return Err(libc::EBADF);
        }
        if afid != NOFID {
            return Err(libc::EINVAL);
        }
        let tree = s.trees.iter().position(|t| t.name == aname).ok_or(libc::ENOENT)?;
        let node = host::openat(s.trees[tree].root.as_raw_fd(), &c("."), libc::O_PATH | libc::O_DIRECTORY, 0)?;
        let f = fid_from(tree, node, Vec::new(), n_uname)?;
        let mut w = Writer::new(t::TATTACH + 1, tag);
        w.qid(&f.qid);
        s.fids.insert(fid, f);
        Ok(reply(w))
    })())
}

pub fn c(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap()
}

/// File systems whose nodes the gofer never serves, even when mounted inside a tree: the
/// sentry has its own /proc, /sys and /dev, and the host's would leak host state.
const PSEUDO_FS: &[i64] = &[
    0x9fa0,     // proc
    0x62656572, // sysfs
    0x1cd1,     // devpts
    0x64626720, // debugfs
    0x74726163, // tracefs
    0x73636673, // securityfs
    0x27e0eb,   // cgroup
    0x63677270, // cgroup2
    0xcafe4a11, // bpf
    0x62656570, // configfs
    0x65735543, // fusectl
    0x6165676c, // pstore
    0xde5e81e4, // efivarfs
    0x42494e4d, // binfmt_misc
    0x19800202, // mqueue
    0x6e736673, // nsfs
];

/// One component below `dir` (O_PATH, never followed). Crossing into a pseudo fs: EACCES.
pub fn lookup(dir: &OwnedFd, dir_dev: u64, name: &[u8]) -> R<(OwnedFd, libc::stat)> {
    let cname = host::check_name(name)?;
    let fd = host::open_path(dir.as_raw_fd(), &cname)?;
    let st = host::fstat(fd.as_raw_fd())?;
    if st.st_dev != dir_dev {
        let fs = host::fstatfs(fd.as_raw_fd())?;
        if PSEUDO_FS.contains(&(fs.f_type as i64)) {
            return Err(libc::EACCES);
        }
    }
    Ok((fd, st))
}

pub fn walk(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, newfid, names) = walk_args(r)?;
    Ok(walk_steps(s, fid, newfid, &names).map(|(steps, _)| {
        let mut w = Writer::new(t::TWALK + 1, tag);
        w.u16(steps.len() as u16);
        for st in &steps {
            w.qid(&qid_of(st));
        }
        reply(w)
    }))
}

/// Twalkgetattr (our extension, PROTOCOL.md): Twalk that gives each step's attributes as
/// Rgetattr does, and, when it stops early, the errno of the step that failed, so that a
/// client resolves a deep path in one request (Twalk then Tgetattr per component is two
/// each, and a fid each).
pub fn walkgetattr(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, newfid, names) = walk_args(r)?;
    Ok(walk_steps(s, fid, newfid, &names).map(|(steps, err)| {
        let mut w = Writer::new(t::TWALKGETATTR + 1, tag);
        w.u32(err as u32);
        w.u16(steps.len() as u16);
        for st in &steps {
            put_attr(&mut w, st);
        }
        reply(w)
    }))
}

fn walk_args<'a>(r: &mut Reader<'a>) -> Result<(u32, u32, Vec<&'a [u8]>), Malformed> {
    let (fid, newfid, n) = (r.u32()?, r.u32()?, r.u16()?);
    let mut names = Vec::with_capacity(n.min(16) as usize);
    for _ in 0..n {
        names.push(r.str()?);
    }
    Ok((fid, newfid, names))
}

/// Rgetattr's fields after its header, for st.
fn put_attr(w: &mut Writer, st: &libc::stat) {
    w.u64(0x7ff).qid(&qid_of(st)).u32(st.st_mode).u32(st.st_uid).u32(st.st_gid);
    w.u64(st.st_nlink).u64(st.st_rdev).u64(st.st_size as u64).u64(st.st_blksize as u64);
    w.u64(st.st_blocks as u64);
    w.u64(st.st_atime as u64).u64(st.st_atime_nsec as u64);
    w.u64(st.st_mtime as u64).u64(st.st_mtime_nsec as u64);
    w.u64(st.st_ctime as u64).u64(st.st_ctime_nsec as u64);
    w.u64(0).u64(0).u64(0).u64(0); // btime sec/nsec, gen, data_version
}

/// Walks fid through names (newfid made when every step succeeds): each step's attributes,
/// and the errno of the step that failed after the first (0 when none did; a failing first
/// step is the error).
fn walk_steps(s: &mut Server, fid: u32, newfid: u32, names: &[&[u8]]) -> R<(Vec<libc::stat>, i32)> {
    let n = names.len();
    // A walk that crosses into a file system that may block (a FUSE mount inside a tree on a
    // local disk) goes to a worker from there, whole: its next lookups may wait.
    let defer = s.can_defer();
    {
        // An opened fid may be walked from, as diod allows (its own tools rely on it); the new
        // fid is never opened.
        let f = s.fid(fid)?;
        if newfid != fid && s.fids.contains_key(&newfid) {
            return Err(libc::EBADF);
        }
        if n > 16 {
            return Err(libc::EINVAL);
        }
        let (tree, uid) = (f.tree, f.uid);
        let mut node = f.node.clone();
        let mut steps = f.steps.clone();
        let mut dev = f.dev;
        let mut stats = Vec::new();
        let mut failed = 0;
        for (i, name) in names.iter().enumerate() {
            // `.` stays, `..` goes back one of our own steps (the tree root is its own parent,
            // as 9P says): the host's `..` is never looked up.
            if *name == b"." || *name == b".." {
                if *name == b".." {
                    if let Some((dir, _)) = steps.pop() {
                        node = dir;
                    }
                }
                let st = host::fstat(node.as_raw_fd())?;
                dev = st.st_dev;
                stats.push(st);
                continue;
            }
            match lookup(&node, dev, name) {
                Ok((fd, st)) => {
                    if defer && st.st_dev != dev && crate::wire::dev_may_block(st.st_dev, fd.as_raw_fd()) {
                        return Err(crate::server::LATER);
                    }
                    steps.push((node, host::check_name(name)?));
                    node = Arc::new(fd);
                    dev = st.st_dev;
                    stats.push(st);
                }
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    failed = e;
                    break;
                }
            }
        }
        if stats.len() == n {
            // The new fid's attributes are the last step's (a clone's: an fstat of the node).
            let st = match stats.last() {
                Some(st) => *st,
                None => host::fstat(node.as_raw_fd())?,
            };
            let may_block = crate::wire::dev_may_block(st.st_dev, node.as_raw_fd());
            let nf = Fid { tree, node, steps, qid: qid_of(&st), mode: st.st_mode, dev: st.st_dev, ino: st.st_ino, uid, open: Open::None, may_block };
            s.fids.insert(newfid, nf);
        }
        Ok((stats, failed))
    }
}

pub fn getattr(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let fid = r.u32()?;
    let _mask = r.u64()?;
    Ok((|| {
        let st = host::fstat(s.fid(fid)?.node())?;
        let mut w = Writer::new(t::TGETATTR + 1, tag);
        put_attr(&mut w, &st);
        Ok(reply(w))
    })())
}

/// Open flags the gofer keeps from a Tlopen/Tlcreate; everything else is dropped.
pub const KEPT_FLAGS: i32 = libc::O_ACCMODE
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_DIRECT
    | libc::O_DIRECTORY
    | libc::O_NOATIME;

pub fn wants_write(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0
}

/// Open the node a fid holds with real access (O_PATH fds cannot be read): through its parent
/// and name with O_NOFOLLOW, then check it is still the same inode (a swap in between gives
/// ESTALE, a symlink swapped in ELOOP). O_NONBLOCK so that a FIFO swapped in cannot block us.
pub fn reopen(f: &Fid, flags: i32) -> R<OwnedFd> {
    reopen_as(f, flags, true)
}

/// reopen, and where the host makes the open wait (a lease being broken): in the serving loop
/// LATER (the request goes to a worker), on a worker the open waited for (a signal cancels
/// it: workers.rs).
pub fn reopen_waiting(s: &Server, f: &Fid, flags: i32) -> R<OwnedFd> {
    match reopen(f, flags) {
        Err(libc::EWOULDBLOCK) if flags & libc::O_NONBLOCK == 0 && s.can_defer() => Err(crate::server::LATER),
        Err(libc::EWOULDBLOCK) if flags & libc::O_NONBLOCK == 0 && s.on_worker => reopen_as(f, flags, false),
        r => r,
    }
}

fn reopen_as(f: &Fid, flags: i32, nonblock: bool) -> R<OwnedFd> {
    let fl = flags | libc::O_NOFOLLOW | if nonblock { libc::O_NONBLOCK } else { 0 };
    let open = |fl: i32| match f.parent() {
        Some((dir, name)) => host::openat(dir.as_raw_fd(), name, fl, 0),
        None => host::openat(f.node(), &c("."), fl, 0),
    };
    // O_NOATIME is only a hint: where the gofer may not use it (a file it does not own, no
    // CAP_FOWNER in a read-only gofer), open without it rather than fail.
    let fd = match open(fl) {
        Err(libc::EPERM) if fl & libc::O_NOATIME != 0 => open(fl & !libc::O_NOATIME)?,
        r => r?,
    };
    let st = host::fstat(fd.as_raw_fd())?;
    if st.st_ino != f.ino || st.st_dev != f.dev {
        return Err(libc::ESTALE);
    }
    if nonblock && flags & libc::O_NONBLOCK == 0 {
        // SAFETY: F_GETFL/F_SETFL on our own fd.
        unsafe {
            let cur = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, cur & !libc::O_NONBLOCK);
        }
    }
    Ok(fd)
}

/// Which node types may be opened at all (symlinks ELOOP, devices, FIFOs and sockets ENXIO).
pub fn openable(mode: u32) -> R<bool> {
    match mode & libc::S_IFMT {
        libc::S_IFREG => Ok(false),
        libc::S_IFDIR => Ok(true),
        libc::S_IFLNK => Err(libc::ELOOP),
        _ => Err(libc::ENXIO),
    }
}

/// Rlopen/Rlcreate: qid iounit, the regular file's fd donated with it.
pub fn opened_reply(s: &mut Server, fid: u32, rtype: u8, tag: u16, fd: OwnedFd, flags: i32) -> R<Reply> {
    let iounit = s.msize.saturating_sub(24);
    let f = s.fid_mut(fid)?;
    let is_dir = f.qid.ty == QTDIR;
    let raw = fd.as_raw_fd();
    f.open = if is_dir {
        Open::Dir { fd }
    } else {
        Open::File { fd, append: flags & libc::O_APPEND != 0, write: flags & libc::O_ACCMODE != libc::O_RDONLY }
    };
    let mut w = Writer::new(rtype, tag);
    w.qid(&f.qid).u32(iounit);
    Ok(Reply { bytes: w.finish(), donate: if is_dir { None } else { Some(raw) } })
}

pub fn lopen(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, flags) = (r.u32()?, r.u32()? as i32);
    Ok((|| {
        let f = s.fid(fid)?;
        if f.is_open() {
            return Err(libc::EINVAL);
        }
        if flags & libc::O_ACCMODE == 3 {
            return Err(libc::EINVAL);
        }
        let mut fl = flags & KEPT_FLAGS;
        if wants_write(fl) {
            s.writable(f)?;
        }
        if openable(f.mode)? {
            if fl & libc::O_ACCMODE != libc::O_RDONLY || fl & libc::O_TRUNC != 0 {
                return Err(libc::EISDIR);
            }
            fl = libc::O_RDONLY | libc::O_DIRECTORY;
        }
        let fd = reopen_waiting(s, f, fl)?;
        opened_reply(s, fid, t::TLOPEN + 1, tag, fd, fl)
    })())
}

pub fn read(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, off, count) = (r.u32()?, r.u64()?, r.u32()?);
    Ok((|| {
        let max = s.msize.saturating_sub(11).min(count) as usize;
        let mut w = Writer::reuse(std::mem::take(&mut s.spare), t::TREAD + 1, tag);
        let f = s.fid(fid)?;
        match &f.open {
            Open::File { fd, .. } => {
                // Straight into the reply: count[4] then the data.
                let at = w.buf.len() + 4;
                w.buf.resize(at + max, 0);
                let n = host::pread(fd.as_raw_fd(), &mut w.buf[at..], off)?;
                w.buf.truncate(at + n);
                w.buf[at - 4..at].copy_from_slice(&(n as u32).to_le_bytes());
            }
            Open::XattrRead { data } => {
                let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
                let end = start + (data.len() - start).min(max);
                w.u32((end - start) as u32);
                w.buf.extend_from_slice(&data[start..end]);
            }
            Open::Dir { .. } => return Err(libc::EISDIR),
            _ => return Err(libc::EBADF),
        }
        Ok(reply(w))
    })())
}

fn dtype_qid(ty: u8) -> u8 {
    match ty {
        libc::DT_DIR => QTDIR,
        libc::DT_LNK => crate::wire::QTSYMLINK,
        _ => 0,
    }
}

pub fn readdir(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    list(s, tag, r, false)
}

/// Treaddirattr (our extension, PROTOCOL.md): Treaddir's entries each followed by the entry's
/// attributes (fstatat of the name, never followed), and an end-of-directory flag, so that a
/// client lists and stats a directory in one round trip and knows it has all of it.
pub fn readdirattr(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    list(s, tag, r, true)
}

/// Bytes of the attributes after each Rreaddirattr entry: mode uid gid, then nlink rdev size
/// blksize blocks and three times of two u64 each.
const ENTRY_ATTR_SIZE: usize = 4 * 3 + 8 * 5 + 8 * 6;

fn list(s: &mut Server, tag: u16, r: &mut Reader, attrs: bool) -> H {
    let (fid, off, count) = (r.u32()?, r.u64()?, r.u32()?);
    Ok((|| {
        // Rreaddirattr has one byte more than Rreaddir before its data.
        let max = s.msize.saturating_sub(if attrs { 12 } else { 11 }).min(count) as usize;
        let f = s.fid(fid)?;
        let dir_dev = f.dev;
        // On a file system that may block, one stalled name would stall the whole listing
        // (where getdents alone does not): its entries come without attributes.
        let stat_entries = !f.may_block;
        let fd = match &f.open {
            Open::Dir { fd } => fd.as_raw_fd(),
            Open::None => return Err(libc::EBADF),
            _ => return Err(libc::ENOTDIR),
        };
        let ents = host::getdents(fd, off, max)?;
        let mut data = Vec::new();
        let any = !ents.is_empty();
        let mut all_fit = true;
        let mut last_off = off;
        for (ino, doff, ty, name) in ents {
            let start = data.len();
            if start + 13 + 8 + 1 + 2 + name.len() + if attrs { ENTRY_ATTR_SIZE } else { 0 } > max {
                all_fit = false;
                break;
            }
            data.push(dtype_qid(ty));
            data.extend_from_slice(&0u32.to_le_bytes());
            data.extend_from_slice(&crate::wire::qid_path(dir_dev, ino).to_le_bytes());
            data.extend_from_slice(&doff.to_le_bytes());
            data.push(ty);
            data.extend_from_slice(&(name.len() as u16).to_le_bytes());
            data.extend_from_slice(&name);
            if attrs {
                entry_attrs(&mut data, fd, dir_dev, &name, stat_entries);
                // A symlink's target makes the entry longer than its fixed part.
                if data.len() > max {
                    data.truncate(start);
                    all_fit = false;
                    break;
                }
            }
            last_off = doff;
        }
        if any && data.is_empty() {
            return Err(libc::EINVAL); // as getdents64: the buffer cannot hold one entry
        }
        let mut w = Writer::new(if attrs { t::TREADDIRATTR + 1 } else { t::TREADDIR + 1 }, tag);
        if attrs {
            // The end: nothing was listed, or everything was and the directory has no more.
            let eof = !any || (all_fit && host::getdents(fd, last_off, 512)?.is_empty());
            w.u8(eof as u8);
        }
        w.u32(data.len() as u32);
        w.buf.extend_from_slice(&data);
        Ok(reply(w))
    })())
}

/// The attributes of entry `name` of directory fd as Rgetattr gives them, or all zero (mode 0:
/// the client walks to it instead) for `.` and `..` (never stat the host's parent of a tree
/// root), a name gone since the listing, and anything on another file system (a mount point:
/// the walk applies the pseudo-file-system rule and gives its qid). A symlink's attributes are
/// followed by its target as a string (empty if it could not be read: the client asks with
/// Treadlink; Linux never makes an empty link), so `ls -l` or `find -L` needs no Treadlink.
/// All zero too when `stat` is false (a directory on a file system that may block).
fn entry_attrs(data: &mut Vec<u8>, dir: i32, dir_dev: u64, name: &[u8], stat: bool) {
    let st = if !stat || name == b"." || name == b".." {
        None
    } else {
        host::check_name(name).ok().and_then(|c| host::fstatat(dir, &c).ok()).filter(|st| st.st_dev == dir_dev)
    };
    let Some(st) = st else {
        data.resize(data.len() + ENTRY_ATTR_SIZE, 0);
        return;
    };
    for v in [st.st_mode, st.st_uid, st.st_gid] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    let rest = [
        st.st_nlink,
        st.st_rdev,
        st.st_size as u64,
        st.st_blksize as u64,
        st.st_blocks as u64,
        st.st_atime as u64,
        st.st_atime_nsec as u64,
        st.st_mtime as u64,
        st.st_mtime_nsec as u64,
        st.st_ctime as u64,
        st.st_ctime_nsec as u64,
    ];
    for v in rest {
        data.extend_from_slice(&v.to_le_bytes());
    }
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        let target = host::check_name(name).and_then(|c| host::readlinkat(dir, &c)).unwrap_or_default();
        // PATH_MAX bounds a link's text, so its length fits the string's u16.
        let target = &target[..target.len().min(u16::MAX as usize)];
        data.extend_from_slice(&(target.len() as u16).to_le_bytes());
        data.extend_from_slice(target);
    }
}

pub fn readlink(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let fid = r.u32()?;
    Ok((|| {
        let f = s.fid(fid)?;
        if f.mode & libc::S_IFMT != libc::S_IFLNK {
            return Err(libc::EINVAL);
        }
        let text = host::readlink(f.node())?;
        let mut w = Writer::new(t::TREADLINK + 1, tag);
        w.str(&text);
        Ok(reply(w))
    })())
}

pub fn statfs(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let fid = r.u32()?;
    Ok((|| {
        let st = host::fstatfs(s.fid(fid)?.node())?;
        let fsid: [i32; 2] = {
            // SAFETY: fsid_t is two ints.
            unsafe { std::mem::transmute(st.f_fsid) }
        };
        let mut w = Writer::new(t::TSTATFS + 1, tag);
        w.u32(st.f_type as u32).u32(st.f_bsize as u32).u64(st.f_blocks).u64(st.f_bfree).u64(st.f_bavail);
        w.u64(st.f_files).u64(st.f_ffree).u64((fsid[0] as u32 as u64) | ((fsid[1] as u32 as u64) << 32));
        w.u32(st.f_namelen as u32);
        Ok(reply(w))
    })())
}

pub fn fsync(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let (fid, datasync) = (r.u32()?, r.u32()?);
    Ok((|| {
        match &s.fid(fid)?.open {
            Open::File { fd, .. } | Open::Dir { fd } => host::fsync(fd.as_raw_fd(), datasync != 0)?,
            _ => return Err(libc::EBADF),
        }
        Ok(reply(Writer::new(t::TFSYNC + 1, tag)))
    })())
}

pub fn clunk(s: &mut Server, tag: u16, r: &mut Reader) -> H {
    let fid = r.u32()?;
    Ok((|| {
        let Some(f) = s.fids.remove(&fid) else {
            // A fid given up with a job that never ended (deferred.rs) is clunked all the same.
            return if s.deferred.lost.remove(&fid) { Ok(reply(Writer::new(t::TCLUNK + 1, tag))) } else { Err(libc::EIO) };
        };
        if let Open::XattrWrite { fd, name, data, size, flags } = f.open {
            crate::xattr::commit(&fd, &name, &data, size, flags)?;
        }
        Ok(reply(Writer::new(t::TCLUNK + 1, tag)))
    })())
}

