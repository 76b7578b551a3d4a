// Syscall patching (systrap): patched sites must behave exactly like the trapped syscall
// they replace — registers kept, results right — and patching must really happen there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const expected = 'general registers kept\nsse registers kept\nsyscall(3) agrees\n';

describe.each(platforms)('%s', (platform) => {
  it('registers survive patched and trapped syscalls alike', async () => {
    const native = await runNative([fixture('patch_regs')]);
    expect(native.stdout).toBe(expected);
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-patch-'));
    const log = path.join(dir, 'debug.log');
    try {
      const r = await runSandbox([fixture('patch_regs')], { platform, extraArgs: ['--debug-log', log] });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toBe(expected);
      const patched = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('patched syscall site'));
      if (platform === 'systrap') {
        // The getpid site in the fixture's own loop and glibc's syscall(3) both qualify.
        expect(patched.some((l) => l.includes('(syscall 39)'))).toBe(true);
        // A site is patched once it has trapped a few times: getuid's (run 100 times), not
        // getppid's (once).
        expect(patched.some((l) => l.includes('(syscall 102)'))).toBe(true);
        expect(patched.some((l) => l.includes('(syscall 110)'))).toBe(false);
      } else {
        expect(patched).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('read\'s `xor %eax,%eax; syscall` is patched through its padding, and the ways around the patch still work', async () => {
    const native = await runNative([fixture('patch_read')]);
    expect(native.stdout).toContain('padding runs through: 42');
    const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-patch-'));
    const log = path.join(dir, 'debug.log');
    try {
      const r = await runSandbox([fixture('patch_read')], { platform, extraArgs: ['--debug-log', log] });
      expect(r.code, describeResult(r)).toBe(0);
      // What was read, the padding run through after the patch, the bare syscall reached.
      expect(r.stdout).toBe(native.stdout);
      const padding = parseInt(/padding at ([0-9a-f]+)/.exec(native.stdout)?.[1] ?? 'x', 16);
      const patched = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('patched syscall site'));
      const slots = patched.map((l) => /\(syscall 0\) through padding at ([0-9a-f]+)/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined).map((x) => parseInt(x, 16));
      if (platform === 'systrap') {
        // The fixture's own read, through the NOP it then runs through (its SIB byte on).
        expect(slots).toContain(padding + 5);
      } else {
        expect(patched).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
