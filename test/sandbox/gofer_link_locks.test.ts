// One file through two names (hard links the host made) on a --volume and on the root's lower
// layer (fixture gofer_link_locks.c, compared with its native run on the same kind of host
// directory): a gofer tree makes an inode object per name, and the locks (POSIX, OFD, flock)
// and a FIFO's pipe belong to the file (Inode.identity), so a lock through one name stops
// another process's through the other, as natively.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

function linkedTree(): string {
  const d = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-linklocks-'));
  made.push(d);
  fs.writeFileSync(path.join(d, 'a'), '0123456789abcdefghij0123456789\n');
  fs.linkSync(path.join(d, 'a'), path.join(d, 'b'));
  execFileSync('mkfifo', [path.join(d, 'p')]);
  fs.linkSync(path.join(d, 'p'), path.join(d, 'q'));
  return d;
}

describe.each(platforms)('%s', (platform) => {
  it.each(['volume', 'root'])('locks through two names of one file on the %s, as natively', async (via) => {
    const nd = linkedTree();
    const n = await runNative([fixture('gofer_link_locks'), nd], { timeoutMs: 30_000 });
    expect(n.code, describeResult(n)).toBe(0);
    expect(n.stdout).toContain('other process: flock via b: -1 EAGAIN');
    const d = linkedTree();
    const r = via === 'volume'
      ? await runSandbox([fixture('gofer_link_locks'), '/v'], { platform, timeoutMs: 30_000, extraArgs: ['--volume', `${d}:/v`] })
      : await runSandbox([fixture('gofer_link_locks'), d], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code).toBe(0);
  }, 60_000);
});
