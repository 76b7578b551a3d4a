//! Batches of address-space syscalls for a stub's leader. Each one ptrace injection costs two
//! context switches and a few ptrace calls; fork maps a few dozen runs and a new stub makes a
//! dozen set-up calls. Here they are queued as table entries, written into the stub's batch
//! pages and run by the stub's batch gadget (stub.S) in one injection.
//!
//! The table is in pages the stub maps read-only and the sentry writes through the memory
//! file, right after the control page: the application cannot write them (its mmap/mprotect
//! are the sentry's, bounded below the stub), and the leader reads them only during the
//! injection, while the sentry waits, holding the stub's lock. What comes back (how far the
//! leader got, the result that stopped it) is checked by StubProcess::run_batch.

use std::io;

use tsvisor_memfile::MemoryFile;
use tsvisor_ptrace::{StubProcess, BATCH_ENTRY};

/// Pages of table after the control page.
pub const BATCH_PAGES: u64 = 4;
/// Entries per injection.
pub const BATCH_CAP: usize = (BATCH_PAGES * 0x1000 / BATCH_ENTRY) as usize;

/// One entry: number, six arguments, the result expected (anything else stops the batch).
pub type Entry = [u64; 8];

pub fn entry(nr: libc::c_long, args: [u64; 6], expect: u64) -> Entry {
    [nr as u64, args[0], args[1], args[2], args[3], args[4], args[5], expect]
}

/// mmap of memory-file [off, +len) at addr, MAP_SHARED|MAP_FIXED, as StubProcess::map_file.
pub fn map_file(addr: u64, len: u64, off: u64, prot: u32) -> Entry {
    let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
    entry(libc::SYS_mmap, [addr, len, prot as u64, flags, tsvisor_ptrace::stub::STUB_MEMFD as u64, off], addr)
}

pub fn unmap(addr: u64, len: u64) -> Entry {
    entry(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], 0)
}

pub fn protect(addr: u64, len: u64, prot: u32) -> Entry {
    entry(libc::SYS_mprotect, [addr, len, prot as u64, 0, 0, 0], 0)
}

/// What an address space has queued since begin_batch.
#[derive(Default)]
pub struct Queue {
    pub entries: Vec<Entry>,
    /// Nesting of begin_batch; queued only while above 0.
    pub depth: u32,
}

/// Runs `entries` in the stub, BATCH_CAP at a time, through the table at `table_addr` in the
/// stub (memory-file offset `table_off`). Fails with the errno of the first entry whose result
/// was not the one expected (EIO if it was not an error either); earlier entries took effect.
pub fn run(stub: &mut StubProcess, mf: &MemoryFile, table_off: u64, table_addr: u64, entries: &[Entry]) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(BATCH_CAP * BATCH_ENTRY as usize);
    for chunk in entries.chunks(BATCH_CAP) {
        bytes.clear();
        for e in chunk {
            for v in e {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        mf.write(table_off, &bytes)?;
        let (done, r) = stub.run_batch(table_addr, table_addr + bytes.len() as u64)?;
        if done < chunk.len() as u64 {
            let errno = if (-4095..0).contains(&r) { -r as i32 } else { libc::EIO };
            return Err(io::Error::from_raw_os_error(errno));
        }
    }
    Ok(())
}
