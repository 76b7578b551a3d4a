// Time namespaces (Linux kernel/time/namespace.c): offsets added to CLOCK_MONOTONIC (and its
// coarse and raw forms) and CLOCK_BOOTTIME as the namespace's tasks read them and arm timers
// on them. A new namespace copies its creator's offsets, which stay writable through
// /proc/<pid>/timens_offsets until a task first enters it (fork into it or setns); then they
// are frozen. CLOCK_REALTIME is never offset.
// Owns: the offsets, their text form and write rules. Must not touch: the clocks themselves.

import type { Task } from '../task';
import { fail } from '../syscall_error';
import { EACCES, EINVAL, EPERM, ERANGE } from '../../abi/linux/errno';
import { NS_TIME } from './kinds';
import { Namespace } from './namespace';
import { INIT_USER_NS, type UserNamespace } from './user_namespace';

const CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7;
const NSEC_PER_SEC = 1_000_000_000n;
/** KTIME_SEC_MAX: the seconds a 64-bit ns count holds. */
const KTIME_SEC_MAX = 9223372036n;
const CAP_SYS_TIME = 25;

export class TimeNamespace extends Namespace {
  monotonicNs = 0n;
  boottimeNs = 0n;
  /** A task has entered: the offsets no longer change (frozen_offsets). */
  frozen = false;

  constructor(userNs: UserNamespace, from?: TimeNamespace, ino?: number) {
    super(NS_TIME, userNs, ino);
    if (from !== undefined) {
      this.monotonicNs = from.monotonicNs;
      this.boottimeNs = from.boottimeNs;
    }
  }
}

/** The initial time namespace: no offsets, frozen from the start. */
export function initialTimeNamespace(): TimeNamespace {
  const ns = new TimeNamespace(INIT_USER_NS, undefined, NS_TIME.ino);
  ns.frozen = true;
  return ns;
}

function showOffset(name: string, ns: bigint): string {
  // Linux's "%-10s %10lld %9ld": the seconds floored, the nanoseconds non-negative.
  let sec = ns / NSEC_PER_SEC, nsec = ns % NSEC_PER_SEC;
  if (nsec < 0n) { sec -= 1n; nsec += NSEC_PER_SEC; }
  return `${name.padEnd(10)} ${String(sec).padStart(10)} ${String(nsec).padStart(9)}\n`;
}

/** proc_timens_show_offsets: the offsets of the namespace the task's children go in. */
export function timensOffsetsText(ns: TimeNamespace): string {
  return showOffset('monotonic', ns.monotonicNs) + showOffset('boottime', ns.boottimeNs);
}

/**
 * timens_offsets_write + proc_timens_set_offset: up to two lines "<clock> <sec> <nsec>" (the
 * clock by name or number), each checked (EINVAL for a bad line, ERANGE for a clock that would
 * go below zero or too far), then CAP_SYS_TIME over the namespace's owner (EPERM), then EACCES
 * once a task has entered; nothing changes unless all pass.
 * `hostNow` gives the clock's value outside any namespace, in ns.
 */
export function writeTimensOffsets(writer: Task, ns: TimeNamespace, text: string,
  hostNow: (clock: number) => bigint): void {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const offsets: { clock: number; ns: bigint }[] = [];
  for (const line of lines.slice(0, 2)) {
    // sscanf("%9s %lld %lu"): a word, a signed and an unsigned number.
    const m = /^\s*(\S{1,9})\s+([+-]?\d+)\s+(\+?\d+)/.exec(line);
    if (!m) fail(EINVAL);
    const sec = BigInt(m[2]), nsec = BigInt(m[3]);
    if (nsec >= NSEC_PER_SEC) fail(EINVAL);
    const clock = m[1] === 'monotonic' || m[1] === '1' ? CLOCK_MONOTONIC
      : m[1] === 'boottime' || m[1] === '7' ? CLOCK_BOOTTIME : 0;
    if (clock === 0) fail(EINVAL);
    offsets.push({ clock, ns: sec * NSEC_PER_SEC + nsec });
  }
  if (!writer.creds.nsCapable(ns.userNs, CAP_SYS_TIME)) fail(EPERM);
  for (const o of offsets) {
    const sec = o.ns / NSEC_PER_SEC;
    if (sec > KTIME_SEC_MAX || sec < -KTIME_SEC_MAX) fail(ERANGE);
    const after = (hostNow(o.clock) + o.ns) / NSEC_PER_SEC;
    if (hostNow(o.clock) + o.ns < 0n || after > KTIME_SEC_MAX / 2n) fail(ERANGE);
  }
  if (ns.frozen) fail(EACCES);
  for (const o of offsets) {
    if (o.clock === CLOCK_MONOTONIC) ns.monotonicNs = o.ns;
    else ns.boottimeNs = o.ns;
  }
}
