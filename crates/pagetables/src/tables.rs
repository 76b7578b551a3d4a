//! PageTables: one address space's 4-level tables (PML4 → PDPT → PD → PT).
//!
//! The lower half (below 2^47) holds the application's ring-3 mappings; the upper half
//! (from 0xffff_8000_0000_0000) holds the ring-0 stub's supervisor-only mappings, built once
//! in one PageTables and shared into every other by copying its PML4 entries. A range never
//! straddles the halves. Tables come from a `Frames`; an operation allocates only the tables
//! a new mapping needs, and lookups and walks never allocate.

use crate::entry::{self, Prot};
use crate::frames::Frames;

pub const PAGE_SIZE: u64 = 4096;
pub const HUGE_PAGE_SIZE: u64 = 2 << 20;
/// First address past the lower (user) half.
pub const USER_END: u64 = 1 << 47;
/// First address of the upper (kernel) half.
pub const KERNEL_START: u64 = 0xffff_8000_0000_0000;

const ENTRIES: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Address or length not a multiple of 4 KiB, or a frame address past 52 bits.
    Unaligned,
    /// The range leaves the canonical half it starts in.
    NonCanonical,
    /// The frame source is exhausted; the range may be partly mapped (unmap it).
    OutOfFrames,
}

/// What a virtual address translates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Guest-physical address of the byte at the looked-up address.
    pub pa: u64,
    /// Effective protections (Prot::NONE for a PROT_NONE leaf).
    pub prot: Prot,
    /// 4 KiB or 2 MiB.
    pub page_size: u64,
    /// Reachable from ring 3.
    pub user: bool,
}

/// What the MMU sees walking to an address: the entry at each level it read and the
/// permissions that result (writable and user only if every level allows, NX if any sets it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// Entries read, PML4 first; `depth` of them are meaningful.
    pub entries: [u64; 4],
    pub depth: usize,
    /// The translation, if the walk ended at a present leaf.
    pub leaf: Option<Mapping>,
    /// Would a ring-3 access of each kind succeed?
    pub user_read: bool,
    pub user_write: bool,
    pub user_exec: bool,
}

#[derive(Clone, Copy)]
enum Op {
    /// Map with pa = va + delta (wrapping).
    Map { delta: u64, prot: Prot },
    Unmap,
    Protect(Prot),
}

pub struct PageTables {
    root: u64,
    pcid: Option<u16>,
    /// The upper half's tables belong to another PageTables (shared by share_upper_half).
    upper_borrowed: bool,
}

impl PageTables {
    /// Empty tables; `pcid` (1..4095) tags this address space's TLB entries when the CPU has
    /// PCID, so switching CR3 between address spaces needs no flush.
    pub fn new(frames: &mut impl Frames, pcid: Option<u16>) -> Result<PageTables, Error> {
        let root = frames.alloc().ok_or(Error::OutOfFrames)?;
        Ok(PageTables { root, pcid: pcid.map(|p| p & 0xfff), upper_borrowed: false })
    }

    /// Guest-physical address of the PML4.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// The value to load in CR3. With a PCID, `noflush` keeps the TLB entries tagged with it
    /// (bit 63), for a switch back to an address space that has not changed since.
    pub fn cr3(&self, noflush: bool) -> u64 {
        match self.pcid {
            Some(p) => self.root | p as u64 | if noflush { 1 << 63 } else { 0 },
            None => self.root,
        }
    }

    /// Share `owner`'s upper half (the ring-0 stub's mappings) into these tables. Entries
    /// are copied at the PML4 level, so later changes below them are seen by both; `owner`
    /// must have created every upper-half PML4 entry it will use before sharing.
    pub fn share_upper_half(&mut self, frames: &mut impl Frames, owner: &PageTables) {
        self.free_upper(frames);
        for i in ENTRIES / 2..ENTRIES {
            frames.write(self.root, i, frames.read(owner.root, i));
        }
        self.upper_borrowed = true;
    }

    /// Map [va, va+len) to [pa, pa+len) with `prot`, replacing what was there. Ring-3 access
    /// for the lower half, supervisor-only (and global) for the upper half. 2 MiB leaves are
    /// used wherever va and pa are both 2 MiB aligned over a whole 2 MiB.
    pub fn map(&mut self, frames: &mut impl Frames, va: u64, len: u64, pa: u64, prot: Prot) -> Result<(), Error> {
        check_range(va, len)?;
        if pa % PAGE_SIZE != 0 || pa & !entry::ADDR_MASK != 0 || pa.checked_add(len).map_or(true, |e| e > entry::ADDR_MASK + PAGE_SIZE) {
            return Err(Error::Unaligned);
        }
        self.apply(frames, va, len, Op::Map { delta: pa.wrapping_sub(va), prot })
    }

