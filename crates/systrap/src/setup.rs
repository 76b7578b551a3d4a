//! The set-up page of a thread slot (page 1): everything a new stub thread reads before its
//! seccomp filter is in force. The sentry writes it through the memory file and the stub maps
//! it read-only, so the application can neither write it nor map over it (its address-space
//! calls are the sentry's, bounded below the stub). Offsets must match systrap_thread_entry
//! in crates/ptrace/stub/stub.S.

use crate::filter::{fprog_bytes, SockFilter};

/// Offset of the set-up page in its slot.
pub const SETUP_PAGE: u64 = 0x1000;
const OFF_FPROG: usize = 0;
const OFF_SIGSTACK: usize = 0x800;
const OFF_SUD: usize = 0x820;
const OFF_SUD_START: usize = 0x828;
const OFF_SUD_LEN: usize = 0x830;
/// The empty signal set the entry unblocks with (stub_filter allows no other).
pub const OFF_UNBLOCKED: usize = 0x838;
/// The filter program must end before the signal-stack description.
pub const MAX_FILTER_LEN: usize = (OFF_SIGSTACK - 16) / 8;

/// What the entry code of one slot is told.
pub struct Setup<'a> {
    /// The slot's address in the stub.
    pub slot: u64,
    pub filter: &'a [SockFilter],
    /// The signal stack the thread's handler runs on: [start, start + size).
    pub sigstack: (u64, u64),
    /// Syscall User Dispatch: syscalls from outside [start, start + len) trap even where
    /// seccomp would let them through unfiltered. None where the kernel lacks it.
    pub user_dispatch: Option<(u64, u64)>,
}

/// The page's bytes.
pub fn setup_page(s: &Setup) -> Vec<u8> {
    assert!(s.filter.len() <= MAX_FILTER_LEN, "filter too long for the set-up page");
    let mut page = vec![0u8; 0x1000];
    let prog = fprog_bytes(s.filter, s.slot + SETUP_PAGE + OFF_FPROG as u64);
    page[OFF_FPROG..OFF_FPROG + prog.len()].copy_from_slice(&prog);
    let put = |page: &mut Vec<u8>, off: usize, v: u64| page[off..off + 8].copy_from_slice(&v.to_le_bytes());
    // stack_t { ss_sp, ss_flags (int, padded), ss_size }
    put(&mut page, OFF_SIGSTACK, s.sigstack.0);
    put(&mut page, OFF_SIGSTACK + 8, 0);
    put(&mut page, OFF_SIGSTACK + 16, s.sigstack.1);
    if let Some((start, len)) = s.user_dispatch {
        put(&mut page, OFF_SUD, 1);
        put(&mut page, OFF_SUD_START, start);
        put(&mut page, OFF_SUD_LEN, len);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::stub_filter;

    #[test]
    fn layout() {
        let f = stub_filter(0x7fff_0000_0000, 0x7fff_0000_2000, 0);
        let slot = 0x7fff_0020_0000;
        let p = setup_page(&Setup { slot, filter: &f, sigstack: (slot + 0x4000, 0xc000), user_dispatch: Some((1, 2)) });
        let u64_at = |o: usize| u64::from_le_bytes(p[o..o + 8].try_into().unwrap());
        assert_eq!(u16::from_le_bytes([p[0], p[1]]) as usize, f.len());
        assert_eq!(u64_at(8), slot + SETUP_PAGE + 16, "the program follows its header");
        assert_eq!(u64_at(0x800), slot + 0x4000);
        assert_eq!(u64_at(0x810), 0xc000);
        assert_eq!((u64_at(0x820), u64_at(0x828), u64_at(0x830)), (1, 1, 2));
        let q = setup_page(&Setup { slot, filter: &f, sigstack: (0, 0), user_dispatch: None });
        assert_eq!(u64::from_le_bytes(q[0x820..0x828].try_into().unwrap()), 0);
        assert_eq!(u64::from_le_bytes(q[0x838..0x840].try_into().unwrap()), 0, "the empty set");
    }
}
