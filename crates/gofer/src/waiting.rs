//! Requests answered later: a Tlopen whose host open waits (a lease held by another process
//! is being broken) goes to a worker thread (workers.rs), and the serving loop goes on with
//! other requests. Tflush of it cancels it and is answered, as 9P says, only after the
//! flushed request's reply (if the open was done first) or its cancellation (no reply).

use crate::host::R;
use crate::ops_read::c;
use crate::server::{rlerror, Fid, Open, Reply, Server, LATER};
use crate::wire::{t, Malformed, Reader, Writer};
use crate::workers::{dup, Job};
use std::os::fd::AsRawFd;

pub struct Waiting {
    pub fid: u32,
    flags: i32,
    /// Tflush tags to answer once this request is done.
    flushes: Vec<u16>,
    cancelled: bool,
}

/// Hands fid's open with `flags` to a worker: the reply comes when it is done. Without
/// workers (a tag already waiting: a client's mistake) the host's wait is the answer.
pub fn defer_open(s: &mut Server, tag: u16, fid: u32, flags: i32) -> R<Reply> {
    if s.pool.is_none() || s.waiting.contains_key(&tag) {
        return Err(libc::EWOULDBLOCK);
    }
    let f = s.fid(fid)?;
    let (dir, name) = match f.parent() {
        Some((d, n)) => (dup(d.as_raw_fd())?, n.clone()),
        None => (dup(f.node())?, c(".")),
    };
    let job = Job { tag, gen: s.gen, dir, name, flags: flags & !(libc::O_NONBLOCK | libc::O_NOATIME), dev: f.dev, ino: f.ino };
    s.fid_mut(fid)?.open = Open::Pending { tag };
    s.waiting.insert(tag, Waiting { fid, flags, flushes: Vec::new(), cancelled: false });
    s.pool.as_ref().unwrap().submit(job);
    Err(LATER)
}

/// Tflush: answered at once unless oldtag waits on a worker; then that open is cancelled and
/// Rflush goes after its outcome (`finished`).
pub fn flush(s: &mut Server, tag: u16, r: &mut Reader) -> Result<R<Reply>, Malformed> {
    let oldtag = r.u16()?;
    let gen = s.gen;
    match s.waiting.get_mut(&oldtag) {
        Some(w) => {
            w.flushes.push(tag);
            w.cancelled = true;
            if let Some(p) = &s.pool {
                p.cancel(gen, oldtag);
            }
            Ok(Err(LATER))
        }
        None => Ok(Ok(Reply { bytes: Writer::new(t::TFLUSH + 1, tag).finish(), donate: None })),
    }
}

/// Tclunk or Tremove of a fid being opened: the open is cancelled (its reply still comes).
pub fn drop_fid(s: &mut Server, f: &Fid) {
    if let Open::Pending { tag } = f.open {
        if let Some(w) = s.waiting.get_mut(&tag) {
            w.cancelled = true;
            if let Some(p) = &s.pool {
                p.cancel(s.gen, tag);
            }
        }
    }
}

/// Tversion: what the old session left waiting is cancelled and answered to nobody.
pub fn reset(s: &mut Server) {
    if let Some(p) = &s.pool {
        for tag in s.waiting.keys() {
            p.cancel(s.gen, *tag);
        }
    }
    s.waiting.clear();
    s.gen += 1;
}

/// Cancelled opens still running: their threads are signalled again (a signal that came
/// just before the thread entered the open was lost). Whether any is left.
pub fn recancel(s: &Server) -> bool {
    let mut any = false;
    if let Some(p) = &s.pool {
        for (tag, w) in &s.waiting {
            if w.cancelled {
                p.cancel(s.gen, *tag);
                any = true;
            }
        }
    }
    any
}

/// The replies for the opens the workers finished, in order: each one's Rlopen (with its fd)
/// or Rlerror, none for one cancelled before it was done, then an Rflush per Tflush of it.
pub fn finished(s: &mut Server) -> Vec<Reply> {
    let Some(p) = &s.pool else { return Vec::new() };
    let mut out = Vec::new();
    for d in p.take_done() {
        if d.gen != s.gen {
            continue; // a previous session's: its fd closes here
        }
        let Some(w) = s.waiting.remove(&d.tag) else { continue };
        let still = s.fids.get(&w.fid).is_some_and(|f| matches!(f.open, Open::Pending { tag } if tag == d.tag));
        if still && d.result.is_err() {
            s.fid_mut(w.fid).expect("still there").open = Open::None;
        }
        match d.result {
            Ok(fd) if still => match crate::ops_read::opened_reply(s, w.fid, t::TLOPEN + 1, d.tag, fd, w.flags) {
                Ok(r) => out.push(r),
                Err(e) => out.push(Reply { bytes: rlerror(d.tag, e), donate: None }),
            },
            // Flushed before it was done: the Rflush alone answers it.
            Err(libc::EINTR) if !w.flushes.is_empty() => {}
            Err(e) if still => out.push(Reply { bytes: rlerror(d.tag, e), donate: None }),
            // The fid was clunked meanwhile: the open is answered, its fd closed.
            _ => out.push(Reply { bytes: rlerror(d.tag, libc::EINTR), donate: None }),
        }
        for ft in w.flushes {
            out.push(Reply { bytes: Writer::new(t::TFLUSH + 1, ft).finish(), donate: None });
        }
    }
    out
}
