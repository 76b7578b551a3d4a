// --platform: kvm where a vCPU really runs, one clear line and exit 125 where not; auto says
// in --debug-log what it tried and why it chose what it chose (kvm is not in its list yet).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, describeResult, fixture, platforms, repoRoot, runSandbox, skipBecause } from '../helpers/run';
import { kvmHostProblem } from '../helpers/platforms';
import { AUTO_PLATFORMS } from '../../ts/sandbox/platform_choice';

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-cli-platform-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** The addon's own answer for one platform, asked of a separate node. */
function addonMakes(name: string): boolean {
  const r = spawnSync(process.execPath, ['-e', `
    const a = require(${JSON.stringify(path.join(repoRoot, 'build', 'tsvisor.node'))});
    const p = new a.Platform(new a.MemoryFile(), ${JSON.stringify(name)}); p.release?.();`]);
  return r.status === 0;
}

const kvmHost = kvmHostProblem();
const kvmRuns = kvmHost === null && addonMakes('kvm');

describe('--platform=kvm', () => {
  it.skipIf(skipBecause(!kvmRuns, `kvm cannot run here (${kvmHost ?? 'the addon refuses it'}): the exit-125 case below runs instead`))('runs the program where a KVM vCPU works and the addon has the kvm platform', async () => {
    const r = await runSandbox([fixture('hello')], { platform: 'kvm', timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe('hello, world\n');
    expect(r.code, describeResult(r)).toBe(0);
  }, 180_000);

  it.skipIf(skipBecause(kvmRuns, 'kvm runs here: the case above runs the program instead'))('fails with one line and exit 125 where kvm cannot run', async () => {
    const r = await runSandbox([fixture('hello')], { platform: 'kvm' });
    expect(r.code, describeResult(r)).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr, describeResult(r)).toMatch(/^tsvisor: platform kvm: [^\n]+\n$/);
    if (!existsSync('/dev/kvm')) {
      expect(r.stderr).toBe('tsvisor: platform kvm: /dev/kvm: No such file or directory\n');
    }
  });

  // The same without /dev/kvm everywhere: a private mount namespace whose /dev lacks it.
  const unshare = spawnSync('unshare', ['--mount', 'true']).status === 0;
  it.skipIf(skipBecause(!unshare, 'unshare --mount is not permitted here (needs CAP_SYS_ADMIN): /dev/kvm cannot be hidden'))(
    'where /dev/kvm is absent: exactly "tsvisor: platform kvm: /dev/kvm: No such file or directory", exit 125', () => {
      // tmpfs over /dev, with back the few nodes node and the sandbox open.
      const script = `set -e; d=$(mktemp -d); mount -t tmpfs none "$d"; for n in null zero full random urandom tty; do
        [ -e /dev/$n ] && touch "$d/$n" && mount --bind /dev/$n "$d/$n"; done
        mkdir "$d/shm" "$d/pts"; mount --bind /dev/shm "$d/shm"; mount --rbind "$d" /dev
        test ! -e /dev/kvm; exec "$@"`;
      const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh',
        process.execPath, cli, 'run', '--platform=kvm', '--', fixture('hello')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('tsvisor: platform kvm: /dev/kvm: No such file or directory\n');
      expect(r.status).toBe(125);
      expect(r.stdout).toBe('');
    });
});

describe('--platform=auto', () => {
  it('--debug-log says what auto tried, whether kvm is in its list, and what it chose', async () => {
    const log = path.join(dir, 'auto.log');
    const r = await runSandbox([fixture('hello')], { platform: 'auto', extraArgs: ['--debug-log', log] });
    expect(r.stdout, describeResult(r)).toBe('hello, world\n');
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(' platform'));
    if (!AUTO_PLATFORMS.includes('kvm')) {
      const first = lines.shift();
      expect(first).toMatch(/^\S+ platform auto: kvm is not in auto's list until the sandbox suite passes on it \((.*); --platform=kvm asks for it\)$/);
      if (kvmHost !== null && kvmHost.startsWith('/dev/kvm:')) expect(first).toContain(kvmHost);
    }
    // In auto's order: a line for each platform that cannot run here, then the chosen one's.
    const failed: string[] = [];
    for (const p of AUTO_PLATFORMS) {
      const line = lines.shift();
      if (p === 'kvm' ? kvmRuns : addonMakes(p)) {
        const after = failed.length > 0 ? `after ${failed.join(', ')}` : `the first of ${AUTO_PLATFORMS.join(', ')}`;
        expect(line).toMatch(new RegExp(` platform auto: ${p} works here: chosen \\(${after}\\)$`));
        break;
      }
      expect(line).toMatch(new RegExp(` platform auto: ${p} cannot run here: \\S`));
      failed.push(p);
    }
    expect(lines).toEqual([]);
  });

  it.each(platforms)('an explicit platform (%s) is logged as asked for', async (platform) => {
    const log = path.join(dir, `explicit-${platform}.log`);
    const r = await runSandbox([fixture('hello')], { platform, extraArgs: ['--debug-log', log] });
    expect(r.code, describeResult(r)).toBe(0);
    const text = readFileSync(log, 'utf8');
    if (platform === 'kvm') {
      // kvm says how its memslots are set up: lazy (AMD with the emulation-failure exit) or
      // eager and why.
      expect(text).toMatch(/ platform: kvm, as --platform asked; memslots (lazy: \d+ MiB chunks, at most \d+ slots|eager: .+)\n/);
    } else {
      expect(text).toContain(` platform: ${platform}, as --platform asked\n`);
    }
  });

  it('an unknown platform names every platform there is', async () => {
    const r = await runSandbox([fixture('hello')], { platform: 'vmware' });
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('tsvisor: unknown platform "vmware" (available: systrap, ptrace, kvm, auto)\n');
  });
});
