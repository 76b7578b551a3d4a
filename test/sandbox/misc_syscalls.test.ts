// Small syscalls compared with the native run (membarrier, protection keys, readahead, the
// numbers Linux itself answers ENOSYS), and sethostname, which only the sandbox may run: it
// renames the sandbox, never the host.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { expectSameAsCurrentKernel, type LineEdit } from '../helpers/native_kernel';
import {
  busybox, describeResult, expectSameAsNative, fixture, haveBusybox, platforms, runSandbox, skipBecause,
} from '../helpers/run';

const noBusybox = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);

/** The sandbox offers no protection keys (sys_pkey.ts), as Linux on a CPU without them; where
 *  the native CPU has them enabled (cpuinfo's ospke: most current x86 servers, and QEMU's TCG
 *  `-cpu max` of the KVM step's guest), pkey_alloc natively gives key 1 and pkey_free frees it. */
const NATIVE_PKEYS: LineEdit[] = skipBecause(/^flags\s*:.*\bospke\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')),
  'the native CPU has protection keys (ospke): its pkey_alloc/pkey_free lines are checked against the sandbox\'s EINVAL (no keys) instead')
  ? [{ old: /^pkey_alloc: 1\n/m, now: 'pkey_alloc: -1 EINVAL\n' }, { old: /^pkey_free: 0\n/m, now: 'pkey_free: -1 EINVAL\n' }] : [];

describe.each(platforms)('%s', (platform) => {
  it('membarrier, pkeys, readahead and removed syscalls behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('misc_syscalls')], platform, NATIVE_PKEYS);
  });

  it('NUMA policies on one node behave as natively', async () => {
    await expectSameAsNative([fixture('mempolicy')], platform);
  });

  it('process_vm_readv/writev between processes behave as natively', async () => {
    await expectSameAsNative([fixture('process_vm')], platform);
  });

  it('adjtimex reads the clock state and refuses adjustments; syslog has an empty log', async () => {
    const r = await runSandbox([fixture('timex_syslog')], { platform });
    expect(r.stdout, describeResult(r)).toBe([
      'adjtimex read: 5', 'status 0x2040 tick 10000 time ok 1', 'adjtimex adjust: -1 EPERM',
      'singleshot mixed: -1 EINVAL', 'clock_adjtime realtime: 5', 'clock_adjtime monotonic: -1 EOPNOTSUPP',
      'clock_adjtime bad clock: -1 EINVAL', 'syslog size: 131072', 'syslog read all: 0', 'syslog unread: 0',
      'syslog bad level: -1 EINVAL', 'syslog bad type: -1 EINVAL', 'syslog read all, NULL: -1 EINVAL',
      'syslog size without CAP_SYSLOG: -1 EPERM', 'syslog open without CAP_SYSLOG: 0', '',
    ].join('\n'));
    expect(r.code).toBe(0);
  });

  it.skipIf(noBusybox)('sethostname renames the sandbox only', async () => {
    const before = hostname();
    const r = await runSandbox([busybox, 'sh', '-c',
      'hostname tsvisor-box && uname -n && cat /proc/sys/kernel/hostname && hostname $(printf %065d 0); echo $?'],
    { platform });
    expect(r.stdout, describeResult(r)).toBe('tsvisor-box\ntsvisor-box\n1\n');
    expect(hostname()).toBe(before);
  });
});
