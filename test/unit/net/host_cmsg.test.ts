// --network=host control messages (ts/net/host/host_cmsg.ts): what the host is handed for a
// program's control buffer — only the messages the protocol reads, copied whole; EINVAL for a
// header Linux's CMSG_OK refuses or a type it does not know; EPERM for SO_MARK; SCM_RIGHTS and
// SCM_CREDENTIALS dropped — and a fixed-seed fuzzer: a forged buffer gets EINVAL/EPERM or a
// well-formed chain of allowed messages, nothing else.
import { describe, expect, it } from 'vitest';
import { hostRecvControl, hostSendControl } from '../../../ts/net/host/host_cmsg';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL, EPERM } from '../../../ts/abi/linux/errno';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../../ts/abi/linux/socket';

function cmsg(level: number, type: number, data: number[] | Uint8Array, lenAdjust = 0): Uint8Array {
  const d = data instanceof Uint8Array ? data : new Uint8Array(new Int32Array(data).buffer);
  const space = 16 + ((d.length + 7) & ~7);
  const b = new Uint8Array(space);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(16 + d.length + lenAdjust), true);
  v.setInt32(8, level, true);
  v.setInt32(12, type, true);
  b.set(d, 16);
  return b;
}
const cat = (...xs: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) { out.set(x, at); at += x.length; }
  return out;
};
const errnoOf = (f: () => unknown): number => {
  try { f(); return 0; } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
};

describe('hostSendControl', () => {
  it('UDP v4 passes IP_TTL/IP_TOS/IP_PKTINFO whole, drops other levels and SCM_RIGHTS', () => {
    const ttl = cmsg(0, 2, [7]);
    const tos = cmsg(0, 1, new Uint8Array([0x10]));
    const out = hostSendControl(cat(ttl, cmsg(200, 1, [5]), tos, cmsg(1, 1, [1])), AF_INET, SOCK_DGRAM);
    expect([...out]).toEqual([...cat(ttl, tos)]);
  });
  it('EINVAL for an unknown IP type on v4, but a v6 socket skips IP-level types it does not know', () => {
    expect(errnoOf(() => hostSendControl(cmsg(0, 99, [1]), AF_INET, SOCK_DGRAM))).toBe(EINVAL);
    expect(hostSendControl(cmsg(0, 99, [1]), AF_INET6, SOCK_DGRAM).length).toBe(0);
    expect(errnoOf(() => hostSendControl(cmsg(41, 99, [1]), AF_INET6, SOCK_DGRAM))).toBe(EINVAL);
    expect(hostSendControl(cmsg(41, 99, [1]), AF_INET, SOCK_DGRAM).length).toBe(0);
  });
  it('TCP reads SOL_SOCKET only: IP types ignored, unknown SOL_SOCKET type EINVAL, SO_MARK EPERM', () => {
    expect(hostSendControl(cmsg(0, 99, [1]), AF_INET, SOCK_STREAM).length).toBe(0);
    expect(errnoOf(() => hostSendControl(cmsg(1, 99, [1]), AF_INET, SOCK_STREAM))).toBe(EINVAL);
    expect(errnoOf(() => hostSendControl(cmsg(1, 36, [1]), AF_INET, SOCK_STREAM))).toBe(EPERM);
  });
  it('CMSG_OK: a length past the buffer or below a header is EINVAL; a tail shorter than a header is ignored', () => {
    expect(errnoOf(() => hostSendControl(cmsg(0, 2, [7], 8), AF_INET, SOCK_DGRAM))).toBe(EINVAL);
    expect(errnoOf(() => hostSendControl(cmsg(0, 2, [7], -8), AF_INET, SOCK_DGRAM))).toBe(EINVAL);
    expect(hostSendControl(new Uint8Array(15), AF_INET, SOCK_DGRAM).length).toBe(0);
  });
  it('fuzz (seed 0x5eed): only EINVAL/EPERM or a chain of allowed, well-formed messages', () => {
    let seed = 0x5eed;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const allowedLevels = new Set([0, 1, 41]);
    let refused = 0, passed = 0;
    for (let i = 0; i < 20_000; i++) {
      const parts: Uint8Array[] = [];
      for (let k = rnd(4); k >= 0; k--) {
        const d = new Uint8Array(rnd(24));
        for (let j = 0; j < d.length; j++) d[j] = rnd(256);
        parts.push(cmsg([0, 1, 41, 6, 200][rnd(5)], rnd(4) === 0 ? rnd(100) : [1, 2, 7, 8, 50, 52, 67, 37][rnd(8)], d, rnd(8) === 0 ? rnd(40) - 20 : 0));
      }
      let raw = cat(...parts);
      if (rnd(6) === 0) raw = raw.subarray(0, rnd(raw.length + 1));
      const fam = rnd(2) ? AF_INET : AF_INET6;
      const type = rnd(2) ? SOCK_DGRAM : SOCK_STREAM;
      let out: Uint8Array;
      try {
        out = hostSendControl(raw, fam, type);
      } catch (e) {
        expect(e instanceof SyscallError && (e.errno === EINVAL || e.errno === EPERM)).toBe(true);
        refused++;
        continue;
      }
      if (out.length > 0) passed++;
      const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
      for (let off = 0; off < out.length;) {
        const len = Number(v.getBigUint64(off, true));
        expect(len).toBeGreaterThanOrEqual(16);
        expect(off + len).toBeLessThanOrEqual(out.length);
        expect(allowedLevels.has(v.getInt32(off + 8, true))).toBe(true);
        if (type === SOCK_STREAM) expect(v.getInt32(off + 8, true)).toBe(1);
        off += (len + 7) & ~7;
      }
    }
    // The seed reaches both ends: refusals and messages handed on.
    expect(refused).toBeGreaterThan(1000);
    expect(passed).toBeGreaterThan(1000);
  });
});

describe('hostRecvControl', () => {
  it('hands up the host messages, never an fd or credentials, and stops at a bad length', () => {
    const ts = cmsg(1, 29, new Uint8Array(16));
    const got = hostRecvControl(cat(ts, cmsg(1, 1, [3]), cmsg(0, 2, [64]), cmsg(0, 1, [1], 64)), 1000);
    expect(got.map((c) => [c.level, c.type, c.data.length])).toEqual([[1, 29, 16], [0, 2, 4]]);
  });
});
