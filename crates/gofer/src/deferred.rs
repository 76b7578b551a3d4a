//! Requests answered later (PROTOCOL.md, "Requests that wait"). A request that may block on
//! the host (any fid it names is on a file system that may block, or its handler met an open
//! the host makes wait) is served on a worker thread (workers.rs) with the fids it names
//! moved into the job; the serving loop goes on with other requests. A later request naming
//! one of those fids is parked, in order, until the job gives them back, so requests on one
//! fid are still served in the order sent (a walk and the getattr of its new fid, sent in one
//! write, stay in step). Tflush cancels a job (its thread is signalled) and is answered after
//! the job's reply, or with none for it if the job ended with EINTR; a job that does not end
//! within GRACE (a FUSE daemon that ignores interrupts, a hard NFS mount) is given up: Rflush
//! goes, the fids it holds are lost, and what it finishes later is dropped.

use crate::server::{rlerror, Reply, Served, Server};
use crate::wire::{t, Writer};
use crate::workers::Job;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// How long a cancelled job may take to end before it is given up.
pub const GRACE: Duration = Duration::from_millis(200);
/// Jobs and parked requests at most; beyond, a request is refused (EAGAIN).
pub const MAX_JOBS: usize = 1024;
pub const MAX_PARKED: usize = 4096;

struct JobState {
    /// The fids it holds (moved into it, or made by it: a walk's newfid).
    fids: Vec<u32>,
    /// A fid it only reads, lent as a copy: the table keeps it, and the copy is dropped.
    lent: Option<u32>,
    /// Tflush tags to answer once the job is done or given up.
    flushes: Vec<u16>,
    /// When it was first cancelled.
    cancelled: Option<Instant>,
}

struct Parked {
    tag: u16,
    msg: Vec<u8>,
    fids: Vec<u32>,
}

#[derive(Default)]
pub struct Deferred {
    jobs: HashMap<u16, JobState>,
    /// fid → tag of the job holding it (the fid may not exist yet: a walk's newfid).
    busy: HashMap<u32, u16>,
    parked: VecDeque<Parked>,
    /// Fids given up with their job: a Tclunk of one is answered as done.
    pub lost: HashSet<u32>,
}

/// Requests a worker may serve: those whose host calls may block and that need nothing but
/// the fids they name (not the lock table, not the session's other fids).
pub fn deferrable(ty: u8) -> bool {
    matches!(
        ty,
        t::TWALK
            | t::TWALKGETATTR
            | t::TGETATTR
            | t::TLOPEN
            | t::TLCREATE
            | t::TREAD
            | t::TWRITE
            | t::TREADDIR
            | t::TREADDIRATTR
            | t::TREADLINK
            | t::TSTATFS
            | t::TFSYNC
            | t::TSETATTR
            | t::TXATTRWALK
            | t::TMKDIR
            | t::TSYMLINK
            | t::TMKNOD
            | t::TLINK
            | t::TRENAME
            | t::TRENAMEAT
            | t::TRENAMEAT2
            | t::TUNLINKAT
    )
}

/// The fids a message's body names (as far as it holds them: a short body is the handler's
/// to refuse).
pub fn named_fids(ty: u8, body: &[u8]) -> Vec<u32> {
    let u32_at = |at: usize| body.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let mut v = Vec::with_capacity(2);
    match ty {
        t::TVERSION | t::TFLUSH | t::TAUTH => {}
        // fid newfid / dfid fid / fid dfid
        t::TWALK | t::TWALKGETATTR | t::TXATTRWALK | t::TLINK | t::TRENAME => {
            v.extend(u32_at(0));
            v.extend(u32_at(4));
        }
        // olddirfid oldname[s] newdirfid
        t::TRENAMEAT | t::TRENAMEAT2 => {
            v.extend(u32_at(0));
            if let Some(n) = body.get(4..6).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize) {
                v.extend(u32_at(6 + n));
            }
        }
        _ => v.extend(u32_at(0)),
    }
    v
}

impl Deferred {
    pub fn tag_in_use(&self, tag: u16) -> bool {
        self.jobs.contains_key(&tag) || self.parked.iter().any(|p| p.tag == tag)
    }

    /// Whether a request naming fids must wait behind a job or an earlier parked request.
    fn must_park(&self, fids: &[u32], before: usize) -> bool {
        fids.iter().any(|f| self.busy.contains_key(f) || self.parked.iter().take(before).any(|p| p.fids.contains(f)))
    }

    /// Whether any cancelled job is still running (the loop then wakes to signal it again).
    pub fn cancelling(&self) -> bool {
        self.jobs.values().any(|j| j.cancelled.is_some())
    }
}

