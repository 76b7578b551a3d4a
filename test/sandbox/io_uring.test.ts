// io_uring (syscalls/linux/sys_io_uring.ts, io_uring_ops.ts, kernel/io_uring/): io_uring.c
// compared with its native run (setup, the mapped rings, reads and writes that wait on
// pipes and sockets, poll, timeouts, links, cancel, fixed files and buffers, eventfd,
// overflow, SQPOLL, the probe); io_uring_fixed.c (fixed files for every request, direct
// descriptors, MSG_RING); io_uring_pbuf.c (provided buffers, multishot recv and accept);
// io_uring_splice.c (SPLICE, TEE, SEND_ZC, REGISTER_RESTRICTIONS);
// hostile_io_uring.c scribbling over the shared rings while
// submitting random SQEs from fixed seeds; and Node with libuv's io_uring backend on
// (UV_USE_IO_URING=1: its SQPOLL ring for file operations and its epoll_ctl batching ring).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, expectSameAsNativeInFreshDir, fixture, platforms, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';

const hostIoUring = (() => {
  try { return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0'; } catch { return true; }
})();
const noNative = skipBecause(!hostIoUring, 'the host disables io_uring (kernel.io_uring_disabled): no native run to compare with');

/** Linux 6.4 ("pipe: set FMODE_NOWAIT on pipes") lets io_uring try a pipe read without
 *  blocking and wait for it by poll; before, the read went to an io-wq worker, whose completion
 *  signals an eventfd registered with IORING_REGISTER_EVENTFD_ASYNC. */
const PIPE_NOWAIT_6_4: LineEdit[] = skipBecause(hostKernelBefore(6, 4),
  'host kernel predates 6.4: an io_uring pipe read completes in an io-wq worker there and signals the async eventfd; the sandbox\'s poll-completed read is checked against that line instead')
  ? [{ old: /^eventfd async read: a count$/m, now: 'eventfd async read: EAGAIN' }] : [];

/** Before 6.9 ('io_uring/kbuf: get rid of lower BGID lists') the groups below 64 were a fixed
 *  array, always there: removing buffers from a group never provided removed none (0), and a
 *  second unregister of a buffer ring found its emptied list (EINVAL); since, a group exists
 *  only once provided (ENOENT). Stable kernels got it too (6.6.y), so the old lines may be
 *  absent on an older release. */
const BGID_LISTS_6_9: LineEdit[] = skipBecause(hostKernelBefore(6, 9),
  'host kernel predates 6.9, whose buffer groups exist only once provided: the two native answers for a group never provided are read as a current kernel\'s')
  ? [
    { old: /^remove from a group never provided: 0$/m, now: 'remove from a group never provided: -ENOENT', sometimes: true },
    { old: /^unregister pbuf ring: ok, again: EINVAL$/m, now: 'unregister pbuf ring: ok, again: ENOENT', sometimes: true },
  ] : [];

const NODE_SCRIPT = `
const fs = require('fs');
(async () => {
  const a = await fs.promises.readFile('/etc/passwd', 'utf8');
  await fs.promises.writeFile('/tmp/x.txt', 'data'.repeat(1000));
  const st = await fs.promises.stat('/tmp/x.txt');
  const fh = await fs.promises.open('/tmp/x.txt');
  const b = Buffer.alloc(8); await fh.read(b, 0, 8, 4); await fh.close();
  console.log(a.length > 0, st.size, b.toString(), (await fs.promises.readdir('/etc')).length > 5);
  require('child_process').exec('echo child', (e, out) => {
    console.log(out.trim());
    require('http').createServer((q, r) => r.end('ok')).listen(0, function () {
      require('http').get('http://127.0.0.1:' + this.address().port, (res) => res.on('data', (d) => {
        console.log('http', d.toString()); process.exit(0);
      }));
    });
  });
})();`;

describe.each(platforms)('%s', (platform) => {
  it.skipIf(noNative)('io_uring requests as natively', async () => {
    await expectSameAsNativeInFreshDir('io_uring', 'tsvisor-iouring-', platform, 60_000, (s) => asCurrentKernel(s, PIPE_NOWAIT_6_4));
  }, 120_000 * TIME_SCALE);

  it.skipIf(noNative)('fixed files for every request, direct descriptors and MSG_RING as natively', async () => {
    await expectSameAsNativeInFreshDir('io_uring_fixed', 'tsvisor-iouring-fixed-', platform);
  }, 120_000 * TIME_SCALE);

  it.skipIf(noNative)('provided buffers (classic and ring-mapped), multishot recv and accept as natively', async () => {
    await expectSameAsNativeInFreshDir('io_uring_pbuf', 'tsvisor-iouring-pbuf-', platform, 60_000, (s) => asCurrentKernel(s, BGID_LISTS_6_9));
  }, 120_000 * TIME_SCALE);

  it.skipIf(noNative)('SPLICE, TEE, SEND_ZC and restrictions as natively', async () => {
    await expectSameAsNativeInFreshDir('io_uring_splice', 'tsvisor-iouring-splice-', platform);
  }, 120_000 * TIME_SCALE);

  it('survives a program scribbling over its rings while submitting random SQEs', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await runSandbox([fixture('hostile_io_uring'), String(seed)], { platform, timeoutMs: 90_000 });
      expect(r.stdout, describeResult(r)).toMatch(/^survived: 3000 calls/);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code).toBe(0);
    }
  }, 300_000 * TIME_SCALE);

  it('runs Node with libuv on io_uring (UV_USE_IO_URING=1)', async () => {
    const r = await runSandbox(['/usr/bin/env', 'UV_USE_IO_URING=1', process.execPath, '-e', NODE_SCRIPT],
      { platform, extraArgs: ['--strace'], timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe('true 4000 datadata true\nchild\nhttp ok\n');
    // It really went through the rings: libuv's SQPOLL ring was set up and woken.
    expect(r.stderr).toMatch(/io_uring_setup\(64, .*\) = \d+/);
    expect(r.stderr).toMatch(/io_uring_enter\(\d+ anon_inode:\[io_uring\], \d+, \d+, 0x[0-9a-f]+, .*\) = \d+/);
    expect(r.code).toBe(0);
  }, 120_000 * TIME_SCALE);
});
