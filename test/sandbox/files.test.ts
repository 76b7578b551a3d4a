// The sandbox's file system: the files fixture (create/read/write/seek, directories, rename,
// links, symlinks, errnos, /dev, /proc) compared line by line with Linux, writes that must
// never reach the host, and /proc's view of the process.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { busybox, describeResult, fixture, haveBusybox, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const noBusybox = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);

function scratch(tag: string): string {
  return path.join(tmpdir(), `tsvisor-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}`);
}

describe.each(platforms)('%s', (platform) => {
  it('file operations behave as on Linux', async () => {
    const dir = scratch('files');
    const native = await runNative([fixture('files'), dir]);
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('files'), dir], { platform });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), describeResult(r)).toEqual([]);
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('an O_TRUNC open and ftruncate move mtime and ctime of a file already that size', async () => {
    const dir = scratch('trunc');
    mkdirSync(dir);
    try {
      const native = await runNative([fixture('trunc_times'), dir]);
      expect(native.code, describeResult(native)).toBe(0);
      const r = await runSandbox([fixture('trunc_times'), dir], { platform });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes stay in the sandbox: the host never sees them', async () => {
    const dir = scratch('nohost');
    const victim = scratch('victim');
    writeFileSync(victim, 'host file\n');
    try {
      const r = await runSandbox([fixture('writes'), dir, victim], { platform });
      expect(r.stdout, describeResult(r)).toBe('read: one\ntwo\nremoved: yes\n');
      expect(r.code).toBe(0);
      expect(existsSync(dir)).toBe(false);
      expect(readFileSync(victim, 'utf8')).toBe('host file\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(victim, { force: true });
    }
  });

  it.skipIf(noBusybox)('a file written early is read back later in the same sandbox; deletes hide host files', async () => {
    // Builtins only (no fork): the shell sources the file it wrote, after appending to it.
    const r = await runSandbox([busybox, 'sh', '-c',
      'echo "echo one" > /tmp/t1.sh && echo "echo two" >> /tmp/t1.sh && . /tmp/t1.sh; ' +
      'echo "echo replaced" > /etc/os-release && . /etc/os-release; test -e /etc/passwd && echo kept'],
    { platform });
    expect(r.stdout, describeResult(r)).toBe('one\ntwo\nreplaced\nkept\n');
    expect(readFileSync('/etc/os-release', 'utf8')).not.toContain('replaced');
  });

  it.skipIf(noBusybox)('ls / and cat of host files, through the read-only lower layer', async () => {
    const ls = await runSandbox([busybox, 'ls', '/'], { platform });
    expect(ls.stdout.split('\n'), describeResult(ls)).toEqual(expect.arrayContaining(['etc', 'proc', 'dev', 'tmp', 'usr']));
    const cat = await runSandbox([busybox, 'cat', '/etc/passwd'], { platform });
    expect(cat.stdout, describeResult(cat)).toMatch(/^root:/);
  });

  it.skipIf(noBusybox)('/proc describes the process', async () => {
    const r = await runSandbox([busybox, 'cat', '/proc/self/stat', '/proc/self/status', '/proc/sys/kernel/ostype',
      '/proc/cpuinfo'], { platform });
    expect(r.stdout, describeResult(r)).toMatch(/^1 \(busybox\) R 0 /);
    expect(r.stdout).toMatch(/\nName:\tbusybox\n/);
    expect(r.stdout).toMatch(/\nLinux\nprocessor\t: 0\n/);
    const self = await runSandbox([busybox, 'readlink', '/proc/self'], { platform });
    expect(self.stdout, describeResult(self)).toBe('1\n');
    const exe = await runSandbox([busybox, 'readlink', '/proc/self/exe'], { platform });
    expect(exe.stdout, describeResult(exe)).toMatch(/^\/(usr\/)?bin\/busybox\n$/);
    const maps = await runSandbox([busybox, 'cat', '/proc/self/maps'], { platform });
    expect(maps.stdout, describeResult(maps)).toMatch(/\[stack\]/);
    expect(maps.stdout).toMatch(/r-xp .* \/(usr\/)?bin\/busybox/);
    const mounts = await runSandbox([busybox, 'cat', '/proc/mounts'], { platform });
    expect(mounts.stdout, describeResult(mounts)).toMatch(/^overlay \/ overlay rw/);
    expect(mounts.stdout).toMatch(/\nproc \/proc proc /);
    const fds = await runSandbox([busybox, 'ls', '/proc/self/fd'], { platform });
    expect(fds.stdout, describeResult(fds)).toMatch(/^0\n1\n2\n3\n/);
    const dev = await runSandbox([busybox, 'ls', '/dev'], { platform });
    expect(dev.stdout.split('\n'), describeResult(dev)).toEqual(expect.arrayContaining(['null', 'zero', 'shm', 'fd']));
  });
});
