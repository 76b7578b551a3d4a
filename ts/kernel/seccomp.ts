// seccomp for applications (Linux kernel/seccomp.c, gVisor pkg/kernel/seccomp.go): the
// per-task mode and filter chain, and the check run at syscall entry. The filters live only
// here in the sentry and are evaluated by our own BPF interpreter (kernel/bpf); nothing an
// application installs ever reaches the host's seccomp. The syscalls that install filters
// are in syscalls/linux/sys_seccomp.ts; this file must not touch syscall arguments itself.

import { type BpfProgram, runBpf } from './bpf';
import type { Task } from './task';
import { REG_R10, REG_R8, REG_R9, REG_RAX, REG_RDI, REG_RDX, REG_RSI, REG_ORIG_RAX, REG_RIP,
  REG_RBX, REG_RCX, REG_RBP } from '../native/addon';
import { SIGKILL, SIGSYS } from '../abi/linux/signal';
import { ENOSYS } from '../abi/linux/errno';
import { sigInfo, type SigInfo } from './sig_pending';
import { forceSignal } from './signal_deliver';
import { seccompTrace } from './ptrace/seccomp_stop';

export const SECCOMP_MODE_DISABLED = 0, SECCOMP_MODE_STRICT = 1, SECCOMP_MODE_FILTER = 2;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** /proc/sys/kernel/seccomp/actions_avail: what GET_ACTION_AVAIL accepts (no user_notif). */
export const SECCOMP_ACTIONS_AVAIL = 'kill_process kill_thread trap errno trace log allow';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
/** sizeof(struct seccomp_data): nr, arch, instruction_pointer, args[6]. */
export const SECCOMP_DATA_SIZE = 64;
/** MAX_INSNS_PER_PATH: instructions over all of a task's filters, 4 extra per filter. */
export const MAX_INSNS_PER_PATH = (1 << 18) / 8;
const MAX_ERRNO = 4095;
/** si_code of a SECCOMP_RET_TRAP SIGSYS. */
export const SYS_SECCOMP = 1;

/** One installed filter; a chain is immutable and shared by the tasks that inherited it. */
export interface SeccompFilter {
  readonly prog: BpfProgram;
  readonly prev: SeccompFilter | null;
  /** SECCOMP_FILTER_FLAG_LOG. */
  readonly log: boolean;
  /** Filters in the chain ending here (Seccomp_filters: in /proc/PID/status). */
  readonly count: number;
  /** eBPF instructions of the chain as Linux converts it, each filter counting 4 more. */
  readonly insns: number;
}

/** A task's seccomp state; replaced, never changed in place, so clone can share it. */
export interface SeccompState {
  readonly mode: typeof SECCOMP_MODE_STRICT | typeof SECCOMP_MODE_FILTER;
  readonly filter: SeccompFilter | null;
}

export function seccompMode(t: Task): number {
  return t.seccomp === null ? SECCOMP_MODE_DISABLED : t.seccomp.mode;
}

export function seccompFilterCount(t: Task): number {
  return t.seccomp?.filter?.count ?? 0;
}

/** What the dispatcher does after the check. Results <= 0 are -errno to return. */
export const SECCOMP_RUN = 1;
export const SECCOMP_SKIP = 2;

// mode1_syscalls: read, write, exit, rt_sigreturn (x86-64); read, write, exit, sigreturn (i386).
const STRICT_64 = new Set([0, 1, 60, 15]);
const STRICT_32 = new Set([3, 4, 1, 119]);

const data = new Uint32Array(SECCOMP_DATA_SIZE / 4);
const ARGS_64 = [REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9];
const ARGS_32 = [REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP];

/** populate_seccomp_data; i386 arguments are their 32-bit registers, zero-extended. */
function fillData(t: Task, nr: number, arch: number): void {
  const w = t.ctx.words;
  data[0] = nr;
  data[1] = arch;
  data[2] = w[REG_RIP * 2];
  data[3] = w[REG_RIP * 2 + 1];
  const regs = arch === AUDIT_ARCH_I386 ? ARGS_32 : ARGS_64;
  for (let i = 0; i < 6; i++) {
    data[4 + i * 2] = w[regs[i] * 2];
    data[5 + i * 2] = arch === AUDIT_ARCH_I386 ? 0 : w[regs[i] * 2 + 1];
  }
}

