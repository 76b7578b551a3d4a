//! The ring-0 side of the guest, as bytes: where the stub's pages sit in the supervisor-only
//! upper half, the descriptor tables (GDT, IDT, TSS) and the entry code.
//!
//! The stub never returns to ring 3 by itself: the host loads the user's registers straight
//! into the vCPU (KVM_SET_REGS/SREGS) on every resume. So every entry is one `hlt`, which
//! exits to the host with all general registers still the application's; the address of the
//! `hlt` that stopped tells the host which vector (or the syscall entry) it was. Pure data:
//! no I/O, unit-tested without /dev/kvm.

use tsvisor_pagetables::KERNEL_START;

pub const PAGE: u64 = 4096;

/// The entry code page and the IDT, shared by every vCPU.
pub const CODE_VA: u64 = KERNEL_START;
pub const IDT_VA: u64 = KERNEL_START + PAGE;
/// Per-vCPU pages: the GDT+TSS page, the ring-0 stack, the IST stack; one guard page after.
pub const CPU_AREA_VA: u64 = KERNEL_START + 0x10_0000;
pub const CPU_AREA_STRIDE: u64 = 4 * PAGE;

/// Byte offset of vector v's entry in the code page.
pub const ENTRY_STRIDE: u64 = 8;
/// LSTAR: the 64-bit `syscall` entry.
pub const SYSCALL_ENTRY: u64 = 256 * ENTRY_STRIDE;
/// CSTAR: `syscall` from 32-bit code (AMD), the i386 ABI.
pub const SYSCALL32_ENTRY: u64 = SYSCALL_ENTRY + ENTRY_STRIDE;

/// Linux's GDT layout, so the selectors a program sees are the ones it would natively.
pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
pub const USER32_CS: u16 = 0x23;
pub const USER_DS: u16 = 0x2b;
pub const USER_CS: u16 = 0x33;
pub const TSS_SEL: u16 = 0x40;
pub const GDT_ENTRIES: usize = 16;
/// The TSS follows the GDT in the per-vCPU page.
pub const TSS_OFFSET: u64 = 0x100;
pub const TSS_LIMIT: u32 = 0x67;

/// The vector whose exceptions run on IST1 (a double fault must not trust RSP0).
pub const DOUBLE_FAULT: u8 = 8;
/// Gates ring 3 may invoke with `int N`, as on Linux: int3, into, and the i386 syscall.
pub const USER_GATES: [u8; 3] = [3, 4, 0x80];

/// Where one vCPU's pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuArea {
    pub gdt: u64,
    pub tss: u64,
    /// Top of the ring-0 stack (TSS.RSP0): the CPU pushes an exception frame just below.
    pub rsp0: u64,
    pub ist1: u64,
}

impl CpuArea {
    pub fn of(index: u64) -> CpuArea {
        let base = CPU_AREA_VA + index * CPU_AREA_STRIDE;
        CpuArea { gdt: base, tss: base + TSS_OFFSET, rsp0: base + 2 * PAGE, ist1: base + 3 * PAGE }
    }
}

/// The code page: at each entry `hlt; jmp .-1` (should the vCPU ever be resumed there, it
/// halts again instead of running on), the rest int3.
pub fn code_page() -> Vec<u8> {
    let mut p = vec![0xcc; PAGE as usize];
    for i in 0..258u64 {
        let o = (i * ENTRY_STRIDE) as usize;
        p[o..o + 3].copy_from_slice(&[0xf4, 0xeb, 0xfd]);
    }
    p
}

/// What stopped the vCPU, from the offset of its rip in the code page (`at_hlt`: the rip is
/// just past a `hlt` that exited; else the vCPU was stopped before executing it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Vector(u8),
    Syscall,
    Syscall32,
}

pub fn entry_of(code_offset: u64, at_hlt: bool) -> Option<Entry> {
    let off = if at_hlt { code_offset.checked_sub(1)? } else { code_offset };
    if off % ENTRY_STRIDE != 0 {
        return None;
    }
    match off / ENTRY_STRIDE {
        v @ 0..=255 => Some(Entry::Vector(v as u8)),
        256 => Some(Entry::Syscall),
        257 => Some(Entry::Syscall32),
        _ => None,
    }
}

