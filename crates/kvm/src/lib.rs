//! The KVM platform (issue 11), host side. So far: the bookkeeping that needs no /dev/kvm.
//!
//! Guest-physical memory is the memory file: guest-physical address = memory-file offset, so
//! a page the sentry allocates is at the same place for the guest MMU, for the page tables
//! (`tsvisor-pagetables`, whose frames are memory-file pages too) and for the sentry's own
//! mapping of the file. `memslots` decides which chunks of it are registered with KVM, lazily,
//! as the guest first touches them. This crate must not know about Node or the sentry; the
//! vCPU loop and the ring-0 stub come next and will live here too.

pub mod memslots;

pub use memslots::{GuestMemory, Memslots, SlotChange};
