// An open that the host makes wait, on a --volume (fixture gofer_open_wait.c, compared with its
// native run): a host process holds a write lease on the file, so the gofer's open of it waits
// for the lease break. That wait holds only the opening task: another process of the sandbox
// opens and reads files meanwhile, a signal ends the open with EINTR (or it goes on waiting
// under SA_RESTART), SIGKILL ends the task, and an open still waiting when the holder lets go
// succeeds (the retry takes the gofer's finished open). The same open through io_uring
// (mode "uring") waits as Linux's io-wq worker does: the ring's other requests complete, a
// signal does not end it, ASYNC_CANCEL interrupts it, and it completes once the lease goes. Before, the gofer's open answered EWOULDBLOCK
// at once (and a host open that blocked would have frozen the whole sentry).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, type RunResult } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function tree(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tsvisor-openwait-'));
  made.push(d);
  writeFileSync(path.join(d, 'leased'), 'leased');
  writeFileSync(path.join(d, 'other'), 'other\n');
  return d;
}

/** run() while a host process holds a write lease on dir/leased (a fresh one each time: a
 *  lease being broken is revoked after lease-break-time). */
async function withLease(dir: string, run: () => Promise<RunResult>): Promise<RunResult> {
  const holder = spawn(fixture('gofer_open_wait'), [dir, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', (b: Buffer) => (b.toString() === 'held\n' ? resolve() : reject(new Error(`holder: ${b.toString()}`))));
    holder.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  try { return await run(); } finally {
    holder.stdin.end();
    await new Promise((r) => holder.once('exit', r));
  }
}

/** The fixture in mode `mode` under a lease, natively and in the sandbox (the file on a
 *  --volume): the same output; the native run's must contain `sign`. */
async function sameAsNativeUnderLease(mode: string, sign: string, platform: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('skipped: a lease on the volume file needs its owner in and out of the sandbox (run as root)');
    return;
  }
  const native = tree();
  const n = await withLease(native, () => runNative([fixture('gofer_open_wait'), native, mode], { timeoutMs: 30_000 }));
  expect(n.code, describeResult(n)).toBe(0);
  expect(n.stdout).toContain(sign);
  const vol = tree();
  const r = await withLease(vol, () => runSandbox([fixture('gofer_open_wait'), '/vol', mode],
    { platform, timeoutMs: 40_000, extraArgs: ['--volume', `${vol}:/vol`] }));
  expect(r.stdout, describeResult(r)).toBe(n.stdout);
  expect(r.code).toBe(0);
}

describe.each(platforms)('%s', (platform) => {
  it('an open waiting on a host lease holds only its task, and a signal ends it as natively', async () => {
    await sameAsNativeUnderLease('open', 'open without SA_RESTART: -1 EINTR', platform);
  }, 120_000);

  it('an io_uring OPENAT waiting on a host lease waits as io-wq does, and is cancellable', async () => {
    await sameAsNativeUnderLease('uring', 'the opens wait: 0 done', platform);
  }, 120_000);
});