    /// Remove every mapping in [va, va+len); tables left empty are given back.
    pub fn unmap(&mut self, frames: &mut impl Frames, va: u64, len: u64) -> Result<(), Error> {
        check_range(va, len)?;
        self.apply(frames, va, len, Op::Unmap)
    }

    /// Change the protections of whatever is mapped in [va, va+len); holes stay holes.
    pub fn protect(&mut self, frames: &mut impl Frames, va: u64, len: u64, prot: Prot) -> Result<(), Error> {
        check_range(va, len)?;
        self.apply(frames, va, len, Op::Protect(prot))
    }

    /// The translation of `va`, PROT_NONE leaves included; None where nothing is mapped.
    pub fn lookup(&self, frames: &impl Frames, va: u64) -> Option<Mapping> {
        if !canonical(va) {
            return None;
        }
        let mut table = self.root;
        for level in (1..=4u32).rev() {
            let e = frames.read(table, index(va, level));
            if !entry::is_used(e) {
                return None;
            }
            if level == 1 || (level == 2 && e & entry::PS != 0) {
                let size = level_span(level);
                return Some(Mapping {
                    pa: entry::addr(e) + (va & (size - 1)),
                    prot: entry::prot_of(e),
                    page_size: size,
                    user: e & entry::US != 0,
                });
            }
            table = entry::addr(e);
        }
        None
    }

    /// Walk to `va` as the MMU would, reporting each entry and the ring-3 permissions.
    pub fn walk(&self, frames: &impl Frames, va: u64) -> Walk {
        let mut w = Walk { entries: [0; 4], depth: 0, leaf: None, user_read: false, user_write: false, user_exec: false };
        if !canonical(va) {
            return w;
        }
        let (mut write, mut user, mut nx) = (true, true, false);
        let mut table = self.root;
        for level in (1..=4u32).rev() {
            let e = frames.read(table, index(va, level));
            w.entries[w.depth] = e;
            w.depth += 1;
            if e & entry::P == 0 {
                return w;
            }
            write &= e & entry::RW != 0;
            user &= e & entry::US != 0;
            nx |= e & entry::NX != 0;
            if level == 1 || (level == 2 && e & entry::PS != 0) {
                let size = level_span(level);
                w.leaf = Some(Mapping {
                    pa: entry::addr(e) + (va & (size - 1)),
                    prot: Prot { read: true, write, exec: !nx },
                    page_size: size,
                    user,
                });
                w.user_read = user;
                w.user_write = user && write;
                w.user_exec = user && !nx;
                return w;
            }
            table = entry::addr(e);
        }
        w
    }

    /// Give every table back (the upper half too, unless it is shared from another).
    pub fn release(mut self, frames: &mut impl Frames) {
        for i in 0..ENTRIES / 2 {
            let e = frames.read(self.root, i);
            if entry::is_used(e) {
                free_table(frames, entry::addr(e), 3);
            }
        }
        self.free_upper(frames);
        frames.free(self.root);
    }

    fn free_upper(&mut self, frames: &mut impl Frames) {
        for i in ENTRIES / 2..ENTRIES {
            let e = frames.read(self.root, i);
            if entry::is_used(e) && !self.upper_borrowed {
                free_table(frames, entry::addr(e), 3);
            }
            frames.write(self.root, i, 0);
        }
    }

    fn apply(&mut self, frames: &mut impl Frames, va: u64, len: u64, op: Op) -> Result<(), Error> {
        if len == 0 {
            return Ok(());
        }
        let user = va < USER_END;
        // The last byte, not the end: the upper half's end is 2^64.
        visit(frames, self.root, 4, va, va + (len - 1), op, user)
    }
}

