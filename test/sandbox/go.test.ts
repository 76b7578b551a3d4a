// Go programs: a GC stress test (concurrent collection, preemption signals, many threads)
// built with the host's Go toolchain, run a few times on every platform. Without a Go
// toolchain the test is skipped with the reason printed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, platforms, repoRoot, runSandbox, skipBecause } from '../helpers/run';

const goCandidates = ['/usr/local/go/bin/go', '/usr/bin/go'];
const go = goCandidates.find((g) => existsSync(g));
const noGo = skipBecause(go === undefined, `no Go toolchain (${goCandidates.join(', ')})`);
let dir = '';
let binary = '';

/** Built ahead by whoever runs this where a build would be too slow (the QEMU guest of
 *  test/kvm/guest_suite.mjs: the Go toolchain under TCG takes minutes). */
const prebuilt = process.env.TSVISOR_GO_GCSTRESS;

beforeAll(() => {
  if (go === undefined) return;
  if (prebuilt !== undefined && existsSync(prebuilt)) {
    binary = prebuilt;
    return;
  }
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-go-'));
  binary = path.join(dir, 'gcstress');
  execFileSync(go, ['build', '-o', binary, '.'], {
    cwd: path.join(repoRoot, 'test', 'fixtures', 'go', 'gcstress'),
    env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOCACHE: path.join(dir, 'cache'), GOPATH: path.join(dir, 'gopath'), GOFLAGS: '-mod=mod' },
    stdio: 'pipe',
  });
}, 180_000);
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noGo)('a Go GC stress program runs to the end, three times', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runSandbox([binary], { platform, timeoutMs: 60_000 });
      expect(r.stdout, describeResult(r)).toBe('ok true\n');
      expect(r.code, describeResult(r)).toBe(0);
    }
  }, 200_000);
});
