// Scheduling policies (Linux kernel/sched/syscalls.c): sched_setscheduler, sched_getscheduler,
// sched_setparam, sched_getparam, sched_setattr, sched_getattr, sched_get_priority_max/min
// and sched_rr_get_interval. The sentry runs every task on one event loop, so a policy is
// validated, permission-checked, recorded and reported back, and changes nothing else.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { CAP_SYS_NICE } from '../../kernel/capabilities';
import { RLIMIT_NICE, RLIMIT_RTPRIO } from '../../kernel/rlimits';
import {
  SYS_sched_get_priority_max, SYS_sched_get_priority_min, SYS_sched_getattr, SYS_sched_getparam,
  SYS_sched_getscheduler, SYS_sched_rr_get_interval, SYS_sched_setattr, SYS_sched_setparam,
  SYS_sched_setscheduler,
} from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { taskAttrs } from './task_attrs';
import { MAX_NICE, MIN_NICE } from './sys_priority';
import { findTask } from '../../kernel/ns/pid_ns';

const SCHED_NORMAL = 0;
const SCHED_FIFO = 1;
const SCHED_RR = 2;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;
const SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x40000000;
/** sched_setparam: keep the policy. */
const SETPARAM_POLICY = -1;

const SCHED_FLAG_RESET_ON_FORK = 0x01;
const SCHED_FLAG_KEEP_POLICY = 0x08;
const SCHED_FLAG_KEEP_PARAMS = 0x10;
const SCHED_FLAG_UTIL_CLAMP = 0x20 | 0x40;
const SCHED_FLAG_ALL = 0x7f;
const SCHED_FLAG_SUGOV = 0x10000000;

const MAX_RT_PRIO = 100;
const SCHED_ATTR_SIZE_VER0 = 48;
const SCHED_ATTR_SIZE_VER1 = 56;
const PAGE_SIZE = 4096;
/** RR_TIMESLICE: 100 ms. */
const RR_TIMESLICE_NS = 100_000_000;
/** What a fair task's sched_rr_get_interval reports: one tick of the base slice. */
const FAIR_INTERVAL_NS = 4_000_000;

interface SchedAttr {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
}

const rtPolicy = (p: number): boolean => p === SCHED_FIFO || p === SCHED_RR;
const fairPolicy = (p: number): boolean => p === SCHED_NORMAL || p === SCHED_BATCH || p === SCHED_IDLE;
const validPolicy = (p: number): boolean => fairPolicy(p) || rtPolicy(p) || p === SCHED_DEADLINE;

function findProcess(t: Task, pid: number): Task {
  if (pid === 0) return t;
  const p = findTask(t, pid);
  if (!p || p.exited) fail(ESRCH);
  return p;
}

/** is_nice_reduction: within RLIMIT_NICE without privilege. */
function niceAllowed(p: Task, nice: number): boolean {
  return BigInt(20 - nice) <= p.tg.rlimits[RLIMIT_NICE].cur;
}

/** user_check_sched_setscheduler: whether the change needs CAP_SYS_NICE. */
function needsPrivilege(t: Task, p: Task, attr: SchedAttr, policy: number, resetOnFork: boolean): boolean {
  const cur = taskAttrs(p);
  if (fairPolicy(policy) && attr.nice < cur.nice && !niceAllowed(p, attr.nice)) return true;
  if (rtPolicy(policy)) {
    const rlim = p.tg.rlimits[RLIMIT_RTPRIO].cur;
    if (policy !== cur.policy && rlim === 0n) return true;
    if (attr.priority > cur.rtPriority && BigInt(attr.priority) > rlim) return true;
  }
  if (policy === SCHED_DEADLINE) return true;
  if (cur.policy === SCHED_IDLE && policy !== SCHED_IDLE && !niceAllowed(p, cur.nice)) return true;
  const c = t.creds, pc = p.creds;
  if (c.euid !== pc.euid && c.euid !== pc.uid) return true;
  return cur.resetOnFork && !resetOnFork;
}

