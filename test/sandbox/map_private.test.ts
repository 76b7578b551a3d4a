// MAP_PRIVATE file mappings over the shared page cache (mm/page_cache.ts): the semantics of
// fixture map_private_file.c against the native run (a write to the file is seen in pages
// not written yet, written pages are private, MADV_DONTNEED, mprotect, fork, mremap,
// truncate), and the attacks of map_private_hostile.c (scribbling over a private mapping of
// libc, then running dynamic programs; COW faults raced against mprotect/DONTNEED/remaps),
// with the files checked from the host afterwards.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, TIME_SCALE } from '../helpers/run';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
let dir = '';
let ro = '';
let roHash = '';
let libcHash = '';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-map-private-'));
  // A file the sandbox sees only through its read-only lower layer: 16 pages of bytes.
  ro = path.join(dir, 'ro.bin');
  const b = Buffer.alloc(16 * 4096);
  for (let i = 0; i < b.length; i++) b[i] = (i * 131 + (i >> 12)) & 0xff;
  writeFileSync(ro, b);
  roHash = sha(ro);
  libcHash = sha(LIBC);
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('MAP_PRIVATE of a file behaves as natively', async () => {
    const nativeDir = mkdtempSync(path.join(dir, 'native-'));
    const native = await runNative([fixture('map_private_file'), nativeDir, ro], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    // The sandbox's writable directory is its own (the overlay's upper layer over /tmp).
    const r = await runSandbox([fixture('map_private_file'), nativeDir, ro], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
  }, 90_000 * TIME_SCALE);

  it('on a --volume, what a private mapping writes never reaches the host file', async () => {
    const vol = mkdtempSync(path.join(dir, 'vol-'));
    const roCopy = path.join(vol, 'ro.bin');
    copyFileSync(ro, roCopy);
    const native = await runNative([fixture('map_private_file'), vol, roCopy], { timeoutMs: 30_000 });
    const r = await runSandbox([fixture('map_private_file'), '/vol', '/vol/ro.bin'],
      { platform, timeoutMs: 60_000, extraArgs: [`--volume=${vol}:/vol`] });
    // A volume's private mappings still copy a page at its first touch (no shared page cache
    // for files the sandbox can write): only the lines before the file changes agree.
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(native.stdout.split('\n')[0]);
    expect(sha(roCopy)).toBe(roHash);
  }, 90_000 * TIME_SCALE);

  it('the page cache shows in /proc/meminfo as Cached', async () => {
    const r = await runSandbox(['/bin/sh', '-c', 'grep ^Cached: /proc/meminfo; python3 -c 0; grep ^Cached: /proc/meminfo'],
      { platform, timeoutMs: 60_000 });
    const kb = [...r.stdout.matchAll(/^Cached:\s+(\d+) kB$/gm)].map((m) => Number(m[1]));
    expect(kb.length, describeResult(r)).toBe(2);
    // The shell and its libc are cached already; python3 and its libraries add to that.
    expect(kb[0]).toBeGreaterThan(0);
    expect(kb[1]).toBeGreaterThan(kb[0]);
  }, 90_000 * TIME_SCALE);

  it('a private mapping scribbled over or raced changes nothing for others', async () => {
    const r = await runSandbox([fixture('map_private_hostile'), ro, LIBC], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe(
      'dynamic /bin/true after scribbling over libc: 0\n' +
      'dynamic /bin/true again: 0\n' +
      "checker's mapping during the race: the file\n" +
      'after the race: fresh mapping the file, read the file\n');
    expect(r.code).toBe(0);
    // And on the host, nothing moved.
    expect(sha(ro)).toBe(roHash);
    expect(sha(LIBC)).toBe(libcHash);
  }, 150_000 * TIME_SCALE);
});
