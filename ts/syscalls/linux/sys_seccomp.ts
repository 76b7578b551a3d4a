// seccomp(2) and prctl's PR_SET_SECCOMP / PR_GET_SECCOMP (Linux kernel/seccomp.c): reads and
// checks the application's sock_fprog, stacks the filter on the calling task (or, with
// TSYNC, its whole thread group). Filters run in the sentry (kernel/seccomp.ts); the
// host's seccomp is never asked. SECCOMP_FILTER_FLAG_NEW_LISTENER is refused with EINVAL,
// as a kernel without user notification does, and GET_ACTION_AVAIL says USER_NOTIF is not
// available: there is no listener fd to hand out.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EFAULT, EINVAL, ENOMEM, ENOTSUP, ESRCH } from '../../abi/linux/errno';
import { SYS_seccomp } from '../../abi/linux/syscall_numbers';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import {
  BPF_MAXINSNS, BpfInvalid, SOCK_FILTER_SIZE, checkClassic, checkSeccomp, convertedLength, decodeSockFilters,
} from '../../kernel/bpf';
import {
  MAX_INSNS_PER_PATH, SECCOMP_DATA_SIZE, SECCOMP_MODE_FILTER, SECCOMP_MODE_STRICT,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, type SeccompFilter, type SeccompState,
  seccompMode,
} from '../../kernel/seccomp';
import type { SyscallArgs, SyscallTable } from './types';
import { taskAttrs } from './task_attrs';

const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2,
  SECCOMP_GET_NOTIF_SIZES = 3;
const FLAG_TSYNC = 1, FLAG_LOG = 2, FLAG_SPEC_ALLOW = 4, FLAG_NEW_LISTENER = 8,
  FLAG_TSYNC_ESRCH = 16, FLAG_WAIT_KILLABLE_RECV = 32;
const FLAGS_KNOWN = FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH |
  FLAG_WAIT_KILLABLE_RECV;
// sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp), sizeof(struct seccomp_data).
const NOTIF_SIZES = [80, 24, SECCOMP_DATA_SIZE];
const AVAILABLE = new Set([SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW]);
/** sizeof(struct sock_fprog): u16 len, padding, pointer. */
const SOCK_FPROG_SIZE = 16;

/** seccomp_may_assign_mode: a task in one mode cannot switch to the other. */
function mayAssign(t: Task, mode: number): void {
  const cur = seccompMode(t);
  if (cur !== 0 && cur !== mode) fail(EINVAL);
}

function setStrict(t: Task, flags: bigint, uargs: number): number {
  if (flags !== 0n || uargs !== 0) fail(EINVAL);
  mayAssign(t, SECCOMP_MODE_STRICT);
  t.seccomp = { mode: SECCOMP_MODE_STRICT, filter: null };
  return 0;
}

/** seccomp_prepare_user_filter: the sock_fprog, the privilege rule, the program itself. */
function prepareFilter(t: Task, uargs: number): { len: number; bytes: Uint8Array } {
  const fprog = t.mm.copyIn(uargs, SOCK_FPROG_SIZE);
  const v = new DataView(fprog.buffer, fprog.byteOffset, fprog.byteLength);
  const len = v.getUint16(0, true);
  const filterAddr = v.getBigUint64(8, true);
  if (len === 0 || len > BPF_MAXINSNS) fail(EINVAL);
  if (!taskAttrs(t).noNewPrivs && !t.creds.nsCapable(t.creds.userNs, CAP_SYS_ADMIN)) fail(EACCES);
  if (filterAddr >= 1n << 53n) fail(EFAULT);
  return { len, bytes: t.mm.copyIn(Number(filterAddr), len * SOCK_FILTER_SIZE) };
}

/** Can `other` take the caller's filter under TSYNC (is_ancestor: its chain is a prefix)? */
function canSync(other: Task, mine: SeccompFilter | null): boolean {
  const s = other.seccomp;
  if (s === null) return true;
  if (s.mode !== SECCOMP_MODE_FILTER) return false;
  for (let f = mine; f !== null; f = f.prev) if (f === s.filter) return true;
  return s.filter === null;
}

