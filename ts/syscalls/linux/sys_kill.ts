// kill, tgkill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo (Linux kernel/signal.c). Targets
// are resolved and checked here (ESRCH, EPERM, EINVAL in Linux's order); kernel/signals.ts
// queues the signal and wakes whoever takes it.

import type { Task } from '../../kernel/task';
import type { Kernel } from '../../kernel/kernel';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { NSIG, SIGCONT, SIGRTMIN } from '../../abi/linux/signal';
import { RLIMIT_SIGPENDING, RLIM_INFINITY } from '../../kernel/rlimits';
import {
  SYS_kill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_tgkill, SYS_tkill,
} from '../../abi/linux/syscall_numbers';
import {
  SI_TKILL, sendSignalToProcess, sendSignalToThread, userSigInfo,
} from '../../kernel/signals';
import { sigInfo, type SigInfo } from '../../kernel/sig_pending';
import type { SyscallArgs, SyscallTable } from './types';
import { pgidIn, processGroupIds } from './process_group';
import { CAP_KILL } from '../../kernel/capabilities';
import { findTask, findThreadGroup, tgidIn, threadGroupsOf, vtgid } from '../../kernel/ns/pid_ns';

const INT_MIN = -0x80000000;
const SIGINFO_SIZE = 128;

export function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) fail(EINVAL);
}

/** The processes kill(pid) names: one, a process group (0: the caller's), or all but init
 *  and the caller (-1). */
function killTargets(t: Task, pid: number): ThreadGroup[] {
  // Ids are the caller's pid namespace's; processes outside it cannot be named.
  const ns = t.threadPid.ns;
  const all = [...threadGroupsOf(t.kernel, ns).values()];
  // Any thread's id names its process (kill_pid_info looks the pid up as PIDTYPE_PID).
  if (pid > 0) {
    const tg = findTask(t, pid)?.tg ?? findThreadGroup(t, pid);
    return tg !== undefined ? [tg] : [];
  }
  if (pid === INT_MIN) return [];
  if (pid === -1) return all.filter((tg) => tg !== t.tg && tgidIn(ns, tg) > 1);
  const pgid = pid === 0 ? pgidIn(ns, t.tg) : -pid;
  return all.filter((tg) => pgidIn(ns, tg) === pgid);
}

/** check_kill_permission: the same user (real or effective against real or saved),
 *  CAP_KILL, or SIGCONT within the session. */
export function mayKill(t: Task, tg: ThreadGroup, sig: number): boolean {
  if (tg === t.tg) return true;
  const target = tg.tasks.values().next().value;
  if (!target) return true; // a zombie: nothing to protect
  const c = t.creds, tc = target.creds;
  if (c.euid === tc.suid || c.euid === tc.uid || c.uid === tc.suid || c.uid === tc.uid) return true;
  if (c.hasCapability(CAP_KILL)) return true;
  return sig === SIGCONT && processGroupIds(t.tg).sid === processGroupIds(tg).sid;
}

function sysKill(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  const targets = killTargets(t, pid);
  if (targets.length === 0) fail(ESRCH);
  checkSignal(sig);
  let sent = 0;
  let denied = 0;
  for (const tg of targets) {
    if (!mayKill(t, tg, sig)) {
      denied++;
      continue;
    }
    sent++;
    if (sig !== 0) sendSignalToProcess(tg, userSigInfo(t, sig, undefined, tg));
  }
  // One target: its answer. Several: success if any got it (kill_pgrp / kill(-1)).
  if (sent === 0 && denied > 0) fail(EPERM);
  return 0;
}

/** __sigqueue_alloc: a real-time signal a caller queues with its own siginfo (a negative
 *  si_code: sigqueue, tgkill) needs a free slot of the receiver's user's RLIMIT_SIGPENDING;
 *  signals from kill (SI_USER) and the kernel override it, and standard signals are set
 *  pending whatever the count. */
function checkSigpending(t: Task, target: Task, info: SigInfo): void {
  if (info.signo < SIGRTMIN || info.code >= 0) return;
  const limit = target.tg.rlimits[RLIMIT_SIGPENDING].cur;
  if (limit === RLIM_INFINITY) return;
  if (BigInt(queuedSignalsOf(t.kernel, target.creds.uid)) >= limit) fail(EAGAIN);
}

