// User namespaces (ts/kernel/ns/, ts/fsimpl/proc/id_map_files.ts): the userns fixture compared
// with the native run — unshare/clone(CLONE_NEWUSER) as root and as nobody, the uid_map,
// gid_map and setgroups write rules with their errnos, ids in getresuid/stat/chown/status,
// nesting and max_user_namespaces, NS_GET_* and setns — and util-linux's unshare(1).
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipIfChrooted } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

let hostUser = '';
try { hostUser = readlinkSync('/proc/self/ns/user'); } catch { /* no /proc here */ }
const notInit = skipBecause(hostUser !== 'user:[4026531837]' || process.getuid?.() !== 0,
  `the native run must be root in the host's initial user namespace (it is in ${hostUser || 'unknown'})`) ||
  skipIfChrooted('unshare(CLONE_NEWUSER) (EPERM there)');
// The fixture creates namespaces as nobody too: a host that forbids that cannot be compared.
const unprivAllowed = !notInit && spawnSync('unshare', ['-U', 'true'], { uid: 65534, gid: 65534 }).status === 0;
const hostForbids = !notInit && skipBecause(!unprivAllowed,
  'this host forbids unprivileged user namespaces (Linux allows them by default: the fixture expects that)');
const haveUnshare = spawnSync('unshare', ['--version']).status === 0;
const noUnshare = skipBecause(!haveUnshare, 'util-linux unshare is not installed');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notInit || hostForbids)('user namespaces, their maps and ids are what they are natively', async () => {
    await expectSameAsNative([fixture('userns')], platform, 90_000);
  }, 180_000);

  it.skipIf(notInit || noUnshare)('unshare -r, unshare -U and the maps unshare writes, as natively', async () => {
    for (const argv of [
      ['/usr/bin/unshare', '-r', 'id'],
      ['/usr/bin/unshare', '-U', 'id'],
      ['/usr/bin/unshare', '-r', 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; touch /tmp/x$$; stat -c %u:%g /tmp/x$$; rm /tmp/x$$'],
      ['/usr/bin/unshare', '--map-user=1000', '--map-group=1000', 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map'],
    ]) {
      const [n, s] = [await runNative(argv), await runSandbox(argv, { platform, timeoutMs: 60_000 })];
      expect(s.code, describeResult(s)).toBe(n.code);
      expect(s.stdout, argv.join(' ')).toBe(n.stdout);
    }
  }, 240_000);
});
