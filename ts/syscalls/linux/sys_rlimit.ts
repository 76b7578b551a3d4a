// getrlimit, setrlimit, prlimit64 (Linux kernel/sys.c). Limits belong to the thread group.
// Raising a hard limit needs CAP_SYS_RESOURCE.

import { CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { nrOpen } from '../../kernel/nr_open';
import { SYS_getrlimit, SYS_prlimit64, SYS_setrlimit } from '../../abi/linux/syscall_numbers';
import { RLIMIT_CPU, RLIMIT_NOFILE, RLIMIT_STACK, RLIM_NLIMITS, type Rlimit } from '../../kernel/rlimits';
import { updateCpuLimit } from '../../kernel/timers/cpu_limit';
import type { Credentials } from '../../kernel/credentials';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask } from '../../kernel/ns/pid_ns';

const RLIMIT_SIZE = 16;

function copyInRlimit(t: Task, addr: number): Rlimit {
  const b = t.mm.copyIn(addr, RLIMIT_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { cur: v.getBigUint64(0, true), max: v.getBigUint64(8, true) };
}

function copyOutRlimit(t: Task, addr: number, r: Rlimit): void {
  const b = new Uint8Array(RLIMIT_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, r.cur, true);
  v.setBigUint64(8, r.max, true);
  t.mm.copyOut(addr, b);
}

function privileged(c: Credentials): boolean {
  return c.hasCapability(CAP_SYS_RESOURCE);
}

/** Linux do_prlimit: validates, then swaps in the new limit and returns the old one. */
function doPrlimit(t: Task, tg: ThreadGroup, resource: number, next: Rlimit | null): Rlimit {
  if (resource >= RLIM_NLIMITS) fail(EINVAL);
  const cur = tg.rlimits[resource];
  const old = { ...cur };
  if (next) {
    if (next.cur > next.max) fail(EINVAL);
    if (resource === RLIMIT_NOFILE && next.max > BigInt(nrOpen(t.kernel))) fail(EPERM);
    if (next.max > cur.max && !privileged(t.creds)) fail(EPERM);
    tg.rlimits[resource] = { ...next };
    // The memory manager grows stacks against its own copy of the limit.
    if (resource === RLIMIT_STACK && tg === t.tg) t.mm.stackLimit = Number(next.cur);
    if (resource === RLIMIT_CPU) updateCpuLimit(tg);
  }
  return old;
}

/** check_prlimit_permission: another process's limits need all its ids to be ours. */
function mayPrlimit(t: Task, target: Task): boolean {
  if (target.tg === t.tg) return true;
  const c = t.creds, tc = target.creds;
  const same = c.uid === tc.euid && c.uid === tc.suid && c.uid === tc.uid &&
    c.gid === tc.egid && c.gid === tc.sgid && c.gid === tc.gid;
  return same || privileged(c);
}

function sysPrlimit64(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const resource = a.uint(1);
  const newAddr = a.ptr(2);
  const oldAddr = a.ptr(3);
  const next = newAddr !== 0 ? copyInRlimit(t, newAddr) : null;
  const target = pid === 0 ? t : findTask(t, pid);
  if (!target) fail(ESRCH);
  if (!mayPrlimit(t, target)) fail(EPERM);
  const old = doPrlimit(t, target.tg, resource, next);
  if (oldAddr !== 0) copyOutRlimit(t, oldAddr, old);
  return 0;
}

function sysGetrlimit(t: Task, a: SyscallArgs): number {
  const old = doPrlimit(t, t.tg, a.uint(0), null);
  copyOutRlimit(t, a.ptr(1), old);
  return 0;
}

function sysSetrlimit(t: Task, a: SyscallArgs): number {
  const next = copyInRlimit(t, a.ptr(1));
  doPrlimit(t, t.tg, a.uint(0), next);
  return 0;
}

export function registerRlimit(table: SyscallTable): void {
  table[SYS_getrlimit] = { name: 'getrlimit', handler: sysGetrlimit, args: ['uint', 'outptr'] };
  table[SYS_setrlimit] = { name: 'setrlimit', handler: sysSetrlimit, args: ['uint', 'ptr'] };
  table[SYS_prlimit64] = { name: 'prlimit64', handler: sysPrlimit64, args: ['int', 'uint', 'ptr', 'outptr'] };
}
