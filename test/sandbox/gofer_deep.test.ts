// Deep paths into a host tree, on the root (the gofer's tree under the memory overlay) and on
// a --volume: a walk the sandbox sends to the gofer with all its remaining components in one
// round trip must stop where Linux stops (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG at the right
// component), follow symlinks and '..' in the middle as Linux does, and give the same inodes,
// cold, warm and after the trust window; a directory of symlinks lists with the same targets
// (which come with the listing); compared with the native run of gofer_deep.c.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function makeTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-deep-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'a/b/c/d/e/f'), { recursive: true });
  writeFileSync(path.join(dir, 'a/b/c/d/e/f/file'), 'deep file\n');
  writeFileSync(path.join(dir, 'a/file'), 'a file\n');
  symlinkSync('c/d', path.join(dir, 'a/b/lnk'));
  symlinkSync('../b', path.join(dir, 'a/b/up'));
  symlinkSync('nowhere', path.join(dir, 'a/b/dangling'));
  symlinkSync('loop', path.join(dir, 'a/b/loop'));
  const deep = ['deep', ...Array.from({ length: 20 }, (_, i) => String(i + 1))].join('/');
  mkdirSync(path.join(dir, deep), { recursive: true });
  writeFileSync(path.join(dir, deep, 'leaf'), 'leaf\n');
  // A directory of symlinks (listed with their targets): relative, up, dangling, long.
  mkdirSync(path.join(dir, 'links'));
  for (let i = 0; i < 20; i++) symlinkSync(`../a/b/c/d/e/f/${i % 2 ? 'file' : 'nothing'}`, path.join(dir, 'links', `l${i}`));
  symlinkSync('../a', path.join(dir, 'links', 'up'));
  symlinkSync('x/'.repeat(1500), path.join(dir, 'links', 'long'));
  return dir;
}

describe.each(platforms)('%s', (platform) => {
  for (const where of ['root', 'volume']) {
    it(`deep paths on the ${where} as natively`, async () => {
      const dir = makeTree();
      const inside = where === 'root' ? dir : '/vol';
      const extraArgs = where === 'root' ? [] : ['--volume', `${dir}:/vol`];
      const r = await runSandbox([fixture('gofer_deep'), inside], { platform, timeoutMs: 60_000, extraArgs });
      const native = await runNative([fixture('gofer_deep'), dir], { timeoutMs: 60_000 });
      expect(native.code).toBe(0);
      expect(native.stdout).toContain('open a/b/lnk/e/f/file: read 10 "deep file');
      expect(native.stdout).toContain('long mode 120777 size 3000');
      // A tree on a file system mounted below / (the QEMU guest's /tmp) has its inode numbers
      // carry the gofer's device prefix in the sandbox (ts/fsimpl/gofer/qid_ino.ts): they are
      // compared below it there.
      const submount = where === 'root' && statSync(dir).dev !== statSync('/').dev;
      const out = submount ? r.stdout.replace(/ino (\d+)/g, (_m, n: string) => `ino ${BigInt(n) & ((1n << 45n) - 1n)}`) : r.stdout;
      expect(out, describeResult(r)).toBe(native.stdout);
      expect(r.code).toBe(native.code);
    }, 150_000);
  }
});
