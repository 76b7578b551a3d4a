// Page arithmetic and the fixed numbers of the x86-64 address-space layout. Addresses are
// plain numbers (user addresses stay below 2^47, well inside the exact-integer range), so
// rounding uses division rather than 32-bit bitwise operators.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export function pageDown(x: number): number {
  return x - (x % PAGE_SIZE);
}

export function pageUp(x: number): number {
  const r = x % PAGE_SIZE;
  return r === 0 ? x : x + (PAGE_SIZE - r);
}

export function isPageAligned(x: number): boolean {
  return x % PAGE_SIZE === 0;
}

/** Round x down to a multiple of align (a power of two, any size). */
export function alignDown(x: number, align: number): number {
  return x - (x % align);
}

/** Bytes populated around a fault in one allocate+map: fewer trips through the platform. */
export const FAULT_WINDOW = 256 << 10;
/** The most a run of faults in address order grows the window to (Pmas.faultAround): the
 *  size of a transparent huge page, which Linux maps in one fault. */
export const MAX_FAULT_WINDOW = 2 << 20;
/** Pages still shared around a copy-on-write fault that get their copies with it (Linux's
 *  fault_around_bytes). */
export const COW_WINDOW = 64 << 10;
/** Largest run MAP_POPULATE and friends allocate at once. */
export const POPULATE_CHUNK = 16 << 20;

/** RLIMIT_STACK default: how far a MAP_GROWSDOWN mapping may grow. */
export const DEFAULT_STACK_LIMIT = 8 << 20;
/** Linux stack_guard_gap: keep this much free below a growsdown mapping. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** Initial size of the main stack mapping (Linux expands by 128 KiB on exec too). */
export const STACK_INITIAL_SIZE = 128 << 10;
/** Linux mmap_base keeps at least this much between the stack top and the mmap area. */
export const MIN_MMAP_GAP = 128 << 20;
/** Space left free above the stack top (Linux puts random padding there). */
export const STACK_TOP_GAP = 16 * PAGE_SIZE;

/** MAP_32BIT places mappings in [1 GiB, 2 GiB), as x86-64 Linux does. */
export const MAP_32BIT_START = 0x4000_0000;
export const MAP_32BIT_END = 0x8000_0000;

export interface Layout {
  /** Highest stack address (exclusive), 16-byte aligned. */
  stackTop: number;
  /** Top of the mmap area; mmap searches downwards from here. */
  mmapBase: number;
  /** Where ET_DYN executables go (ELF_ET_DYN_BASE: 2/3 of the address space). */
  dynBase: number;
}

/** The Linux layout without randomisation, for an address space [minAddr, maxAddr). The gap
 *  below the stack follows RLIMIT_STACK between 128 MiB and 5/6 of the address space (x86
 *  mmap_base), so an unlimited stack still leaves the mmap area its sixth at the bottom. */
export function defaultLayout(minAddr: number, maxAddr: number, stackLimit = DEFAULT_STACK_LIMIT): Layout {
  const stackTop = pageDown(maxAddr) - STACK_TOP_GAP;
  const gapMax = Math.floor(maxAddr / 6) * 5;
  const gap = Math.min(Math.max(MIN_MMAP_GAP, stackLimit + STACK_GUARD_GAP), gapMax);
  const mmapBase = Math.max(pageDown(stackTop - gap), minAddr);
  const dynBase = Math.max(pageDown(Math.floor(maxAddr / 3) * 2), minAddr);
  return { stackTop, mmapBase, dynBase };
}
