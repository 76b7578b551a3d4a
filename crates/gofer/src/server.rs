//! One 9P2000.L session: the fid table and the dispatch of each request to its handler.
//! Owns the trees' root fds; it never resolves more than one name component per host call
//! and never follows a symlink (see PROTOCOL.md, Path safety).

use crate::host::{self, Errno, R};
use crate::lock::LockTable;
use crate::wire::{t, Malformed, Qid, Reader, Writer};
use std::collections::HashMap;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

pub const MAX_MSIZE: u32 = 1 << 20;
pub const DEFAULT_MSIZE: u32 = 8192;

#[derive(Clone)]
pub struct Tree {
    pub name: Vec<u8>,
    pub root: Arc<OwnedFd>,
    pub ro: bool,
}

pub enum Open {
    None,
    File { fd: OwnedFd, append: bool, write: bool },
    Dir { fd: OwnedFd },
    XattrRead { data: Vec<u8> },
    XattrWrite { fd: OwnedFd, name: CString, data: Vec<u8>, size: u64, flags: i32 },
}

pub struct Fid {
    pub tree: usize,
    /// O_PATH fd of the node itself.
    pub node: Arc<OwnedFd>,
    /// How the node was reached from the tree root: (O_PATH directory, name in it) per step,
    /// the last one its parent (to reopen, rename or remove it, and to walk `..` without ever
    /// asking the host for a `..`). Empty for the tree root.
    pub steps: Steps,
    pub qid: Qid,
    pub mode: u32,
    /// Host device and inode, to tell the node is still the one walked to.
    pub dev: u64,
    pub ino: u64,
    /// n_uname of the attach it descends from (~0: none).
    pub uid: u32,
    pub open: Open,
    /// The node is on a file system whose calls may block (wire::dev_may_block): requests on
    /// it are served on a worker thread.
    pub may_block: bool,
}

pub type Steps = Vec<(Arc<OwnedFd>, CString)>;

impl Fid {
    pub fn parent(&self) -> Option<&(Arc<OwnedFd>, CString)> {
        self.steps.last()
    }
    /// The steps of a node named `name` in this directory.
    pub fn child_steps(&self, name: CString) -> Steps {
        let mut v = self.steps.clone();
        v.push((self.node.clone(), name));
        v
    }
    pub fn node(&self) -> RawFd {
        self.node.as_raw_fd()
    }
    pub fn is_open(&self) -> bool {
        !matches!(self.open, Open::None)
    }
    /// A copy of the fid's node, not opened (a job that only reads the fid: deferred.rs; the
    /// fid of Txattrwalk).
    pub fn unopened_copy(&self) -> Fid {
        Fid {
            tree: self.tree,
            node: self.node.clone(),
            steps: self.steps.clone(),
            qid: self.qid,
            mode: self.mode,
            dev: self.dev,
            ino: self.ino,
            uid: self.uid,
            open: Open::None,
            may_block: self.may_block,
        }
    }
}

/// A reply and, for Rlopen/Rlcreate of a regular file, the fd donated with it.
pub struct Reply {
    pub bytes: Vec<u8>,
    pub donate: Option<RawFd>,
}

pub struct Server {
    pub trees: Vec<Tree>,
    pub fids: HashMap<u32, Fid>,
    pub msize: u32,
    pub locks: LockTable,
    /// The gofer can chown what it creates (root in its user namespace).
    pub as_root: bool,
    pub log: Option<std::fs::File>,
    pub verbose: bool,
    /// The last large reply's buffer, reused by Tread (no fresh megabyte per read).
    pub spare: Vec<u8>,
    /// Threads for requests that may block on the host (None: all are served in the serving
    /// loop, and an open the host makes wait answers EWOULDBLOCK).
    pub pool: Option<crate::workers::Pool>,
    /// Requests on workers and those parked behind them (deferred.rs), and the session they
    /// belong to (a Tversion starts a new one: what the old one left is answered to nobody).
    pub deferred: crate::deferred::Deferred,
    pub gen: u64,
    /// This session serves one job on a worker thread: a host call that waits is waited for.
    pub on_worker: bool,
    /// Replies made apart from the request being served (finished jobs, replayed requests),
    /// each with the copy of its donated fd that keeps it valid until sent.
    pub outbox: Vec<(Reply, Option<OwnedFd>)>,
    /// A job or replayed request found a malformed message: the connection is to be closed.
    pub closing: bool,
}

