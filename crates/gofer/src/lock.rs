//! POSIX byte-range locks answered from the gofer's own table (they never reach the host):
//! per inode, each lock owned by (client_id, proc_id). The gofer never blocks: a conflicting
//! Tlock answers BLOCKED and the client retries, as Linux's v9fs client does.

use crate::host::R;
use crate::server::{reply, Reply, Server};
use crate::wire::{t, Malformed, Reader, Writer};
use std::collections::HashMap;

const RDLCK: u8 = 0;
const WRLCK: u8 = 1;
const UNLCK: u8 = 2;
const SUCCESS: u8 = 0;
const BLOCKED: u8 = 1;
const MAX_LOCKS: usize = 1 << 16;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Lock {
    ty: u8,
    start: u64,
    /// Inclusive end; u64::MAX for "to end of file".
    end: u64,
    proc_id: u32,
    client: Vec<u8>,
}

#[derive(Default)]
pub struct LockTable {
    by_inode: HashMap<(u64, u64), Vec<Lock>>,
    count: usize,
}

fn end_of(start: u64, len: u64) -> u64 {
    if len == 0 {
        u64::MAX
    } else {
        start.saturating_add(len - 1)
    }
}

impl LockTable {
    fn conflict(&self, key: (u64, u64), l: &Lock) -> Option<&Lock> {
        self.by_inode.get(&key)?.iter().find(|o| {
            (o.proc_id, &o.client) != (l.proc_id, &l.client)
                && o.start <= l.end
                && l.start <= o.end
                && (o.ty == WRLCK || l.ty == WRLCK)
        })
    }

    /// Take away [start, end] from the owner's locks (splitting them), then add `l` unless unlock.
    fn set(&mut self, key: (u64, u64), l: Lock) -> R<()> {
        let list = self.by_inode.entry(key).or_default();
        let mut kept = Vec::with_capacity(list.len() + 1);
        for o in list.iter().cloned() {
            if (o.proc_id, &o.client) != (l.proc_id, &l.client) || o.end < l.start || l.end < o.start {
                kept.push(o);
                continue;
            }
            if o.start < l.start {
                kept.push(Lock { end: l.start - 1, ..o.clone() });
            }
            if o.end > l.end {
                kept.push(Lock { start: l.end + 1, ..o });
            }
        }
        if l.ty != UNLCK {
            kept.push(l);
        }
        let count = self.count - list.len() + kept.len();
        if count > MAX_LOCKS {
            return Err(libc::ENOLCK);
        }
        self.count = count;
        *list = kept;
        Ok(())
    }
}

pub fn lock(s: &mut Server, tag: u16, r: &mut Reader) -> Result<R<Reply>, Malformed> {
    let (fid, ty, _flags, start, len, proc_id) = (r.u32()?, r.u8()?, r.u32()?, r.u64()?, r.u64()?, r.u32()?);
    let client = r.str()?.to_vec();
    Ok((|| {
        let f = s.fid(fid)?;
        if ty > UNLCK {
            return Err(libc::EINVAL);
        }
        let key = (f.dev, f.ino);
        let l = Lock { ty, start, end: end_of(start, len), proc_id, client };
        let status = if ty != UNLCK && s.locks.conflict(key, &l).is_some() {
            BLOCKED
        } else {
            s.locks.set(key, l)?;
            SUCCESS
        };
        let mut w = Writer::new(t::TLOCK + 1, tag);
        w.u8(status);
        Ok(reply(w))
    })())
}

pub fn getlock(s: &mut Server, tag: u16, r: &mut Reader) -> Result<R<Reply>, Malformed> {
    let (fid, ty, start, len, proc_id) = (r.u32()?, r.u8()?, r.u64()?, r.u64()?, r.u32()?);
    let client = r.str()?.to_vec();
    Ok((|| {
        let f = s.fid(fid)?;
        if ty != RDLCK && ty != WRLCK {
            return Err(libc::EINVAL);
        }
        let l = Lock { ty, start, end: end_of(start, len), proc_id, client };
        let mut w = Writer::new(t::TGETLOCK + 1, tag);
        match s.locks.conflict((f.dev, f.ino), &l) {
            Some(o) => {
                let len = if o.end == u64::MAX { 0 } else { o.end - o.start + 1 };
                w.u8(o.ty).u64(o.start).u64(len).u32(o.proc_id).str(&o.client);
            }
            None => {
                w.u8(UNLCK).u64(start).u64(len).u32(proc_id).str(&l.client);
            }
        }
        Ok(reply(w))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(ty: u8, start: u64, end: u64, pid: u32) -> Lock {
        Lock { ty, start, end, proc_id: pid, client: b"c".to_vec() }
    }

    #[test]
    fn conflicts_and_splits() {
        let mut t = LockTable::default();
        let k = (1, 2);
        t.set(k, l(WRLCK, 0, 99, 1)).unwrap();
        assert!(t.conflict(k, &l(RDLCK, 50, 60, 2)).is_some());
        assert!(t.conflict(k, &l(RDLCK, 100, 200, 2)).is_none());
        t.set(k, l(UNLCK, 40, 59, 1)).unwrap();
        assert!(t.conflict(k, &l(WRLCK, 40, 59, 2)).is_none());
        assert!(t.conflict(k, &l(WRLCK, 39, 39, 2)).is_some());
        assert!(t.conflict(k, &l(WRLCK, 60, 60, 2)).is_some());
        assert_eq!(t.count, 2);
        t.set(k, l(UNLCK, 0, u64::MAX, 1)).unwrap();
        assert_eq!(t.count, 0);
    }
}
