// dev: the sandbox's /dev (Linux devtmpfs as a container runtime populates it): a tmpfs
// holding the memory devices, tty, the /dev/fd and stdio symlinks into /proc/self/fd, and
// empty shm/ and pts/ directories (the sandbox mounts a tmpfs on shm; ptmx puts the pty
// replica nodes in pts/). It owns the layout only; the drivers are in mem_devices.ts, tty.ts
// and ../devpts.

import type { NativeMemoryFile } from '../../native/addon';
import { Credentials } from '../../kernel/credentials';
import { S_IFCHR, S_IFDIR, makeDev } from '../../abi/linux/stat';
import { TmpfsFS } from '../tmpfs/tmpfs';
import type { Inode } from '../../vfs/inode';
import { DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_URANDOM, DEV_ZERO, registerMemDevices } from './mem_devices';
import { registerTty } from './tty';
import { DEV_PTMX, registerPtmx } from '../devpts/ptmx';
import { DEV_CONSOLE, registerConsole } from './console';

export const DEV_TTY = makeDev(5, 0);

class DevFS extends TmpfsFS {
  override readonly type = 'devtmpfs';
  override get source(): string { return 'udev'; }
}

export function newDevFS(mf: NativeMemoryFile): TmpfsFS {
  registerMemDevices();
  registerTty();
  registerPtmx();
  const fs = new DevFS(mf, { rootMode: 0o755 });
  const root = fs.root;
  const rootCreds = new Credentials(0, 0);
  const chr = (name: string, rdev: number, mode = 0o666): Inode =>
    root.mknod(name, S_IFCHR | mode, rdev, rootCreds);
  chr('null', DEV_NULL);
  chr('zero', DEV_ZERO);
  chr('full', DEV_FULL);
  chr('random', DEV_RANDOM);
  chr('urandom', DEV_URANDOM);
  chr('tty', DEV_TTY);
  chr('ptmx', DEV_PTMX);
  registerConsole(chr('console', DEV_CONSOLE, 0o600));
  root.symlink('fd', '/proc/self/fd', rootCreds);
  root.symlink('stdin', '/proc/self/fd/0', rootCreds);
  root.symlink('stdout', '/proc/self/fd/1', rootCreds);
  root.symlink('stderr', '/proc/self/fd/2', rootCreds);
  root.symlink('core', '/proc/kcore', rootCreds);
  root.mkdir('shm', S_IFDIR | 0o1777, rootCreds);
  root.mkdir('pts', S_IFDIR | 0o755, rootCreds);
  root.mkdir('mqueue', S_IFDIR | 0o1777, rootCreds);
  return fs;
}
