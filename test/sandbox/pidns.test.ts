// PID namespaces (ts/kernel/ns/pid_ns.ts): the pidns fixture compared with its native run as
// root (init as pid 1 with ppid 0, reparenting, init's signal protection, the namespace
// dying with its init and ENOMEM after, nesting and its limit, setns rules, NSpid lines, a
// proc mount inside, clone3's set_tid), pidns_fuzz.c (foreign pids passed to every pid-taking
// syscall from inside a namespace: all fail, nothing outside is touched), and util-linux's
// unshare -pf --mount-proc with ps inside.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run makes pid namespaces: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('new pid namespaces behave as natively', async () => {
    await expectSameAsNative([fixture('pidns')], platform, 90_000);
  }, 180_000);

  it.skipIf(notRoot)('a hostile root process in a child namespace reaches no process outside it (fixed-seed fuzz)', async () => {
    await expectSameAsNative([fixture('pidns_fuzz')], platform, 90_000);
  }, 180_000);

  it.skipIf(notRoot)('unshare -pf --mount-proc: the shell is pid 1 and ps sees only the namespace', async () => {
    const argv = ['unshare', '-pf', '--mount-proc', 'sh', '-c',
      'echo $$; ps -o pid,ppid,comm; readlink /proc/self; cat /proc/1/status | grep -E "^(Pid|PPid|NSpid)"'];
    const native = await runNative(argv, { timeoutMs: 60_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox(argv, { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
  }, 120_000);
});
