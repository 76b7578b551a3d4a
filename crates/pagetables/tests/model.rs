//! PageTables against a reference model: random map/unmap/protect over ranges chosen to
//! collide (2 MiB boundaries, both halves), checked page by page through lookup and walk.

use std::collections::BTreeMap;
use tsvisor_pagetables::*;

/// xorshift64*: a fixed-seed generator, so a failure replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Page va -> (page pa, requested prot).
type Model = BTreeMap<u64, (u64, Prot)>;

const REGIONS: [u64; 3] = [0x40_0000, USER_END - (16 << 20), KERNEL_START + (64 << 20)];
const REGION_PAGES: u64 = 4096; // 16 MiB each

fn random_prot(r: &mut Rng) -> Prot {
    Prot::from_bits(r.below(8) as u32)
}

fn check_page(pt: &PageTables, f: &VecFrames, model: &Model, va: u64) {
    let got = pt.lookup(f, va + 123);
    match model.get(&va) {
        None => assert_eq!(got, None, "va {va:#x} should be unmapped"),
        Some(&(pa, prot)) => {
            let m = got.unwrap_or_else(|| panic!("va {va:#x} should be mapped"));
            assert_eq!(m.pa, pa + 123, "va {va:#x}");
            assert_eq!(m.prot, prot.effective(), "va {va:#x}");
            let w = pt.walk(f, va);
            let user = va < USER_END;
            assert_eq!(w.user_read, user && !prot.is_none(), "va {va:#x} ring-3 read");
            assert_eq!(w.user_write, user && prot.write, "va {va:#x} ring-3 write");
            assert_eq!(w.user_exec, user && prot.exec, "va {va:#x} ring-3 exec");
            assert_eq!(w.leaf.is_some(), !prot.is_none(), "va {va:#x}");
        }
    }
}

fn run(seed: u64, ops: usize) {
    let mut r = Rng(seed);
    let mut f = VecFrames::new(0x100_0000, 1 << 20);
    let mut pt = PageTables::new(&mut f, None).unwrap();
    let mut model = Model::new();
    for step in 0..ops {
        let base = REGIONS[r.below(3) as usize];
        // Half the time on 2 MiB boundaries with 2 MiB multiples, so large leaves appear.
        let (first, pages) = if r.below(2) == 0 {
            (r.below(REGION_PAGES / 512) * 512, (1 + r.below(3)) * 512)
        } else {
            (r.below(REGION_PAGES), 1 + r.below(700))
        };
        let pages = pages.min(REGION_PAGES - first);
        let va = base + first * PAGE_SIZE;
        let len = pages * PAGE_SIZE;
        match r.below(3) {
            0 => {
                let pa = if r.below(2) == 0 { r.below(1 << 10) * HUGE_PAGE_SIZE } else { r.below(1 << 20) * PAGE_SIZE };
                let prot = random_prot(&mut r);
                pt.map(&mut f, va, len, pa, prot).unwrap();
                for i in 0..pages {
                    model.insert(va + i * PAGE_SIZE, (pa + i * PAGE_SIZE, prot));
                }
            }
            1 => {
                pt.unmap(&mut f, va, len).unwrap();
                for i in 0..pages {
                    model.remove(&(va + i * PAGE_SIZE));
                }
            }
            _ => {
                let prot = random_prot(&mut r);
                pt.protect(&mut f, va, len, prot).unwrap();
                for i in 0..pages {
                    if let Some(e) = model.get_mut(&(va + i * PAGE_SIZE)) {
                        e.1 = prot;
                    }
                }
            }
        }
        // Around the range touched, and a few pages anywhere.
        for i in 0..8 {
            let p = first as i64 - 4 + i + if i >= 4 { pages as i64 } else { 0 };
            if p >= 0 && (p as u64) < REGION_PAGES {
                check_page(&pt, &f, &model, base + p as u64 * PAGE_SIZE);
            }
        }
        for _ in 0..16 {
            check_page(&pt, &f, &model, REGIONS[r.below(3) as usize] + r.below(REGION_PAGES) * PAGE_SIZE);
        }
        if step % 200 == 199 {
            for &va in model.keys() {
                check_page(&pt, &f, &model, va);
            }
        }
    }
    for base in REGIONS {
        pt.unmap(&mut f, base, REGION_PAGES * PAGE_SIZE).unwrap();
    }
    assert_eq!(f.live(), 1, "unmapping everything gives every table back but the root");
    pt.release(&mut f);
    assert_eq!(f.live(), 0);
}

#[test]
fn random_operations_match_the_model() {
    for seed in [1, 0x5eed, 0xdead_beef] {
        run(seed, 1500);
    }
}

