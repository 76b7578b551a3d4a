// The vDSO's clocks without a syscall (ts/loader/vdso_text.S, kernel/vvar_page.ts,
// crates/ptrace/src/host_vdso.rs): its reads agree with the syscall's and with absolute
// sleeps, as natively (fixture vdso_clock); 20000 clock_gettime calls make no syscall;
// /proc/self/maps shows [vvar] below [vdso] and nothing of the host's pages; and the
// boundary holds (fixture hostile_vdso): [vvar] is written by no route, the host's vDSO
// above the application's range is neither remapped nor changed (checked in the stub from
// the host), and a jump onto its `syscall` is a syscall of the sandbox's. On kvm the vDSO
// keeps making the syscall (no host vDSO in a guest).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeResult, fixture, leftOutOfKvmCi, platforms, processTree, runNative, runSandbox, sandboxArgs, TIME_SCALE,
} from '../helpers/run';

/** Where every stub keeps the host's vDSO mappings (host_vdso.rs HOST_VDSO_AREA). */
const HOST_VDSO_AREA = 0x7fff_f000_0000;

/** This process's vDSO mappings: the same kernel's, so the same layout as in a stub. */
function ownVdso(): { name: string; start: number; end: number }[] {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /\[(vvar|vdso)/.test(l)).map((l) => {
    const [range] = l.split(' ');
    const [s, e] = range.split('-').map((x) => parseInt(x, 16));
    return { name: l.trim().split(/\s+/).pop() ?? '', start: s, end: e };
  });
}

