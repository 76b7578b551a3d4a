// read/write of gofer files straight between the donated host fd and application memory
// (ts/fsimpl/gofer/direct_io.ts): short counts and EFAULT at unmapped or read-only pages, the
// vectored and positional calls, O_APPEND, coherence with a MAP_SHARED mapping, through the
// root's lower layer and through a --volume, compared with the same program run natively;
// a pread on an open fd sees a change the host makes to a volume file; msync of a shared
// mapping of a volume file puts the data in the host file while the mapping stays.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';
import { patternedFiles } from '../helpers/patterned_file';

const dirWithFile = patternedFiles('tsvisor-gofer-io-');

describe.each(platforms)('%s', (platform) => {
  it('reads of a root file into holey buffers are what they are natively', async () => {
    const d = dirWithFile('root');
    const native = await runNative([fixture('gofer_direct_io'), path.join(d, 'f')], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/read across a hole: 4096\n/);
    const r = await runSandbox([fixture('gofer_direct_io'), path.join(d, 'f')], { platform, timeoutMs: 50_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
  }, 60_000);

  it('reads and writes of a --volume file with holey buffers are what they are natively', async () => {
    const nativeDir = dirWithFile('native');
    const volDir = dirWithFile('vol');
    const native = await runNative([fixture('gofer_direct_io'), path.join(nativeDir, 'f'), nativeDir], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    expect(native.stdout).toMatch(/write across a hole: 4096\n/);
    // The volume at the native directory's path: the outputs compare line for line.
    const r = await runSandbox([fixture('gofer_direct_io'), path.join(nativeDir, 'f'), nativeDir], {
      platform, timeoutMs: 50_000, extraArgs: ['--volume', `${volDir}:${nativeDir}`],
    });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(volDir, 'written'))).toBe(false); // unlinked at the end, on the host
  }, 60_000);

  it('a pread on an open volume file sees the host rewrite it in place', async () => {
    const d = dirWithFile('watch');
    fs.writeFileSync(path.join(d, 'w'), 'before\n');
    const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--volume', `${d}:/v`, '--', fixture('gofer_direct_io'), '--watch', '/v/w'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => { clearTimeout(timer); resolve(c); }));
    await Promise.race([closed, new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); if (stdout.includes('ready')) resolve(); });
    })]);
    const fd = fs.openSync(path.join(d, 'w'), 'r+');
    fs.writeSync(fd, 'AFTER!', 0);
    fs.closeSync(fd);
    const code = await closed;
    expect(stdout, stderr).toBe('pread: 7\nbefore\nready\nthen AFTER!\n');
    expect(code).toBe(0);
  }, 60_000);

  it('msync of a shared mapping of a volume file reaches the host before munmap', async () => {
    const d = dirWithFile('msync');
    fs.writeFileSync(path.join(d, 'm'), Buffer.alloc(4096, '.'));
    const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--volume', `${d}:/v`, '--', fixture('gofer_direct_io'), '--msync', '/v/m'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => { clearTimeout(timer); resolve(c); }));
    await Promise.race([closed, new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); if (stdout.includes('ready')) resolve(); });
    })]);
    // The program is still in its sleep, its mapping in place.
    const onHost = fs.readFileSync(path.join(d, 'm')).subarray(0, 16).toString();
    child.kill('SIGKILL');
    await closed;
    expect(stdout, stderr).toBe('msync: 0\nready\n');
    expect(onHost).toBe('........MSYNCED.');
  }, 60_000);
});
