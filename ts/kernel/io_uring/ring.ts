// io_uring's shared rings (Linux io_uring/io_uring.c, struct io_rings): the submission and
// completion queues live in memory-file pages that the process maps from the ring's file
// (IORING_OFF_SQ_RING / CQ_RING, one mapping serves both: IORING_FEAT_SINGLE_MMAP) and the
// SQE array (IORING_OFF_SQES). The sentry reads and writes those pages through the memory
// file, never through a process address, so every mapping (or none) sees the same queues.
// The layout is Linux 6.1's: heads and tails each on their own cache line, then the masks,
// sizes and flags, then the CQEs, then the SQ index array.
//
// Owns the pages, the kernel's cached head and tail, the overflow list and the readiness of
// the ring's file; what a request does is syscalls/linux/io_uring_ops.ts's.

import type { NativeMemoryFile } from '../../native/addon';
import type { MappingBacking } from '../../mm/backing';
import { EINVAL, ENOMEM } from '../../abi/linux/errno';
import { SyscallError, fail } from '../syscall_error';

const PAGE = 4096;
export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;

// struct io_rings field offsets.
export const SQ_HEAD = 0, SQ_TAIL = 64, CQ_HEAD = 128, CQ_TAIL = 192, SQ_RING_MASK = 256, CQ_RING_MASK = 260,
  SQ_RING_ENTRIES = 264, CQ_RING_ENTRIES = 268, SQ_DROPPED = 272, SQ_FLAGS = 276, CQ_FLAGS = 280,
  CQ_OVERFLOW = 284, CQES = 320;
export const IORING_SQ_NEED_WAKEUP = 1, IORING_SQ_CQ_OVERFLOW = 2, IORING_SQ_TASKRUN = 4;
export const IORING_CQ_EVENTFD_DISABLED = 1;

/** Completions kept aside while the CQ is full, at most. */
const MAX_OVERFLOW = 1 << 16;

function align(n: number, a: number): number { return Math.ceil(n / a) * a; }

/** One completion not yet in the ring (it was full): IORING_FEAT_NODROP keeps it. */
interface Overflowed { data: bigint; res: number; flags: number }

export class IoRings {
  /** Byte offset of the SQ index array within the rings. */
  readonly sqArray: number;
  readonly ringsBytes: number;
  readonly sqesBytes: number;
  private readonly rings: number;
  private readonly sqes: number;
  /** The kernel's own SQ head (what it has consumed) and CQ tail (what it has posted). */
  private sqHead = 0;
  private cqTail = 0;
  private readonly overflow: Overflowed[] = [];
  private dropped = 0;
  private readonly u32 = new Uint8Array(4);
  private readonly u32v = new DataView(this.u32.buffer);
  private readonly cqe: Uint8Array;
  private readonly cqev: DataView;
  private freed = false;

  constructor(private readonly mf: NativeMemoryFile, readonly sqEntries: number, readonly cqEntries: number,
    readonly sqeSize: number, readonly cqeSize: number) {
    this.sqArray = align(CQES + cqEntries * cqeSize, 64);
    this.ringsBytes = this.sqArray + sqEntries * 4;
    this.sqesBytes = sqEntries * sqeSize;
    const rp = Math.ceil(this.ringsBytes / PAGE), sp = Math.ceil(this.sqesBytes / PAGE);
    try {
      this.rings = mf.allocate(rp);
    } catch { throw new SyscallError(ENOMEM); }
    try {
      this.sqes = mf.allocate(sp);
    } catch {
      mf.decRef(this.rings, rp * PAGE);
      throw new SyscallError(ENOMEM);
    }
    this.put(SQ_RING_MASK, sqEntries - 1);
    this.put(CQ_RING_MASK, cqEntries - 1);
    this.put(SQ_RING_ENTRIES, sqEntries);
    this.put(CQ_RING_ENTRIES, cqEntries);
    this.cqe = new Uint8Array(cqeSize);
    this.cqev = new DataView(this.cqe.buffer);
  }

  get(off: number): number {
    this.mf.read(this.rings + off, this.u32);
    return this.u32v.getUint32(0, true);
  }

  put(off: number, v: number): void {
    this.u32v.setUint32(0, v >>> 0, true);
    this.mf.write(this.rings + off, this.u32);
  }

  setSqFlag(bit: number, on: boolean): void {
    const f = this.get(SQ_FLAGS);
    const g = on ? f | bit : f & ~bit;
    if (g !== f) this.put(SQ_FLAGS, g);
  }

  /** SQEs the process has queued and the kernel not yet consumed. */
  pendingSqes(): number {
    return (this.get(SQ_TAIL) - this.sqHead) >>> 0;
  }

