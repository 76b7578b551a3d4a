// The congestion control list of a stack (cc_registry.ts): the default and allowed lists as
// the sysctls write them (tcp_set_default_congestion_control, tcp_set_allowed_congestion_
// control, proc_dostring's cut at a newline), per stack.
import { describe, expect, it } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import {
  CC_AVAILABLE, TCP_CA_NAME_MAX, allowedCcOf, ccAllowed, defaultCcOf, setAllowedCc, setDefaultCc, sysctlString,
} from '../../../ts/tcpip/tcp/cc_registry';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { ENOENT } from '../../../ts/abi/linux/errno';
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
