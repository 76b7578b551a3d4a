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

// Changes of every kind, each made through a reply the sentry leaves (vfs/change_wait.ts): the
// rest of each syscall (new dentries, renamed and removed names, attributes) runs once it
// comes, and what the tree shows after is the native tree.
const changes = (dir: string) =>
  `cd ${dir} && mkdir -p w/a/b && ln -s a w/s && echo hi > w/f && ln w/f w/h && chmod 640 w/f && mv w/f w/g && ` +
  'mkfifo w/p && truncate -s 3 w/g && touch -d @1000000000 w/g && rm w/h && rmdir w/a/b && mv w/a w/c && ' +
  "stat -c '%n %F %a %s %h' w/* w/c/. && stat -c %Y w/g && readlink w/s && cat w/g | od -c | head -1; rm -rf w";

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
  it.each([['lookup', script], ['change', changes]])('with every gofer %s left to finish on its own, the answers are the native ones', async (_, script) => {
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
