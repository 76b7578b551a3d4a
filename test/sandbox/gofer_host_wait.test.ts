// Every lookup left to the host (TSVISOR_HOST_WAIT_MS=0: the sentry leaves each gofer lookup
// not answered at once, its task waits for the reply and runs the syscall again, as it does
// for a stalling FUSE or NFS tree after 100 ms; vfs/host_wait.ts, p9/stall_gate.ts): walks,
// listings, opens and reads of the root and of a --volume still give what they give natively,
// and nothing breaks the 9P session (fids and tags of the left requests are never reused
// too early: a bookkeeping slip there showed as EBADF and EIO in find).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, platforms, runNative, runSandbox } from '../helpers/run';

const script = (dir: string) =>
  `cd ${dir} && find . /usr/include/linux | sort | md5sum; ls -la d | wc -l; cat d/e/f; stat -c '%s %F' d/e/f /usr/include/stdio.h`;

let vol = '';
beforeAll(() => {
  vol = mkdtempSync(path.join(tmpdir(), 'tsvisor-hostwait-'));
  for (let i = 0; i < 30; i++) {
    mkdirSync(path.join(vol, 'd', String(i), 'x'), { recursive: true });
    writeFileSync(path.join(vol, 'd', String(i), 'x', 'f'), String(i));
  }
  mkdirSync(path.join(vol, 'd', 'e'), { recursive: true });
  writeFileSync(path.join(vol, 'd', 'e', 'f'), 'contents\n');
});
afterAll(() => { if (vol) rmSync(vol, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('with every gofer lookup left to finish on its own, the answers are the native ones', async () => {
    const n = await runNative(['/bin/sh', '-c', script(vol)]);
    expect(n.code, describeResult(n)).toBe(0);
    const saved = process.env.TSVISOR_HOST_WAIT_MS;
    process.env.TSVISOR_HOST_WAIT_MS = '0';
    let r;
    try {
      r = await runSandbox(['/bin/sh', '-c', script('/v')], { platform, timeoutMs: 60_000, extraArgs: ['--volume', `${vol}:/v`] });
    } finally {
      if (saved === undefined) delete process.env.TSVISOR_HOST_WAIT_MS; else process.env.TSVISOR_HOST_WAIT_MS = saved;
    }
    expect(r.stderr, describeResult(r)).toBe('');
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(0);
  }, 120_000);
});