  /** Consume the next SQE: its bytes (a fresh array), or null for an index out of range,
   *  which Linux drops (counted in sq_dropped). The head moves either way. */
  nextSqe(): Uint8Array | null {
    const idx = this.get(this.sqArray + (this.sqHead & (this.sqEntries - 1)) * 4);
    this.sqHead = (this.sqHead + 1) >>> 0;
    this.put(SQ_HEAD, this.sqHead);
    if (idx >= this.sqEntries) {
      this.put(SQ_DROPPED, ++this.dropped);
      return null;
    }
    const b = new Uint8Array(this.sqeSize);
    this.mf.read(this.sqes + idx * this.sqeSize, b);
    return b;
  }

  /** Completions in the ring not yet taken by the process. */
  cqReady(): number {
    return (this.cqTail - this.get(CQ_HEAD)) >>> 0;
  }

  hasOverflow(): boolean { return this.overflow.length > 0; }

  /** Post a CQE, or keep it aside while the ring is full. */
  post(data: bigint, res: number, flags: number): void {
    if (this.overflow.length > 0 || this.cqReady() >= this.cqEntries) {
      // Kept within bounds: past them a completion is lost and counted (cq_overflow), as
      // Linux does when it cannot allocate the overflow entry.
      if (this.overflow.length >= MAX_OVERFLOW) {
        this.put(CQ_OVERFLOW, this.get(CQ_OVERFLOW) + 1);
        return;
      }
      this.overflow.push({ data, res, flags });
      this.setSqFlag(IORING_SQ_CQ_OVERFLOW, true);
      return;
    }
    this.write(data, res, flags);
  }

  /** Move kept completions into the ring as room allows (io_cqring_overflow_flush). */
  flushOverflow(): void {
    while (this.overflow.length > 0 && this.cqReady() < this.cqEntries) {
      const o = this.overflow.shift()!;
      this.write(o.data, o.res, o.flags);
    }
    if (this.overflow.length === 0) this.setSqFlag(IORING_SQ_CQ_OVERFLOW, false);
  }

  private write(data: bigint, res: number, flags: number): void {
    this.cqev.setBigUint64(0, BigInt.asUintN(64, data), true);
    this.cqev.setInt32(8, res, true);
    this.cqev.setUint32(12, flags >>> 0, true);
    this.mf.write(this.rings + CQES + (this.cqTail & (this.cqEntries - 1)) * this.cqeSize, this.cqe);
    this.cqTail = (this.cqTail + 1) >>> 0;
    this.put(CQ_TAIL, this.cqTail);
  }

  /** SQ ring full as the process sees it (POLLOUT's opposite). */
  sqFull(): boolean {
    return ((this.get(SQ_TAIL) - this.get(SQ_HEAD)) >>> 0) >= this.sqEntries;
  }

  /** The pages behind a mapping at the given file offset (io_uring_validate_mmap_request). */
  pagesAt(fileOffset: number, length: number): number[] {
    const [base, size, start] = this.region(fileOffset);
    if (fileOffset - start + length > align(size, PAGE)) fail(EINVAL);
    const out: number[] = [];
    for (let at = fileOffset - start; at < fileOffset - start + length; at += PAGE) {
      this.mf.incRef(base + at, PAGE);
      out.push(base + at);
    }
    return out;
  }

  /** [memory-file base, object size, the file offset it starts at] of the object at off. */
  region(off: number): [number, number, number] {
    if (off >= IORING_OFF_SQES && off < IORING_OFF_SQES + align(this.sqesBytes, PAGE)) {
      return [this.sqes, this.sqesBytes, IORING_OFF_SQES];
    }
    for (const start of [IORING_OFF_SQ_RING, IORING_OFF_CQ_RING]) {
      if (off >= start && off < start + align(this.ringsBytes, PAGE)) return [this.rings, this.ringsBytes, start];
    }
    fail(EINVAL);
  }

  /** The last reference to the ring went (mappings hold their pages themselves). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.mf.decRef(this.rings, align(this.ringsBytes, PAGE));
    this.mf.decRef(this.sqes, align(this.sqesBytes, PAGE));
  }
}

/** What mmap of a ring's file maps: its pages, shared (MAP_PRIVATE is refused by Linux's
 *  io_uring_mmap only in that writes are not seen; a private copy here is the same). */
export function ringBacking(r: IoRings): MappingBacking {
  return {
    name: 'anon_inode:[io_uring]',
    fill(mf, fileOffset, mfOffset, length) {
      const [base, , start] = r.region(fileOffset);
      const buf = new Uint8Array(length);
      mf.read(base + fileOffset - start, buf);
      mf.write(mfOffset, buf);
    },
    sharedPages: (fileOffset, length) => r.pagesAt(fileOffset, length),
    checkMap(fileOffset: number, length: number): void {
      const [, size, start] = r.region(fileOffset);
      if (fileOffset !== start || length > align(size, PAGE)) fail(EINVAL);
    },
  };
}
