// Reads, lookups and listings on a --volume whose host file system stalls them (a FUSE
// daemon, fixture fuse_stall.c, whose reads of "slow" wait until a file appears; fixture
// gofer_stall.c, compared with its
// native run on the same kind of mount): the stuck reader holds only itself. Another process
// opens and reads files of the same file system meanwhile, a signal with a handler ends the
// read with EINTR, SIGINT and SIGKILL end stuck readers, and a read still waiting when the
// file system lets go succeeds. On the start build the sentry's own read of the donated fd
// blocked its thread: the whole sandbox stopped until the daemon answered. So did a stalled
// stat or listing (fixture gofer_stall_lookup.c) until wt-base24: the sentry awaited the
// walk, getattr and readdir replies on its thread (vfs/host_wait.ts); and the lookups of a
// rename, unlink, mkdir, symlink, link or execve (gofer_stall_change.c), and a page fault of
// a mapping of such a file (gofer_stall_mmap.c), until wt-base25; and the replies to changes
// and an fstat of an open file (gofer_stall_reply.c) until wt-base26.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, type RunResult } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

/** run(mnt, ctl) with a fresh stalling FUSE mount on mnt (its release file in ctl); nointr:
 *  the daemon ignores interrupts. */
async function withStall(run: (mnt: string, ctl: string) => Promise<RunResult>, nointr = false): Promise<RunResult> {
  const d = mkdtempSync(path.join(tmpdir(), 'tsvisor-stall-'));
  made.push(d);
  const mnt = path.join(d, 'mnt'), ctl = path.join(d, 'ctl');
  mkdirSync(mnt);
  mkdirSync(ctl);
  const daemon: ChildProcess = spawn(fixture('fuse_stall'), [mnt, path.join(ctl, 'go'), ...(nointr ? ['nointr'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => daemon.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    daemon.stdout!.once('data', (b: Buffer) => (b.toString() === 'ready\n' ? resolve() : reject(new Error(`fuse_stall: ${b.toString()}`))));
    daemon.once('exit', (c) => reject(new Error(`fuse_stall exited ${c}`)));
  });
  try { return await run(mnt, ctl); } finally {
    // Whatever still waits is let go, then the daemon unmounts and exits.
    writeFileSync(path.join(ctl, 'go'), '');
    daemon.kill('SIGTERM');
    await exited;
  }
}

/** Skips (saying why) where no FUSE mount can be made. */
function noFuse(): boolean {
  const no = process.getuid?.() !== 0 || !existsSync('/dev/fuse');
  if (no) console.log('skipped: the stalling FUSE mount needs root and /dev/fuse');
  return no;
}

/** Fixture name run natively on a fresh stalling mount (argv: the mount, its release file,
 *  then BEATS if beats), then in the sandbox with the mount at /vol (or, viaRoot, at its host
 *  path inside the root tree, which the gofer serves: a FUSE mount found there) and the release
 *  file's directory at /ctl: the same output, exit 0, and the native run shows each of `signs`. With beats,
 *  the host reads BEATS before the release: 20 lines, written while the stuck ones waited. */
async function sameAsNative(name: string, platform: string, signs: readonly string[], beats = false, viaRoot = false): Promise<void> {
  const n = await withStall((mnt, ctl) => runNative([fixture(name), mnt, path.join(ctl, 'go'), ...(beats ? [path.join(ctl, 'beats')] : [])], { timeoutMs: 30_000 }));
  expect(n.code, describeResult(n)).toBe(0);
  for (const sign of signs) expect(n.stdout).toContain(sign);
  let written = '';
  const r = await withStall(async (mnt, ctl) => {
    const res = await runSandbox([fixture(name), viaRoot ? mnt : '/vol', '/ctl/go', ...(beats ? ['/ctl/beats'] : [])],
      { platform, timeoutMs: 40_000, extraArgs: [...(viaRoot ? [] : ['--volume', `${mnt}:/vol`]), '--volume', `${ctl}:/ctl`] });
    // From the host, before the release (the daemon still held the stuck ones).
    if (beats && existsSync(path.join(ctl, 'beats'))) written = readFileSync(path.join(ctl, 'beats'), 'utf8');
    return res;
  });
  expect(r.stdout, describeResult(r)).toBe(n.stdout);
  expect(r.code).toBe(0);
  if (beats) expect(written.split('\n').filter(Boolean)).toHaveLength(20);
}

describe.each(platforms)('%s', (platform) => {
  it('a read stalled by the host file system holds only its task; signals end it as natively', async () => {
    if (noFuse()) return;
    await sameAsNative('gofer_stall', platform, ['other file while the read waits: 20/20 read', 'read: -1 EINTR']);
  }, 120_000);

  it('a stat and a listing stalled by the host file system hold only their tasks; SIGKILL and SIGINT end them', async () => {
    if (noFuse()) return;
    await sameAsNative('gofer_stall_lookup', platform, ['other lookups while a stat and a listing wait: 20/20'], true);
  }, 120_000);

  it('the lookups of a rename, unlink, mkdir, symlink, link and execve, and an O_APPEND write\'s size, stalled by the host hold only their tasks', async () => {
    if (noFuse()) return;
    // On wt-base25 the first stalled rename blocked the sentry's thread: the sandbox stopped
    // (no beat written) until the test released the file system.
    await sameAsNative('gofer_stall_change', platform, ['other lookups while six changes wait: 20/20'], true);
  }, 120_000);

  it('changes (mkdir, unlink, rename, symlink, link, mknod, chmod) and an fstat whose replies the host stalls hold only their tasks', async () => {
    if (noFuse()) return;
    // On wt-base26 the first stalled change, whose reply the sentry awaited on its thread,
    // stopped the sandbox: no beat was written until the test released the file system.
    await sameAsNative('gofer_stall_reply', platform, ['other lookups while eight changes wait: 20/20', 'still waiting: 8/8'], true);
  }, 120_000);

  it('a write whose set-id removal the host stalls holds only its task', async () => {
    if (noFuse()) return;
    // Sandbox only: natively FUSE asks the daemon to drop the bit within the write
    // (FUSE_WRITE_KILL_SUIDGID), which does not stall; the sentry drops it first with a
    // Tsetattr, which the daemon stalls. On wt-base26 the sentry awaited that reply on its
    // thread: nothing else ran (no beat) until the release.
    const sh = 'setpriv --reuid=65534 --regid=65534 --clear-groups dd if=/dev/zero of=/vol/c6/f bs=1 count=1 conv=notrunc 2>/dev/null & ' +
      'sleep 0.5; cat /vol/fast > /ctl/beat; echo "writer waits: $(kill -0 $! 2>/dev/null && echo yes)"; kill -9 $!; wait $!; echo "killed: $?"';
    let beat = '';
    const r = await withStall(async (mnt, ctl) => {
      const res = await runSandbox(['/bin/sh', '-c', sh], { platform, timeoutMs: 20_000, extraArgs: ['--volume', `${mnt}:/vol`, '--volume', `${ctl}:/ctl`] });
      if (existsSync(path.join(ctl, 'beat'))) beat = readFileSync(path.join(ctl, 'beat'), 'utf8');
      return res;
    });
    expect(r.stdout, describeResult(r)).toBe('writer waits: yes\nkilled: 137\n');
    expect(beat).toBe('fast\n');
  }, 60_000);

  it('a FUSE mount inside the root tree: a stalled read holds only its task; signals end it as natively', async () => {
    if (noFuse()) return;
    // On wt-base26 the sentry had no host-wait gate for a root on a local disk, the gofer
    // walked into the mount in its serving loop, and the overlay's lower file read its donated
    // fd on the sentry's thread: the first stalled read stopped the sandbox.
    await sameAsNative('gofer_stall', platform, ['other file while the read waits: 20/20 read', 'read: -1 EINTR'], false, true);
  }, 120_000);

  it('a page fault of a private or shared mapping whose read the host stalls holds only its task; signals end it as natively', async () => {
    if (noFuse()) return;
    // The shared mapping's fault (its page cache read the host file on the sentry's thread)
    // stopped the sandbox until wt-base26.
    await sameAsNative('gofer_stall_mmap', platform, ['lookups while the fault waits: 20/20', 'shared:\nlookups while the fault waits: 20/20']);
  }, 120_000);

  it('the sandbox ends with its last task while a read it gave up still waits on the host', async () => {
    if (noFuse()) return;
    // On wt-base25 node's exit joined libuv's pool, where the read still waited: the sandbox
    // stayed until the file system let go (here: until the helper killed it).
    const r = await withStall((mnt) => runSandbox(['/bin/sh', '-c', 'cat /vol/slow & sleep 0.3; echo bye; exit 3'],
      { platform, timeoutMs: 20_000, extraArgs: ['--volume', `${mnt}:/vol`] }));
    expect(r.stdout, describeResult(r)).toBe('bye\n');
    expect(r.code).toBe(3);
  }, 60_000);

  it('reads given up on a file system that ignores interrupts hold a bounded share of the sentry\'s threads', async () => {
    if (noFuse()) return;
    // Sandbox only: natively the fifth read waits like the four before it. On wt-base24 the
    // four left reads held all of libuv's threads, and the fifth waited for one for ever.
    const r = await withStall((mnt, ctl) => runSandbox([fixture('gofer_stall_pool'), '/vol', '/ctl/go'],
      { platform, timeoutMs: 40_000, extraArgs: ['--volume', `${mnt}:/vol`, '--volume', `${ctl}:/ctl`] }), true);
    expect(r.stdout, describeResult(r)).toBe('stuck readers killed: 4/4\nfifth reader: read: -1 EIO\nafter the release: read: slow\n');
    expect(r.stderr).toContain('given up by their tasks are still waiting on the host');
    expect(r.code).toBe(0);
  }, 120_000);
});
