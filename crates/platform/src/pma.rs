//! The mapping table of one address space: which application ranges are backed by which
//! memory-file ranges, with what protection (gVisor's pmas). Pure bookkeeping: it neither
//! touches the memory file's reference counts nor the platform; `AddressSpace` does both.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pma {
    pub end: u64,
    pub file_offset: u64,
    pub prot: u32,
}

#[derive(Default)]
pub struct PmaTable {
    map: BTreeMap<u64, Pma>,
    /// Bytes mapped (the resident set: a page is in the table from its first touch), and the
    /// most there has been since the last reset_peak (Linux's hiwater_rss).
    bytes: u64,
    peak: u64,
}

impl PmaTable {
    pub fn new() -> PmaTable {
        PmaTable::default()
    }

    /// Bytes mapped now.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Most bytes mapped at once since creation or the last reset_peak.
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// Starts the high-water mark again from what is mapped now (a new image at execve).
    pub fn reset_peak(&mut self) {
        self.peak = self.bytes;
    }

    /// Bytes mapped within [start, end).
    pub fn bytes_in(&self, start: u64, end: u64) -> u64 {
        let first = self.find(start).map_or(start, |(s, _)| s);
        let mut n = 0;
        for (&s, p) in self.map.range(first..end) {
            n += p.end.min(end).saturating_sub(s.max(start));
        }
        n
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The pma containing addr, as (start, pma).
    pub fn find(&self, addr: u64) -> Option<(u64, Pma)> {
        let (&s, &p) = self.map.range(..=addr).next_back()?;
        (addr < p.end).then_some((s, p))
    }

    /// The unmapped run around addr clipped to [lo, hi) (lo <= addr < hi): where the pma below
    /// ends and the one above starts, in one lookup each way. None if addr is mapped.
    pub fn hole_around(&self, addr: u64, lo: u64, hi: u64) -> Option<(u64, u64)> {
        let below = self.map.range(..=addr).next_back();
        if let Some((_, p)) = below {
            if addr < p.end {
                return None;
            }
        }
        let start = below.map_or(lo, |(_, p)| p.end.max(lo));
        let end = self.map.range(addr..).next().map_or(hi, |(&s, _)| s.min(hi));
        Some((start, end))
    }

    /// Splits the pma that straddles addr so that addr starts a pma.
    fn split_at(&mut self, addr: u64) {
        if let Some((s, p)) = self.find(addr) {
            if s < addr {
                self.map.insert(s, Pma { end: addr, ..p });
                self.map.insert(addr, Pma { end: p.end, file_offset: p.file_offset + (addr - s), prot: p.prot });
            }
        }
    }

    /// Whether any pma overlaps [start, end).
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.find(start).is_some() || self.map.range(start..end).next().is_some()
    }

