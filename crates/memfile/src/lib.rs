//! The memory file: one memfd that backs all application memory (gVisor's pgalloc.MemoryFile).
//!
//! Owns the memfd, the sentry's single mapping of it, the page allocator with per-page
//! reference counts, and the sandbox's memory limit (a bound on the pages allocated at once,
//! checked by `allocate` against the counter it keeps anyway). It knows nothing of address
//! spaces or platforms: those map windows of this file and translate through their own
//! tables. Node does not exist here.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

pub const PAGE_SIZE: u64 = 4096;

/// Virtual size of the file. memfd pages cost nothing until touched, so the file is sized once
/// and never grown: the sentry's mapping of it then never moves.
pub const DEFAULT_SIZE: u64 = 64 << 30;

/// Free runs allocate() looks at before it takes pages from the never-used end instead.
const MAX_FIT_SCAN: usize = 64;

/// Most bytes of freed pages kept in memory for reuse (`Allocator::kept`) rather than punched
/// out: a fresh shmem page costs the application's first touch an allocation and a clearing
/// in the host's fault handler (about twice an anonymous page's fault here), a kept one only
/// the mapping of a page already there, after we zero it. A process exiting and the next one
/// starting (a shell's pipeline, a compiler driver's children) trade pages through this.
const KEEP_MAX: u64 = 64 << 20;

pub struct MemoryFile {
    fd: OwnedFd,
    base: *mut u8,
    size: u64,
    alloc: Mutex<Allocator>,
    /// Whether write() may use pwrite(2): only while no RLIMIT_FSIZE bounds this process,
    /// since a pwrite past it would raise SIGXFSZ in the sentry.
    pwrite_ok: bool,
}

// SAFETY: `base` points at a MAP_SHARED mapping that lives as long as the MemoryFile; every
// access goes through bounds-checked copies, and the allocator state is behind a Mutex.
unsafe impl Send for MemoryFile {}
// SAFETY: as above; concurrent copies into application memory race exactly as two threads of
// the application would, which is the application's business, not a memory-safety issue for
// the sentry (we never form Rust references to that memory).
unsafe impl Sync for MemoryFile {}

struct Allocator {
    /// Pages at or above `high` have never been handed out.
    high: u64,
    /// Free page runs below `high` that are holes in the file (zero): start page -> pages.
    free: BTreeMap<u64, u64>,
    /// Free page runs below `high` still in memory with whatever was last written there,
    /// zeroed when allocated again; at most KEEP_MAX (and an eighth of the limit) in all.
    kept: BTreeMap<u64, u64>,
    kept_pages: u64,
    /// Reference count of each page below `high`.
    refs: Vec<u32>,
    allocated_pages: u64,
    /// Most pages that may be allocated at once (the sandbox's memory limit, as a memory
    /// cgroup's memory.max); u64::MAX for none.
    limit_pages: u64,
}

/// madvise(2)'s MADV_POPULATE_WRITE (Linux 5.14).
const MADV_POPULATE_WRITE: libc::c_int = 23;

fn err(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// The memory file is the sandbox's RAM, not a file the user writes: a soft RLIMIT_FSIZE the
/// sentry was started under (`ulimit -S -f`) would refuse its size (EFBIG) and cut its writes
/// short, so the soft limit goes up to the hard one (the sandbox enforces its own RLIMIT_FSIZE
/// on the application). Returns the largest size the file may then have.
fn lift_fsize_limit() -> u64 {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut r) } != 0 {
        return u64::MAX;
    }
    if r.rlim_cur != r.rlim_max {
        let lifted = libc::rlimit { rlim_cur: r.rlim_max, rlim_max: r.rlim_max };
        // SAFETY: setrlimit reads the struct we pass; raising a soft limit to the hard one
        // needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &lifted) } == 0 {
            r.rlim_cur = r.rlim_max;
        }
    }
    if r.rlim_cur == libc::RLIM_INFINITY { u64::MAX } else { r.rlim_cur }
}

fn fsize_unlimited() -> bool {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut r) == 0 && r.rlim_cur == libc::RLIM_INFINITY }
}