/// The serving loop's entry for a request that is not a Tflush: parked behind a job holding
/// one of its fids, handed to a worker, or served now.
pub fn admit(s: &mut Server, ty: u8, tag: u16, msg: &[u8]) -> Served {
    if s.deferred.tag_in_use(tag) {
        // A client's mistake: the tag is still in flight.
        return Served::Now(Reply { bytes: rlerror(tag, libc::EWOULDBLOCK), donate: None });
    }
    let fids = named_fids(ty, &msg[crate::wire::HEADER.min(msg.len())..]);
    let d = &mut s.deferred;
    if d.must_park(&fids, d.parked.len()) {
        if d.parked.len() >= MAX_PARKED {
            return Served::Now(Reply { bytes: rlerror(tag, libc::EAGAIN), donate: None });
        }
        // Tclunk or Tremove of a fid a job holds: that job is cancelled (its reply still comes).
        if ty == t::TCLUNK || ty == t::TREMOVE {
            let holders: Vec<u16> = fids.iter().filter_map(|f| d.busy.get(f).copied()).collect();
            for h in holders {
                cancel(s, h);
            }
        }
        s.deferred.parked.push_back(Parked { tag, msg: msg.to_vec(), fids });
        return Served::Later;
    }
    serve(s, ty, tag, msg, fids)
}

fn serve(s: &mut Server, ty: u8, tag: u16, msg: &[u8], fids: Vec<u32>) -> Served {
    let blocks = fids.iter().any(|f| s.fids.get(f).is_some_and(|f| f.may_block));
    if s.pool.is_some() && deferrable(ty) && blocks {
        return start(s, tag, msg, fids);
    }
    match s.handle_now(msg) {
        // The handler met a wait (can_defer said it may ask): on a worker.
        Served::Later => start(s, tag, msg, fids),
        other => other,
    }
}

/// The fid a request only reads (walks from it to another fid, or asks its attributes,
/// link text or file system): lent to the job as a copy, so that other requests naming it
/// (the next walk from the same directory) are not held behind a stalled one.
fn read_only_fid(ty: u8, fids: &[u32]) -> Option<u32> {
    match (ty, fids) {
        (t::TWALK | t::TWALKGETATTR, [fid, newfid]) if fid != newfid => Some(*fid),
        (t::TGETATTR | t::TREADLINK | t::TSTATFS, [fid]) => Some(*fid),
        _ => None,
    }
}

/// Moves the fids the request names into a session of its own (but a fid it only reads,
/// copied) and hands both to a worker.
fn start(s: &mut Server, tag: u16, msg: &[u8], mut fids: Vec<u32>) -> Served {
    if s.deferred.jobs.len() >= MAX_JOBS {
        return Served::Now(Reply { bytes: rlerror(tag, libc::EAGAIN), donate: None });
    }
    let mut job = Box::new(s.worker_session());
    let ty = msg.get(4).copied().unwrap_or(0);
    let lent = read_only_fid(ty, &fids).filter(|f| s.fids.contains_key(f));
    if let Some(f) = lent {
        job.fids.insert(f, s.fids[&f].unopened_copy());
        fids.retain(|x| *x != f);
    }
    for f in &fids {
        if let Some(x) = s.fids.remove(f) {
            job.fids.insert(*f, x);
        }
        s.deferred.busy.insert(*f, tag);
    }
    s.deferred.jobs.insert(tag, JobState { fids, lent, flushes: Vec::new(), cancelled: None });
    let gen = s.gen;
    s.pool.as_ref().expect("pool").submit(Job { tag, gen, msg: msg.to_vec(), srv: job });
    Served::Later
}

fn cancel(s: &mut Server, tag: u16) {
    if let Some(j) = s.deferred.jobs.get_mut(&tag) {
        j.cancelled.get_or_insert_with(Instant::now);
        if let Some(p) = &s.pool {
            p.cancel(s.gen, tag);
        }
    }
}

/// Queues a reply for the serving loop. A donated fd is held by a copy until sent: the fid
/// it came from may be clunked by a request replayed before the outbox goes out.
fn out(s: &mut Server, mut r: Reply) {
    let hold = match r.donate.map(crate::host::dup) {
        None => None,
        Some(Ok(fd)) => Some(fd),
        Some(Err(e)) => {
            let tag = u16::from_le_bytes([r.bytes[5], r.bytes[6]]);
            r = Reply { bytes: rlerror(tag, e), donate: None };
            None
        }
    };
    r.donate = hold.as_ref().map(|f| std::os::fd::AsRawFd::as_raw_fd(f));
    s.outbox.push((r, hold));
}

