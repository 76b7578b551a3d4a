// Initial sequence numbers and timestamp offsets from keyed hashes (Linux net/core/secure_seq.c,
// RFC 6528 and RFC 7323 §5.4): the ISN is a hash of the 4-tuple plus a 4 µs clock, so each new
// incarnation of a connection starts above the last one's sequence space (what lets a SYN
// reopen a connection in TIME_WAIT, time_wait.ts) while nobody outside can guess it; the
// timestamp clock's offset is a hash of the address pair alone (Linux's per-host offsets since
// 4.12, net.ipv4.tcp_timestamps=1), so every connection between two hosts shares one clock and
// a new incarnation's TSval is newer than the last one's — PAWS holds across them. The keys are
// per stack, random, never shown; the hash is HalfSipHash, as Linux's hsiphash.

import type * as Crypto from 'node:crypto';
import type { IPAddr } from '../addr';

/** Per-stack 64-bit keys (two 32-bit words each) for the ISN and the timestamp offset. */
const keys = new WeakMap<object, Uint32Array>();

function keysOf(stack: object): Uint32Array {
  let k = keys.get(stack);
  // node:crypto on first use: loading it costs ~4 ms of every start-up (issue 10).
  if (!k) keys.set(stack, (k = (require('node:crypto') as typeof Crypto).randomFillSync(new Uint32Array(4))));
  return k;
}

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));

/** HalfSipHash-2-4 (Linux's hsiphash) of bytes under the key (k0, k1): a keyed 32-bit hash,
 *  cheap enough for every connection (an HMAC cost more than the rest of connect). */
function hsiphash(bytes: Uint8Array, k0: number, k1: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = (0x6c796765 ^ k0) | 0;
  let v3 = (0x74656462 ^ k1) | 0;
  const round = (): void => {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5); v1 ^= v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13); v1 ^= v2; v2 = rotl(v2, 16);
  };
  const n = bytes.length;
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    const m = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    v3 ^= m; round(); round(); v0 ^= m;
  }
  let b = n << 24;
  for (let i = whole; i < n; i++) b |= bytes[i] << (8 * (i - whole));
  v3 ^= b; round(); round(); v0 ^= b;
  v2 ^= 0xff;
  round(); round(); round(); round();
  return (v1 ^ v3) >>> 0;
}

/** The message: addresses then ports, as bytes (a reused buffer: no allocation per call). */
const msg = new Uint8Array(16 + 16 + 4);

function hash32(key: Uint32Array, at: number, local: IPAddr, remote: IPAddr, lport: number, rport: number): number {
  msg.set(local, 0);
  msg.set(remote, local.length);
  let n = local.length + remote.length;
  if (lport >= 0) {
    msg[n++] = lport >> 8; msg[n++] = lport & 0xff;
    msg[n++] = rport >> 8; msg[n++] = rport & 0xff;
  }
  return hsiphash(msg.subarray(0, n), key[at], key[at + 1]);
}

/** secure_tcp_seq: the ISN for a connection from local:lport to remote:rport. */
export function secureTcpSeq(stack: object, local: IPAddr, lport: number, remote: IPAddr, rport: number, nowMs: number): number {
  // The clock runs at 250 ticks per ms (Linux's 4 µs, RFC 6528's M), wrapping in ~4.8 h.
  return (hash32(keysOf(stack), 0, local, remote, lport, rport) + Math.floor(nowMs * 250)) >>> 0;
}

/** secure_tcp_ts_off: the TSval offset for connections from local to remote. */
export function secureTcpTsOff(stack: object, local: IPAddr, remote: IPAddr): number {
  return hash32(keysOf(stack), 2, local, remote, -1, -1);
}
