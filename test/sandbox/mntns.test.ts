// Mount namespaces (ts/kernel/ns/mnt_ns.ts, vfs/mount.ts copy): the mntns fixture compared with
// the native run, and util-linux's unshare -m (whose first step is mount(2)'s change of / to
// private) with a tmpfs mounted inside that the parent namespace does not see.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause } from '../helpers/run';

const root = process.getuid?.() === 0;
// The fixture also makes a user namespace as nobody: a host that forbids that cannot be compared.
const unprivAllowed = root && spawnSync('unshare', ['-U', 'true'], { uid: 65534, gid: 65534 }).status === 0;
const notInit = skipBecause(!root || !unprivAllowed,
  'the native run makes namespaces as root, and one as nobody (this host forbids it or the tests do not run as root)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notInit)('a new mount namespace and mount(2) propagation changes behave as natively', async () => {
    await expectSameAsNative([fixture('mntns')], platform, 60_000);
  }, 120_000);

  it('unshare -m and -rm keep the working directory in a copy of the tree; a mount made there is not seen outside', async () => {
    const r = await runSandbox(['/bin/sh', '-c',
      'cd /tmp; a=$(readlink /proc/self/ns/mnt); unshare -m sh -c "pwd; test \\$(readlink /proc/self/ns/mnt) != $a && echo new"; ' +
      'unshare -rm --propagation slave sh -c "id -u; pwd"; mkdir -p /tmp/nsm; ' +
      'unshare -m sh -c "mount -t tmpfs none /tmp/nsm && touch /tmp/nsm/f && ls /tmp/nsm; grep -c /tmp/nsm /proc/self/mountinfo"; ' +
      'ls /tmp/nsm | wc -l; grep -c /tmp/nsm /proc/self/mountinfo'],
    { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('/tmp\nnew\n0\n/tmp\nf\n1\n0\n0\n');
  }, 120_000);
});
