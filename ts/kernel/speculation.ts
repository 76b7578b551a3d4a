// Speculation control (Linux arch/x86/kernel/cpu/bugs.c, PR_{GET,SET}_SPECULATION_CTRL and the
// Speculation_* lines of /proc/<pid>/status). The application runs on the host CPU under the
// host kernel's mitigations, so the sandbox reports the host's: read once when the sentry
// loads, from the sentry's own status (as cpuinfo is), before it opens no more host files.
//
// Where the host lets each task choose (the "thread ..." and "conditional ..." modes), a
// choice made here would have to be applied to the stub thread on the host, which the sentry
// does not do: such a set is refused as where the host offers no choice (ENXIO, EPERM) rather
// than reported done and not applied.

import * as fs from 'node:fs';
import { EINVAL, ENODEV, ENXIO, EPERM, ERANGE } from '../abi/linux/errno';
import { fail } from './syscall_error';

export const PR_SPEC_STORE_BYPASS = 0, PR_SPEC_INDIRECT_BRANCH = 1, PR_SPEC_L1D_FLUSH = 2;
const PR_SPEC_NOT_AFFECTED = 0, PR_SPEC_PRCTL = 1, PR_SPEC_ENABLE = 2, PR_SPEC_DISABLE = 4,
  PR_SPEC_FORCE_DISABLE = 8;
/** arch_prctl_spec_ctrl_get's -EINVAL: the kernel cannot say. */
const UNKNOWN = -EINVAL;

/** The status texts of task_seccomp's two switches and the value each stands for. */
const SSB_TEXT: [string, number][] = [
  ['unknown', UNKNOWN], ['not vulnerable', PR_SPEC_NOT_AFFECTED],
  ['thread force mitigated', PR_SPEC_PRCTL | PR_SPEC_FORCE_DISABLE], ['thread mitigated', PR_SPEC_PRCTL | PR_SPEC_DISABLE],
  ['thread vulnerable', PR_SPEC_PRCTL | PR_SPEC_ENABLE], ['globally mitigated', PR_SPEC_DISABLE], ['vulnerable', PR_SPEC_ENABLE],
];
const IB_TEXT: [string, number][] = [
  ['unsupported', UNKNOWN], ['not affected', PR_SPEC_NOT_AFFECTED],
  ['conditional force disabled', PR_SPEC_PRCTL | PR_SPEC_FORCE_DISABLE],
  ['conditional disabled', PR_SPEC_PRCTL | PR_SPEC_DISABLE], ['conditional enabled', PR_SPEC_PRCTL | PR_SPEC_ENABLE],
  ['always enabled', PR_SPEC_ENABLE], ['always disabled', PR_SPEC_DISABLE],
];

function hostValue(status: string, line: string, table: [string, number][]): number {
  const m = new RegExp(`^${line}:\\s*(.*)$`, 'm').exec(status);
  return table.find(([text]) => text === m?.[1]?.trim())?.[1] ?? UNKNOWN;
}

const hostStatus: string = (() => {
  try { return fs.readFileSync('/proc/self/status', 'utf8'); } catch { return ''; }
})();
const SSB = hostValue(hostStatus, 'Speculation_Store_Bypass', SSB_TEXT);
const IB = hostValue(hostStatus, 'SpeculationIndirectBranch', IB_TEXT);

/** arch_prctl_spec_ctrl_get: the value, or a negative errno. L1D flushing on context switch
 *  is off unless the host booted with l1d_flush=on, which only the host's tasks can use. */
export function specCtrlGet(which: bigint): number {
  if (which === BigInt(PR_SPEC_STORE_BYPASS)) return SSB;
  if (which === BigInt(PR_SPEC_INDIRECT_BRANCH)) return IB;
  if (which === BigInt(PR_SPEC_L1D_FLUSH)) return PR_SPEC_FORCE_DISABLE;
  return -ENODEV;
}

/** arch_prctl_spec_ctrl_set: 0, or fails with Linux's errno for the host's mode. */
export function specCtrlSet(which: bigint, ctrl: bigint): number {
  if (which === BigInt(PR_SPEC_STORE_BYPASS)) {
    // ssb_prctl_set: only the per-task modes take a choice.
    fail(ENXIO);
  }
  if (which === BigInt(PR_SPEC_INDIRECT_BRANCH)) {
    const none = IB === PR_SPEC_ENABLE || IB === PR_SPEC_NOT_AFFECTED || IB === UNKNOWN;
    if (ctrl === BigInt(PR_SPEC_ENABLE)) {
      if (none) return 0;
      fail(EPERM);
    }
    if (ctrl === BigInt(PR_SPEC_DISABLE) || ctrl === BigInt(PR_SPEC_FORCE_DISABLE)) {
      if (none) fail(EPERM);
      if (IB === PR_SPEC_DISABLE) return 0;
      fail(EPERM);
    }
    fail(ERANGE);
  }
  if (which === BigInt(PR_SPEC_L1D_FLUSH)) fail(EPERM);
  fail(ENODEV);
}

/** The two lines /proc/<pid>/status ends its seccomp block with. */
export function speculationStatus(): string[] {
  const text = (table: [string, number][], v: number, other: string): string =>
    table.find(([, x]) => x === v)?.[0] ?? other;
  return [`Speculation_Store_Bypass:\t${text(SSB_TEXT, SSB, 'vulnerable')}`,
    `SpeculationIndirectBranch:\t${text(IB_TEXT, IB, 'unknown')}`];
}