#[test]
fn aligned_ranges_use_2mib_leaves() {
    let mut f = VecFrames::new(0, 64);
    let mut pt = PageTables::new(&mut f, None).unwrap();
    pt.map(&mut f, 0x4000_0000, 8 << 20, 0x20_0000, Prot::RW).unwrap();
    // PML4 + PDPT + PD: no PT for four 2 MiB leaves.
    assert_eq!(f.live(), 3);
    assert_eq!(pt.lookup(&f, 0x4000_1234).unwrap().page_size, HUGE_PAGE_SIZE);
    // Protecting one page splits its leaf into a table, the rest stays large.
    pt.protect(&mut f, 0x4020_0000, PAGE_SIZE, Prot::R).unwrap();
    assert_eq!(f.live(), 4);
    assert_eq!(pt.lookup(&f, 0x4020_0000).unwrap(), Mapping { pa: 0x40_0000, prot: Prot::R, page_size: PAGE_SIZE, user: true });
    assert_eq!(pt.lookup(&f, 0x4020_1000).unwrap().prot, Prot::RW);
    assert_eq!(pt.lookup(&f, 0x4060_0000).unwrap().page_size, HUGE_PAGE_SIZE);
    // Misaligned frames never make large leaves.
    pt.map(&mut f, 0x8000_0000, 2 << 20, 0x1000, Prot::RW).unwrap();
    assert_eq!(pt.lookup(&f, 0x8000_0000).unwrap().page_size, PAGE_SIZE);
}

#[test]
fn prot_none_faults_but_stays_mapped() {
    let mut f = VecFrames::new(0, 64);
    let mut pt = PageTables::new(&mut f, None).unwrap();
    pt.map(&mut f, 0x1000, 0x1000, 0x7000, Prot::NONE).unwrap();
    let w = pt.walk(&f, 0x1000);
    assert!(w.leaf.is_none() && !w.user_read);
    assert_eq!(w.entries[3] & entry::P, 0, "the MMU sees a non-present leaf");
    assert_eq!(pt.lookup(&f, 0x1000).unwrap().prot, Prot::NONE);
    pt.protect(&mut f, 0x1000, 0x1000, Prot::RX).unwrap();
    let w = pt.walk(&f, 0x1000);
    assert!(w.user_read && w.user_exec && !w.user_write);
    assert_eq!(w.leaf.unwrap().pa, 0x7000);
}

#[test]
fn the_upper_half_is_supervisor_only_and_shared() {
    let mut f = VecFrames::new(0, 64);
    let mut kernel = PageTables::new(&mut f, Some(1)).unwrap();
    let stub = KERNEL_START + (1 << 30);
    kernel.map(&mut f, stub, 0x2000, 0x9000, Prot::RX).unwrap();
    let mut app = PageTables::new(&mut f, Some(2)).unwrap();
    app.share_upper_half(&mut f, &kernel);
    let w = app.walk(&f, stub);
    let leaf = w.leaf.expect("the stub is mapped in every address space");
    assert!(!leaf.user && !w.user_read && !w.user_write && !w.user_exec);
    assert_eq!(w.entries[0] & entry::US, 0, "ring 3 is refused at the PML4");
    assert_ne!(w.entries[3] & entry::G, 0, "global: survives CR3 switches");
    // Changes below the shared PML4 entries are seen by both.
    kernel.map(&mut f, stub + 0x2000, 0x1000, 0xa000, Prot::R).unwrap();
    assert_eq!(app.lookup(&f, stub + 0x2000).unwrap().pa, 0xa000);
    // Releasing the borrower leaves the owner's tables alone.
    let before = f.live();
    app.release(&mut f);
    assert_eq!(f.live(), before - 1);
    assert!(kernel.lookup(&f, stub).is_some());
    assert_eq!(kernel.cr3(false), kernel.root() | 1);
    assert_eq!(kernel.cr3(true), kernel.root() | 1 | 1 << 63);
}

#[test]
fn bad_arguments_are_refused() {
    let mut f = VecFrames::new(0, 2);
    let mut pt = PageTables::new(&mut f, None).unwrap();
    assert_eq!(pt.map(&mut f, 0x1001, 0x1000, 0, Prot::R), Err(Error::Unaligned));
    assert_eq!(pt.map(&mut f, 0x1000, 0x1001, 0, Prot::R), Err(Error::Unaligned));
    assert_eq!(pt.map(&mut f, 0x1000, 0x1000, 0x10, Prot::R), Err(Error::Unaligned));
    assert_eq!(pt.map(&mut f, 0x1000, 0x1000, 1 << 52, Prot::R), Err(Error::Unaligned));
    assert_eq!(pt.map(&mut f, USER_END - 0x1000, 0x2000, 0, Prot::R), Err(Error::NonCanonical));
    assert_eq!(pt.unmap(&mut f, USER_END, 0x1000), Err(Error::NonCanonical));
    assert_eq!(pt.protect(&mut f, u64::MAX - 0xfff, 0x2000, Prot::R), Err(Error::NonCanonical));
    assert_eq!(pt.map(&mut f, 0x1000, 0, 0, Prot::R), Ok(()));
    // Two frames: the root and one more; a mapping needs three tables.
    assert_eq!(pt.map(&mut f, 0x1000, 0x1000, 0, Prot::R), Err(Error::OutOfFrames));
    assert_eq!(pt.lookup(&f, USER_END + 5), None);
    assert_eq!(pt.walk(&f, USER_END).depth, 0);
}