fn rflush(tag: u16) -> Reply {
    Reply { bytes: Writer::new(t::TFLUSH + 1, tag).finish(), donate: None }
}

/// Tflush: answered at once unless oldtag is parked (dropped, then answered) or on a worker
/// (cancelled; answered after its outcome: finished or tick).
pub fn flush(s: &mut Server, tag: u16, oldtag: u16) -> Served {
    if let Some(at) = s.deferred.parked.iter().position(|p| p.tag == oldtag) {
        s.deferred.parked.remove(at);
        out(s, rflush(tag));
        replay(s);
        return Served::Later;
    }
    match s.deferred.jobs.get_mut(&oldtag) {
        Some(j) => {
            j.flushes.push(tag);
            cancel(s, oldtag);
            Served::Later
        }
        None => Served::Now(rflush(tag)),
    }
}

/// Tversion: every job is cancelled and given up, every parked request dropped; nothing of
/// the old session is answered.
pub fn reset(s: &mut Server) {
    let tags: Vec<u16> = s.deferred.jobs.keys().copied().collect();
    if let Some(p) = &s.pool {
        for tag in tags {
            p.cancel(s.gen, tag);
        }
    }
    s.deferred = Deferred::default();
    s.gen += 1;
}

/// The jobs the workers finished: their fids back in the table, their replies (none for one
/// flushed that ended with EINTR, or cancelled before it ran) and Rflushes into the outbox,
/// then the parked requests that may go now.
pub fn finished(s: &mut Server) {
    let Some(p) = &s.pool else { return };
    for d in p.take_done() {
        if d.gen != s.gen {
            continue; // a previous session's: dropped with its fids and fds
        }
        let Some(j) = s.deferred.jobs.remove(&d.tag) else { continue }; // given up
        for f in &j.fids {
            s.deferred.busy.remove(f);
        }
        let srv = *d.srv;
        for (k, v) in srv.fids {
            if Some(k) == j.lent {
                continue; // a copy: the table has the fid itself
            }
            s.deferred.lost.remove(&k);
            s.fids.insert(k, v);
        }
        match d.served {
            Some(Served::Now(r)) if j.flushes.is_empty() || !is_eintr(&r) => out(s, r),
            Some(Served::Now(_)) => {}
            Some(Served::Close) => s.closing = true,
            Some(Served::Later) => {}
            None if j.flushes.is_empty() => out(s, Reply { bytes: rlerror(d.tag, libc::EINTR), donate: None }),
            None => {}
        }
        for f in j.flushes {
            out(s, rflush(f));
        }
    }
    replay(s);
}

fn is_eintr(r: &Reply) -> bool {
    r.bytes.len() == 11 && r.bytes[4] == t::RLERROR && r.bytes[7..11] == (libc::EINTR as u32).to_le_bytes()
}

/// Cancelled jobs still running: their threads are signalled again, and those past GRACE are
/// given up. Whether any cancelled job is left.
pub fn tick(s: &mut Server) -> bool {
    let now = Instant::now();
    let mut gone = Vec::new();
    for (tag, j) in &s.deferred.jobs {
        if let Some(at) = j.cancelled {
            if now.duration_since(at) >= GRACE {
                gone.push(*tag);
            } else if let Some(p) = &s.pool {
                p.cancel(s.gen, *tag);
            }
        }
    }
    for tag in gone {
        let j = s.deferred.jobs.remove(&tag).expect("listed");
        for f in j.fids {
            s.deferred.busy.remove(&f);
            s.deferred.lost.insert(f);
        }
        if j.flushes.is_empty() {
            // Cancelled by a Tclunk of its fid: answered, as a cancelled request is.
            out(s, Reply { bytes: rlerror(tag, libc::EINTR), donate: None });
        }
        for f in j.flushes {
            out(s, rflush(f));
        }
        replay(s);
    }
    s.deferred.cancelling()
}

/// Serves, in order, the parked requests no job holds a fid of any more.
fn replay(s: &mut Server) {
    loop {
        let d = &s.deferred;
        let Some(at) = (0..d.parked.len()).find(|&i| !d.must_park(&d.parked[i].fids, i)) else { return };
        let p = s.deferred.parked.remove(at).expect("found");
        let ty = p.msg.get(4).copied().unwrap_or(0);
        match serve(s, ty, p.tag, &p.msg, p.fids) {
            Served::Now(r) => out(s, r),
            Served::Later => {}
            Served::Close => s.closing = true,
        }
    }
}
