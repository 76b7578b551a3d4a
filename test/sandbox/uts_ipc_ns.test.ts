// UTS, IPC and cgroup namespaces (ts/kernel/ns/nsproxy.ts; uname/sethostname, kernel/ipc and
// fsimpl/mqueue per namespace): the uts_ipc_ns fixture compared with the native run, and
// util-linux's unshare -u / -i.
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipIfChrooted } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

let hostUts = '';
try { hostUts = readlinkSync('/proc/self/ns/uts'); } catch { /* no /proc here */ }
const notRoot = skipBecause(process.getuid?.() !== 0 || hostUts !== 'uts:[4026531838]',
  `the native run makes namespaces as root from the host's initial ones (uts is ${hostUts || 'unknown'})`) ||
  skipIfChrooted('unshare(CLONE_NEWUSER) for its user-namespace cases (EPERM there)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('new UTS, IPC and cgroup namespaces behave as natively', async () => {
    await expectSameAsNative([fixture('uts_ipc_ns')], platform, 60_000);
  }, 120_000);

  it('unshare -u renames only the new namespace; unshare -i sees none of the parent\'s queues', async () => {
    const r = await runSandbox(['/bin/sh', '-c',
      'hostname outer; unshare -u sh -c "hostname inner; hostname"; hostname; ' +
      'ipcmk -Q >/dev/null; ipcs -q | grep -c 0x; unshare -i ipcs -q | grep -c 0x'], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('inner\nouter\n1\n0\n');
  }, 120_000);
});
