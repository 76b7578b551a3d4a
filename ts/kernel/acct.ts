// BSD process accounting (Linux kernel/acct.c, ACCT_VERSION 3): while acct(2) has named a
// file, every process that ends appends one struct acct_v3 (64 bytes) to it. Owns the
// accounting file of the kernel and the record's encoding; the exit path calls
// acctProcess once per process, when its last task is gone.
//
// Not collected, so zero: ac_mem, ac_minflt, ac_majflt (Linux: counters we do not keep),
// ac_tty (the controlling terminal's device number); ASU (Linux's PF_SUPERPRIV, "used a
// capability") is never set.

import type { FileDescription } from '../vfs/file_description';
import { taskAttrs } from '../syscalls/linux/task_attrs';
import type { Kernel } from './kernel';
import type { Task } from './task';
import { processCpu } from './timers/cpu_time';
import { stringBytes } from '../abi/byte_string';

const ACCT_VERSION = 3;
const AFORK = 0x01, ACORE = 0x08, AXSIG = 0x10;
const AHZ = 100n;
const NS_PER_AHZ = 1_000_000_000n / AHZ;
export const ACCT_V3_SIZE = 64;

const files = new WeakMap<Kernel, FileDescription>();

/** acct(2): account into f from now on (null: stop); the previous file is let go. */
export function setAcctFile(k: Kernel, f: FileDescription | null): void {
  const old = files.get(k);
  if (f) {
    f.incRef();
    files.set(k, f);
  } else {
    files.delete(k);
  }
  old?.decRef();
}

/** encode_comp_t: 13-bit mantissa, 3-bit base-8 exponent, rounding up the dropped bits. */
export function encodeCompT(value: bigint): number {
  let v = value;
  let exp = 0;
  let rnd = 0n;
  while (v > 0x1fffn) {
    rnd = v & 4n;
    v >>= 3n;
    exp++;
  }
  if (rnd !== 0n && ++v > 0x1fffn) {
    v >>= 3n;
    exp++;
  }
  if (exp > 7) return 0xffff;
  return (exp << 13) | Number(v);
}

/** One record for the process whose last task t is ending with wait status `status`. */
export function encodeAcct(t: Task, status: number): Uint8Array {
  const b = new Uint8Array(ACCT_V3_SIZE);
  const v = new DataView(b.buffer);
  const a = taskAttrs(t);
  let flag = a.forkNoExec ? AFORK : 0;
  if ((status & 0x7f) !== 0) flag |= AXSIG;
  if ((status & 0x80) !== 0) flag |= ACORE;
  v.setUint8(0, flag);
  v.setUint8(1, ACCT_VERSION);
  v.setUint16(2, 0, true);
  v.setUint32(4, status >>> 0, true);
  v.setUint32(8, t.creds.uid >>> 0, true);
  v.setUint32(12, t.creds.gid >>> 0, true);
  v.setUint32(16, t.tg.tgid, true);
  v.setUint32(20, t.tg.parent?.tgid ?? 0, true);
  v.setUint32(24, Math.floor(a.startRealMs / 1000) >>> 0, true);
  const elapsed = (process.hrtime.bigint() - a.startMonoNs) / NS_PER_AHZ;
  v.setFloat32(28, Number(elapsed), true);
  const cpu = processCpu(t.tg);
  v.setUint16(32, encodeCompT(cpu.userNs / NS_PER_AHZ), true);
  v.setUint16(34, encodeCompT(cpu.sysNs / NS_PER_AHZ), true);
  // ac_mem, ac_io, ac_rw, ac_minflt, ac_majflt, ac_swaps: 0 (ac_io, ac_rw, ac_swaps are 0 in Linux too).
  const comm = stringBytes(a.comm).subarray(0, 15);
  b.set(comm, 48);
  return b;
}

/** acct_process: append the ending process's record, if accounting is on. */
export function acctProcess(t: Task, status: number): void {
  const f = files.get(t.kernel);
  if (!f) return;
  try {
    // A regular file's write does not wait; if it ever did, the record would still land.
    void f.write(t, encodeAcct(t, status), -1);
  } catch {
    // Linux drops a record it cannot write (a full disk, a file made read-only).
  }
}