impl MemoryFile {
    pub fn new() -> io::Result<MemoryFile> {
        Self::with_size(DEFAULT_SIZE)
    }

    pub fn with_size(size: u64) -> io::Result<MemoryFile> {
        // Under a hard RLIMIT_FSIZE below the size asked for, the file is as large as it may be.
        let size = size.min(lift_fsize_limit()) & !(PAGE_SIZE - 1);
        if size == 0 {
            return Err(err(libc::EFBIG));
        }
        // SAFETY: memfd_create with a valid NUL-terminated name; the result is checked.
        let raw = unsafe { libc::memfd_create(c"tsvisor-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: plain syscall on our fd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: mapping our own memfd; MAP_NORESERVE because the file is mostly holes.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(MemoryFile {
            fd,
            base: base as *mut u8,
            size,
            alloc: Mutex::new(Allocator {
                high: 0,
                free: BTreeMap::new(),
                kept: BTreeMap::new(),
                kept_pages: 0,
                refs: Vec::new(),
                allocated_pages: 0,
                limit_pages: u64::MAX,
            }),
            pwrite_ok: fsize_unlimited(),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Allocates `pages` contiguous zeroed pages with a reference count of one. ENOMEM when
    /// the file is full or the allocation would take the total past the limit.
    pub fn allocate(&self, pages: u64) -> io::Result<u64> {
        self.allocate_from(pages, true)
    }

    /// As allocate, but never from kept pages (which are in memory, zeroed): pages whose
    /// residency (`residency`) must start out none, as a fresh shmem file's does.
    pub fn allocate_fresh(&self, pages: u64) -> io::Result<u64> {
        self.allocate_from(pages, false)
    }

    fn allocate_from(&self, pages: u64, use_kept: bool) -> io::Result<u64> {
        if pages == 0 {
            return Err(err(libc::EINVAL));
        }
        let mut a = self.alloc.lock().unwrap();
        // Charged before anything else, so a refused allocation changes nothing.
        if pages > a.limit_pages.saturating_sub(a.allocated_pages) {
            return Err(err(libc::ENOMEM));
        }
        // First fit among the first free runs only (kept ones first: they are in memory
        // already): a file written in long runs must not scan every small hole a fragmented
        // file left (past them, the never-used end serves).
        let full = (a.high + pages) * PAGE_SIZE > self.size;
        let scan = if full { usize::MAX } else { MAX_FIT_SCAN };
        let kept = if use_kept { take_fit(&mut a.kept, pages, scan) } else { None };
        let start = if let Some(s) = kept {
            a.kept_pages -= pages;
            // Whatever the last user left there goes before anyone else sees it.
            if let Err(e) = self.zero_kept(s * PAGE_SIZE, pages * PAGE_SIZE) {
                a.kept_pages += pages;
                insert_run(&mut a.kept, s, pages);
                return Err(e);
            }
            s
        } else if let Some(s) = take_fit(&mut a.free, pages, scan) {
            s
        } else if let Some(s) = full.then(|| self.punch_kept(&mut a, pages)).flatten() {
            s
        } else {
            let s = a.high;
            if full {
                return Err(err(libc::ENOMEM));
            }
            a.high += pages;
            let high = a.high as usize;
            a.refs.resize(high, 0);
            s
        };
        for p in start..start + pages {
            a.refs[p as usize] = 1;
        }
        a.allocated_pages += pages;
        Ok(start * PAGE_SIZE)
    }

    fn page_range(&self, a: &Allocator, offset: u64, length: u64) -> io::Result<(u64, u64)> {
        if offset % PAGE_SIZE != 0 || length % PAGE_SIZE != 0 {
            return Err(err(libc::EINVAL));
        }
        let (first, n) = (offset / PAGE_SIZE, length / PAGE_SIZE);
        if first.checked_add(n).map_or(true, |end| end > a.high) {
            return Err(err(libc::EINVAL));
        }
        Ok((first, first + n))
    }

    pub fn inc_ref(&self, offset: u64, length: u64) -> io::Result<()> {
        let mut a = self.alloc.lock().unwrap();
        let (first, end) = self.page_range(&a, offset, length)?;
        if (first..end).any(|p| a.refs[p as usize] == 0) {
            return Err(err(libc::EINVAL));
        }
        for p in first..end {
            a.refs[p as usize] += 1;
        }
        Ok(())
    }

    /// Drops one reference from each page; pages reaching zero are punched out and reused.
    pub fn dec_ref(&self, offset: u64, length: u64) -> io::Result<()> {
        let mut a = self.alloc.lock().unwrap();
        let (first, end) = self.page_range(&a, offset, length)?;
        if (first..end).any(|p| a.refs[p as usize] == 0) {
            return Err(err(libc::EINVAL));
        }
        let mut run: Option<u64> = None;
        for p in first..=end {
            let freed = p < end && {
                let r = &mut a.refs[p as usize];
                *r -= 1;
                *r == 0
            };
            match (freed, run) {
                (true, None) => run = Some(p),
                (false, Some(s)) => {
                    self.release_run(&mut a, s, p - s);
                    run = None;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn release_run(&self, a: &mut Allocator, start: u64, pages: u64) {
        a.allocated_pages -= pages;
        let keep_max = (KEEP_MAX / PAGE_SIZE).min(a.limit_pages / 8);
        if a.kept_pages + pages <= keep_max {
            a.kept_pages += pages;
            insert_run(&mut a.kept, start, pages);
            return;
        }
        self.punch(start, pages);
        insert_run(&mut a.free, start, pages);
    }

    /// Gives pages [start, +pages) back to the host: they read as zero from then on.
    fn punch(&self, start: u64, pages: u64) {
        // SAFETY: punching a hole in our own memfd inside its size (a run of our own pages).
        unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                (start * PAGE_SIZE) as libc::off_t,
                (pages * PAGE_SIZE) as libc::off_t,
            );
        }
    }

    /// A full file that has no run long enough: the kept runs become holes, joined with the
    /// holes beside them, and the fit is looked for again among them all.
    fn punch_kept(&self, a: &mut Allocator, pages: u64) -> Option<u64> {
        for (start, n) in std::mem::take(&mut a.kept) {
            self.punch(start, n);
            insert_run(&mut a.free, start, n);
        }
        a.kept_pages = 0;
        take_fit(&mut a.free, pages, usize::MAX)
    }

    /// Zeroes kept pages [offset, +len) for their next user, through our mapping: once we
    /// have touched a page our mapping keeps it (until it is punched), so a page kept and
    /// reused over and over costs a memset and no fault. (A pwritev of zeros costs a page
    /// lock, lookup and unlock per page: as much as the fresh page it saves.)
    fn zero_kept(&self, offset: u64, len: u64) -> io::Result<()> {
        self.zero(offset, len as usize)
    }

    /// Reference count of the page at `offset` (0 if free).
    pub fn ref_count(&self, offset: u64) -> u32 {
        let a = self.alloc.lock().unwrap();
        a.refs.get((offset / PAGE_SIZE) as usize).copied().unwrap_or(0)
    }

    pub fn allocated_bytes(&self) -> u64 {
        self.alloc.lock().unwrap().allocated_pages * PAGE_SIZE
    }

    /// Bound the bytes allocated at once (rounded down to pages; u64::MAX for no bound).
    /// Pages already allocated stay: a limit below the current total only refuses what
    /// comes next, as lowering memory.max does when nothing can be reclaimed.
    pub fn set_limit(&self, bytes: u64) {
        self.alloc.lock().unwrap().limit_pages = if bytes == u64::MAX { u64::MAX } else { bytes / PAGE_SIZE };
    }

    /// The bound set by set_limit, in bytes (u64::MAX for none).
    pub fn limit(&self) -> u64 {
        let l = self.alloc.lock().unwrap().limit_pages;
        if l == u64::MAX { u64::MAX } else { l * PAGE_SIZE }
    }

    fn check(&self, offset: u64, len: usize) -> io::Result<()> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(err(libc::EFAULT)),
        }
    }

    /// Raw pointer to `offset` for platform code that copies in bulk; `len` bytes are in range.
    pub fn ptr(&self, offset: u64, len: usize) -> io::Result<*mut u8> {
        self.check(offset, len)?;
        // SAFETY: offset + len is within the mapping (checked above).
        Ok(unsafe { self.base.add(offset as usize) })
    }

    pub fn read(&self, offset: u64, dst: &mut [u8]) -> io::Result<()> {
        let p = self.ptr(offset, dst.len())?;
        // SAFETY: p..p+len is inside our mapping; dst is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(p, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    pub fn write(&self, offset: u64, src: &[u8]) -> io::Result<()> {
        let p = self.ptr(offset, src.len())?;
        // A page or more that is not all in memory yet goes in by pwrite: shmem then fills
        // pages it has not yet got without zeroing them first or faulting them into our
        // mapping, twice as fast on fresh pages (a file being written) as a copy through the
        // mapping. Pages already there (a pipe's ring, an application's buffer) are copied
        // through the mapping: pwrite costs about six times the copy there. What pwrite
        // leaves undone (an error, a short count) is copied through the mapping as before.
        let fresh = self.pwrite_ok && src.len() >= PAGE_SIZE as usize && !self.all_resident(offset, src.len());
        let done = if fresh { self.pwrite_some(offset, src) } else { 0 };
        let (p, src) = (p.wrapping_add(done), &src[done..]);
        // SAFETY: p..p+len is inside our mapping; src is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) };
        Ok(())
    }

    /// Copies within the file, from src to dst, as write() copies a buffer: a page or more by
    /// pwrite from our own mapping of src, so fresh destination pages are neither zeroed nor
    /// faulted in first.
    pub fn write_within(&self, src: u64, dst: u64, len: usize) -> io::Result<()> {
        let s = self.ptr(src, len)?;
        self.ptr(dst, len)?;
        // SAFETY: s..s+len is inside our mapping (checked above) and stays mapped while we
        // hold &self; the slice is only read, by pwrite or the copy in write().
        let src = unsafe { std::slice::from_raw_parts(s as *const u8, len) };
        self.write(dst, src)
    }

    /// Whether every page of [offset, +len) is in the file's page cache (mincore over our
    /// mapping: shmem answers for the file's pages, mapped here or not). False if unsure.
    fn all_resident(&self, offset: u64, len: usize) -> bool {
        let start = offset & !(PAGE_SIZE - 1);
        let end = (offset + len as u64 + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        let pages = ((end - start) / PAGE_SIZE) as usize;
        let mut small = [0u8; 256];
        let mut big = Vec::new();
        let vec: &mut [u8] = if pages <= small.len() {
            &mut small[..pages]
        } else {
            big.resize(pages, 0);
            &mut big
        };
        // SAFETY: [start, end) lies inside our mapping (the caller checked offset..offset+len
        // with ptr(), and the mapping is whole pages); vec has one byte per page.
        let r = unsafe { libc::mincore(self.base.add(start as usize) as *mut libc::c_void, (end - start) as usize, vec.as_mut_ptr()) };
        r == 0 && vec.iter().all(|b| b & 1 != 0)
    }

    /// One byte per page of [offset, +len): 1 where the file has the page in memory (its
    /// page cache, whoever touched it), 0 for a hole. offset and len are page aligned.
    pub fn residency(&self, offset: u64, len: u64, out: &mut [u8]) -> io::Result<()> {
        if offset % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 || out.len() as u64 != len / PAGE_SIZE {
            return Err(err(libc::EINVAL));
        }
        if len == 0 {
            return Ok(());
        }
        self.ptr(offset, len as usize)?;
        // SAFETY: [offset, +len) lies inside our mapping (checked by ptr()), whole pages; out
        // has one byte per page.
        let r = unsafe { libc::mincore(self.base.add(offset as usize) as *mut libc::c_void, len as usize, out.as_mut_ptr()) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        for b in out.iter_mut() {
            *b &= 1;
        }
        Ok(())
    }

    /// Gives [offset, +len) its pages now, as MAP_POPULATE and mlock make shared anonymous
    /// memory present: faulted in through our mapping (shmem allocates them zeroed and up to
    /// date; fallocate's pages would not count as in memory for mincore until written).
    pub fn populate(&self, offset: u64, len: u64) -> io::Result<()> {
        let p = self.ptr(offset, len as usize)?;
        // SAFETY: [p, +len) is inside our mapping of the memfd (checked by ptr()).
        if unsafe { libc::madvise(p as *mut libc::c_void, len as usize, MADV_POPULATE_WRITE) } == 0 {
            return Ok(());
        }
        // Kernels before 5.14: a read of each page faults it in.
        let mut at = 0;
        while at < len as usize {
            // SAFETY: p + at is inside the checked range; a volatile read has no other effect.
            unsafe { std::ptr::read_volatile(p.add(at)) };
            at += PAGE_SIZE as usize;
        }
        Ok(())
    }

    /// Bytes of src pwrite(2) put at offset, stopping at the first error.
    fn pwrite_some(&self, offset: u64, src: &[u8]) -> usize {
        let mut done = 0usize;
        while done < src.len() {
            // SAFETY: src[done..] is a live slice; the file range is inside the memfd's size
            // (checked by the caller through ptr()).
            let n = unsafe {
                libc::pwrite(self.fd.as_raw_fd(), src[done..].as_ptr() as *const libc::c_void, src.len() - done, (offset + done as u64) as libc::off_t)
            };
            if n <= 0 {
                if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
            done += n as usize;
        }
        done
    }

    pub fn zero(&self, offset: u64, len: usize) -> io::Result<()> {
        let p = self.ptr(offset, len)?;
        // SAFETY: p..p+len is inside our mapping.
        unsafe { std::ptr::write_bytes(p, 0, len) };
        Ok(())
    }

    /// Copies within the file (copy-on-write breaks).
    pub fn copy(&self, src: u64, dst: u64, len: usize) -> io::Result<()> {
        let s = self.ptr(src, len)?;
        let d = self.ptr(dst, len)?;
        // SAFETY: both ranges are inside the mapping; `copy` tolerates overlap.
        unsafe { std::ptr::copy(s, d, len) };
        Ok(())
    }

    /// pread(2) from a host fd straight into the file; returns bytes read (0 at EOF).
    pub fn read_from_fd(&self, fd: RawFd, file_offset: u64, offset: u64, len: usize) -> io::Result<usize> {
        let p = self.ptr(offset, len)?;
        let mut done = 0usize;
        while done < len {
            // SAFETY: the destination range is inside our mapping (checked above).
            let n = unsafe {
                libc::pread(fd, p.add(done) as *mut libc::c_void, len - done, (file_offset + done as u64) as libc::off_t)
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                break;
            }
            done += n as usize;
        }
        Ok(done)
    }
}

/// Takes `pages` from the first run of `runs` (among the first `scan`) long enough for them;
/// returns the first page taken.
fn take_fit(runs: &mut BTreeMap<u64, u64>, pages: u64, scan: usize) -> Option<u64> {
    let (s, len) = runs.iter().take(scan).find(|(_, &len)| len >= pages).map(|(&s, &l)| (s, l))?;
    runs.remove(&s);
    if len > pages {
        runs.insert(s + pages, len - pages);
    }
    Some(s)
}

/// Adds the run [start, +pages) to `runs`, joined with the runs it touches.
fn insert_run(runs: &mut BTreeMap<u64, u64>, start: u64, pages: u64) {
    let (mut s, mut len) = (start, pages);
    if let Some((&ps, &pl)) = runs.range(..s).next_back() {
        if ps + pl == s {
            runs.remove(&ps);
            s = ps;
            len += pl;
        }
    }
    if let Some(nl) = runs.remove(&(start + pages)) {
        len += nl;
    }
    runs.insert(s, len);
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping created in with_size; nothing refers to it any more.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mf() -> MemoryFile {
        MemoryFile::with_size(64 << 20).unwrap()
    }

    #[test]
    fn fresh_allocations_start_with_no_resident_pages() {
        let f = mf();
        let kept = f.allocate(4).unwrap();
        f.write(kept, &[1u8; 4 * PAGE_SIZE as usize]).unwrap();
        f.dec_ref(kept, 4 * PAGE_SIZE).unwrap();
        let off = f.allocate_fresh(4).unwrap();
        assert_ne!(off, kept, "a fresh allocation must not reuse kept (resident) pages");
        let mut v = [9u8; 4];
        f.residency(off, 4 * PAGE_SIZE, &mut v).unwrap();
        assert_eq!(v, [0, 0, 0, 0]);
        f.write(off + PAGE_SIZE, &[7u8; 1]).unwrap();
        f.populate(off + 3 * PAGE_SIZE, PAGE_SIZE).unwrap();
        f.residency(off, 4 * PAGE_SIZE, &mut v).unwrap();
        assert_eq!(v, [0, 1, 0, 1]);
        assert!(f.residency(off + 1, PAGE_SIZE, &mut v[..1]).is_err());
    }

    #[test]
    fn allocate_is_contiguous_and_zeroed() {
        let f = mf();
        let a = f.allocate(4).unwrap();
        let b = f.allocate(2).unwrap();
        assert_eq!(b, a + 4 * PAGE_SIZE);
        let mut buf = [1u8; 16];
        f.read(a + 100, &mut buf).unwrap();
        assert_eq!(buf, [0u8; 16]);
        assert_eq!(f.allocated_bytes(), 6 * PAGE_SIZE);
    }

    #[test]
    fn freed_pages_are_zeroed_and_reused() {
        let f = mf();
        let a = f.allocate(3).unwrap();
        f.write(a, b"hello").unwrap();
        f.dec_ref(a, 3 * PAGE_SIZE).unwrap();
        assert_eq!(f.allocated_bytes(), 0);
        let b = f.allocate(2).unwrap();
        assert_eq!(a, b);
        let mut buf = [9u8; 5];
        f.read(b, &mut buf).unwrap();
        assert_eq!(buf, [0u8; 5]);
    }

    #[test]
    fn refcounts_keep_shared_pages() {
        let f = mf();
        let a = f.allocate(2).unwrap();
        f.inc_ref(a, PAGE_SIZE).unwrap();
        f.dec_ref(a, 2 * PAGE_SIZE).unwrap();
        assert_eq!(f.ref_count(a), 1);
        assert_eq!(f.ref_count(a + PAGE_SIZE), 0);
        assert!(f.dec_ref(a + PAGE_SIZE, PAGE_SIZE).is_err(), "double free must fail");
    }

    /// Writes over pages already in memory take the copy, over holes pwrite; either way the
    /// bytes land, and the pages written are resident afterwards. Spans wider than the
    /// stack's residency vector (over 256 pages) too.
    #[test]
    fn writes_over_resident_and_fresh_pages_land_by_either_path() {
        let f = mf();
        let a = f.allocate(300).unwrap();
        assert!(!f.all_resident(a, 4 * PAGE_SIZE as usize), "fresh pages are holes");
        let data: Vec<u8> = (0..300 * PAGE_SIZE as usize).map(|i| (i * 7 % 251) as u8).collect();
        f.write(a + 1, &data[..3 * PAGE_SIZE as usize]).unwrap(); // fresh: pwrite
        assert!(f.all_resident(a + 1, 3 * PAGE_SIZE as usize));
        f.write(a + 2, &data[5..5 + 2 * PAGE_SIZE as usize]).unwrap(); // resident: the copy
        let mut back = vec![0u8; 2 * PAGE_SIZE as usize];
        f.read(a + 2, &mut back).unwrap();
        assert_eq!(&back[..], &data[5..5 + 2 * PAGE_SIZE as usize]);
        let mut first = [0u8; 1];
        f.read(a + 1, &mut first).unwrap();
        assert_eq!(first[0], data[0]);
        f.write(a, &data).unwrap(); // 300 pages, partly resident
        assert!(f.all_resident(a, data.len()));
        let mut all = vec![0u8; data.len()];
        f.read(a, &mut all).unwrap();
        assert_eq!(all, data);
        f.write(a, &data[1..]).unwrap(); // all resident, wider than 256 pages
        f.read(a, &mut all[..data.len() - 1]).unwrap();
        assert_eq!(&all[..data.len() - 1], &data[1..]);
    }

    #[test]
    fn long_writes_land_whole_over_old_and_fresh_pages() {
        let f = mf();
        let a = f.allocate(8).unwrap();
        // Pages 0-1 touched through the mapping first, the rest fresh; odd offset and length.
        f.write(a, &[5u8; 100]).unwrap();
        let data: Vec<u8> = (0..5 * PAGE_SIZE as usize + 123).map(|i| (i * 7 % 251) as u8).collect();
        f.write(a + 17, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        f.read(a + 17, &mut back).unwrap();
        assert_eq!(back, data);
        let mut head = [0u8; 17];
        f.read(a, &mut head).unwrap();
        assert_eq!(head, [5u8; 17]);
        let mut tail = [9u8; 64];
        f.read(a + 17 + data.len() as u64, &mut tail).unwrap();
        assert_eq!(tail, [0u8; 64]);
        assert!(f.write(f.size() - 10, &data).is_err(), "past the file's end is refused");
    }

    #[test]
    fn a_full_file_still_finds_a_fit_past_the_scan_bound() {
        let f = MemoryFile::with_size((2 * MAX_FIT_SCAN as u64 + 8) * PAGE_SIZE).unwrap();
        // 2*MAX_FIT_SCAN single-page holes, then a 4-page hole at the end: the file is full.
        let total = 2 * MAX_FIT_SCAN as u64 + 8;
        let base = f.allocate(total).unwrap();
        for p in (0..2 * MAX_FIT_SCAN as u64).step_by(2) {
            f.dec_ref(base + p * PAGE_SIZE, PAGE_SIZE).unwrap();
        }
        let last = base + (total - 4) * PAGE_SIZE;
        f.dec_ref(last, 4 * PAGE_SIZE).unwrap();
        assert_eq!(f.allocate(4).unwrap(), last);
        assert_eq!(f.allocate(2).unwrap_err().raw_os_error(), Some(libc::ENOMEM));
    }

    /// Pages freed go to the kept pool up to its bound and are holes past it; whatever a
    /// previous user wrote is gone when they are handed out again.
    #[test]
    fn kept_pages_are_bounded_and_zeroed_when_reused() {
        for pwrite_ok in [true, false] {
            let mut f = MemoryFile::with_size(KEEP_MAX * 2).unwrap();
            f.pwrite_ok = pwrite_ok; // write() takes pwrite for fresh pages or not: either way
            let keep = KEEP_MAX / PAGE_SIZE;
            let a = f.allocate(keep + 16).unwrap();
            let secret: Vec<u8> = (0..(keep + 16) * PAGE_SIZE).map(|i| (i % 251) as u8 | 1).collect();
            f.write(a, &secret).unwrap();
            f.dec_ref(a, (keep - 16) * PAGE_SIZE).unwrap();
            f.dec_ref(a + (keep - 16) * PAGE_SIZE, 32 * PAGE_SIZE).unwrap(); // past the bound: punched
            assert!(f.all_resident(a, ((keep - 16) * PAGE_SIZE) as usize), "kept");
            assert!(!f.all_resident(a + (keep - 16) * PAGE_SIZE, PAGE_SIZE as usize), "punched");
            let b = f.allocate(keep / 2 + 3).unwrap();
            assert_eq!(b, a);
            let mut back = vec![1u8; ((keep / 2 + 3) * PAGE_SIZE) as usize];
            f.read(b, &mut back).unwrap();
            assert!(back.iter().all(|&x| x == 0), "pwrite_ok {pwrite_ok}");
            assert_eq!(f.allocated_bytes(), (keep / 2 + 3) * PAGE_SIZE);
        }
    }

    /// Random allocations and frees from a fixed seed, every page written all over while
    /// held: each allocation reads back zero, kept run or hole or fresh.
    #[test]
    fn every_allocation_is_zero_whatever_was_freed_before() {
        let f = MemoryFile::with_size(1 << 30).unwrap();
        let mut held: Vec<(u64, u64)> = Vec::new();
        let mut x: u32 = 2024;
        let mut rnd = |n: u32| -> u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        };
        let junk = vec![0xa5u8; 4096 * 600];
        for step in 0..400 {
            if held.is_empty() || rnd(3) != 0 {
                let pages = 1 + u64::from(rnd(600));
                let off = f.allocate(pages).unwrap();
                let mut back = vec![1u8; (pages * PAGE_SIZE) as usize];
                f.read(off, &mut back).unwrap();
                assert!(back.iter().all(|&b| b == 0), "step {step}: {pages} pages at {off:#x}");
                f.write(off, &junk[..back.len()]).unwrap();
                held.push((off, pages));
            } else {
                let (off, pages) = held.swap_remove(rnd(held.len() as u32) as usize);
                f.dec_ref(off, pages * PAGE_SIZE).unwrap();
            }
        }
    }

    #[test]
    fn a_full_file_punches_its_kept_pages_to_make_a_fit() {
        let f = MemoryFile::with_size(8 * PAGE_SIZE).unwrap();
        let a = f.allocate(8).unwrap();
        f.dec_ref(a + PAGE_SIZE, PAGE_SIZE).unwrap(); // kept
        f.dec_ref(a + 2 * PAGE_SIZE, PAGE_SIZE).unwrap(); // kept, joined
        assert_eq!(f.allocate(3).unwrap_err().raw_os_error(), Some(libc::ENOMEM));
        f.dec_ref(a + 3 * PAGE_SIZE, PAGE_SIZE).unwrap();
        assert_eq!(f.allocate(3).unwrap(), a + PAGE_SIZE);
    }

    #[test]
    fn free_runs_coalesce() {
        let f = mf();
        let a = f.allocate(1).unwrap();
        let b = f.allocate(1).unwrap();
        let c = f.allocate(1).unwrap();
        let _guard = f.allocate(1).unwrap();
        f.dec_ref(a, PAGE_SIZE).unwrap();
        f.dec_ref(c, PAGE_SIZE).unwrap();
        f.dec_ref(b, PAGE_SIZE).unwrap();
        assert_eq!(f.allocate(3).unwrap(), a);
    }

    #[test]
    fn limit_refuses_allocation_past_it() {
        let f = mf();
        assert_eq!(f.limit(), u64::MAX);
        f.set_limit(4 * PAGE_SIZE + 100);
        assert_eq!(f.limit(), 4 * PAGE_SIZE);
        let a = f.allocate(3).unwrap();
        assert_eq!(f.allocate(2).unwrap_err().raw_os_error(), Some(libc::ENOMEM));
        assert_eq!(f.allocated_bytes(), 3 * PAGE_SIZE, "a refused allocation charges nothing");
        let b = f.allocate(1).unwrap();
        assert_eq!(f.allocate(1).unwrap_err().raw_os_error(), Some(libc::ENOMEM));
        // Shared pages are charged once, however many references they have.
        f.inc_ref(b, PAGE_SIZE).unwrap();
        assert_eq!(f.allocated_bytes(), 4 * PAGE_SIZE);
        f.dec_ref(a, 3 * PAGE_SIZE).unwrap();
        f.allocate(3).unwrap();
        f.set_limit(u64::MAX);
        f.allocate(8).unwrap();
    }

    #[test]
    fn limit_below_usage_keeps_pages() {
        let f = mf();
        let a = f.allocate(4).unwrap();
        f.set_limit(2 * PAGE_SIZE);
        assert!(f.allocate(1).is_err());
        f.dec_ref(a, PAGE_SIZE * 3).unwrap();
        f.allocate(1).unwrap();
        assert!(f.allocate(1).is_err());
    }

    #[test]
    fn bounds_are_checked() {
        let f = mf();
        let mut buf = [0u8; 8];
        assert!(f.read(f.size() - 4, &mut buf).is_err());
        assert!(f.read(u64::MAX - 2, &mut buf).is_err());
        assert!(f.allocate(0).is_err());
        assert!(f.allocate(1 << 40).is_err());
        assert!(f.inc_ref(3, PAGE_SIZE).is_err());
    }
}
