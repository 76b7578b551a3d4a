// The prctl options a runtime or a test suite probes beyond the common ones (sys_prctl.ts):
// TSC and timing modes, machine-check kill policy, THP disable, the clear_child_tid address,
// perf-event switches, KSM merge, MDWE and I/O flusher queries, the auxiliary vector, and
// PR_SET_MM's size query. Each checks its arguments as Linux's kernel/sys.c does. Modes the
// sandbox could not enforce (a SIGSEGV on rdtsc, deny-write-execute) are EINVAL, not
// silently accepted.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import type { SyscallArgs } from './types';
import { setProcessAttr, taskAttrs } from './task_attrs';
import { auxv } from '../../fsimpl/proc/task_files';
import { specCtrlGet, specCtrlSet } from '../../kernel/speculation';

const PR_GET_TIMING = 13, PR_SET_TIMING = 14, PR_GET_TSC = 25, PR_SET_TSC = 26, PR_TASK_PERF_EVENTS_DISABLE = 31,
  PR_TASK_PERF_EVENTS_ENABLE = 32, PR_MCE_KILL = 33, PR_MCE_KILL_GET = 34, PR_SET_MM = 35, PR_GET_TID_ADDRESS = 40,
  PR_GET_SPECULATION_CTRL = 52, PR_SET_SPECULATION_CTRL = 53,
  PR_SET_THP_DISABLE = 41, PR_GET_THP_DISABLE = 42, PR_SET_IO_FLUSHER = 57, PR_GET_IO_FLUSHER = 58,
  PR_SET_MDWE = 65, PR_GET_MDWE = 66, PR_SET_MEMORY_MERGE = 67, PR_GET_MEMORY_MERGE = 68, PR_GET_AUXV = 0x41555856;
const PR_TIMING_STATISTICAL = 0, PR_TSC_ENABLE = 1;
const PR_MCE_KILL_CLEAR = 0, PR_MCE_KILL_SET = 1, PR_MCE_KILL_LATE = 0, PR_MCE_KILL_EARLY = 1, PR_MCE_KILL_DEFAULT = 2;
const PR_SET_MM_MAP_SIZE = 15, PRCTL_MM_MAP_SIZE = 104;
/** sizeof(mm->saved_auxv) on x86-64 Linux 6.18: 2 * (AT_VECTOR_SIZE_ARCH + AT_VECTOR_SIZE_BASE + 1) longs. */
const SAVED_AUXV_SIZE = 448;

/** The option's answer, or undefined if it is not one of these. */
export function prctlMisc(t: Task, option: number, a: SyscallArgs): number | undefined {
  const attrs = taskAttrs(t);
  const zeroFrom = (i: number): void => {
    for (let k = i; k <= 4; k++) if (a.u64(k) !== 0n) fail(EINVAL);
  };
  switch (option) {
    case PR_GET_TSC:
      t.mm.writeI32(a.ptr(1), PR_TSC_ENABLE);
      return 0;
    case PR_SET_TSC:
      // Only "enabled": the application's rdtsc runs on the host CPU, which cannot be made to fault.
      if (a.u64(1) !== BigInt(PR_TSC_ENABLE)) fail(EINVAL);
      return 0;
    case PR_GET_TIMING: return PR_TIMING_STATISTICAL;
    case PR_GET_SPECULATION_CTRL: {
      zeroFrom(2);
      const v = specCtrlGet(a.u64(1));
      if (v < 0) fail(-v);
      return v;
    }
    case PR_SET_SPECULATION_CTRL:
      zeroFrom(3);
      return specCtrlSet(a.u64(1), a.u64(2));
    case PR_SET_TIMING:
      if (a.u64(1) !== BigInt(PR_TIMING_STATISTICAL)) fail(EINVAL);
      return 0;
    case PR_TASK_PERF_EVENTS_DISABLE:
    case PR_TASK_PERF_EVENTS_ENABLE:
      return 0; // no performance counters exist to switch
    case PR_MCE_KILL: {
      if (a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
      const how = a.u64(1), policy = a.u64(2);
      if (how === BigInt(PR_MCE_KILL_CLEAR)) {
        if (policy !== 0n) fail(EINVAL);
        attrs.mceKill = PR_MCE_KILL_DEFAULT;
      } else if (how === BigInt(PR_MCE_KILL_SET)) {
        if (policy === BigInt(PR_MCE_KILL_EARLY)) attrs.mceKill = PR_MCE_KILL_EARLY;
        else if (policy === BigInt(PR_MCE_KILL_LATE)) attrs.mceKill = PR_MCE_KILL_LATE;
        else if (policy === BigInt(PR_MCE_KILL_DEFAULT)) attrs.mceKill = PR_MCE_KILL_DEFAULT;
        else fail(EINVAL);
      } else {
        fail(EINVAL);
      }
      return 0;
    }
    case PR_MCE_KILL_GET:
      zeroFrom(1);
      return attrs.mceKill;
    case PR_SET_THP_DISABLE:
      zeroFrom(2);
      setProcessAttr(t, 'thpDisable', a.u64(1) !== 0n);
      return 0;
    case PR_GET_THP_DISABLE:
      zeroFrom(1);
      return attrs.thpDisable ? 1 : 0;
    case PR_GET_TID_ADDRESS:
      t.mm.writeU64(a.ptr(1), BigInt(t.clearChildTid));
      return 0;
    case PR_SET_IO_FLUSHER:
    case PR_GET_IO_FLUSHER:
      if (!t.creds.hasCapability(CAP_SYS_RESOURCE)) fail(EPERM);
      if (option === PR_GET_IO_FLUSHER) {
        zeroFrom(1);
        return attrs.ioFlusher ? 1 : 0;
      }
      zeroFrom(2);
      if (a.u64(1) > 1n) fail(EINVAL);
      attrs.ioFlusher = a.u64(1) === 1n;
      return 0;
    case PR_SET_MDWE:
      // Refusing writable-executable mappings is not enforced here: not accepted either.
      fail(EINVAL);
      break;
    case PR_GET_MDWE:
      zeroFrom(1);
      return 0;
    case PR_SET_MEMORY_MERGE:
      zeroFrom(2);
      if (a.u64(1) > 1n) fail(EINVAL);
      setProcessAttr(t, 'memoryMerge', a.u64(1) === 1n);
      return 0;
    case PR_GET_MEMORY_MERGE:
      zeroFrom(1);
      return attrs.memoryMerge ? 1 : 0;
    case PR_GET_AUXV: {
      // Linux copies and reports its whole saved_auxv array, the unused tail zeros.
      if (a.u64(3) !== 0n || a.u64(4) !== 0n) fail(EINVAL);
      const saved = new Uint8Array(SAVED_AUXV_SIZE);
      saved.set(auxv(t).subarray(0, SAVED_AUXV_SIZE));
      const size = Math.min(SAVED_AUXV_SIZE, a.size(2));
      if (size > 0) t.mm.copyOut(a.ptr(1), saved.subarray(0, size));
      return SAVED_AUXV_SIZE;
    }
    case PR_SET_MM: {
      // The size query needs no privilege (prctl_set_mm answers it before the check).
      if (a.u64(1) === BigInt(PR_SET_MM_MAP_SIZE)) {
        t.mm.writeU32(a.ptr(2), PRCTL_MM_MAP_SIZE);
        return 0;
      }
      if (!t.creds.hasCapability(CAP_SYS_RESOURCE)) fail(EPERM);
      // Moving the mm's fields (argv, env, brk, exe) is not done here.
      fail(EINVAL);
      break;
    }
    default:
      return undefined;
  }
  return undefined;
}
