// Vma: one virtual memory area (Linux vm_area_struct, gVisor vma): a page-aligned address
// range with one protection and one source of pages. Which pages are actually present is
// the address space's business (pmas.ts), not the Vma's.

import { PROT_READ, PROT_WRITE, PROT_EXEC } from '../abi/linux/mm';
import type { MappingBacking } from './backing';
import { anonMergeable, type AnonVma } from './anon_vma';
import { mpolEqual, type MemPolicy } from './mempolicy';

export class Vma {
  /** MADV_DONTFORK: the child of fork does not get this range. */
  dontFork = false;
  /** MADV_WIPEONFORK: the child of fork gets this range zero-filled. */
  wipeOnFork = false;
  /**
   * Private pages here may be shared with another address space since a fork, so they are
   * mapped without write permission until a write fault copies them (copy-on-write).
   */
  cow = false;
  /** mlock state (mm/mlock.ts): VM_LOCKED, plus VM_LOCKONFAULT; 0 when not locked. */
  locked = 0;
  /** MAP_SHARED of a file with no page cache to share, served as a private snapshot (mmap in
   *  memory_manager.ts): still shown as shared ('s') in /proc/pid/maps, as the program asked. */
  sharedSnapshot = false;
  /** MADV_DONTDUMP (VM_DONTDUMP): a core dump leaves the range out. */
  dontDump = false;
  /** MAP_NORESERVE (VM_NORESERVE): nothing committed, so never refused as an overcommit. */
  noReserve = false;
  /** The anon_vma of a private VMA once it has an anonymous page (anon_vma.ts), else null. */
  anonVma: AnonVma | null = null;
  /** anonVma was made by fork and chained to the parent's (Linux: a non-singular chain). */
  anonForked = false;
  /** mbind's memory policy for the range; null is the default. */
  policy: MemPolicy | null = null;

  constructor(
    public start: number,
    public end: number,
    public prot: number,
    /** What mprotect may raise prot to (a shared mapping of a read-only file has no write). */
    public maxProt: number,
    public shared: boolean,
    public growsDown: boolean,
    /** The file mapped here, or null for anonymous memory. */
    public backing: MappingBacking | null,
    /** File offset of `start` for a file mapping (shared anonymous memory is one: its shmem
     *  file, fsimpl/tmpfs/shmem_zero.ts); for private anonymous memory the address it was made
     *  at (Linux's vm_pgoff), which a move keeps once it has pages: neighbours merge only where
     *  it runs on. */
    public offset: number,
  ) {}

  get length(): number { return this.end - this.start; }

  get anonymous(): boolean { return this.backing === null; }

  /** A shared mapping that may be made writable (Linux VM_SHARED | VM_MAYWRITE). */
  get mayWriteShared(): boolean { return this.shared && (this.maxProt & PROT_WRITE) !== 0; }

  /** The offset (file or memory-file, see `offset`) that corresponds to addr. */
  offsetAt(addr: number): number { return this.offset + (addr - this.start); }

  /** A copy covering [start, end) of this one, with the offset adjusted to match. */
  slice(start: number, end: number): Vma {
    const v = new Vma(start, end, this.prot, this.maxProt, this.shared, this.growsDown,
      this.backing, this.offsetAt(start));
    v.dontFork = this.dontFork;
    v.wipeOnFork = this.wipeOnFork;
    v.cow = this.cow;
    v.locked = this.locked;
    v.sharedSnapshot = this.sharedSnapshot;
    v.noReserve = this.noReserve;
    v.dontDump = this.dontDump;
    v.anonVma = this.anonVma;
    v.anonForked = this.anonForked;
    v.policy = this.policy;
    return v;
  }

  /** Whether `next`, starting where this ends, can be folded into this one. */
  canMerge(next: Vma): boolean {
    if (this.end !== next.start || !this.sameKind(next, false) || !anonMergeable(this, next)) return false;
    return this.offsetAt(this.end) === next.offset;
  }

  /** Same flags, file and policy as other (Linux: vm_flags, vm_file, mpol_equal); anyProt:
   *  whatever the access protections (anon_vma_compatible). */
  sameKind(other: Vma, anyProt: boolean): boolean {
    return (anyProt || this.prot === other.prot) && this.maxProt === other.maxProt &&
      this.shared === other.shared && this.growsDown === other.growsDown &&
      this.backing === other.backing && this.dontFork === other.dontFork &&
      this.wipeOnFork === other.wipeOnFork && this.locked === other.locked &&
      this.sharedSnapshot === other.sharedSnapshot && this.noReserve === other.noReserve &&
      this.dontDump === other.dontDump && mpolEqual(this.policy, other.policy);
  }
}

/** What prot gives on x86 page tables, where write and exec imply read: map pages with this,
 *  so that the sentry's copies (which test the read bit) see what the application sees. */
export function effectiveProt(prot: number): number {
  return prot !== 0 ? prot | PROT_READ : 0;
}

/** Whether pages mapped with `prot` allow `need` (PROT_* bits). On x86 write and exec imply read. */
export function protPermits(prot: number, need: number): boolean {
  if ((need & PROT_WRITE) !== 0 && (prot & PROT_WRITE) === 0) return false;
  if ((need & PROT_EXEC) !== 0 && (prot & PROT_EXEC) === 0) return false;
  if ((need & PROT_READ) !== 0 && (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) === 0) return false;
  return true;
}