    /// Removes [start, end) and returns the removed pieces as (start, pma).
    pub fn remove(&mut self, start: u64, end: u64) -> Vec<(u64, Pma)> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.map.range(start..end).map(|(&k, _)| k).collect();
        let removed: Vec<(u64, Pma)> = keys.into_iter().map(|k| (k, self.map.remove(&k).unwrap())).collect();
        for (s, p) in &removed {
            self.bytes -= p.end - s;
        }
        removed
    }

    /// Inserts a mapping over a range that must be empty (remove it first).
    pub fn insert(&mut self, start: u64, pma: Pma) {
        debug_assert!(self.map.range(start..pma.end).next().is_none());
        self.bytes += pma.end - start;
        self.peak = self.peak.max(self.bytes);
        self.map.insert(start, pma);
    }

    /// Sets prot on every mapped piece of [start, end); returns the pieces whose protection
    /// changed (only those need the host told: fork write-protects every private writable
    /// range of the parent, most of it still read-only since the last fork).
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) -> Vec<(u64, u64)> {
        self.split_at(start);
        self.split_at(end);
        let mut changed = Vec::new();
        for (&k, p) in self.map.range_mut(start..end) {
            if p.prot != prot {
                p.prot = prot;
                changed.push((k, p.end));
            }
        }
        changed
    }

    /// Pmas starting at or after `start`, in address order.
    pub fn range_from(&self, start: u64) -> impl Iterator<Item = (u64, Pma)> + '_ {
        self.map.range(start..).map(|(&k, &p)| (k, p))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, Pma)> + '_ {
        self.map.iter().map(|(&k, &p)| (k, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed-seed generator of numbers below n.
    fn xorshift(mut x: u32) -> impl FnMut(u64) -> u64 {
        move |n| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            u64::from(x) % n
        }
    }

    fn pma(end: u64, off: u64) -> Pma {
        Pma { end, file_offset: off, prot: 3 }
    }

    #[test]
    fn overlaps_sees_a_straddling_or_an_inner_pma_only() {
        let mut t = PmaTable::new();
        t.insert(0x2000, pma(0x4000, 0));
        assert!(t.overlaps(0x3000, 0x5000), "straddles the start");
        assert!(t.overlaps(0x1000, 0x3000), "starts inside");
        assert!(!t.overlaps(0x4000, 0x9000), "ends where it starts");
        assert!(!t.overlaps(0x1000, 0x2000), "starts where it ends");
    }

    #[test]
    fn hole_around_stops_at_the_neighbours_and_the_bounds() {
        let mut t = PmaTable::new();
        t.insert(0x2000, pma(0x4000, 0));
        t.insert(0x8000, pma(0x9000, 0));
        assert_eq!(t.hole_around(0x3000, 0, 0x10000), None, "mapped");
        assert_eq!(t.hole_around(0x5000, 0, 0x10000), Some((0x4000, 0x8000)));
        assert_eq!(t.hole_around(0x4000, 0x1000, 0x7000), Some((0x4000, 0x7000)), "clipped above");
        assert_eq!(t.hole_around(0x6000, 0x5000, 0x10000), Some((0x5000, 0x8000)), "clipped below");
        assert_eq!(t.hole_around(0x1000, 0, 0x10000), Some((0, 0x2000)), "nothing below");
        assert_eq!(t.hole_around(0x9000, 0, 0x10000), Some((0x9000, 0x10000)), "nothing above");
        assert_eq!(PmaTable::new().hole_around(0x9000, 0x8000, 0xa000), Some((0x8000, 0xa000)));
    }

    /// hole_around against a page-by-page scan (what faultAround did with a lookup per
    /// page), from a fixed seed.
    #[test]
    fn hole_around_agrees_with_a_page_scan() {
        const PAGES: u64 = 64;
        const P: u64 = 0x1000;
        let mut t = PmaTable::new();
        let mut rnd = xorshift(987654);
        for step in 0..3000 {
            let a = rnd(PAGES);
            let b = a + 1 + rnd((PAGES - a).min(4));
            t.remove(a * P, b * P);
            if rnd(3) != 0 {
                t.insert(a * P, pma(b * P, step * P));
            }
            let addr = rnd(PAGES);
            let lo = rnd(addr + 1);
            let hi = addr + 1 + rnd(PAGES - addr);
            let mapped = |p: u64| t.find(p * P).is_some();
            let want = (!mapped(addr)).then(|| {
                let (mut l, mut h) = (addr, addr + 1);
                while l > lo && !mapped(l - 1) {
                    l -= 1;
                }
                while h < hi && !mapped(h) {
                    h += 1;
                }
                (l * P, h * P)
            });
            assert_eq!(t.hole_around(addr * P, lo * P, hi * P), want, "step {step}");
        }
    }

    #[test]
    fn remove_splits_straddling_pmas() {
        let mut t = PmaTable::new();
        t.insert(0x1000, pma(0x5000, 0x10000));
        let removed = t.remove(0x2000, 0x3000);
        assert_eq!(removed, vec![(0x2000, Pma { end: 0x3000, file_offset: 0x11000, prot: 3 })]);
        assert_eq!(t.find(0x1fff).unwrap(), (0x1000, pma(0x2000, 0x10000)));
        assert!(t.find(0x2000).is_none());
        assert_eq!(t.find(0x4000).unwrap(), (0x3000, pma(0x5000, 0x12000)));
    }

    #[test]
    fn protect_touches_only_the_range() {
        let mut t = PmaTable::new();
        t.insert(0x1000, pma(0x4000, 0));
        assert_eq!(t.protect(0x2000, 0x8000, 1), vec![(0x2000, 0x4000)]);
        assert_eq!(t.find(0x1000).unwrap().1.prot, 3);
        assert_eq!(t.find(0x3000).unwrap().1.prot, 1);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn protect_reports_only_the_pieces_it_changes() {
        let mut t = PmaTable::new();
        t.insert(0x1000, pma(0x4000, 0));
        t.insert(0x6000, pma(0x8000, 0x10000));
        assert_eq!(t.protect(0x2000, 0x3000, 1), vec![(0x2000, 0x3000)]);
        // Already read-only in the middle: only the pieces around it change.
        assert_eq!(t.protect(0x1000, 0x8000, 1), vec![(0x1000, 0x2000), (0x3000, 0x4000), (0x6000, 0x8000)]);
        assert_eq!(t.protect(0x1000, 0x8000, 1), vec![]);
        assert_eq!(t.protect(0x6000, 0x7000, 3), vec![(0x6000, 0x7000)]);
        assert_eq!(t.find(0x6000).unwrap().1.prot, 3);
        assert_eq!(t.find(0x7000).unwrap().1.prot, 1);
    }

    /// The resident counts against a page-by-page model, from a fixed seed: inserts over
    /// emptied ranges, removes that split pmas, protects, and the peak with its reset.
    #[test]
    fn resident_bytes_and_peak_follow_a_model() {
        const PAGES: u64 = 64;
        const P: u64 = 0x1000;
        let mut t = PmaTable::new();
        let mut model = [false; PAGES as usize];
        let mut peak = 0u64;
        let mut rnd = xorshift(12345);
        for step in 0..4000 {
            let a = rnd(PAGES);
            let b = a + 1 + rnd(PAGES - a);
            match rnd(4) {
                0 | 1 => {
                    t.remove(a * P, b * P);
                    t.insert(a * P, pma(b * P, step * P));
                    model[a as usize..b as usize].fill(true);
                }
                2 => {
                    t.remove(a * P, b * P);
                    model[a as usize..b as usize].fill(false);
                }
                _ => {
                    t.protect(a * P, b * P, 1);
                }
            }
            let resident = model.iter().filter(|&&m| m).count() as u64 * P;
            peak = peak.max(resident);
            assert_eq!(t.bytes(), resident, "step {step}");
            assert_eq!(t.peak(), peak, "step {step}");
            let (lo, hi) = (rnd(PAGES), rnd(PAGES));
            let (lo, hi) = (lo.min(hi), lo.max(hi) + 1);
            let within = model[lo as usize..hi as usize].iter().filter(|&&m| m).count() as u64 * P;
            assert_eq!(t.bytes_in(lo * P, hi * P), within, "step {step}");
            // Unaligned bounds count the partial pages' bytes.
            assert_eq!(t.bytes_in(lo * P + 1, hi * P), within - u64::from(model[lo as usize]), "step {step}");
            if step % 500 == 499 {
                t.reset_peak();
                peak = resident;
            }
        }
    }
}
