// tmpfs's mount options (tmpfs_options.ts: shmem_parse_one's parser of mount(2)'s data, and
// TmpfsFS.reconfigure for a remount): the values Linux takes and shows, and a fixed-seed fuzz
// of option strings, each of which must parse to sane limits or be refused with EINVAL, and a
// remount that is refused must leave the mount as it was.
import { describe, expect, it } from 'vitest';
import { defaultLimit, defaultParams, parseTmpfsOptions, showTmpfsOptions } from '../../../ts/fsimpl/tmpfs/tmpfs_options';
import { TmpfsFS } from '../../../ts/fsimpl/tmpfs/tmpfs';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL } from '../../../ts/abi/linux/errno';
import { FakeMemoryFile } from '../mm/fake_native';
import type { NativeMemoryFile } from '../../../ts/native/addon';

const yes = (): boolean => true;
const parse = (s: string, init = true): ReturnType<typeof parseTmpfsOptions> => parseTmpfsOptions(s, init, yes, yes);

function errnoOf(f: () => void): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('tmpfs mount options', () => {
  it('reads sizes as memparse does and shows them as Linux', () => {
    expect(parse('size=1m').maxBlocks).toBe(256);
    expect(parse('size=4097').maxBlocks).toBe(2);
    expect(parse('size=0x100000').maxBlocks).toBe(256);
    expect(parse('nr_blocks=1k').maxBlocks).toBe(1024);
    expect(parse('nr_inodes=1k').maxInodes).toBe(1024);
    expect(parse('size=1E').maxBlocks).toBe(2 ** 48);
    const p = { ...defaultParams(), ...parse('size=1m,nr_inodes=5,mode=700,uid=1,gid=2,huge=always,inode64,noswap') };
    expect(showTmpfsOptions(p)).toBe('size=1024k,nr_inodes=5,mode=700,uid=1,gid=2,inode64,huge=always,noswap');
    expect(showTmpfsOptions(defaultParams())).toBe('');
    expect(defaultLimit()).toBeGreaterThan(0);
  });

  it('refuses what Linux refuses', () => {
    for (const bad of ['mode=8', 'size=1x', 'size=', 'size', 'foo', 'uid=4294967295', 'nr_inodes=1%', 'huge=deny',
      'inode64=1', 'mpol=bind', 'quota']) {
      expect(errnoOf(() => parse(bad)), bad).toBe(EINVAL);
    }
    expect(errnoOf(() => parse('noswap', false))).toBe(EINVAL); // not in a child user namespace
    expect(errnoOf(() => parseTmpfsOptions('uid=7', true, () => false, yes))).toBe(EINVAL); // unmapped
  });

  it('fuzz from a fixed seed: parsed whole or refused; a refused remount changes nothing', () => {
    let x = 0x7a3f;
    const rnd = (n: number): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
    const parts = ['size', 'nr_blocks', 'nr_inodes', 'mode', 'uid', 'gid', 'huge', 'mpol', 'inode64', 'noswap', '=', ',',
      '0', '1', '7', '9', 'x', 'k', 'E', '%', '0x', 'ffffffffffffffffff', 'always', 'bind:0', '-', ''];
    for (let i = 0; i < 4000; i++) {
      let s = '';
      for (let n = rnd(12); n > 0; n--) s += parts[rnd(parts.length)];
      let got: ReturnType<typeof parse> | undefined;
      const e = errnoOf(() => { got = parse(s); });
      expect([0, EINVAL], s).toContain(e);
      if (e !== 0) continue;
      for (const v of [got!.maxBlocks, got!.maxInodes, got!.mode, got!.uid, got!.gid]) {
        if (v !== undefined) expect(Number.isInteger(v) && v >= 0, s).toBe(true);
      }
      const fs = new TmpfsFS(new FakeMemoryFile() as unknown as NativeMemoryFile, { params: { ...defaultParams(), maxBlocks: 10, maxInodes: 3 } });
      fs.usedBlocks = 5;
      const before = showTmpfsOptions(fs.params!);
      if (errnoOf(() => fs.reconfigure(got!)) !== 0) expect(showTmpfsOptions(fs.params!), s).toBe(before);
    }
  });
});
