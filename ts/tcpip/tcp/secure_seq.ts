// Initial sequence numbers and timestamp offsets from keyed hashes (Linux net/core/secure_seq.c,
// RFC 6528 and RFC 7323 §5.4): the ISN is a hash of the 4-tuple plus a 4 µs clock, so each new
// incarnation of a connection starts above the last one's sequence space (what lets a SYN
// reopen a connection in TIME_WAIT, time_wait.ts) while nobody outside can guess it; the
// timestamp clock's offset is a hash of the address pair alone (Linux's per-host offsets since
// 4.12, net.ipv4.tcp_timestamps=1), so every connection between two hosts shares one clock and
// a new incarnation's TSval is newer than the last one's — PAWS holds across them. The keys are
// per stack, random, never shown.

import { createHmac, randomBytes } from 'node:crypto';
import type { IPAddr } from '../addr';

const keys = new WeakMap<object, { isn: Buffer; ts: Buffer }>();

function keysOf(stack: object): { isn: Buffer; ts: Buffer } {
  let k = keys.get(stack);
  if (!k) keys.set(stack, (k = { isn: randomBytes(32), ts: randomBytes(32) }));
  return k;
}

function hash32(key: Buffer, parts: readonly (IPAddr | number)[]): number {
  const h = createHmac('sha256', key);
  for (const p of parts) {
    if (typeof p === 'number') h.update(Uint8Array.of(p >> 8, p & 0xff));
    else h.update(p);
  }
  return h.digest().readUInt32LE(0);
}

/** secure_tcp_seq: the ISN for a connection from local:lport to remote:rport. */
export function secureTcpSeq(stack: object, local: IPAddr, lport: number, remote: IPAddr, rport: number, nowMs: number): number {
  // The clock runs at 250 ticks per ms (Linux's 4 µs, RFC 6528's M), wrapping in ~4.8 h.
  return (hash32(keysOf(stack).isn, [local, lport, remote, rport]) + Math.floor(nowMs * 250)) >>> 0;
}

/** secure_tcp_ts_off: the TSval offset for connections from local to remote. */
export function secureTcpTsOff(stack: object, local: IPAddr, remote: IPAddr): number {
  return hash32(keysOf(stack).ts, [local, remote]);
}
