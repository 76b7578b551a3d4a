// The capability options of prctl (Linux security/commoncap.c cap_task_prctl): the bounding
// set, securebits, keepcaps and the ambient set.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import {
  PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_IS_SET,
  PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_RAISE, PR_GET_KEEPCAPS, PR_GET_SECUREBITS, PR_SET_KEEPCAPS,
  PR_SET_SECUREBITS,
} from '../../abi/linux/prctl';
import {
  CAP_EMPTY_SET, CAP_SETPCAP, SECURE_ALL_BITS, SECURE_ALL_LOCKS, SECURE_KEEP_CAPS,
  SECURE_KEEP_CAPS_LOCKED, SECURE_NO_CAP_AMBIENT_RAISE, capMask, capRaised, capValid, issecure,
} from '../../kernel/capabilities';
import { commitCreds } from './commit_creds';
import type { SyscallArgs } from './types';

function capArg(a: SyscallArgs, i: number): number {
  const v = a.u64(i);
  if (!capValid(v)) fail(EINVAL);
  return Number(v);
}

function setSecurebits(t: Task, bits: bigint): number {
  const old = t.creds.securebits;
  // A locked bit may not change, a lock may not be released, no unknown bits, and only with
  // CAP_SETPCAP.
  const lockedChange = BigInt((old & SECURE_ALL_LOCKS) >> 1) & (BigInt(old) ^ bits);
  const unlock = BigInt(old & SECURE_ALL_LOCKS) & ~bits;
  const unknown = bits & ~BigInt(SECURE_ALL_LOCKS | SECURE_ALL_BITS);
  if (lockedChange !== 0n || unlock !== 0n || unknown !== 0n || !t.creds.nsCapable(t.creds.userNs, CAP_SETPCAP)) fail(EPERM);
  const next = t.creds.clone();
  next.securebits = Number(bits);
  commitCreds(t, next);
  return 0;
}

function ambient(t: Task, a: SyscallArgs): number {
  const op = a.u64(1);
  if (op === BigInt(PR_CAP_AMBIENT_CLEAR_ALL)) {
    if (a.u64(2) !== 0n || a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
    const next = t.creds.clone();
    next.capAmbient = CAP_EMPTY_SET;
    commitCreds(t, next);
    return 0;
  }
  const cap = capArg(a, 2);
  if (a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
  const c = t.creds;
  if (op === BigInt(PR_CAP_AMBIENT_IS_SET)) return capRaised(c.capAmbient, cap) ? 1 : 0;
  if (op !== BigInt(PR_CAP_AMBIENT_RAISE) && op !== BigInt(PR_CAP_AMBIENT_LOWER)) fail(EINVAL);
  const raise = op === BigInt(PR_CAP_AMBIENT_RAISE);
  // A capability joins the ambient set only if permitted and inheritable.
  if (raise && (!capRaised(c.capPermitted, cap) || !capRaised(c.capInheritable, cap) ||
    issecure(c.securebits, SECURE_NO_CAP_AMBIENT_RAISE))) fail(EPERM);
  const next = c.clone();
  if (raise) next.capAmbient |= capMask(cap);
  else next.capAmbient &= ~capMask(cap);
  commitCreds(t, next);
  return 0;
}

/** The option's result, or undefined when it is not a capability option. */
export function capTaskPrctl(t: Task, option: number, a: SyscallArgs): number | undefined {
  const c = t.creds;
  switch (option) {
    case PR_CAPBSET_READ:
      return capRaised(c.capBounding, capArg(a, 1)) ? 1 : 0;
    case PR_CAPBSET_DROP: {
      if (!c.nsCapable(c.userNs, CAP_SETPCAP)) fail(EPERM);
      const cap = capArg(a, 1);
      const next = c.clone();
      next.capBounding &= ~capMask(cap);
      commitCreds(t, next);
      return 0;
    }
    case PR_GET_SECUREBITS: return c.securebits;
    case PR_SET_SECUREBITS: return setSecurebits(t, a.u64(1));
    case PR_GET_KEEPCAPS: return issecure(c.securebits, SECURE_KEEP_CAPS) ? 1 : 0;
    case PR_SET_KEEPCAPS: {
      const v = a.u64(1);
      if (v > 1n) fail(EINVAL);
      if (issecure(c.securebits, SECURE_KEEP_CAPS_LOCKED)) fail(EPERM);
      const next = c.clone();
      if (v === 1n) next.securebits |= 1 << SECURE_KEEP_CAPS;
      else next.securebits &= ~(1 << SECURE_KEEP_CAPS);
      commitCreds(t, next);
      return 0;
    }
    case PR_CAP_AMBIENT: return ambient(t, a);
    default: return undefined;
  }
}
