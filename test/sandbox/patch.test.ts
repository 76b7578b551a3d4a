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
});
