// bubblewrap inside the sandbox, compared with bwrap run natively: it takes the mount
// namespace apart and puts it back with mount(2) (recursive binds of /, binds onto proc
// directories, remounts read-only, a devpts instance), pivot_root(2) twice (the second as
// pivot_root(".", ".")), user/UTS/IPC/network/PID namespaces and a pty in its /dev. Before: the
// recursive bind of / was EIO, pivot_root ENOSYS, devpts ENODEV and a bind onto /proc EBUSY.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipIfChrooted } from '../helpers/native_kernel';
import { describeResult, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const BWRAP = '/usr/bin/bwrap';
const skip = skipBecause(!existsSync(BWRAP), `${BWRAP} is absent (apt-get install bubblewrap)`) ||
  skipBecause(process.getuid?.() !== 0, 'bwrap needs root natively to make its namespaces') ||
  skipIfChrooted('unshare(CLONE_NEWUSER) and pivot_root for bwrap (EPERM and EINVAL there)');

const cases: Array<[string, string[]]> = [
  ['a read-only root, its own /dev, /proc and /tmp, new user/UTS/IPC/net namespaces',
    ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--unshare-user', '--unshare-uts',
      '--unshare-ipc', '--unshare-net', 'sh', '-c', 'id; ls /tmp; ls /dev; ip link | head -1; touch /x 2>&1; echo done']],
  ['a writable bind, --chdir, --setenv, a new session, dying with its parent',
    ['--ro-bind', '/', '/', '--tmpfs', '/tmp', '--bind', 'HOSTDIR', '/tmp/data', '--chdir', '/tmp/data', '--setenv',
      'FOO', 'bar', '--die-with-parent', '--new-session', 'sh', '-c', 'cat f; echo $FOO; pwd; echo w > g; cat g']],
  ['a mapped user', ['--dev-bind', '/', '/', '--unshare-user', '--uid', '1000', '--gid', '1000', 'id']],
  ['a pty from its devpts', ['--dev-bind', '/', '/', '--dev', '/dev', 'script', '-qc', 'tty; ls /dev/pts', '/dev/null']],
  ['a new pid namespace with its own /proc', ['--ro-bind', '/', '/', '--unshare-pid', '--proc', '/proc', 'sh', '-c',
    // ps alone, not in a pipeline: a wc started beside it is listed or not by timing.
    'echo $$; p=$(ps -e); echo "$p" | wc -l']],
  ['--unshare-all over a root of /usr alone',
    ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/bin',
      '/bin', '--proc', '/proc', '--dev', '/dev', '--unshare-all', 'sh', '-c', 'ls /; cat /proc/self/uid_map; echo $$']],
];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skip).each(cases)('bwrap: %s, as natively', async (_what, args) => {
    const nd = mkdtempSync(path.join(tmpdir(), 'tsvisor-bwrap-')), sd = mkdtempSync(path.join(tmpdir(), 'tsvisor-bwrap-'));
    try {
      for (const d of [nd, sd]) writeFileSync(path.join(d, 'f'), 'from the host\n');
      const native = await runNative([BWRAP, ...args.map((a) => a.replace('HOSTDIR', nd))], { timeoutMs: 60_000 });
      const r = await runSandbox([BWRAP, ...args.map((a) => a.replace('HOSTDIR', sd))], { platform, timeoutMs: 90_000 });
      expect({ out: r.stdout, code: r.code }, describeResult(r)).toEqual({ out: native.stdout, code: native.code });
      expect(native.code, describeResult(native)).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(sd, { recursive: true, force: true });
    }
  }, 120_000);
});
