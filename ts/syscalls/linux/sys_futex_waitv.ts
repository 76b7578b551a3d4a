// futex_waitv (Linux kernel/futex/syscalls.c, waitwake.c futex_wait_multiple): one wait on
// up to 128 u32 futexes, each {val, uaddr, flags}; a FUTEX_WAKE on any of them ends it with
// that entry's index. The deadline is absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EFAULT, EINVAL, ETIMEDOUT } from '../../abi/linux/errno';
import { SYS_futex_waitv } from '../../abi/linux/syscall_numbers';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../../abi/linux/time';
import { FUTEX_BITSET_MATCH_ANY, enqueueWaiter, futexKey, removeWaiter, type FutexWaiter } from '../../kernel/futex';
import { block } from '../../kernel/blocking';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { clockNow } from './clocks';

const FUTEX_WAITV_MAX = 128;
const FUTEX2_SIZE_MASK = 0x03, FUTEX2_SIZE_U32 = 0x02, FUTEX2_NUMA = 0x04, FUTEX2_MPOL = 0x08,
  FUTEX2_PRIVATE = 128;
const FUTEX2_VALID_MASK = FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE;
/** struct futex_waitv: u64 val, u64 uaddr, u32 flags, u32 __reserved. */
const WAITV_SIZE = 24;

interface Entry { uaddr: bigint; val: number; priv: boolean }

/** futex_parse_waitv: every entry's flags and value checked before any is looked at. */
function parse(t: Task, addr: number, n: number): Entry[] {
  const raw = t.mm.copyIn(addr, n * WAITV_SIZE);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * WAITV_SIZE;
    const val = v.getBigUint64(o, true);
    const flags = v.getUint32(o + 16, true);
    if ((flags & ~FUTEX2_VALID_MASK) !== 0 || v.getUint32(o + 20, true) !== 0) fail(EINVAL);
    // Only u32 futexes, and no NUMA node words, for now (futex_flags_valid).
    if ((flags & FUTEX2_SIZE_MASK) !== FUTEX2_SIZE_U32 || (flags & (FUTEX2_NUMA | FUTEX2_MPOL)) !== 0) fail(EINVAL);
    if (val > 0xffffffffn) fail(EINVAL);
    out.push({ uaddr: v.getBigUint64(o + 8, true), val: Number(val), priv: (flags & FUTEX2_PRIVATE) !== 0 });
  }
  return out;
}

/** get_futex_key for an entry: EINVAL misaligned, EFAULT outside the address space. */
function keyOf(t: Task, e: Entry): string {
  if (e.uaddr % 4n !== 0n) fail(EINVAL);
  if (e.uaddr > BigInt(t.mm.maxAddr)) fail(EFAULT);
  return futexKey(t, Number(e.uaddr), e.priv);
}

function sysFutexWaitv(t: Task, a: SyscallArgs): SyscallReturn {
  const addr = a.ptr(0);
  const n = a.uint(1);
  if (a.uint(2) !== 0) fail(EINVAL);
  if (n === 0 || n > FUTEX_WAITV_MAX || addr === 0) fail(EINVAL);
  let timeout: bigint | null = null;
  const tsAddr = a.ptr(3);
  if (tsAddr !== 0) {
    const clock = a.int(4);
    if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC) fail(EINVAL);
    const ts = copyInTimespec(t, tsAddr);
    if (!timespecValid(ts)) fail(EINVAL);
    timeout = timespecToNs(ts) - clockNow(t, clock);
  }
  const entries = parse(t, addr, n);
  const keys = entries.map((e) => keyOf(t, e));
  for (const e of entries) if (t.mm.readU32(Number(e.uaddr)) !== e.val) fail(EAGAIN);
  if (timeout !== null && timeout <= 0n) fail(ETIMEDOUT);
  return block<number>(t, (wake) => {
    const ws: FutexWaiter[] = keys.map((key, i) => ({ key, bitset: FUTEX_BITSET_MATCH_ANY, wake: () => wake(i) }));
    for (const w of ws) enqueueWaiter(w);
    return () => { for (const w of ws) removeWaiter(w); };
  }, timeout !== null ? { timeoutNs: timeout } : {}, () => -1).then((i) => (i >= 0 ? i : fail(ETIMEDOUT)));
}

export function registerFutexWaitv(table: SyscallTable): void {
  table[SYS_futex_waitv] = { name: 'futex_waitv', handler: sysFutexWaitv, args: ['ptr', 'uint', 'hex', 'timespec', 'clock'] };
}