describe.each(platforms)('%s', (platform) => {
  it('vDSO clock reads agree with the syscall, sleeps and faults as natively', async () => {
    // On kvm every read is a VM exit (~126000 in the three processes' orderings): CI's run in
    // the QEMU guest checks the order with a tenth of the rounds (printed).
    const env: Record<string, string> = leftOutOfKvmCi(platform, 'vdso_clock\'s 2000 ordering rounds per clock: 200 instead')
      ? { VDSO_CLOCK_ROUNDS: '200' } : {};
    const native = await runNative([fixture('vdso_clock')], { env, timeoutMs: 60_000 });
    const r = await runSandbox([fixture('vdso_clock')], { platform, env, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000 * TIME_SCALE);

  // Without a host clock (kvm's guest, or TSVISOR_VDSO=syscall) the vDSO reads through the
  // syscall but stores the result itself: a bad pointer is still a SIGSEGV, as natively.
  it.skipIf(platform === 'kvm')('without a host clock, the same answers and faults as natively', async () => {
    const native = await runNative([fixture('vdso_clock')], { timeoutMs: 60_000 });
    const r = spawnSync(process.execPath, sandboxArgs([fixture('vdso_clock')], { platform }),
      { env: { ...process.env, TSVISOR_VDSO: 'syscall' }, encoding: 'utf8', timeout: 60_000 * TIME_SCALE });
    expect(r.stdout, r.stderr).toBe(native.stdout);
    expect(r.status).toBe(native.code);
  }, 120_000 * TIME_SCALE);

  it('20000 clock_gettime calls make no clock_gettime syscall (kvm: every one does)', async () => {
    // On kvm each call is a VM exit: 2000 show it as well, in a tenth of the time (the QEMU
    // guest took over 120 s for 20000).
    const loops = platform === 'kvm' ? 2000 : 20000;
    const r = await runSandbox([fixture('vdso_clock'), 'loop', String(loops)], { platform, extraArgs: ['--strace'], timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const calls = r.stderr.split('\n').filter((l) => l.includes('clock_gettime(')).length;
    if (platform === 'kvm') expect(calls).toBeGreaterThanOrEqual(loops);
    else expect(calls, 'clock_gettime syscalls').toBeLessThan(50);
  }, 120_000 * TIME_SCALE);

  it('/proc/self/maps shows [vvar] just below [vdso], and none of the host\'s pages', async () => {
    const r = await runSandbox([fixture('vdso_clock'), 'maps'], { platform });
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const at = (name: string): number => lines.findIndex((l) => l.endsWith(name));
    const vvar = lines[at('[vvar]')], vdso = lines[at('[vdso]')];
    expect(vvar, r.stdout).toMatch(/^[0-9a-f]+-[0-9a-f]+ r--p 00000000 00:00 0 +\[vvar\]$/);
    expect(vdso, r.stdout).toMatch(/^[0-9a-f]+-[0-9a-f]+ r-xp 00000000 00:00 0 +\[vdso\]$/);
    expect(at('[vdso]')).toBe(at('[vvar]') + 1);
    expect(vvar.split('-')[1].split(' ')[0]).toBe(vdso.split('-')[0]);
    expect(r.stdout).not.toMatch(/vvar_vclock/);
    // Below the host vDSO area the stubs keep (HOST_VDSO_AREA's 0x7fff_f000_0000); kvm has no
    // host vDSO in its guest, only the user half's end (its [vvar] sat at 0x7ffff7fec000).
    const ceiling = platform === 'kvm' ? 0x8000_0000_0000 : 0x7fff_0000_0000;
    for (const l of lines.filter((x) => !x.endsWith('[vsyscall]'))) {
      expect(parseInt(l.split('-')[0], 16), l).toBeLessThan(ceiling);
    }
  }, 60_000 * TIME_SCALE);

  it.skipIf(platform === 'kvm')('the vDSO pages hold against the application, checked from the host', async () => {
    const own = ownVdso();
    const text = own.find((m) => m.name === '[vdso]');
    if (own.length === 0 || text === undefined) return void console.warn('[tsvisor tests] skipping: no host vDSO');
    const hostText = HOST_VDSO_AREA + (text.start - own[0].start);
    const marker = path.join(tmpdir(), `tsvisor-hostile-vdso-${platform}-${process.pid}`);
    rmSync(marker, { force: true });
    const argv = [fixture('hostile_vdso'), hostText.toString(16), String(text.end - text.start), marker];
    const child = spawn(process.execPath, sandboxArgs(argv, { platform }), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 600 && !out.includes('waiting') && child.exitCode === null; i++) await new Promise((res) => setTimeout(res, 50));
    // From the host: every stub of the sandbox still has the host's vDSO mappings where they
    // were put, whole, its text unchanged, and the [vvar] page it maps for the program is ours.
    const stubs = processTree(child.pid ?? 0).filter((p) => {
      try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'tsvisor-stub'; } catch { return false; }
    });
    const checks: string[] = [];
    let vvarsSeen = 0;
    const vvarAt = /\[vvar\] at ([0-9a-f]+)/.exec(out);
    for (const pid of stubs) {
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      for (const m of own) {
        const s = HOST_VDSO_AREA + (m.start - own[0].start), e = s + (m.end - m.start);
        checks.push(maps.includes(`${s.toString(16)}-${e.toString(16)} ${m.name === '[vdso]' ? 'r-xp' : 'r--p'}`) ? 'ok' : `${pid} lost ${m.name}`);
      }
      const fd = openSync(`/proc/${pid}/mem`, 'r');
      try {
        const theirs = Buffer.alloc(text.end - text.start);
        readSync(fd, theirs, 0, theirs.length, hostText);
        const ownFd = openSync('/proc/self/mem', 'r');
        const ours = Buffer.alloc(theirs.length);
        readSync(ownFd, ours, 0, ours.length, text.start);
        closeSync(ownFd);
        checks.push(theirs.equals(ours) ? 'ok' : `${pid}: host vDSO text changed`);
        // The program's own stub maps it there (a spare stub maps nothing yet).
        if (vvarAt !== null && maps.includes(`\n${vvarAt[1]}-`)) {
          vvarsSeen++;
          const page = Buffer.alloc(16);
          readSync(fd, page, 0, 16, parseInt(vvarAt[1], 16));
          const fn = Number(page.readBigUint64LE(8));
          checks.push(page.readBigUint64LE(0) === 1n && fn > hostText && fn < hostText + theirs.length ? 'ok' : `${pid}: [vvar] ${page.toString('hex')}`);
        }
      } finally {
        closeSync(fd);
      }
    }
    child.stdin.end();
    const code = await exited;
    expect(existsSync(marker), `${marker} was created on the host`).toBe(false);
    expect(stubs.length, out + err).toBeGreaterThan(0);
    expect(vvarsSeen, 'the program\'s stub maps its [vvar]').toBeGreaterThan(0);
    expect(checks.filter((c) => c !== 'ok'), out).toEqual([]);
    expect(err).not.toMatch(/internal error|sentry failure/);
    expect(code, out + err).toBe(0);
    expect(out).toBe([
      'mprotect([vvar], RW): EACCES',
      'store to [vvar]: SEGV',
      'process_vm_writev([vvar]): EFAULT',
      '/proc/self/mem write at [vvar]: EIO',
      'PTRACE_POKEDATA at [vvar]: EIO',
      "the tracee's clock and [vvar] after: unchanged",
      'mmap MAP_FIXED over the host vDSO: ENOMEM',
      'munmap the host vDSO: EINVAL',
      'mprotect the host vDSO: ENOMEM',
      'madvise(DONTNEED) the host vDSO: ENOMEM',
      'mremap [vvar] onto the host vDSO: EINVAL',
      '[vvar] after: unchanged',
      'clock after: right',
      'host vDSO syscall found',
      "getpid through the host vDSO: the sandbox's",
      'openat through the host vDSO: served',
      'clock_gettime through the host vDSO in a time namespace: outside it',
      'exec through the host vDSO: served',
      'exec child: exited 0',
      `[vvar] at ${vvarAt?.[1] ?? '?'}, waiting`,
      '',
    ].join('\n'));
    rmSync(marker, { force: true });
  }, 120_000 * TIME_SCALE);
});
