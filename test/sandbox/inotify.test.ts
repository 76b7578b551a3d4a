// inotify: every event kind and its order, cookies, watch flags, the errors and the fd's
// behaviour (fixture inotify.c, compared with the native run in a fresh directory), and a
// real watcher: coreutils `tail -f` following a file a shell appends to.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import {
  busybox, describeResult, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause, TIME_SCALE,
} from '../helpers/run';

const tail = '/usr/bin/tail';
const noTail = skipBecause(!haveBusybox || !existsSync(tail), `${busybox} or coreutils ${tail} not found`);

/** Linux 6.5 ("fsnotify: move fsnotify_open() hook into do_dentry_open()") reports an open
 *  with O_TRUNC as OPEN before the truncation's MODIFY; before, MODIFY came first. */
const OPEN_FIRST_6_5: LineEdit[] = skipBecause(hostKernelBefore(6, 5),
  'host kernel predates 6.5: an O_TRUNC open there gives MODIFY before OPEN, the sandbox\'s OPEN first is checked against those lines instead')
  ? [{
    old: /^(  wd=1 MODIFY len=16 name=f\n  wd=2 MODIFY\n)(  wd=1 OPEN len=16 name=f\n  wd=2 OPEN\n)(?=  wd=1 MODIFY len=16 name=f\n  wd=2 MODIFY\n  wd=1 CLOSE_WRITE)/m,
    now: '$2$1',
  }] : [];

/** Before 6.8 ("splice: remove permission hook from iter_file_splice_write()"), a sendfile or
 *  copy_file_range that splices into a file wrote through vfs_iter_write, which reports a MODIFY
 *  of its own before the syscall's ACCESS and MODIFY: one more `wd=2 MODIFY` leads the
 *  transfers (the later ones merge with the MODIFY queued just before them). */
const SPLICE_MODIFY_6_8: LineEdit[] = skipBecause(hostKernelBefore(6, 8),
  'host kernel predates 6.8: a splice into a file reports one more MODIFY there, checked and left out of the comparison')
  ? [{ old: /^(\[transfers\]\n)  wd=2 MODIFY\n(?=  wd=1 ACCESS\n  wd=2 MODIFY\n  wd=1 ACCESS\n  wd=2 MODIFY\n)/m, now: '$1' }]
  : [];

/** Before 6.4 ("splice: report related fsnotify events"), splice out of a file into a pipe
 *  (generic_file_splice_read) reported no ACCESS; the sandbox reports it as current kernels do. */
const SPLICE_ACCESS_6_4: LineEdit[] = skipBecause(hostKernelBefore(6, 4),
  'host kernel predates 6.4: a splice out of a file reports no ACCESS there, the sandbox\'s is checked against those lines instead')
  ? [{ old: /^(\[splice\]\n  wd=2 MODIFY\n)/m, now: '$1  wd=1 ACCESS\n' }]
  : [];

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tsvisor-inotify-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

// tail sleeps 30 s between checks when it polls: only inotify sees the append in time.
// The file is on /dev/shm (tmpfs): coreutils polls files on overlayfs, as on Linux. Its times
// stretch with TSVISOR_TEST_TIME_SCALE (the QEMU guest takes ~20 s to start the script).
const POLL_S = 30 * TIME_SCALE;
const tailScript = `
echo first > /dev/shm/f
${tail} -s ${POLL_S} -f /dev/shm/f > /dev/shm/out &
T=$!
while ! grep -q first /dev/shm/out 2>/dev/null; do sleep 0.05; done
echo second >> /dev/shm/f
i=0
while ! grep -q second /dev/shm/out; do sleep 0.05; i=$((i+1)); [ $i -gt ${200 * TIME_SCALE} ] && break; done
kill $T
wait $T
cat /dev/shm/out
`;

describe.each(platforms)('%s', (platform) => {
  it('inotify events, flags, errors and the fd behave as natively', async () => {
    const native = await runNative([fixture('inotify'), freshDir()]);
    expect(native.stdout).toContain('done\n');
    const r = await runSandbox([fixture('inotify'), freshDir()], { platform, timeoutMs: 40_000 });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, [...OPEN_FIRST_6_5, ...SPLICE_MODIFY_6_8, ...SPLICE_ACCESS_6_4]));
    expect(r.code).toBe(native.code);
  }, 60_000 * TIME_SCALE);

  it.skipIf(noTail)('tail -f sees a line appended by another process at once', async () => {
    const start = Date.now();
    const r = await runSandbox([busybox, 'sh', '-c', tailScript], { platform, timeoutMs: 25_000 });
    expect(r.stdout, describeResult(r)).toBe('first\nsecond\n');
    expect(Date.now() - start).toBeLessThan((POLL_S - 5) * 1000);
  }, 30_000 * TIME_SCALE);
});