/// A code or data segment descriptor, flat over the whole address space.
fn segment(access: u64, flags: u64) -> u64 {
    0xffff | (access << 40) | (0xf << 48) | (flags << 52)
}

/// The GDT, its TSS descriptor pointing at `tss`.
pub fn gdt(tss: u64) -> [u64; GDT_ENTRIES] {
    let mut g = [0u64; GDT_ENTRIES];
    // access: P | DPL | S | type; flags: G | D/B | L.
    g[(KERNEL_CS >> 3) as usize] = segment(0x9b, 0xa);
    g[(KERNEL_DS >> 3) as usize] = segment(0x93, 0xc);
    g[(USER32_CS >> 3) as usize] = segment(0xfb, 0xc);
    g[(USER_DS >> 3) as usize] = segment(0xf3, 0xc);
    g[(USER_CS >> 3) as usize] = segment(0xfb, 0xa);
    let (lo, hi) = tss_descriptor(tss);
    g[(TSS_SEL >> 3) as usize] = lo;
    g[(TSS_SEL >> 3) as usize + 1] = hi;
    g
}

/// A 64-bit available TSS descriptor (16 bytes).
pub fn tss_descriptor(base: u64) -> (u64, u64) {
    let limit = TSS_LIMIT as u64;
    let lo = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (lo, base >> 32)
}

/// The 104-byte 64-bit TSS: RSP0, IST1, and an I/O bitmap offset past the limit (no bitmap:
/// every port access from ring 3 faults).
pub fn tss(rsp0: u64, ist1: u64) -> [u8; 104] {
    let mut t = [0u8; 104];
    t[4..12].copy_from_slice(&rsp0.to_le_bytes());
    t[36..44].copy_from_slice(&ist1.to_le_bytes());
    t[102..104].copy_from_slice(&104u16.to_le_bytes());
    t
}

/// A 64-bit interrupt gate (IF cleared on entry) to `target`.
pub fn gate(target: u64, dpl: u8, ist: u8) -> (u64, u64) {
    let lo = (target & 0xffff)
        | ((KERNEL_CS as u64) << 16)
        | ((ist as u64 & 7) << 32)
        | ((0x8e | ((dpl as u64 & 3) << 5)) << 40)
        | (((target >> 16) & 0xffff) << 48);
    (lo, target >> 32)
}

/// The IDT page: every vector to its own `hlt`.
pub fn idt_page() -> Vec<u8> {
    let mut p = vec![0u8; PAGE as usize];
    for v in 0..=255u8 {
        let dpl = if USER_GATES.contains(&v) { 3 } else { 0 };
        let ist = if v == DOUBLE_FAULT { 1 } else { 0 };
        let (lo, hi) = gate(CODE_VA + v as u64 * ENTRY_STRIDE, dpl, ist);
        let o = v as usize * 16;
        p[o..o + 8].copy_from_slice(&lo.to_le_bytes());
        p[o + 8..o + 16].copy_from_slice(&hi.to_le_bytes());
    }
    p
}

/// The per-vCPU page: GDT at 0, TSS at TSS_OFFSET.
pub fn cpu_page(area: &CpuArea) -> Vec<u8> {
    let mut p = vec![0u8; PAGE as usize];
    for (i, d) in gdt(area.tss).iter().enumerate() {
        p[i * 8..i * 8 + 8].copy_from_slice(&d.to_le_bytes());
    }
    let o = TSS_OFFSET as usize;
    p[o..o + 104].copy_from_slice(&tss(area.rsp0, area.ist1));
    p
}

/// Where RSP is once the CPU has delivered vector `v` from ring 3: the frame (ss, rsp,
/// rflags, cs, rip and maybe an error code) pushed below RSP0, or IST1 for a double fault.
pub fn frame_rsp(area: &CpuArea, v: u8) -> u64 {
    let top = if v == DOUBLE_FAULT { area.ist1 } else { area.rsp0 };
    top - if has_error_code(v) { 48 } else { 40 }
}

