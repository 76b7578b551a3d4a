// read/write of gofer files with buffers never touched before (mm/io_fault.ts: the first page
// the copy meets takes the stretch it will fill at once): the data, the zeros next to it, the
// short counts at read-only and unmapped pages, a read at the end that touches nothing (0 into
// NULL), private and shared file mappings as destinations; on the root's lower layer and on a
// --volume, compared with the same program run natively. Started from a shell whose soft
// RLIMIT_FSIZE is 100 KiB, the sandbox runs (its memory file is no file of the user's, and
// the application has the sandbox's own limits): it refused to start (EFBIG).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';
import { patternedFiles } from '../helpers/patterned_file';

const dirWithFile = patternedFiles('tsvisor-gofer-fresh-');

describe.each(platforms)('%s', (platform) => {
  it('reads of a root file into fresh buffers are what they are natively', async () => {
    const d = dirWithFile('root');
    const native = await runNative([fixture('gofer_io_fresh'), path.join(d, 'f')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/read at the end into NULL: 0\n/);
    expect(native.stdout).toMatch(/pread into a private file mapping: 4106\n {2}data ok 1, before 1, after 1, third page 1\n/);
    const r = await runSandbox([fixture('gofer_io_fresh'), path.join(d, 'f')], { platform, timeoutMs: 50_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
  }, 60_000);

  it('reads and writes of a --volume file with fresh buffers are what they are natively', async () => {
    const nativeDir = dirWithFile('native');
    const volDir = dirWithFile('vol');
    const native = await runNative([fixture('gofer_io_fresh'), path.join(nativeDir, 'f'), nativeDir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/write from a fresh 1 MiB: 1048576\n/);
    const r = await runSandbox([fixture('gofer_io_fresh'), path.join(nativeDir, 'f'), nativeDir], {
      platform, timeoutMs: 50_000, extraArgs: ['--volume', `${volDir}:${nativeDir}`],
    });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(volDir, 'written'))).toBe(false);
  }, 60_000);

  it('runs under a soft RLIMIT_FSIZE of the shell that started it, writing more than it', async () => {
    const nativeDir = dirWithFile('fsize-native');
    const volDir = dirWithFile('fsize-vol');
    const argv = [fixture('gofer_io_fresh'), path.join(nativeDir, 'f'), nativeDir];
    const native = await runNative(argv, { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runNative(['/bin/sh', '-c', 'ulimit -S -f 100 && exec "$@"', 'sh', process.execPath, cli, 'run',
      `--platform=${platform}`, '--volume', `${volDir}:${nativeDir}`, '--', ...argv], { timeoutMs: 50_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
  }, 60_000);
});
