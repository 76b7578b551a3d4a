// Native runs that would change the host's network state (sysctls, route caches, neighbours)
// run in a network namespace of the test's own instead: `unshare -n`, as root.
import { spawnSync } from 'node:child_process';
import { runNative, type RunResult } from './run';

/** Whether this host lets the tests make a network namespace with a veth pair in it. */
export const haveNetns = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link add veth0 type veth peer name veth1'], { stdio: 'ignore' });
  return r.status === 0;
})();

export const NO_NETNS = 'no network namespace for the native side (needs root, unshare, ip)';

/** Run argv natively in a fresh network namespace (lo up) after the shell commands of setup. */
export function runInNetns(argv: string[], setup = 'true', timeoutMs = 60_000): Promise<RunResult> {
  return runNative(['/usr/bin/unshare', '-n', '/bin/sh', '-c', `ip link set lo up && ${setup} && exec "$@"`, 'sh', ...argv],
    { timeoutMs, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
}
