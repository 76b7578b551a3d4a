// PID namespaces (ts/kernel/ns/pid_ns.ts): the pidns fixture compared with its native run as
// root (init as pid 1 with ppid 0, reparenting, init's signal protection, the namespace
// dying with its init and ENOMEM after, nesting and its limit, setns rules, NSpid lines, a
// proc mount inside, clone3's set_tid), pidns_fuzz.c (foreign pids passed to every pid-taking
// syscall from inside a namespace: all fail, nothing outside is touched), and util-linux's
// unshare -pf --mount-proc with ps inside.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, expectSameAsCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run makes pid namespaces: it needs root');

/** Linux 6.11 added the pid translation ioctls of nsfs (NS_GET_{PID,TGID}_{FROM,IN}_PIDNS);
 *  before, each is ENOTTY. */
const PID_IOCTLS_6_11: LineEdit[] = skipBecause(hostKernelBefore(6, 11),
  'host kernel predates 6.11: the NS_GET_*_PIDNS ioctls are ENOTTY there, the sandbox\'s answers are checked against those lines instead')
  ? [{
    old: /^(init: NS_GET_PID_FROM_PIDNS 1 \(own namespace\): )-1 ENOTTY\n(init: NS_GET_TGID_IN_PIDNS 1 in the root namespace is above 1: )0\n(init: NS_GET_PID_FROM_PIDNS of its own pid in the root namespace: )-1 ENOTTY\n(init: NS_GET_PID_FROM_PIDNS 1 of the root namespace \(not visible here\): )-1 ENOTTY\n(init: NS_GET_PID_IN_PIDNS 77 \(no such pid\): )-1 ENOTTY\n(init: NS_GET_PID_IN_PIDNS on a net namespace file: )-1 ENOTTY\n(outside: NS_GET_PID_IN_PIDNS of init in its namespace: )-1 ENOTTY\n(outside: NS_GET_TGID_FROM_PIDNS 1 is init's pid here: )0\n/m,
    now: '$11\n$21\n$31\n$4-1 ESRCH\n$5-1 ESRCH\n$6-1 EINVAL\n$71\n$81\n',
  }] : [];

/** Before 6.14 pid_max is one limit for the whole machine, which is 32768 on a small one (the
 *  KVM step's one-vCPU guest) unless raised; since, each new pid namespace has its own, and the
 *  sandbox's is 4194304 as there. Natively then ns_last_pid refuses 4194304 (so the next fork
 *  follows the 99 written before), and ps sizes its pid columns for 5 digits, not 7. */
const globalPidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
const smallPidMax = skipBecause(hostKernelBefore(6, 14) && globalPidMax < 4194304,
  `host kernel predates 6.14 and its pid_max is ${globalPidMax}: a new pid namespace natively has that limit, the sandbox's 4194304 is checked against the lines it changes instead`);
const LAST_PID_MAX: LineEdit[] = smallPidMax
  ? [{ old: /^init writes 4194304: -1 EINVAL\n/m, now: 'init writes 4194304: 7\n' }, { old: /^its pid: 100\n/m, now: 'its pid: 300\n' }] : [];
const PS_PID_MAX: LineEdit[] = smallPidMax
  ? [{ old: /^  PID  PPID COMMAND\n    1     0 sh\n    2     1 ps\n/m, now: '    PID    PPID COMMAND\n      1       0 sh\n      2       1 ps\n' }] : [];

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('new pid namespaces behave as natively', async () => {
    await expectSameAsCurrentKernel([fixture('pidns')], platform, [...PID_IOCTLS_6_11, ...LAST_PID_MAX], 90_000);
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
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, PS_PID_MAX));
    expect(r.code).toBe(0);
  }, 120_000);
});
