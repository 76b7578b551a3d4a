//! One page-table entry: the x86-64 bits we use and the protections they encode.

/// Present.
pub const P: u64 = 1 << 0;
/// Writable.
pub const RW: u64 = 1 << 1;
/// Accessible from ring 3.
pub const US: u64 = 1 << 2;
/// Accessed (set by the MMU).
pub const A: u64 = 1 << 5;
/// Dirty (set by the MMU, leaves only).
pub const D: u64 = 1 << 6;
/// Page size: a 2 MiB leaf in a PD entry (1 GiB in a PDPT entry; we never make those).
pub const PS: u64 = 1 << 7;
/// Global: kept in the TLB across CR3 loads (the ring-0 stub's mappings).
pub const G: u64 = 1 << 8;
/// Software bit (ignored by the MMU): a leaf mapped PROT_NONE. The entry is not present,
/// so every access faults, but the frame it names is kept so lookup reports the mapping.
pub const SW_PROT_NONE: u64 = 1 << 9;
/// No-execute.
pub const NX: u64 = 1 << 63;

/// Physical address bits 12..51 (MAXPHYADDR 52 is the architectural limit).
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Protections as mmap names them. x86 cannot express "writable but not readable" or
/// "executable but not readable": any access makes the page readable, as on Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub const NONE: Prot = Prot { read: false, write: false, exec: false };
    pub const R: Prot = Prot { read: true, write: false, exec: false };
    pub const RW: Prot = Prot { read: true, write: true, exec: false };
    pub const RX: Prot = Prot { read: true, write: false, exec: true };
    pub const RWX: Prot = Prot { read: true, write: true, exec: true };

    /// From Linux PROT_READ=1 | PROT_WRITE=2 | PROT_EXEC=4.
    pub fn from_bits(bits: u32) -> Prot {
        Prot { read: bits & 1 != 0, write: bits & 2 != 0, exec: bits & 4 != 0 }
    }

    /// What the MMU will actually allow for these protections.
    pub fn effective(self) -> Prot {
        if self == Prot::NONE {
            return Prot::NONE;
        }
        Prot { read: true, write: self.write, exec: self.exec }
    }

    pub fn is_none(self) -> bool {
        self == Prot::NONE
    }
}

/// The bits of a leaf entry for frame `pa` with `prot`; `user` for ring-3 mappings.
pub fn leaf(pa: u64, prot: Prot, user: bool, large: bool) -> u64 {
    let mut e = pa & ADDR_MASK;
    if large {
        e |= PS;
    }
    if prot.is_none() {
        return e | SW_PROT_NONE;
    }
    e |= P;
    if prot.write {
        e |= RW;
    }
    if !prot.exec {
        e |= NX;
    }
    if user {
        e |= US;
    } else {
        e |= G;
    }
    e
}

/// A non-leaf entry pointing at the table in frame `pa`. Intermediate entries grant
/// everything; the leaf decides (the MMU ANDs writability and user access along the path
/// and ORs NX, so permissive parents leave the leaf in charge).
pub fn table(pa: u64, user: bool) -> u64 {
    let mut e = (pa & ADDR_MASK) | P | RW;
    if user {
        e |= US;
    }
    e
}

/// The entry names something: a table, a present leaf, or a PROT_NONE leaf.
pub fn is_used(e: u64) -> bool {
    e & (P | SW_PROT_NONE) != 0
}

pub fn addr(e: u64) -> u64 {
    e & ADDR_MASK
}

/// The protections a leaf entry grants (effective, as the MMU sees them).
pub fn prot_of(e: u64) -> Prot {
    if e & P == 0 {
        return Prot::NONE;
    }
    Prot { read: true, write: e & RW != 0, exec: e & NX == 0 }
}