/// Vectors for which the CPU pushes an error code.
pub fn has_error_code(v: u8) -> bool {
    matches!(v, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_match_the_architectural_encodings() {
        let g = gdt(0xffff_8000_0010_0100);
        // The values Linux's own GDT holds for these selectors.
        assert_eq!(g[2], 0x00af_9b00_0000_ffff);
        assert_eq!(g[3], 0x00cf_9300_0000_ffff);
        assert_eq!(g[4], 0x00cf_fb00_0000_ffff);
        assert_eq!(g[5], 0x00cf_f300_0000_ffff);
        assert_eq!(g[6], 0x00af_fb00_0000_ffff);
        assert_eq!(g[8], 0x0000_8900_0100_0067 | (0x10u64 << 32));
        assert_eq!(g[9], 0xffff_8000);
        let (lo, hi) = gate(0xffff_8000_1234_5678, 3, 1);
        assert_eq!(lo, 0x1234_ee01_0010_5678);
        assert_eq!(hi, 0xffff_8000);
    }

    #[test]
    fn every_entry_halts_and_decodes_back() {
        let code = code_page();
        for v in 0..=255u8 {
            let o = v as u64 * ENTRY_STRIDE;
            assert_eq!(code[o as usize], 0xf4);
            assert_eq!(entry_of(o + 1, true), Some(Entry::Vector(v)));
            assert_eq!(entry_of(o, false), Some(Entry::Vector(v)));
        }
        assert_eq!(entry_of(SYSCALL_ENTRY + 1, true), Some(Entry::Syscall));
        assert_eq!(entry_of(SYSCALL32_ENTRY + 1, true), Some(Entry::Syscall32));
        assert_eq!(entry_of(SYSCALL32_ENTRY + ENTRY_STRIDE + 1, true), None);
        assert_eq!(entry_of(3, true), None);
        assert_eq!(entry_of(0, true), None);
    }

    #[test]
    fn idt_gates_point_at_their_entries_and_only_user_gates_are_dpl3() {
        let idt = idt_page();
        for v in 0..=255usize {
            let lo = u64::from_le_bytes(idt[v * 16..v * 16 + 8].try_into().unwrap());
            let hi = u64::from_le_bytes(idt[v * 16 + 8..v * 16 + 16].try_into().unwrap());
            let target = (lo & 0xffff) | ((lo >> 48) << 16) | (hi << 32);
            assert_eq!(target, CODE_VA + v as u64 * ENTRY_STRIDE);
            let dpl = (lo >> 45) & 3;
            assert_eq!(dpl == 3, USER_GATES.contains(&(v as u8)), "vector {v}");
            assert_eq!((lo >> 16) & 0xffff, KERNEL_CS as u64);
            assert_eq!((lo >> 32) & 7, if v == 8 { 1 } else { 0 });
        }
    }

    #[test]
    fn a_ring3_frame_sits_just_below_its_stack_top() {
        let a = CpuArea::of(3);
        assert_eq!(frame_rsp(&a, 14), a.rsp0 - 48, "#PF pushes an error code");
        assert_eq!(frame_rsp(&a, 6), a.rsp0 - 40, "#UD does not");
        assert_eq!(frame_rsp(&a, DOUBLE_FAULT), a.ist1 - 48, "#DF runs on IST1");
        assert_eq!(frame_rsp(&a, 0x80), a.rsp0 - 40);
    }

    #[test]
    fn cpu_areas_do_not_overlap_and_stacks_sit_above_their_frames() {
        let a = CpuArea::of(0);
        let b = CpuArea::of(1);
        assert!(a.ist1 < b.gdt, "a guard page separates vCPU areas");
        assert_eq!(a.rsp0 % 16, 0);
        let p = cpu_page(&a);
        let t = &p[TSS_OFFSET as usize..];
        assert_eq!(u64::from_le_bytes(t[4..12].try_into().unwrap()), a.rsp0);
        assert_eq!(u64::from_le_bytes(t[36..44].try_into().unwrap()), a.ist1);
    }
}