/** The signed action Linux compares: the lower, the more restrictive (ACTION_ONLY). */
function actionOnly(ret: number): number {
  return (ret & SECCOMP_RET_ACTION_FULL) | 0;
}

/** seccomp_run_filters: every filter runs, newest first; the most restrictive result wins
 *  (the first one found among equals). */
export function runFilters(f: SeccompFilter | null, d: Uint32Array): number {
  let ret = SECCOMP_RET_ALLOW;
  for (; f !== null; f = f.prev) {
    const cur = runBpf(f.prog, d);
    if (actionOnly(cur) < actionOnly(ret)) ret = cur;
  }
  return ret;
}

/** Kill the task with sig, or its whole process when it is the last live thread; a filter's
 *  SIGSYS (info) then dumps core as its default action does (force_sig_seccomp's
 *  force_coredump). */
function killTask(t: Task, sig: number, wholeProcess: boolean, info?: SigInfo): void {
  let live = 0;
  for (const o of t.tg.tasks) if (!o.exited) live++;
  if (wholeProcess || live <= 1) {
    if (info !== undefined) t.kernel.coreDumpAndKill(t, info);
    else t.kernel.killThreadGroup(t.tg, sig);
  } else {
    t.kernel.exitTask(t, 0);
  }
}

/**
 * The check at syscall entry (__secure_computing), for a task with a seccomp state. Returns
 * SECCOMP_RUN to go on with the syscall, SECCOMP_SKIP when it must not run and the registers
 * are already what the application sees, or a -errno result.
 */
export function seccompCheck(t: Task, s: SeccompState, nr: number, arch: number): number {
  if (s.mode === SECCOMP_MODE_STRICT) {
    if ((arch === AUDIT_ARCH_I386 ? STRICT_32 : STRICT_64).has(nr)) return SECCOMP_RUN;
    t.kernel.debug(`[${t.tid}] seccomp strict mode: syscall ${nr} kills the task`);
    killTask(t, SIGKILL, false);
    return SECCOMP_SKIP;
  }
  fillData(t, nr, arch);
  const ret = runFilters(s.filter, data);
  const retData = ret & SECCOMP_RET_DATA;
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_ALLOW:
      return SECCOMP_RUN;
    case SECCOMP_RET_LOG:
      t.kernel.debug(`[${t.tid}] seccomp: syscall ${nr} logged`);
      return SECCOMP_RUN;
    case SECCOMP_RET_ERRNO:
      return -Math.min(retData, MAX_ERRNO);
    case SECCOMP_RET_TRACE:
      // A tracer with PTRACE_O_TRACESECCOMP decides (ptrace/seccomp_stop.ts); without one,
      // Linux fails the call.
      switch (seccompTrace(t, retData)) {
        case 'run': return SECCOMP_RUN;
        case 'stop': return SECCOMP_SKIP;
        default: return -ENOSYS;
      }
    case SECCOMP_RET_USER_NOTIF:
      // No listener can exist (NEW_LISTENER is refused): Linux answers ENOSYS.
      return -ENOSYS;
    case SECCOMP_RET_TRAP: {
      // syscall_rollback: the handler sees rax as it was at entry, the syscall number.
      t.ctx.regs[REG_RAX] = t.ctx.regs[REG_ORIG_RAX];
      forceSignal(t, sigInfo(SIGSYS, SYS_SECCOMP, {
        errno: retData, addr: t.ip, syscall: nr, arch,
      }));
      return SECCOMP_SKIP;
    }
    case SECCOMP_RET_KILL_THREAD:
      t.kernel.debug(`[${t.tid}] seccomp: syscall ${nr} kills the thread`);
      t.ctx.regs[REG_RAX] = t.ctx.regs[REG_ORIG_RAX];
      killTask(t, SIGSYS, false, sigInfo(SIGSYS, SYS_SECCOMP, { errno: retData, addr: t.ip, syscall: nr, arch }));
      return SECCOMP_SKIP;
    default:
      // SECCOMP_RET_KILL_PROCESS and every unknown action.
      t.kernel.debug(`[${t.tid}] seccomp: syscall ${nr} kills the process`);
      t.ctx.regs[REG_RAX] = t.ctx.regs[REG_ORIG_RAX];
      killTask(t, SIGSYS, true, sigInfo(SIGSYS, SYS_SECCOMP, { errno: retData, addr: t.ip, syscall: nr, arch }));
      return SECCOMP_SKIP;
  }
}
