// devpts's mount options (DevptsFS.configure, the parser of mount(2)'s data for devpts): the
// values Linux takes, EINVAL for everything else with nothing applied, and a fixed-seed fuzz of
// option strings that must only ever be taken whole or refused with EINVAL.
import { describe, expect, it } from 'vitest';
import { DevptsFS } from '../../../ts/fsimpl/devpts/devpts_fs';
import type { Kernel } from '../../../ts/kernel/kernel';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL } from '../../../ts/abi/linux/errno';
import { FakeMemoryFile } from '../mm/fake_native';

function devpts(): DevptsFS {
  return new DevptsFS({ mf: new FakeMemoryFile() } as unknown as Kernel);
}

function errnoOf(f: () => void): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('devpts mount options', () => {
  it('takes uid, gid, mode, ptmxmode, max and newinstance', () => {
    const fs = devpts();
    expect(fs.mountOptions()).toBe('mode=600,ptmxmode=000');
    fs.configure('newinstance,gid=5,mode=0600,ptmxmode=000,uid=7,max=10');
    expect(fs.mountOptions()).toBe('uid=7,gid=5,mode=600,ptmxmode=000,max=10');
    expect(fs.root.lookup('ptmx')?.stat().mode! & 0o7777).toBe(0);
  });

  it('refuses a bad one with EINVAL and applies none of the others', () => {
    for (const bad of ['mode=8', 'mode=', 'uid=-1', 'gid=x', 'uid=4294967296', 'max=1048577', 'bogus',
      'newinstance=1', 'mode=600,size=1', 'ptmxmode=666,max=x']) {
      const fs = devpts();
      expect(errnoOf(() => fs.configure(bad)), bad).toBe(EINVAL);
      expect(fs.mountOptions(), bad).toBe('mode=600,ptmxmode=000');
    }
  });

  it('fuzz from a fixed seed: each string is taken whole or refused whole', () => {
    let x = 0x5eed;
    const rnd = (n: number): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
    const parts = ['uid', 'gid', 'mode', 'ptmxmode', 'max', 'newinstance', '=', ',', '0', '7', '9', '-', 'x', '4294967296', ' ', ''];
    for (let i = 0; i < 3000; i++) {
      const fs = devpts();
      let s = '';
      for (let n = rnd(12); n > 0; n--) s += parts[rnd(parts.length)];
      const before = fs.mountOptions();
      const e = errnoOf(() => fs.configure(s));
      expect([0, EINVAL], s).toContain(e);
      if (e !== 0) expect(fs.mountOptions(), s).toBe(before);
      expect(fs.mode & ~0o7777, s).toBe(0);
      expect(fs.ptmxmode & ~0o7777, s).toBe(0);
    }
  });
});