/** __sched_setscheduler for a user caller. */
function setScheduler(t: Task, p: Task, attr: SchedAttr): number {
  const cur = taskAttrs(p);
  let policy = attr.policy;
  let resetOnFork: boolean;
  if (policy < 0) {
    resetOnFork = cur.resetOnFork;
    policy = cur.policy;
  } else {
    resetOnFork = (attr.flags & SCHED_FLAG_RESET_ON_FORK) !== 0;
    if (!validPolicy(policy)) fail(EINVAL);
  }
  if ((attr.flags & ~(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV)) !== 0) fail(EINVAL);
  if (attr.priority > MAX_RT_PRIO - 1) fail(EINVAL);
  // A deadline task needs runtime/deadline/period, which the sandbox does not keep.
  if (policy === SCHED_DEADLINE || rtPolicy(policy) !== (attr.priority !== 0)) fail(EINVAL);
  if (needsPrivilege(t, p, attr, policy, resetOnFork) && !t.creds.hasCapability(CAP_SYS_NICE)) fail(EPERM);
  cur.policy = policy;
  if (fairPolicy(policy)) cur.nice = attr.nice;
  cur.rtPriority = attr.priority;
  cur.resetOnFork = resetOnFork;
  return 0;
}

/** sched_setscheduler/sched_setparam: the priority comes from user memory, the nice stays. */
function doSchedSetscheduler(t: Task, pid: number, policy: number, param: number): number {
  if (param === 0 || pid < 0) fail(EINVAL);
  const priority = t.mm.readI32(param);
  const p = findProcess(t, pid);
  const flags = policy >= 0 && (policy & SCHED_RESET_ON_FORK) !== 0 ? SCHED_FLAG_RESET_ON_FORK : 0;
  if (policy >= 0) policy &= ~SCHED_RESET_ON_FORK;
  return setScheduler(t, p, { policy, flags, nice: taskAttrs(p).nice, priority: priority >>> 0 });
}

function sysSchedSetscheduler(t: Task, a: SyscallArgs): number {
  const policy = a.int(1);
  if (policy < 0) fail(EINVAL);
  return doSchedSetscheduler(t, a.int(0), policy, a.ptr(2));
}

function sysSchedGetscheduler(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  if (pid < 0) fail(EINVAL);
  const attrs = taskAttrs(findProcess(t, pid));
  return attrs.policy | (attrs.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}

function sysSchedGetparam(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const param = a.ptr(1);
  if (param === 0 || pid < 0) fail(EINVAL);
  const attrs = taskAttrs(findProcess(t, pid));
  t.mm.writeI32(param, rtPolicy(attrs.policy) ? attrs.rtPriority : 0);
  return 0;
}

/** sched_copy_attr: a size of 0 means VER0; an unknown size is E2BIG with ours written back;
 *  bytes past what we know must be zero. */
function copyInSchedAttr(t: Task, addr: number): SchedAttr {
  let size = t.mm.readU32(addr);
  if (size === 0) size = SCHED_ATTR_SIZE_VER0;
  const tooBig = (): never => {
    t.mm.writeU32(addr, SCHED_ATTR_SIZE_VER1);
    return fail(E2BIG);
  };
  if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) tooBig();
  const b = t.mm.copyIn(addr, size);
  if (b.subarray(SCHED_ATTR_SIZE_VER1).some((x) => x !== 0)) tooBig();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Every known flag is in the low word; any high bit stands in as one no policy accepts.
  const flags = v.getUint32(8, true) | (v.getUint32(12, true) !== 0 ? 0x80000000 : 0);
  if ((flags & SCHED_FLAG_UTIL_CLAMP) !== 0 && size < SCHED_ATTR_SIZE_VER1) fail(EINVAL);
  return {
    policy: v.getInt32(4, true),
    flags,
    nice: Math.min(MAX_NICE, Math.max(MIN_NICE, v.getInt32(16, true))),
    priority: v.getUint32(20, true),
  };
}

