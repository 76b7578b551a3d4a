// Dynamically linked programs: glibc's ld.so opens and maps the libraries through the
// sandbox's file system (openat, mmap of files). Each test skips, saying so, if the host
// lacks the program.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

function missing(p: string): boolean {
  return skipBecause(!existsSync(p), `${p} not found`);
}

describe.each(platforms)('%s', (platform) => {
  it.skipIf(missing('/bin/echo'))('/bin/echo (coreutils, dynamic)', async () => {
    const r = await runSandbox(['/bin/echo', 'hi', 'there'], { platform });
    expect(r.stdout, describeResult(r)).toBe('hi there\n');
    expect(r.code).toBe(0);
  });

  it.skipIf(missing('/bin/ls'))('ls / lists the host root', async () => {
    const r = await runSandbox(['/bin/ls', '/'], { platform });
    const native = await runNative(['/bin/ls', '/']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(native.stdout.split('\n').filter((l) => l !== '')));
  });

  it.skipIf(missing('/bin/cat') || missing('/etc/os-release'))('cat /etc/os-release', async () => {
    const r = await runSandbox(['/bin/cat', '/etc/os-release'], { platform });
    expect(r.stdout, describeResult(r)).toBe(readFileSync('/etc/os-release', 'utf8'));
  });

  it.skipIf(missing('/usr/bin/sha256sum'))('sha256sum of a host file matches node:crypto', async () => {
    const file = '/usr/bin/sha256sum';
    const want = createHash('sha256').update(readFileSync(file)).digest('hex');
    const r = await runSandbox(['/usr/bin/sha256sum', file], { platform });
    expect(r.stdout, describeResult(r)).toBe(`${want}  ${file}\n`);
  });

  it.skipIf(missing('/usr/bin/python3'))('python3 -c print(1+1)', async () => {
    const r = await runSandbox(['/usr/bin/python3', '-c', 'print(1+1)'], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('2\n');
    expect(r.code).toBe(0);
  }, 90_000);

  it.skipIf(missing('/usr/bin/python3'))('python3 writes, lists and reads back files', async () => {
    const script = [
      'import os, tempfile',
      'd = tempfile.mkdtemp()',
      'open(os.path.join(d, "x"), "w").write("data")',
      'os.mkdir(os.path.join(d, "sub"))',
      'print(sorted(os.listdir(d)), open(os.path.join(d, "x")).read())',
    ].join('\n');
    const r = await runSandbox(['/usr/bin/python3', '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe("['sub', 'x'] data\n");
  }, 90_000);
});
