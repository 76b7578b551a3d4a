// Credentials, capabilities, priorities and scheduling (issue 7, items 1 and 2): C fixtures
// compared with native runs as root, and the real programs that need them (make's
// posix_spawn, setpriv, nice, renice).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the credential tests compare with native runs as root');
const noMake = skipBecause(!existsSync('/usr/bin/make'), '/usr/bin/make not found (apt-get install make)');
const noSetpriv = skipBecause(!existsSync('/usr/bin/setpriv'), '/usr/bin/setpriv not found (util-linux)');
const noRenice = skipBecause(!existsSync('/usr/bin/renice'), '/usr/bin/renice not found (util-linux)');

const project = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-make-'));
writeFileSync(path.join(project, 'Makefile'), [
  'all: out.txt',
  '\t@sh -c \'echo recipe $$(id -u); cat out.txt\'',
  'out.txt:',
  '\tsh -c "echo built > out.txt"',
  '',
].join('\n'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('set*id, groups, capget/capset, bounding/ambient/keepcaps/securebits, permission checks, kill, exec transitions', async () => {
    const native = await runNative([fixture('creds')], { cwd: '/tmp' });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('creds')], { platform, extraArgs: ['--cwd', '/tmp'] });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('suid-exec: uid=1000/1234/1234');
  });

  it.skipIf(notRoot)('a set-user-ID exec is not honoured with the fs context shared (CLONE_FS) or an unprivileged tracer', async () => {
    const native = await runNative([fixture('suid_unsafe')]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('suid_unsafe')], { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it.skipIf(notRoot)('nice, setpriority, ioprio, sched_* policies, affinity', async () => {
    const native = await runNative([fixture('prio')], { cwd: '/tmp' });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('prio')], { platform, extraArgs: ['--cwd', '/tmp'] });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it.skipIf(notRoot)('a zombie\'s priority is found until it is reaped (EPERM, not ESRCH, for others)', async () => {
    await expectSameAsNative([fixture('priority_zombie')], platform);
  });

  it('getcpu and rseq\'s cpu_id name a CPU the affinity mask allows', async () => {
    await expectSameAsNative([fixture('getcpu_affinity')], platform);
  });

  it.skipIf(notRoot || noMake)('make runs recipes through posix_spawn and sh -c', async () => {
    rmSync(path.join(project, 'out.txt'), { force: true });
    const r = await runSandbox(['/usr/bin/make'], { platform, extraArgs: ['--cwd', project], env: { PATH: '/usr/bin:/bin' } });
    rmSync(path.join(project, 'out.txt'), { force: true });
    const native = await runNative(['/usr/bin/make'], { cwd: project, env: { PATH: '/usr/bin:/bin' } });
    expect(native.code, describeResult(native)).toBe(0);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.stdout).toContain('recipe 0\nbuilt\n');
    expect(r.code, describeResult(r)).toBe(0);
  });

  it.skipIf(notRoot || noSetpriv)('setpriv --reuid=1000 --regid=1000 --clear-groups id', async () => {
    const argv = ['/usr/bin/setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', '/usr/bin/id'];
    const native = await runNative(argv);
    const r = await runSandbox(argv, { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.stdout).toMatch(/^uid=1000\b.* gid=1000\b/);
    expect(r.code, describeResult(r)).toBe(native.code);
  });

  it.skipIf(notRoot || noSetpriv)('setpriv dropping every capability, seen in /proc/self/status', async () => {
    const argv = ['/usr/bin/setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', '--inh-caps=-all',
      '--bounding-set=-all', '/bin/grep', '-E', '^(Uid|Gid|Groups|Cap)', '/proc/self/status'];
    const native = await runNative(argv);
    const r = await runSandbox(argv, { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.stdout).toContain('CapBnd:\t0000000000000000');
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('nice prints 0, nice -n 5 nice prints 5, nice -n 5 true exits 0', async () => {
    const plain = await runSandbox(['/usr/bin/nice'], { platform });
    expect(plain.stdout, describeResult(plain)).toBe('0\n');
    const five = await runSandbox(['/usr/bin/nice', '-n', '5', '/usr/bin/nice'], { platform });
    expect(five.stdout, describeResult(five)).toBe('5\n');
    expect(five.code).toBe(0);
    const t = await runSandbox(['/usr/bin/nice', '-n', '5', '/bin/true'], { platform });
    expect(t.code, describeResult(t)).toBe(0);
  });

  it.skipIf(noRenice)('renice changes the nice value a child inherits and /proc reports', async () => {
    const script = 'renice -n 7 -p $$ >/dev/null && nice && cut -d" " -f18,19 /proc/self/stat';
    const r = await runSandbox(['/bin/sh', '-c', script], { platform, env: { PATH: '/usr/bin:/bin' } });
    expect(r.stdout, describeResult(r)).toBe('7\n27 7\n');
    expect(r.code).toBe(0);
  });
});