function sysSchedSetattr(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const addr = a.ptr(1);
  if (addr === 0 || pid < 0 || a.uint(2) !== 0) fail(EINVAL);
  const attr = copyInSchedAttr(t, addr);
  if (attr.policy < 0) fail(EINVAL);
  if (attr.flags & SCHED_FLAG_KEEP_POLICY) attr.policy = SETPARAM_POLICY;
  const p = findProcess(t, pid);
  if (attr.flags & SCHED_FLAG_KEEP_PARAMS) {
    const cur = taskAttrs(p);
    attr.nice = cur.nice;
    attr.priority = rtPolicy(cur.policy) ? cur.rtPriority : 0;
  }
  return setScheduler(t, p, attr);
}

function sysSchedGetattr(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const addr = a.ptr(1);
  const usize = a.uint(2);
  if (addr === 0 || pid < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 || a.uint(3) !== 0) fail(EINVAL);
  const attrs = taskAttrs(findProcess(t, pid));
  const out = new Uint8Array(SCHED_ATTR_SIZE_VER1);
  const v = new DataView(out.buffer);
  const size = Math.min(usize, SCHED_ATTR_SIZE_VER1);
  v.setUint32(0, size, true);
  v.setUint32(4, attrs.policy, true);
  v.setBigUint64(8, attrs.resetOnFork ? BigInt(SCHED_FLAG_RESET_ON_FORK) : 0n, true);
  if (rtPolicy(attrs.policy)) v.setUint32(20, attrs.rtPriority, true);
  else v.setInt32(16, attrs.nice, true);
  t.mm.copyOut(addr, out.subarray(0, size));
  return 0;
}

function sysSchedGetPriorityMax(_t: Task, a: SyscallArgs): number {
  const policy = a.int(0);
  if (rtPolicy(policy)) return MAX_RT_PRIO - 1;
  if (fairPolicy(policy) || policy === SCHED_DEADLINE) return 0;
  fail(EINVAL);
}

function sysSchedGetPriorityMin(_t: Task, a: SyscallArgs): number {
  const policy = a.int(0);
  if (rtPolicy(policy)) return 1;
  if (fairPolicy(policy) || policy === SCHED_DEADLINE) return 0;
  fail(EINVAL);
}

function sysSchedRrGetInterval(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  if (pid < 0) fail(EINVAL);
  const policy = taskAttrs(findProcess(t, pid)).policy;
  const ns = policy === SCHED_RR ? RR_TIMESLICE_NS : policy === SCHED_FIFO ? 0 : FAIR_INTERVAL_NS;
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, BigInt(Math.floor(ns / 1e9)), true);
  v.setBigInt64(8, BigInt(ns % 1e9), true);
  t.mm.copyOut(a.ptr(1), out);
  return 0;
}

export function registerSchedPolicy(table: SyscallTable): void {
  table[SYS_sched_setscheduler] = {
    name: 'sched_setscheduler', handler: sysSchedSetscheduler, args: ['int', 'int', 'ptr'],
  };
  table[SYS_sched_getscheduler] = { name: 'sched_getscheduler', handler: sysSchedGetscheduler, args: ['int'] };
  table[SYS_sched_setparam] = {
    name: 'sched_setparam', handler: (t, a) => doSchedSetscheduler(t, a.int(0), SETPARAM_POLICY, a.ptr(1)),
    args: ['int', 'ptr'],
  };
  table[SYS_sched_getparam] = { name: 'sched_getparam', handler: sysSchedGetparam, args: ['int', 'outptr'] };
  table[SYS_sched_setattr] = { name: 'sched_setattr', handler: sysSchedSetattr, args: ['int', 'ptr', 'hex'] };
  table[SYS_sched_getattr] = {
    name: 'sched_getattr', handler: sysSchedGetattr, args: ['int', 'outptr', 'uint', 'hex'],
  };
  table[SYS_sched_get_priority_max] = {
    name: 'sched_get_priority_max', handler: sysSchedGetPriorityMax, args: ['int'],
  };
  table[SYS_sched_get_priority_min] = {
    name: 'sched_get_priority_min', handler: sysSchedGetPriorityMin, args: ['int'],
  };
  table[SYS_sched_rr_get_interval] = {
    name: 'sched_rr_get_interval', handler: sysSchedRrGetInterval, args: ['int', 'outptr'],
  };
}
