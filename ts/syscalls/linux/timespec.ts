// struct timespec / timeval in application memory: 16 bytes, (seconds, nanoseconds or
// microseconds), both signed 64-bit.

import type { Task } from '../../kernel/task';
import { NSEC_PER_SEC } from '../../abi/linux/time';

export interface RawTimespec { sec: bigint; nsec: bigint }

export function copyInTimespec(t: Task, addr: number): RawTimespec {
  const b = t.mm.copyIn(addr, 16);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { sec: v.getBigInt64(0, true), nsec: v.getBigInt64(8, true) };
}

/** Linux timespec64_valid: non-negative seconds, nanoseconds in [0, 1e9). */
export function timespecValid(ts: RawTimespec): boolean {
  return ts.sec >= 0n && ts.nsec >= 0n && ts.nsec < NSEC_PER_SEC;
}

export function timespecToNs(ts: RawTimespec): bigint {
  return ts.sec * NSEC_PER_SEC + ts.nsec;
}

function pair(a: bigint, b: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, a, true);
  v.setBigInt64(8, b, true);
  return out;
}

export function copyOutTimespec(t: Task, addr: number, ns: bigint): void {
  t.mm.copyOut(addr, pair(ns / NSEC_PER_SEC, ns % NSEC_PER_SEC));
}

export function copyOutTimeval(t: Task, addr: number, ns: bigint): void {
  t.mm.copyOut(addr, pair(ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / 1000n));
}