pub fn rlerror(tag: u16, e: Errno) -> Vec<u8> {
    let mut w = Writer::new(t::RLERROR, tag);
    w.u32(e as u32);
    w.finish()
}

/// A handler's outcome: a reply, the errno of an Rlerror, Later (to be served on a worker:
/// deferred.rs), or Close for a body shorter than its fields (the stream can no
/// longer be trusted; see PROTOCOL.md).
pub enum Outcome {
    Reply(Reply),
    Err(Errno),
    Later,
    Close,
}

/// What a handler returns as its "errno" to ask to be served on a worker, where a host call
/// that waits is waited for (only when can_defer; no errno is negative).
pub const LATER: Errno = -1;

/// What serving one message gave: a reply to send, nothing yet, or the end of the connection.
pub enum Served {
    Now(Reply),
    Later,
    Close,
}

impl From<Malformed> for Outcome {
    fn from(_: Malformed) -> Self {
        Outcome::Close
    }
}

impl Server {
    pub fn new(trees: Vec<Tree>, log: Option<std::fs::File>, verbose: bool) -> Self {
        for t in &trees {
            if let Ok(st) = host::fstat(t.root.as_raw_fd()) {
                crate::wire::register_tree_dev(st.st_dev);
            }
        }
        // SAFETY: geteuid has no preconditions.
        let as_root = unsafe { libc::geteuid() } == 0;
        Server {
            trees,
            fids: HashMap::new(),
            msize: DEFAULT_MSIZE,
            locks: LockTable::default(),
            as_root,
            log,
            verbose,
            spare: Vec::new(),
            pool: None,
            deferred: Default::default(),
            gen: 0,
            on_worker: false,
            outbox: Vec::new(),
            closing: false,
        }
    }

    /// A session for one job on a worker: the trees and settings, no fids (the job's are
    /// moved in), no pool.
    pub fn worker_session(&self) -> Server {
        Server {
            trees: self.trees.clone(),
            fids: HashMap::new(),
            msize: self.msize,
            locks: LockTable::default(),
            as_root: self.as_root,
            log: None,
            verbose: false,
            spare: Vec::new(),
            pool: None,
            deferred: Default::default(),
            gen: self.gen,
            on_worker: true,
            outbox: Vec::new(),
            closing: false,
        }
    }

    /// Whether a handler that meets a host call that would wait may answer LATER (the
    /// request is then served again on a worker, where the call is waited for).
    pub fn can_defer(&self) -> bool {
        self.pool.is_some() && !self.on_worker
    }