/** Signals queued to the tasks and processes of real uid `uid` (the user's sigpending count:
 *  RLIMIT_SIGPENDING's measure, /proc/<pid>/status's SigQ). */
export function queuedSignalsOf(k: Kernel, uid: number): number {
  let n = 0;
  const seen = new Set<ThreadGroup>();
  for (const task of k.tasks.values()) {
    if (task.creds.uid !== uid) continue;
    n += task.pending.size;
    if (!seen.has(task.tg)) { seen.add(task.tg); n += task.tg.pending.size; }
  }
  return n;
}

/** do_send_specific: tgid 0 (tkill) matches any process. */
function sendSpecific(t: Task, tgid: number, tid: number, infoFor: SigInfo | ((to: ThreadGroup) => SigInfo)): number {
  const target = findTask(t, tid);
  if (!target || target.exited || (tgid > 0 && vtgid(t, target.tg) !== tgid)) fail(ESRCH);
  const info = typeof infoFor === 'function' ? infoFor(target.tg) : infoFor;
  checkSignal(info.signo);
  if (!mayKill(t, target.tg, info.signo)) fail(EPERM);
  if (info.signo !== 0) {
    checkSigpending(t, target, info);
    sendSignalToThread(target, info);
  }
  return 0;
}

function sysTgkill(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0) fail(EINVAL);
  return sendSpecific(t, tgid, tid, (to) => userSigInfo(t, sig, SI_TKILL, to));
}

function sysTkill(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  const sig = a.int(1);
  if (tid <= 0) fail(EINVAL);
  return sendSpecific(t, 0, tid, (to) => userSigInfo(t, sig, SI_TKILL, to));
}

/** A caller-made siginfo: only negative codes (not the kernel's) and only to others than
 *  oneself with SI_TKILL, as Linux insists. */
export function queuedInfo(t: Task, addr: number, sig: number, toSelf: boolean): SigInfo {
  const b = t.mm.copyIn(addr, SIGINFO_SIZE);
  const v = new DataView(b.buffer);
  const code = v.getInt32(8, true);
  if ((code >= 0 || code === SI_TKILL) && !toSelf) fail(EPERM);
  return sigInfo(sig, code, {
    errno: v.getInt32(4, true), pid: v.getInt32(16, true), uid: v.getUint32(20, true), value: v.getBigUint64(24, true),
  });
}

function sysRtSigqueueinfo(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  const info = queuedInfo(t, a.ptr(2), sig, pid === vtgid(t, t.tg));
  checkSignal(sig);
  const tg = pid > 0 ? findThreadGroup(t, pid) : undefined;
  if (!tg) fail(ESRCH);
  if (!mayKill(t, tg, sig)) fail(EPERM);
  if (sig !== 0) {
    const leader = tg.tasks.values().next().value;
    if (leader) checkSigpending(t, leader, info);
    sendSignalToProcess(tg, info);
  }
  return 0;
}

function sysRtTgsigqueueinfo(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0) fail(EINVAL);
  const info = queuedInfo(t, a.ptr(3), sig, tgid === vtgid(t, t.tg));
  return sendSpecific(t, tgid, tid, info);
}

export function registerKill(table: SyscallTable): void {
  table[SYS_kill] = { name: 'kill', handler: sysKill, args: ['int', 'signal'] };
  table[SYS_tgkill] = { name: 'tgkill', handler: sysTgkill, args: ['int', 'int', 'signal'] };
  table[SYS_tkill] = { name: 'tkill', handler: sysTkill, args: ['int', 'signal'] };
  table[SYS_rt_sigqueueinfo] = { name: 'rt_sigqueueinfo', handler: sysRtSigqueueinfo, args: ['int', 'signal', 'ptr'] };
  table[SYS_rt_tgsigqueueinfo] = {
    name: 'rt_tgsigqueueinfo', handler: sysRtTgsigqueueinfo, args: ['int', 'int', 'signal', 'ptr'],
  };
}
