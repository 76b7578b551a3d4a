// Fuzz the socket layer's parsers from a fixed seed: random sockaddr and control-message
// bytes must give a result or a SyscallError (the errno the syscall returns), nothing else.
import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../ts/kernel/syscall_error';
import { parseUnixAddr } from '../../ts/net/sockaddr';
import { buildControl, parseControl } from '../../ts/net/control';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

function onlySyscallErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SyscallError);
  }
}

describe('socket parsers', () => {
  const next = rng(0x5eed);
  const bytes = (n: number, bias: boolean): Uint8Array => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = next() & 0xff;
    // Often a plausible header: AF_UNIX, or a cmsg_len that fits.
    if (bias && n >= 2 && (next() & 1)) { b[0] = 1; b[1] = 0; }
    if (bias && n >= 16 && (next() & 1)) { b.fill(0, 0, 8); b[0] = 16 + (next() % Math.max(1, n - 15)); b[8] = 1; b[12] = 1 + (next() & 1); }
    return b;
  };
  const policy = { tgid: 1, uids: [0], gids: [0], anyPid: false, anyUid: false, anyGid: false, pidExists: (p: number) => p === 1 };

  it('sockaddr_un: 20000 random addresses', () => {
    for (let i = 0; i < 20000; i++) {
      const raw = bytes(next() % 130, true);
      onlySyscallErrors(() => parseUnixAddr(raw, (i & 1) === 0));
    }
  });

  it('control messages: 20000 random buffers, and building replies into any size', () => {
    for (let i = 0; i < 20000; i++) {
      const raw = bytes(next() % 200, true);
      onlySyscallErrors(() => parseControl(raw, (i & 1) === 0, policy));
      const built = buildControl(next() % 64, (i & 2) ? { pid: 1, uid: 0, gid: 0 } : null, null, () => 3);
      expect(built.used).toBeLessThanOrEqual(64);
    }
  });
});