    /// A sent reply's buffer, kept if it is a large one.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() > self.spare.capacity() {
            self.spare = buf;
        }
    }

    pub fn log(&mut self, line: &str) {
        if let Some(f) = self.log.as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }

    pub fn fid(&self, fid: u32) -> R<&Fid> {
        self.fids.get(&fid).ok_or(libc::EIO)
    }
    pub fn fid_mut(&mut self, fid: u32) -> R<&mut Fid> {
        self.fids.get_mut(&fid).ok_or(libc::EIO)
    }
    pub fn writable(&self, fid: &Fid) -> R<()> {
        if self.trees[fid.tree].ro {
            Err(libc::EROFS)
        } else {
            Ok(())
        }
    }

    /// Serve one whole message (header included): in the serving loop, through deferred.rs
    /// (parked, handed to a worker, or served now); on a worker, now.
    pub fn handle(&mut self, msg: &[u8]) -> Served {
        if self.on_worker {
            return self.handle_now(msg);
        }
        let mut r = Reader::new(msg);
        let Some((ty, tag)) = r.u32().and_then(|_| Ok((r.u8()?, r.u16()?))).ok() else {
            return Served::Close;
        };
        let out = if ty == t::TFLUSH {
            match r.u16() {
                Ok(oldtag) => crate::deferred::flush(self, tag, oldtag),
                Err(_) => Served::Close,
            }
        } else {
            crate::deferred::admit(self, ty, tag, msg)
        };
        if self.verbose {
            let what = match &out {
                Served::Now(_) => "answered",
                Served::Later => "later",
                Served::Close => "close",
            };
            self.log(&format!("req type {ty} tag {tag}: {what}"));
        }
        out
    }

    /// Serve one message here and now (Later: its handler asked for a worker).
    pub fn handle_now(&mut self, msg: &[u8]) -> Served {
        let mut r = Reader::new(msg);
        let Some((ty, tag)) = r.u32().and_then(|_| Ok((r.u8()?, r.u16()?))).ok() else {
            return Served::Close;
        };
        let out = match self.dispatch(ty, tag, &mut r) {
            Ok(o) => o,
            Err(m) => m.into(),
        };
        if self.verbose && !self.on_worker {
            let what = match &out {
                Outcome::Reply(_) => "ok".to_string(),
                Outcome::Err(e) => format!("errno {e}"),
                Outcome::Later => "later".to_string(),
                Outcome::Close => "close".to_string(),
            };
            self.log(&format!("req type {ty} tag {tag}: {what}"));
        }
        match out {
            Outcome::Reply(r) => Served::Now(r),
            Outcome::Err(e) => Served::Now(Reply { bytes: rlerror(tag, e), donate: None }),
            Outcome::Later => Served::Later,
            Outcome::Close => Served::Close,
        }
    }

    fn dispatch(&mut self, ty: u8, tag: u16, r: &mut Reader) -> Result<Outcome, Malformed> {
        use crate::{ops_read as rd, ops_write as wr, xattr};
        let res: Result<Result<Reply, Errno>, Malformed> = match ty {
            t::TVERSION => rd::version(self, tag, r),
            // No authentication: the socket is the credential. ENOENT as diod says it, which
            // clients take for "attach with afid NOFID".
            t::TAUTH => Ok(Err(libc::ENOENT)),
            t::TATTACH => rd::attach(self, tag, r),
            t::TWALK => rd::walk(self, tag, r),
            t::TWALKGETATTR => rd::walkgetattr(self, tag, r),
            t::TGETATTR => rd::getattr(self, tag, r),
            t::TLOPEN => rd::lopen(self, tag, r),
            t::TREAD => rd::read(self, tag, r),
            t::TREADDIR => rd::readdir(self, tag, r),
            t::TREADDIRATTR => rd::readdirattr(self, tag, r),
            t::TREADLINK => rd::readlink(self, tag, r),
            t::TSTATFS => rd::statfs(self, tag, r),
            t::TCLUNK => rd::clunk(self, tag, r),
            t::TFSYNC => rd::fsync(self, tag, r),
            t::TLOCK => crate::lock::lock(self, tag, r),
            t::TGETLOCK => crate::lock::getlock(self, tag, r),
            t::TXATTRWALK => xattr::xattrwalk(self, tag, r),
            t::TXATTRCREATE => xattr::xattrcreate(self, tag, r),
            t::TSETATTR => wr::setattr(self, tag, r),
            t::TLCREATE => wr::lcreate(self, tag, r),
            t::TWRITE => wr::write(self, tag, r),
            t::TMKDIR => wr::mkdir(self, tag, r),
            t::TSYMLINK => wr::symlink(self, tag, r),
            t::TLINK => wr::link(self, tag, r),
            t::TMKNOD => wr::mknod(self, tag, r),
            t::TRENAME => wr::rename(self, tag, r),
            t::TRENAMEAT => wr::renameat(self, tag, r),
            t::TRENAMEAT2 => wr::renameat2(self, tag, r),
            t::TUNLINKAT => wr::unlinkat(self, tag, r),
            t::TREMOVE => wr::remove(self, tag, r),
            _ => Ok(Err(libc::EOPNOTSUPP)),
        };
        Ok(match res? {
            Ok(reply) => Outcome::Reply(reply),
            Err(LATER) => Outcome::Later,
            Err(e) => Outcome::Err(e),
        })
    }
}

/// Build a reply with no donated fd.
pub fn reply(w: Writer) -> Reply {
    Reply { bytes: w.finish(), donate: None }
}

pub fn fid_from(tree: usize, node: OwnedFd, steps: Steps, uid: u32) -> R<Fid> {
    let st = host::fstat(node.as_raw_fd())?;
    let may_block = crate::wire::dev_may_block(st.st_dev, node.as_raw_fd());
    Ok(Fid {
        tree,
        node: Arc::new(node),
        steps,
        qid: crate::wire::qid_of(&st),
        mode: st.st_mode,
        dev: st.st_dev,
        ino: st.st_ino,
        uid,
        open: Open::None,
        may_block,
    })
}
