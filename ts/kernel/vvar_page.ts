// The vDSO's data page (Linux's [vvar]): what the sandbox's vDSO (loader/vdso_text.S) adds
// to the host's CLOCK_MONOTONIC, read through the host's own vDSO, to answer each clock as
// clock_gettime would (syscalls/linux/clocks.ts): the same host clock the sentry reads and
// arms its timers on, so a vDSO read, a syscall read and a sleep's deadline always agree.
// One memory-file page per time namespace (timens offsets differ, as Linux gives each its
// own vvar page), shared by every process in it and mapped read-only (maxProt READ: no
// mprotect, no ptrace or /proc/<pid>/mem write reaches it); the mapping's second page lies
// past the page's end and faults, as Linux's second vvar page does outside a time namespace
// (loader/vdso.ts). Nothing in it changes once a task has entered the namespace, so a
// reader needs no sequence count.
// Owns: the pages and their layout. Must not touch: the mappings (loader/vdso.ts).

import type { MappingBacking } from '../mm/backing';
import { PAGE_SIZE } from '../mm/layout';
import type { NativeMemoryFile } from '../native/addon';
import type { Kernel } from './kernel';
import type { TimeNamespace } from './ns/time_ns';

/** The layout (u64s), as vdso_text.S reads it. */
const MODE = 0, HOST_CLOCK_GETTIME = 8, REALTIME_OFFSET = 16, MONOTONIC_OFFSET = 24, BOOTTIME_OFFSET = 32;

const pages = new WeakMap<TimeNamespace, number>();
const freed = new FinalizationRegistry<{ mf: NativeMemoryFile; off: number }>(({ mf, off }) => mf.decRef(off, PAGE_SIZE));

const hostRanges = new WeakMap<Kernel, readonly number[]>();

/** Whether address ip lies in the host's vDSO as every address space holds it (above the
 *  application's range): a syscall from there is the host vDSO's own fallback. */
export function inHostVdso(k: Kernel, ip: number): boolean {
  let r = hostRanges.get(k);
  if (r === undefined) {
    r = k.platform.hostVdsoClock;
    hostRanges.set(k, r);
  }
  return r.length === 3 && ip >= r[1] && ip < r[2];
}

/** Whether the vDSO answers clocks without a syscall here: the platform keeps the host's
 *  vDSO in every address space (not kvm), and TSVISOR_VDSO=syscall does not say otherwise. */
export function vdsoClockAddress(k: Kernel): number {
  const host = k.platform.hostVdsoClock;
  return host.length === 3 && process.env.TSVISOR_VDSO !== 'syscall' ? host[0] : 0;
}

/** The page's bytes for namespace ns now. */
export function vvarContents(k: Kernel, ns: TimeNamespace): Uint8Array {
  const b = new Uint8Array(PAGE_SIZE);
  const v = new DataView(b.buffer);
  const fn = vdsoClockAddress(k);
  v.setBigUint64(MODE, fn !== 0 ? 1n : 0n, true);
  v.setBigUint64(HOST_CLOCK_GETTIME, BigInt(fn), true);
  v.setBigInt64(REALTIME_OFFSET, k.realtimeOffset, true);
  v.setBigInt64(MONOTONIC_OFFSET, ns.monotonicNs, true);
  v.setBigInt64(BOOTTIME_OFFSET, ns.boottimeNs - k.bootMonotonic, true);
  return b;
}

/** What maps namespace ns's page. Its contents are written now: exec maps the page of the
 *  namespace it is about to enter, whose offsets may have been set since its creation. */
export function vvarBacking(k: Kernel, ns: TimeNamespace): MappingBacking {
  let off = pages.get(ns);
  if (off === undefined) {
    off = k.mf.allocate(1);
    pages.set(ns, off);
    freed.register(ns, { mf: k.mf, off });
  }
  const page = off;
  k.mf.write(page, vvarContents(k, ns));
  return {
    name: '[vvar]',
    special: true,
    vvar: true,
    fill: (mf, fileOffset, mfOffset, length) => {
      if (fileOffset === 0 && length > 0) mf.write(mfOffset, vvarContents(k, ns).subarray(0, Math.min(length, PAGE_SIZE)));
    },
    sharedPages: (fileOffset) => {
      if (fileOffset !== 0) return [];
      k.mf.incRef(page, PAGE_SIZE);
      return [page];
    },
    size: () => PAGE_SIZE,
  };
}