function setFilter(t: Task, flags: bigint, uargs: number): number {
  if ((flags & ~BigInt(FLAGS_KNOWN)) !== 0n) fail(EINVAL);
  const f = Number(flags);
  // No listener fd can be handed out here (see the header).
  if (f & (FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV)) fail(EINVAL);
  const { len, bytes } = prepareFilter(t, uargs);
  const prog = decodeSockFilters(bytes, len);
  try {
    checkClassic(prog);
    checkSeccomp(prog, SECCOMP_DATA_SIZE);
  } catch (e) {
    if (e instanceof BpfInvalid) fail(EINVAL);
    throw e;
  }
  mayAssign(t, SECCOMP_MODE_FILTER);
  const prev = t.seccomp?.filter ?? null;
  // The path limit counts the eBPF instructions Linux would have made of each filter.
  const insns = convertedLength(prog) + (prev === null ? 0 : prev.insns + 4);
  if (insns > MAX_INSNS_PER_PATH) fail(ENOMEM);
  const filter: SeccompFilter = {
    prog, prev, log: (f & FLAG_LOG) !== 0, count: (prev?.count ?? 0) + 1, insns,
  };
  const state: SeccompState = { mode: SECCOMP_MODE_FILTER, filter };
  if (f & FLAG_TSYNC) {
    for (const o of t.tg.tasks) {
      if (o === t || o.exited) continue;
      // Failure: the id of the first thread that cannot follow, or ESRCH if asked.
      if (!canSync(o, filter)) {
        if (f & FLAG_TSYNC_ESRCH) fail(ESRCH);
        return o.tid;
      }
    }
    const nnp = taskAttrs(t).noNewPrivs;
    for (const o of t.tg.tasks) {
      if (o.exited) continue;
      o.seccomp = state;
      if (nnp) taskAttrs(o).noNewPrivs = true;
    }
    return 0;
  }
  t.seccomp = state;
  return 0;
}

function getActionAvail(t: Task, flags: bigint, uargs: number): number {
  if (flags !== 0n) fail(EINVAL);
  const action = t.mm.readU32(uargs);
  if (!AVAILABLE.has(action)) fail(ENOTSUP);
  return 0;
}

function getNotifSizes(t: Task, flags: bigint, uargs: number): number {
  if (flags !== 0n) fail(EINVAL);
  const out = new Uint8Array(6);
  const v = new DataView(out.buffer);
  NOTIF_SIZES.forEach((n, i) => v.setUint16(i * 2, n, true));
  t.mm.copyOut(uargs, out);
  return 0;
}

/** do_seccomp. */
export function doSeccomp(t: Task, op: number, flags: bigint, uargs: number): number {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT: return setStrict(t, flags, uargs);
    case SECCOMP_SET_MODE_FILTER: return setFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL: return getActionAvail(t, flags, uargs);
    case SECCOMP_GET_NOTIF_SIZES: return getNotifSizes(t, flags, uargs);
    default: fail(EINVAL);
  }
}

function sysSeccomp(t: Task, a: SyscallArgs): number {
  // op and flags are unsigned int: the upper halves of the registers do not count.
  return doSeccomp(t, a.int(0) >>> 0, a.u64(1) & 0xffff_ffffn, a.ptr(2));
}

/** prctl(PR_SET_SECCOMP, mode, filter): strict ignores the pointer. */
export function prctlSetSeccomp(t: Task, mode: bigint, filter: number): number {
  if (mode === BigInt(SECCOMP_MODE_STRICT)) return doSeccomp(t, SECCOMP_SET_MODE_STRICT, 0n, 0);
  if (mode === BigInt(SECCOMP_MODE_FILTER)) return doSeccomp(t, SECCOMP_SET_MODE_FILTER, 0n, filter);
  fail(EINVAL);
}

export function registerSeccomp(table: SyscallTable): void {
  table[SYS_seccomp] = { name: 'seccomp', handler: sysSeccomp, args: ['int', 'hex', 'ptr'] };
}