/// Apply `op` to [va, last] below `table` at `level` (4 = PML4).
fn visit(frames: &mut impl Frames, table: u64, level: u32, va: u64, last: u64, op: Op, user: bool) -> Result<(), Error> {
    let span = level_span(level);
    let mut cur = va;
    loop {
        let idx = index(cur, level);
        let entry_first = cur & !(span - 1);
        let entry_last = entry_first + (span - 1);
        let stop = last.min(entry_last);
        let whole = cur == entry_first && stop == entry_last;
        let e = frames.read(table, idx);
        if level == 1 {
            leaf_op(frames, table, idx, e, cur, op, user, false);
        } else if level == 2 && whole && large_ok(e, cur, op) {
            if entry::is_used(e) && e & entry::PS == 0 {
                free_table(frames, entry::addr(e), 1);
            }
            leaf_op(frames, table, idx, e, cur, op, user, true);
        } else {
            let child = if !entry::is_used(e) {
                match op {
                    Op::Map { .. } => {
                        let t = frames.alloc().ok_or(Error::OutOfFrames)?;
                        frames.write(table, idx, entry::table(t, user));
                        Some(t)
                    }
                    Op::Unmap | Op::Protect(_) => None,
                }
            } else if level == 2 && e & entry::PS != 0 {
                Some(split(frames, table, idx, e, user)?)
            } else {
                Some(entry::addr(e))
            };
            if let Some(child) = child {
                visit(frames, child, level - 1, cur, stop, op, user)?;
                if matches!(op, Op::Unmap) && is_empty(frames, child) {
                    frames.free(child);
                    frames.write(table, idx, 0);
                }
            }
        }
        if stop == last {
            return Ok(());
        }
        cur = stop + 1;
    }
}

/// Can this PD entry take `op` as one 2 MiB leaf?
fn large_ok(e: u64, va: u64, op: Op) -> bool {
    match op {
        Op::Map { delta, .. } => va.wrapping_add(delta) % HUGE_PAGE_SIZE == 0,
        Op::Unmap => true,
        // A table's leaves may differ in frames: protect them one by one.
        Op::Protect(_) => e & entry::PS != 0 || !entry::is_used(e),
    }
}

#[allow(clippy::too_many_arguments)]
fn leaf_op(frames: &mut impl Frames, table: u64, idx: usize, e: u64, va: u64, op: Op, user: bool, large: bool) {
    let new = match op {
        Op::Map { delta, prot } => entry::leaf(va.wrapping_add(delta), prot, user, large),
        Op::Unmap => 0,
        Op::Protect(prot) => {
            if !entry::is_used(e) {
                return;
            }
            entry::leaf(entry::addr(e), prot, user, e & entry::PS != 0)
        }
    };
    frames.write(table, idx, new);
}

/// Replace a 2 MiB leaf by a table of 512 4 KiB leaves with the same frames and protections.
fn split(frames: &mut impl Frames, table: u64, idx: usize, e: u64, user: bool) -> Result<u64, Error> {
    let t = frames.alloc().ok_or(Error::OutOfFrames)?;
    let base = entry::addr(e);
    let flags = e & !entry::ADDR_MASK & !entry::PS;
    for i in 0..ENTRIES {
        frames.write(t, i, (base + i as u64 * PAGE_SIZE) | flags);
    }
    frames.write(table, idx, entry::table(t, user));
    Ok(t)
}

/// Free the table at `level` and every table below it (2 MiB leaves are not tables).
fn free_table(frames: &mut impl Frames, table: u64, level: u32) {
    if level > 1 {
        for i in 0..ENTRIES {
            let e = frames.read(table, i);
            if entry::is_used(e) && !(level == 2 && e & entry::PS != 0) {
                free_table(frames, entry::addr(e), level - 1);
            }
        }
    }
    frames.free(table);
}

fn is_empty(frames: &impl Frames, table: u64) -> bool {
    (0..ENTRIES).all(|i| !entry::is_used(frames.read(table, i)))
}

fn level_span(level: u32) -> u64 {
    1u64 << (12 + 9 * (level - 1))
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 511) as usize
}

fn canonical(va: u64) -> bool {
    va < USER_END || va >= KERNEL_START
}

fn check_range(va: u64, len: u64) -> Result<(), Error> {
    if va % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 {
        return Err(Error::Unaligned);
    }
    if len == 0 {
        return Ok(());
    }
    let last = va.checked_add(len - 1).ok_or(Error::NonCanonical)?;
    let in_user = last < USER_END;
    let in_kernel = va >= KERNEL_START;
    if in_user || in_kernel {
        Ok(())
    } else {
        Err(Error::NonCanonical)
    }
}
