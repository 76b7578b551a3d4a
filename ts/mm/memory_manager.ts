// MemoryManager: one application address space (Linux mm_struct, gVisor mm.MemoryManager).
//
// Owns: the VMAs (vma.ts, vma_set.ts), which memory-file pages are mapped where (pmas.ts),
// the layout (brk, mmap base, stack, argv/envp ranges, auxv), page faults and copying to and
// from application memory (copy.ts). mremap, madvise and fork live in their own files.
// Must not touch: files (contents arrive only through MappingBacking), tasks and signals
// (a fault it cannot satisfy is reported to the caller, who delivers SIGSEGV), syscall
// argument decoding (syscalls/linux/sys_mm.ts).

import type { NativeAddressSpace, NativeMemoryFile } from '../native/addon';
import { ACCESS_UNKNOWN, errnoOfNative } from '../native/addon';
import {
  MAP_32BIT, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE,
  MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, MAP_VALIDATE_MASK, PROT_GROWSDOWN,
  PROT_GROWSUP, PROT_NONE, PROT_READ, PROT_RWX, PROT_SEM, PROT_WRITE,
} from '../abi/linux/mm';
import { EACCES, EEXIST, EINVAL, ENODEV, ENOMEM, ENOSPC, ENOTSUP, EPERM } from '../abi/linux/errno';
import { SyscallError, fail } from '../kernel/syscall_error';
import type { MappingBacking } from './backing';
import type { FileRmap } from './file_rmap';
import { UserMemory } from './copy';
import {
  DEFAULT_STACK_LIMIT, FAULT_WINDOW, MAP_32BIT_END, MAP_32BIT_START, PAGE_SIZE, STACK_GUARD_GAP,
  alignDown, defaultLayout, isPageAligned, pageDown, pageUp,
} from './layout';
import { Pmas } from './pmas';
import { Vma, effectiveProt, protPermits } from './vma';
import { allocateShrinking } from './page_cache';
import { RELEASED_SPACE } from './released_space';
import type { ExeFile } from './exe_file';
import { VmaSet } from './vma_set';
import { maxMapCount } from './map_count';
import { prepareAnonVma } from './anon_vma';
import type { MemPolicy } from './mempolicy';
import { mremap } from './mremap';
import { madvise } from './madvise';
import { forkMappings } from './fork';
import { VM_LOCKED, defaultLockFlags } from './mlock';
import { accountable, enoughMemory, isDataMapping, mayExpandVm, type VmLimits } from './accounting';
import { faultForIo } from './io_fault';

export type { MappingBacking } from './backing';

export class MemoryManager extends UserMemory {
  readonly vmas = new VmaSet();
  readonly pmas: Pmas;

  // Layout, set by the loader (and read by /proc).
  brkStart = 0;
  brkEnd = 0;
  /** Top of the mmap area: mmap searches top-down below it. */
  mmapBase: number;
  stackTop: number;
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  auxv: bigint[] = [];
  exePath = '';
  /** RLIMIT_STACK: how far a MAP_GROWSDOWN mapping may grow. */
  stackLimit = DEFAULT_STACK_LIMIT;
  /** RLIMIT_AS and RLIMIT_DATA of the task making the current call (accounting.ts). */
  vmLimits: VmLimits = { as: Infinity, data: Infinity };

  /**
   * Set when handleFault failed for want of memory (the memory limit). Linux's memory cgroup
   * then OOM-kills rather than sending SIGSEGV: whoever handles the fault (the task run loop,
   * the syscall dispatcher after a copy) checks it and calls Kernel.oomKill, which clears it.
   */
  oomFault = false;
  /** Set when handleFault refused a page wholly past the end of the mapped file: the
   *  application gets SIGBUS (BUS_ADRERR) rather than SIGSEGV. */
  busFault = false;

  /** A page a task of this address space needed outside a fault (a tmpfs write) was refused. */
  outOfMemory(): void { this.oomFault = true; }

  private released = false;
  /** The program this address space runs (mm->exe_file): writes to it are ETXTBSY. */
  private exe: ExeFile | null = null;

