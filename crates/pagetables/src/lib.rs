//! x86-64 page tables for the KVM platform (gVisor's ring0/pagetables, our own design).
//!
//! Owns the format of the guest's 4-level tables mapping guest-virtual to guest-physical
//! addresses, and the operations the address space needs on them: map, unmap, protect,
//! lookup, and an MMU-faithful walk. It does no I/O and knows nothing of KVM, the memory file
//! or the sentry: the tables' own frames come from a `Frames` the caller provides (the memory
//! file under KVM, a Vec in tests), read and written one entry at a time, so this crate has no
//! `unsafe`. It must not decide policy (what to map where); the address space does.

pub mod entry;
pub mod frames;
pub mod tables;

pub use entry::Prot;
pub use frames::{Frames, VecFrames};
pub use tables::{Error, Mapping, PageTables, Walk, HUGE_PAGE_SIZE, KERNEL_START, PAGE_SIZE, USER_END};
