// prctl (Linux kernel/sys.c): the task switches start-up code and runtimes touch — the
// command name, dumpability, the parent-death signal, the child subreaper, no_new_privs, seccomp (sys_seccomp.ts), the timer slack — and the capability
// options (prctl_caps.ts), which Linux's security hook answers first. Other options answer
// EINVAL, as Linux does for an option it does not know (PR_SET_VMA included: it needs
// CONFIG_ANON_VMA_NAME, and callers treat EINVAL as "not supported").

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EINVAL, ENAMETOOLONG } from '../../abi/linux/errno';
import {
  PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE, PR_GET_NAME, PR_SET_CHILD_SUBREAPER, PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_SET_DUMPABLE,
  PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, TASK_COMM_LEN, PR_GET_SECCOMP, PR_SET_SECCOMP,
} from '../../abi/linux/prctl';
import { NSIG } from '../../abi/linux/signal';
import { SYS_prctl } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { taskAttrs, truncateComm } from './task_attrs';
import { capTaskPrctl } from './prctl_caps';
import { prctlMisc } from './prctl_misc';
import { prctlSetSeccomp } from './sys_seccomp';
import { seccompMode } from '../../kernel/seccomp';
import { bytesToString, stringBytes } from '../../abi/byte_string';

const PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30;
const SUID_DUMP_DISABLE = 0;
const SUID_DUMP_USER = 1;

/** PR_SET_NAME takes up to TASK_COMM_LEN-1 bytes, stopping at a NUL (strncpy_from_user: a
 *  short name just before an unmapped page is fine). */
function setName(t: Task, addr: number): number {
  let name: string;
  try {
    name = t.mm.readCString(addr, TASK_COMM_LEN);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.errno !== ENAMETOOLONG) throw e;
    name = bytesToString(t.mm.copyIn(addr, TASK_COMM_LEN - 1));
  }
  taskAttrs(t).comm = truncateComm(name);
  return 0;
}

function getName(t: Task, addr: number): number {
  const out = new Uint8Array(TASK_COMM_LEN);
  out.set(stringBytes(taskAttrs(t).comm).subarray(0, TASK_COMM_LEN - 1));
  t.mm.copyOut(addr, out);
  return 0;
}

function sysPrctl(t: Task, a: SyscallArgs): number {
  const option = a.int(0);
  const attrs = taskAttrs(t);
  const capResult = capTaskPrctl(t, option, a);
  if (capResult !== undefined) return capResult;
  switch (option) {
    case PR_SET_NAME: return setName(t, a.ptr(1));
    case PR_GET_NAME: return getName(t, a.ptr(1));
    case PR_GET_DUMPABLE: return attrs.dumpable;
    case PR_SET_DUMPABLE: {
      const v = a.u64(1);
      if (v !== BigInt(SUID_DUMP_DISABLE) && v !== BigInt(SUID_DUMP_USER)) fail(EINVAL);
      attrs.dumpable = Number(v);
      return 0;
    }
    case PR_SET_PDEATHSIG: {
      const sig = a.u64(1);
      if (sig > BigInt(NSIG)) fail(EINVAL);
      attrs.pdeathsig = Number(sig);
      return 0;
    }
    case PR_SET_CHILD_SUBREAPER:
      t.tg.childSubreaper = a.u64(1) !== 0n;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      t.mm.writeI32(a.ptr(1), t.tg.childSubreaper ? 1 : 0);
      return 0;
    case PR_GET_PDEATHSIG:
      t.mm.writeI32(a.ptr(1), attrs.pdeathsig);
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (a.u64(1) !== 1n || a.u64(2) !== 0n || a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
      attrs.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      if (a.u64(1) !== 0n || a.u64(2) !== 0n || a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
      return attrs.noNewPrivs ? 1 : 0;
    case PR_GET_SECCOMP: return seccompMode(t);
    case PR_SET_SECCOMP: return prctlSetSeccomp(t, a.u64(1), a.ptr(2));
    case PR_SET_TIMERSLACK: {
      // 0 goes back to the slack the task was forked with.
      const v = a.u64(1);
      attrs.timerSlackNs = v === 0n ? attrs.defaultTimerSlackNs : v;
      return 0;
    }
    case PR_GET_TIMERSLACK: return Number(attrs.timerSlackNs);
    default: {
      const r = prctlMisc(t, option, a);
      if (r === undefined) fail(EINVAL);
      return r;
    }
  }
}

export function registerPrctl(table: SyscallTable): void {
  table[SYS_prctl] = { name: 'prctl', handler: sysPrctl, args: ['int', 'hex', 'hex', 'hex', 'hex'] };
}
