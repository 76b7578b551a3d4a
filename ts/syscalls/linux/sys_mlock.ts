// mlock, mlock2, munlock, mlockall, munlockall (Linux mm/mlock.c): the checks against
// RLIMIT_MEMLOCK and CAP_IPC_LOCK and the faulting in; the VMA flags and the locked total are
// mm/mlock.ts's. Also the MAP_LOCKED rules mmap follows (can_do_mlock, mlock_future_ok).

import { CAP_IPC_LOCK } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import type { SyscallArgs, SyscallTable } from './types';
import { SYS_mlock, SYS_mlock2, SYS_mlockall, SYS_munlock, SYS_munlockall } from '../../abi/linux/syscall_numbers';
import { MAP_LOCKED, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT } from '../../abi/linux/mm';
import { EAGAIN, EINVAL, ENOMEM, EPERM } from '../../abi/linux/errno';
import { RLIMIT_MEMLOCK, RLIM_INFINITY } from '../../kernel/rlimits';
import { fail } from '../../kernel/syscall_error';
import { pageUp } from '../../mm/layout';
import {
  VM_LOCKED, VM_LOCKONFAULT, applyLockAll, applyLockFlags, defaultLockFlags, lockedBytes, lockedBytesIn,
  setDefaultLockFlags,
} from '../../mm/mlock';

/** RLIMIT_MEMLOCK in bytes (Infinity when unlimited). */
function lockLimit(t: Task): number {
  const cur = t.tg.rlimits[RLIMIT_MEMLOCK].cur;
  return cur === RLIM_INFINITY ? Infinity : Number(cur);
}

function capLock(t: Task): boolean { return t.creds.hasCapability(CAP_IPC_LOCK); }

/** can_do_mlock: CAP_IPC_LOCK or a non-zero RLIMIT_MEMLOCK. */
function canDoMlock(t: Task): boolean {
  return capLock(t) || t.tg.rlimits[RLIMIT_MEMLOCK].cur !== 0n;
}

/** The page-aligned range mlock and munlock act on (any address, widened to whole pages),
 *  computed in size_t as Linux does: a length that aligns to 0 is an empty range; a range
 *  that wraps past 2^64 is EINVAL; one beyond user space has no mapping (ENOMEM). */
function lockRange(a: SyscallArgs): [number, number] {
  const addr = BigInt.asUintN(64, a.i64(0));
  const off = addr & 0xfffn;
  const start = addr - off;
  const len = BigInt.asUintN(64, BigInt.asUintN(64, a.i64(1)) + off + 0xfffn) & ~0xfffn;
  if (len === 0n) return [0, 0];
  const end = start + len;
  if (end >= 1n << 64n) fail(EINVAL);
  if (end > BigInt(Number.MAX_SAFE_INTEGER)) fail(ENOMEM);
  return [Number(start), Number(end)];
}

/** Fault [start, end) in (__mm_populate): running out of memory is EAGAIN. */
function populate(t: Task, start: number, end: number): void {
  if (!t.mm.populateRange(start, end)) fail(EAGAIN);
}

/** do_mlock. */
function doMlock(t: Task, a: SyscallArgs, flags: number): number {
  if (!canDoMlock(t)) fail(EPERM);
  const [start, end] = lockRange(a);
  if (!capLock(t)) {
    let locked = (end - start) + lockedBytes(t.mm);
    if (locked > lockLimit(t)) locked -= lockedBytesIn(t.mm, start, end);
    if (locked > lockLimit(t)) fail(ENOMEM);
  }
  if (!applyLockFlags(t.mm, start, end, flags)) fail(ENOMEM);
  if ((flags & VM_LOCKONFAULT) === 0 && end > start) populate(t, start, end);
  return 0;
}

function sysMlock2(t: Task, a: SyscallArgs): number {
  const flags = a.int(2);
  if ((flags & ~MLOCK_ONFAULT) !== 0) fail(EINVAL);
  return doMlock(t, a, VM_LOCKED | ((flags & MLOCK_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0));
}

function sysMunlock(t: Task, a: SyscallArgs): number {
  const [start, end] = lockRange(a);
  if (!applyLockFlags(t.mm, start, end, 0)) fail(ENOMEM);
  return 0;
}

function sysMlockall(t: Task, a: SyscallArgs): number {
  const flags = a.int(0);
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) fail(EINVAL);
  if (!canDoMlock(t)) fail(EPERM);
  const onfault = (flags & MCL_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0;
  if ((flags & MCL_CURRENT) !== 0 && !capLock(t)) {
    let total = 0;
    for (const v of t.mm.vmas.all()) total += v.length;
    if (total > lockLimit(t)) fail(ENOMEM);
  }
  setDefaultLockFlags(t.mm, (flags & MCL_FUTURE) !== 0 ? VM_LOCKED | onfault : 0);
  if ((flags & MCL_CURRENT) !== 0) {
    applyLockAll(t.mm, VM_LOCKED | onfault);
    // mm_populate(0, TASK_SIZE) ignores what it cannot fault in.
    if (onfault === 0) for (const v of [...t.mm.vmas.all()]) t.mm.populateRange(v.start, v.end);
  }
  return 0;
}

function sysMunlockall(t: Task): number {
  setDefaultLockFlags(t.mm, 0);
  applyLockAll(t.mm, 0);
  return 0;
}

/** do_mmap's lock checks for a new mapping of len bytes with mmap flags `flags`: EPERM for
 *  MAP_LOCKED without the right to lock, EAGAIN past RLIMIT_MEMLOCK (mlock_future_ok). */
export function checkMmapLock(t: Task, flags: number, len: number): void {
  const locked = (flags & MAP_LOCKED) !== 0;
  if (locked && !canDoMlock(t)) fail(EPERM);
  if ((locked || (defaultLockFlags(t.mm) & VM_LOCKED) !== 0) && !capLock(t) &&
    pageUp(len) + lockedBytes(t.mm) > lockLimit(t)) {
    fail(EAGAIN);
  }
}

/** mlock_future_ok for a memfd_secret mapping (always locked, whatever the caller may lock). */
export function checkSecretLock(t: Task, len: number): void {
  if (!capLock(t) && pageUp(len) + lockedBytes(t.mm) > lockLimit(t)) fail(EAGAIN);
}

export function registerMlock(table: SyscallTable): void {
  table[SYS_mlock] = { name: 'mlock', handler: (t, a) => doMlock(t, a, VM_LOCKED), args: ['ptr', 'size'] };
  table[SYS_munlock] = { name: 'munlock', handler: sysMunlock, args: ['ptr', 'size'] };
  table[SYS_mlock2] = { name: 'mlock2', handler: sysMlock2, args: ['ptr', 'size', 'hex'] };
  table[SYS_mlockall] = { name: 'mlockall', handler: sysMlockall, args: ['hex'] };
  table[SYS_munlockall] = { name: 'munlockall', handler: sysMunlockall, args: [] };
}

