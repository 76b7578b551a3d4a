// The congestion control list of a stack (cc_registry.ts): the default and allowed lists as
// the sysctls write them (tcp_set_default_congestion_control, tcp_set_allowed_congestion_
// control, proc_dostring's cut at a newline), per stack; TCP_CONGESTION's name rules under a
// fixed-seed fuzzer.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import {
  CC_AVAILABLE, TCP_CA_NAME_MAX, allowedCcOf, ccAllowed, ccNameOf, defaultCcOf, setAllowedCc, setDefaultCc, sysctlString,
} from '../../../ts/tcpip/tcp/cc_registry';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL, ENOENT } from '../../../ts/abi/linux/errno';
import { Rng } from './sim/rng';
import { client, listener } from './endpoints';

function errno(f: () => void): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('congestion control registry', () => {
  it('cubic by default, reno and cubic available and allowed, each stack its own', () => {
    const a = new Stack();
    const b = new Stack();
    expect(CC_AVAILABLE).toEqual(['reno', 'cubic']);
    expect(defaultCcOf(a)).toBe('cubic');
    expect(allowedCcOf(a)).toEqual(['reno', 'cubic']);
    setDefaultCc(a, sysctlString('reno\n', TCP_CA_NAME_MAX));
    expect(defaultCcOf(a)).toBe('reno');
    expect(defaultCcOf(b)).toBe('cubic');
    listener(a, 7800);
    expect(client(a, 7800).cc.ops.name).toBe('reno');
    expect(client(b, 7800).cc.ops.name).toBe('cubic');
  });

  it('unknown names are ENOENT and change nothing; the allowed list is what was written', () => {
    const s = new Stack();
    expect(errno(() => setDefaultCc(s, 'bbr'))).toBe(ENOENT);
    expect(errno(() => setDefaultCc(s, ''))).toBe(ENOENT);
    expect(defaultCcOf(s)).toBe('cubic');
    expect(errno(() => setAllowedCc(s, 'reno bbr'))).toBe(ENOENT);
    expect(allowedCcOf(s)).toEqual(['reno', 'cubic']);
    setAllowedCc(s, sysctlString('reno\ncubic', 2048));
    expect(allowedCcOf(s)).toEqual(['reno']);
    expect(ccAllowed(s, 'cubic')).toBe(false);
    // Making it the default allows it again.
    setDefaultCc(s, 'cubic');
    expect(ccAllowed(s, 'cubic')).toBe(true);
    setAllowedCc(s, '');
    expect(allowedCcOf(s)).toEqual([]);
    expect(sysctlString('cubicxxxxxxxxxxxxxxxxxx', TCP_CA_NAME_MAX)).toBe('cubicxxxxxxxxxx');
  });
});

describe('congestion control names from hostile input (fixed seed)', () => {
  it('random option bytes and sysctl texts: a known name, ENOENT or EINVAL, never anything else', () => {
    const rng = new Rng(0xcc);
    const s = new Stack();
    const pieces = ['reno', 'cubic', 'bbr', '\0', ' ', '\n', 'x', '\xff', 'CUBIC'];
    const counts = { ok: 0, enoent: 0, einval: 0 };
    for (let i = 0; i < 5_000; i++) {
      let text = '';
      const n = rng.int(0, 6);
      for (let j = 0; j < n; j++) text += rng.chance(0.5) ? pieces[rng.int(0, pieces.length - 1)] : String.fromCharCode(rng.int(0, 255));
      const bytes = Buffer.from(text, 'latin1');
      const e = errno(() => {
        const name = ccNameOf(rng.chance(0.2) ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes);
        expect(CC_AVAILABLE).toContain(name);
      });
      if (e === 0) counts.ok++;
      else if (e === ENOENT) counts.enoent++;
      else if (e === EINVAL) counts.einval++;
      else throw new Error(`errno ${e} for ${JSON.stringify(text)}`);
      const f = errno(() => (rng.chance(0.5) ? setDefaultCc(s, sysctlString(text, TCP_CA_NAME_MAX)) : setAllowedCc(s, sysctlString(text, 2048))));
      expect([0, ENOENT]).toContain(f);
      expect(CC_AVAILABLE).toContain(defaultCcOf(s));
      for (const a of allowedCcOf(s)) expect(CC_AVAILABLE).toContain(a);
    }
    expect(counts.ok).toBeGreaterThan(25);
    expect(counts.enoent).toBeGreaterThan(25);
    expect(counts.einval).toBeGreaterThan(3);
  });
});