  /** Torn down (its last user exited or exec'd): /proc/<pid>/mem then reads nothing. */
  get isReleased(): boolean { return this.released; }

  constructor(readonly mf: NativeMemoryFile, as: NativeAddressSpace, minAddr: number, maxAddr: number) {
    super(as, minAddr, maxAddr);
    this.pmas = new Pmas(mf, as);
    const layout = defaultLayout(minAddr, maxAddr);
    this.mmapBase = layout.mmapBase;
    this.stackTop = layout.stackTop;
  }

  get addressSpace(): NativeAddressSpace { return this.as; }

  /**
   * mmap(2). `backing` null means anonymous memory. `maxProt` is what the file's open mode
   * allows for a shared mapping (mprotect may never exceed it). Returns the address.
   */
  mmap(addr: number, length: number, prot: number, flags: number, backing: MappingBacking | null,
    offset: number, maxProt = PROT_RWX): number {
    const type = flags & MAP_TYPE;
    // do_mmap: only a file mapping may be MAP_SHARED_VALIDATE (then unknown flags are
    // EOPNOTSUPP); anonymous memory is MAP_SHARED or MAP_PRIVATE.
    if (backing === null && type !== MAP_SHARED && type !== MAP_PRIVATE) fail(EINVAL);
    if (type === MAP_SHARED_VALIDATE && (flags & ~MAP_VALIDATE_MASK) !== 0) fail(ENOTSUP);
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(EINVAL);
    if (length === 0 || !isPageAligned(offset) || offset < 0) fail(EINVAL);
    if (!Number.isSafeInteger(length) || length > this.maxAddr) fail(ENOMEM);
    const len = pageUp(length);
    prot &= PROT_RWX;
    let shared = type !== MAP_PRIVATE;
    // Shared anonymous memory comes with its shmem file (fsimpl/tmpfs/shmem_zero.ts).
    if (shared && backing === null) throw new Error('a shared mapping without its file');
    if (shared && backing !== null && backing.sharedPages === undefined) {
      // No page cache to share: a read-only shared mapping is served as a snapshot.
      if ((prot & PROT_WRITE) !== 0) fail(ENODEV);
      shared = false;
      maxProt &= ~PROT_WRITE;
    }
    // A private mapping may always be made writable; a shared one of /dev/zero keeps what the
    // open mode allowed (do_mmap clears VM_MAYWRITE before shmem_zero_setup).
    if (type === MAP_PRIVATE) maxProt = PROT_RWX;

    const start = this.placeMapping(addr, len, flags);
    // do_mmap: past the limit already (a MAP_FIXED hole in a VMA is munmap's to refuse).
    if (this.vmas.count > maxMapCount(this.mf)) fail(ENOMEM);
    // mmap_region: what MAP_FIXED replaces does not count as growth.
    if (!this.mayExpand(isDataMapping(prot, shared, (flags & MAP_GROWSDOWN) !== 0), len - this.mappedBytes(start, start + len))) {
      fail(ENOMEM);
    }
    const noReserve = (flags & MAP_NORESERVE) !== 0;
    const anonymous = backing === null || backing.sharedAnonymous === true;
    if (accountable(prot, shared, anonymous, noReserve) && !enoughMemory(len)) fail(ENOMEM);
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) this.unmapRange(start, start + len);
    const vma = new Vma(start, start + len, prot, maxProt, shared, (flags & MAP_GROWSDOWN) !== 0, backing,
      backing !== null ? offset : start);
    vma.locked = defaultLockFlags(this) | ((flags & MAP_LOCKED) !== 0 ? VM_LOCKED : 0);
    vma.sharedSnapshot = !shared && type !== MAP_PRIVATE;
    vma.noReserve = noReserve;
    this.vmas.insert(vma);
    if (backing?.rmap !== undefined) this.joinRmap(backing.rmap);
    const populate = vma.locked === VM_LOCKED || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE;
    if (populate) {
      // Best effort, as in Linux: pages that cannot be had now fault (or fail) later.
      this.prepareWrite(vma);
      try {
        const end = Math.min(start + len, this.fileEnd(vma));
        if (end > start) this.pmas.populateFresh(vma, start, end);
      } catch (e) {
        if (!(e instanceof SyscallError || hasErrnoCode(e))) throw e;
      }
    }
    this.vmas.mergeAround(start, start + len);
    return start;
  }

  /** may_expand_vm for `bytes` more of a data mapping or not. */
  mayExpand(data: boolean, bytes: number): boolean {
    return bytes <= 0 || mayExpandVm(this.vmas.all(), this.vmLimits, data, bytes);
  }

  /** Bytes of [start, end) that some VMA covers (count_vma_pages_range). */
  mappedBytes(start: number, end: number): number {
    if (this.vmLimits.as === Infinity && this.vmLimits.data === Infinity) return 0;
    let n = 0;
    for (const v of this.vmas.overlapping(start, end)) n += Math.min(end, v.end) - Math.max(start, v.start);
    return n;
  }

  /** Where a new mapping of len bytes goes, per the flags and the hint addr (throws). */
  private placeMapping(addr: number, len: number, flags: number): number {
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
      if (!isPageAligned(addr)) fail(EINVAL);
      if (!(addr + len <= this.maxAddr)) fail(ENOMEM);
      if (addr < this.minAddr) fail(EPERM);
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !this.vmas.isFree(addr, addr + len)) fail(EEXIST);
      return addr;
    }
    const start = this.findUnmapped(addr, len, (flags & MAP_32BIT) !== 0);
    if (start < 0) fail(ENOMEM);
    return start;
  }

  /**
   * A free range of len bytes: the hint if it fits, else the highest gap below mmapBase
   * (MAP_32BIT: the lowest in [1 GiB, 2 GiB)), else anywhere. -1 if none.
   */
  findUnmapped(hint: number, len: number, low32 = false): number {
    const limit = low32 ? MAP_32BIT_END : this.maxAddr;
    if (hint !== 0) {
      const h = pageUp(hint);
      if (Number.isSafeInteger(h) && h >= this.minAddr && h + len <= limit && this.vmas.fits(h, h + len)) return h;
    }
    if (low32) return this.vmas.findGapBottomUp(len, Math.max(this.minAddr, MAP_32BIT_START), MAP_32BIT_END);
    const start = this.vmas.findGapTopDown(len, this.minAddr, this.mmapBase);
    return start >= 0 ? start : this.vmas.findGapTopDown(len, this.minAddr, this.maxAddr);
  }

  munmap(addr: number, length: number): void {
    if (!isPageAligned(addr) || length === 0 || !Number.isSafeInteger(length) ||
      addr > this.maxAddr || length > this.maxAddr - addr) {
      fail(EINVAL);
    }
    this.unmapRange(addr, addr + pageUp(length));
  }

  /** Remove every VMA piece in [start, end) and what is mapped there. */
  unmapRange(start: number, end: number): void {
    // do_vmi_align_munmap: a hole inside one VMA makes one more; at the limit, ENOMEM.
    const vma = this.vmas.find(start);
    if (vma !== undefined && vma.start < start && end < vma.end && this.vmas.count >= maxMapCount(this.mf)) fail(ENOMEM);
    const removed = this.vmas.remove(start, end);
    if (removed.length === 0) return;
    const first = removed[0].start;
    this.as.unmap(first, removed[removed.length - 1].end - first);
    this.vmas.release(removed);
  }

  mprotect(addr: number, length: number, prot: number): void {
    // do_mprotect_pkey's order: both grow flags and alignment, a zero length (done, the
    // protection not even checked), a range past 2^64 (a size_t wrap: ENOMEM), the protection.
    const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows === (PROT_GROWSDOWN | PROT_GROWSUP) || !isPageAligned(addr)) fail(EINVAL);
    if (length === 0) return;
    const end = addr + pageUp(length);
    if (end >= 2 ** 64) fail(ENOMEM);
    prot &= ~grows;
    if ((prot & ~(PROT_RWX | PROT_SEM)) !== 0) fail(EINVAL);
    if (!(end <= this.maxAddr) || !Number.isSafeInteger(end)) fail(ENOMEM);
    prot &= PROT_RWX;
    let start = addr;
    if ((grows & PROT_GROWSDOWN) !== 0) {
      const vma = this.vmas.find(addr);
      if (vma === undefined) fail(ENOMEM);
      if (!vma.growsDown) fail(EINVAL);
      start = vma.start;
    } else if ((grows & PROT_GROWSUP) !== 0) {
      fail(EINVAL); // x86 has no grows-up mappings
    }
    if (!this.vmas.isCovered(start, end)) fail(ENOMEM);
    for (const v of this.vmas.overlapping(start, end)) if ((prot & ~v.maxProt) !== 0) fail(EACCES);
    // mprotect_fixup: making a piece count against RLIMIT_DATA needs room for it.
    for (const v of this.vmas.overlapping(start, end)) {
      const n = Math.min(end, v.end) - Math.max(start, v.start);
      if (!this.mayExpand(isDataMapping(prot, v.shared, v.growsDown), n) &&
        this.mayExpand(isDataMapping(v.prot, v.shared, v.growsDown), n)) {
        fail(ENOMEM);
      }
      // mprotect_fixup: a private piece that becomes writable commits its pages now.
      if (!v.shared && (v.prot & PROT_WRITE) === 0 && accountable(prot, false, v.anonymous, v.noReserve) && !enoughMemory(n)) fail(ENOMEM);
    }
    this.vmas.split(start);
    this.vmas.split(end);
    for (const v of this.vmas.overlapping(start, end)) {
      if (v.prot === prot) continue;
      v.prot = prot;
      // Pages already there keep their contents; their host protection follows the VMA.
      this.as.protect(v.start, v.length, this.pmas.hostProt(v));
    }
    this.vmas.mergeAround(start, end);
  }

  /** mbind_range: [start, end) (covered by VMAs) gets `policy`, each piece split off and
   *  merged back where its neighbours now agree. */
  setPolicy(start: number, end: number, policy: MemPolicy | null): void {
    this.vmas.split(start);
    this.vmas.split(end);
    for (const v of this.vmas.overlapping(start, end)) v.policy = policy;
    this.vmas.mergeAround(start, end);
  }

  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number, newAddr: number): number {
    return mremap(this, oldAddr, oldSize, newSize, flags, newAddr);
  }

  madvise(addr: number, length: number, advice: number): void {
    madvise(this, addr, length, advice);
  }

  /** brk(2): returns the new break, or the old one if the request cannot be met. */
  brk(addr: number): number {
    if (!(addr >= this.brkStart) || !Number.isSafeInteger(addr) || addr > this.maxAddr) return this.brkEnd;
    const oldTop = pageUp(this.brkEnd);
    const newTop = pageUp(addr);
    if (newTop > oldTop) {
      // Linux keeps a page between the heap and whatever lies above it.
      if (!this.vmas.fits(oldTop, Math.min(newTop + PAGE_SIZE, this.maxAddr)) ||
        this.vmas.count > maxMapCount(this.mf) || !this.mayExpand(true, newTop - oldTop) || !enoughMemory(newTop - oldTop)) {
        return this.brkEnd;
      }
      this.vmas.insert(new Vma(oldTop, newTop, PROT_READ | PROT_WRITE, PROT_RWX, false, false, null, oldTop));
      this.vmas.mergeAround(oldTop, newTop);
    } else if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    }
    this.brkEnd = addr;
    return addr;
  }

  /**
   * A fault at addr with `access` (ACCESS_* bits; ACCESS_UNKNOWN: whatever the VMA allows).
   * Returns true once the access can succeed, false if the application must get SIGSEGV.
   */
  /** A fault at addr whose page a file that may block must fill (MappingBacking.stage): the
   *  range to read first, off the sentry's thread, and the limit to give handleFault so that
   *  its window stays within it (faultAround's window starts no lower than the aligned
   *  FAULT_WINDOW around addr); null for every other fault. */
  slowFault(addr: number): { backing: MappingBacking; fileOffset: number; length: number; limit: number } | null {
    const vma = this.vmas.find(addr);
    const backing = vma?.backing;
    if (!vma || !backing?.stage || vma.prot === PROT_NONE) return null;
    const page = pageDown(addr);
    if (this.pmas.lookup(page) >= 0) return null;
    const lo = Math.max(vma.start, alignDown(addr, FAULT_WINDOW));
    const hi = Math.min(vma.end, page + FAULT_WINDOW);
    return { backing, fileOffset: vma.offsetAt(lo), length: hi - lo, limit: hi };
  }

  handleFault(addr: number, access: number, spuriousOk = false, limit = Infinity): boolean {
    this.busFault = false;
    if (!(addr >= this.minAddr && addr < this.maxAddr)) return false;
    const found = this.vmas.find(addr);
    const vma = found ?? this.stackToGrow(addr);
    if (vma === undefined || vma.prot === PROT_NONE) return false;
    const unknown = (access & ACCESS_UNKNOWN) !== 0;
    const need = unknown ? vma.prot : access & PROT_RWX;
    if (!protPermits(vma.prot, need)) return false;
    if (found === undefined) growDown(vma, pageDown(addr));
    if ((need & PROT_WRITE) !== 0) this.prepareWrite(vma);
    const page = pageDown(addr);
    const off = this.pmas.lookup(page);
    try {
      if (off < 0) {
        const eof = this.fileEnd(vma);
        if (page >= eof) {
          this.busFault = true;
          return false;
        }
        this.pmas.faultAround(vma, addr, Math.min(eof, limit));
        // A write into a private file mapping: the window maps the page cache's pages
        // read-only, and the one written gets its own copy now (Linux's do_cow_fault), or a
        // copy into it (read(2) into the mapping) would meet it read-only and give EFAULT.
        // Only for a known write: an access the platform cannot tell may be a read.
        if (!unknown && (need & PROT_WRITE) !== 0 && !vma.shared) {
          const got = this.pmas.lookup(page);
          if (got >= 0 && (this.pmas.lastProt & PROT_WRITE) === 0) this.pmas.breakCow(vma, page, got);
        }
        return true;
      }
      const cur = this.pmas.lastProt;
      // Already mapped well enough: a fault another thread served meanwhile (spurious), or,
      // when the platform cannot tell the access, maybe a real violation. The caller says
      // whether this one may be taken for spurious (the first at this place): a real
      // violation faults again at once and must not loop forever.
      if (protPermits(cur, need)) return !unknown || spuriousOk;
      if (!vma.shared && (need & PROT_WRITE) !== 0) {
        // A copy-on-write page nobody else maps any more (the fork relative or the page
        // cache let it go) is ours to write as it is, and so are its like around it.
        if (!this.pmas.reuse(vma, page)) this.pmas.breakCow(vma, page, off);
      } else {
        this.as.protect(page, PAGE_SIZE, this.pmas.hostProt(vma));
      }
      return true;
    } catch (e) {
      // No memory within the sandbox's limit: the caller OOM-kills (oomFault says so). A
      // backing that cannot be read: the application faults. Either way we stay up.
      if (isOutOfMemory(e)) this.oomFault = true;
      // A tmpfs mount full: shmem_fault's ENOSPC is SIGBUS.
      if (e instanceof SyscallError && e.errno === ENOSPC) this.busFault = true;
      if (e instanceof SyscallError || hasErrnoCode(e)) return false;
      throw e;
    }
  }

  /** A private writable VMA about to get anonymous pages: it needs its anon_vma. */
  private prepareWrite(vma: Vma): void {
    if (!vma.shared && (vma.prot & PROT_WRITE) !== 0) prepareAnonVma(this.vmas, vma);
  }

  override faultForIo(addr: number, end: number, access: number): boolean {
    return faultForIo(this, addr, end, access);
  }

  /** The address where vma's file ends (rounded up to a page); Infinity if it cannot end. */
  fileEnd(vma: Vma): number {
    const size = vma.backing?.size?.();
    if (size === undefined) return Infinity;
    return vma.start + Math.max(0, pageUp(size) - vma.offset);
  }

  /** The MAP_GROWSDOWN mapping just above addr, if it may grow down over addr. */
  private stackToGrow(addr: number): Vma | undefined {
    const i = this.vmas.lowerBound(addr);
    const vma = this.vmas.at(i);
    if (vma === undefined || !vma.growsDown) return undefined;
    const newStart = pageDown(addr);
    if (vma.end - newStart > this.stackLimit || newStart < this.minAddr) return undefined;
    if (!this.mayExpand(isDataMapping(vma.prot, vma.shared, true), vma.start - newStart)) return undefined;
    const prev = this.vmas.at(i - 1);
    if (prev !== undefined && prev.end > newStart - STACK_GUARD_GAP) return undefined;
    if (vma.backing !== null && vma.offset < vma.start - newStart) return undefined;
    return vma;
  }

  /** mincore(2): one byte per page, 1 if the page is present. ENOMEM over unmapped holes. */
  mincore(addr: number, length: number): Uint8Array {
    if (!isPageAligned(addr)) fail(EINVAL);
    const len = pageUp(length);
    if (!Number.isSafeInteger(len) || !(addr + len <= this.maxAddr)) fail(ENOMEM);
    if (!this.vmas.isCovered(addr, addr + len)) fail(ENOMEM);
    const vec = new Uint8Array(len / PAGE_SIZE);
    for (const v of this.vmas.overlapping(addr, addr + len)) {
      const lo = Math.max(addr, v.start), hi = Math.min(addr + len, v.end);
      const out = vec.subarray((lo - addr) / PAGE_SIZE, (hi - addr) / PAGE_SIZE);
      const cached = v.backing?.cachedPages;
      // A shared mapping's pages are the file's: whether the file has them says it all (a
      // page mapped ahead of use that nobody touched is not there for shared anonymous memory).
      if (!v.shared || cached === undefined) {
        for (let i = 0; i < out.length; i++) out[i] = this.pmas.lookup(lo + i * PAGE_SIZE) >= 0 ? 1 : 0;
      }
      // A file page not mapped here may still be in the file's page cache (mincore_page).
      cached?.(v.offsetAt(lo), out);
    }
    return vec;
  }

  /** Bytes of [addr, +length) resident: pages touched and not since unmapped (pmas). */
  residentBytes(addr: number, length: number): number {
    return this.as.residentBytes(addr, length);
  }

  /** Resident bytes now and the most at once since this image began (hiwater_rss). */
  residentTotal(): { now: number; peak: number } {
    const [now, peak] = this.as.residentTotal();
    return { now, peak };
  }

  /** Whether [addr, +length) is entirely mapped (msync, mlock: ENOMEM otherwise). */
  isMapped(addr: number, length: number): boolean {
    const end = addr + pageUp(length);
    return Number.isSafeInteger(end) && end <= this.maxAddr && this.vmas.isCovered(addr, end);
  }

  /**
   * Fault in the accessible pages of [start, end) (mlock, MADV_POPULATE_*). False if some
   * page could not be had (no memory, a file that cannot be read). copy: private file pages
   * are this space's own copies at once, not the page cache's (exec's prefault, Pmas.fill).
   * write: faulted as for a write where the VMA is writable (__mm_populate's FOLL_WRITE), not
   * as for a read (MADV_POPULATE_READ, a copy from application memory).
   */
  populateRange(start: number, end: number, copy = false, write = true): boolean {
    try {
      for (const v of this.vmas.overlapping(start, end)) {
        if (write) this.prepareWrite(v);
        const hi = Math.min(end, v.end, this.fileEnd(v));
        if (v.prot !== PROT_NONE && hi > Math.max(start, v.start)) this.pmas.populate(v, Math.max(start, v.start), hi, copy);
      }
      return true;
    } catch (e) {
      if (e instanceof SyscallError || hasErrnoCode(e)) return false;
      throw e;
    }
  }

  /**
   * fork(2): a copy of this address space in `as` (fork.ts says how pages are shared).
   */
  fork(as: NativeAddressSpace): MemoryManager {
    const child = new MemoryManager(this.mf, as, this.minAddr, this.maxAddr);
    child.brkStart = this.brkStart;
    child.brkEnd = this.brkEnd;
    child.mmapBase = this.mmapBase;
    child.stackTop = this.stackTop;
    child.argStart = this.argStart;
    child.argEnd = this.argEnd;
    child.envStart = this.envStart;
    child.envEnd = this.envEnd;
    child.auxv = [...this.auxv];
    child.exePath = this.exePath;
    child.stackLimit = this.stackLimit;
    child.vmLimits = { ...this.vmLimits };
    forkMappings(this, child);
    child.setExeFile(this.exe);
    return child;
  }

  /** Files this address space has mapped (their reverse maps), to leave at release. */
  private readonly rmaps = new Set<FileRmap>();

  /** This address space maps a file that may shrink under it. */
  joinRmap(rmap: FileRmap): void {
    this.rmaps.add(rmap);
    rmap.add(this);
  }

  /** The file of `rmap` shrank to `size`: unmap the pages of every VMA of it that lie wholly
   *  past the end (shared and private copies alike), so that touching them faults: SIGBUS. */
  unmapFileFrom(rmap: FileRmap, size: number): void {
    const end = pageUp(size);
    for (const v of this.vmas.all()) {
      if (v.backing?.rmap !== rmap) continue;
      const from = v.start + Math.max(0, end - v.offset);
      if (from < v.end) this.as.unmap(from, v.end - from);
    }
  }

  /** FALLOC_FL_PUNCH_HOLE (unmap_mapping_range without even_cows): the file's pages in
   *  [from, to) leave its shared mappings, which fault them in again as holes. */
  unmapFileRange(rmap: FileRmap, from: number, to: number): void {
    for (const v of this.vmas.all()) {
      if (v.backing?.rmap !== rmap || !v.shared) continue;
      const lo = Math.max(v.start, v.start + (from - v.offset));
      const hi = Math.min(v.end, v.start + (to - v.offset));
      if (lo < hi) this.as.unmap(lo, hi - lo);
    }
  }

  /** set_mm_exe_file: the new program denies writes, the old one no longer does. */
  setExeFile(f: ExeFile | null): void {
    f?.deny();
    this.exe?.allow();
    this.exe = f;
  }

  /** Tear the address space down (exit, execve). Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.releaseVmas();
    this.as.release();
  }

  /**
   * execve keeping the platform's address space (its stub process and thread): this manager
   * is released as by release(), the address space emptied in one call (inside the caller's
   * batch, if open), and a fresh manager over it returned for the new image. Only for an
   * address space no other task uses.
   */
  resetForExec(): MemoryManager {
    if (this.released) throw new Error('resetForExec of a released address space');
    this.releaseVmas();
    this.as.resetForExec();
    const mm = new MemoryManager(this.mf, this.as, this.minAddr, this.maxAddr);
    mm.stackLimit = this.stackLimit;
    // Whoever still holds this manager must not reach the new image through it.
    this.as = RELEASED_SPACE;
    this.pmas.as = RELEASED_SPACE;
    return mm;
  }

  private releaseVmas(): void {
    this.released = true;
    this.setExeFile(null);
    for (const r of this.rmaps) r.remove(this);
    this.rmaps.clear();
    this.vmas.release(this.vmas.remove(0, Number.MAX_SAFE_INTEGER));
  }

  /** Allocate pages for len bytes, turning a host failure into ENOMEM. */
  allocate(len: number): number {
    try {
      return allocateShrinking(this.mf, len / PAGE_SIZE);
    } catch (e) {
      if (hasErrnoCode(e)) throw new SyscallError(ENOMEM);
      throw e;
    }
  }
}

/** Move the start of a growsdown vma down to newStart (checked by stackToGrow). */
function growDown(vma: Vma, newStart: number): void {
  vma.offset -= vma.start - newStart;
  vma.start = newStart;
}

/** The memory file refused a page (the sandbox's memory limit, or the file is full). */
export function isOutOfMemory(e: unknown): boolean {
  return errnoOfNative(e) === 'ENOMEM' || (e instanceof SyscallError && e.errno === ENOMEM);
}

/** An Error from the host: the addon ("ENOMEM: ...") or node:fs (`code` set). */
function hasErrnoCode(e: unknown): boolean {
  return errnoOfNative(e) !== undefined ||
    (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string');
}
