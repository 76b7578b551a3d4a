// Landlock (ABI 2): the syscalls' errnos and every restriction the fixture tries (opens,
// execve, making, removing, linking and renaming names, REFER and the no-gain rule, nested
// layers, mounts, ptrace access, and the ways around a rule a hostile program tries) print what they print on Linux. The expected lines are the
// native run's where the host has Landlock, and landlock.expected (a native run kept with the
// fixture) where it has not.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const expected = readFileSync(path.join(__dirname, '../fixtures/landlock.expected'), 'utf8');

describe.each(platforms)('%s', (platform) => {
  it('landlock rulesets restrict as on Linux', async () => {
    const nd = mkdtempSync(path.join(tmpdir(), 'tsvisor-landlock-'));
    const sd = mkdtempSync(path.join(tmpdir(), 'tsvisor-landlock-'));
    try {
      const native = await runNative([fixture('landlock'), nd]);
      if (native.stdout.startsWith('no landlock here')) {
        console.log(`landlock: the host kernel has no Landlock (${native.stdout.trim()}): compared with landlock.expected only`);
      } else {
        expect(native.stdout).toBe(expected);
      }
      const r = await runSandbox([fixture('landlock'), sd], { platform });
      expect(r.stdout, describeResult(r)).toBe(expected);
      expect(r.code, describeResult(r)).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
      rmSync(sd, { recursive: true, force: true });
    }
  });
});
