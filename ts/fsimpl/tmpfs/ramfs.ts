// ramfs (Linux fs/ramfs/inode.c): tmpfs's files without its limits. Its only option is mode=
// (the root's, default 0755); it ignores every other option, as ramfs always has, but a mode
// it cannot read is EINVAL. statfs says nothing of sizes (simple_statfs).

import type { Statfs } from '../../abi/linux/fs';
import { devFsid } from '../../vfs/file_system';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import type { NativeMemoryFile } from '../../native/addon';
import { TmpfsFS } from './tmpfs';

const RAMFS_MAGIC = 0x858458f6;
const RAMFS_DEFAULT_MODE = 0o755;

/** ramfs_parse_param over mount(2)'s data: the root's mode. */
export function parseRamfsMode(data: string): number {
  let mode = RAMFS_DEFAULT_MODE;
  for (const opt of data.split(',')) {
    if (opt !== 'mode' && !opt.startsWith('mode=')) continue;
    const v = opt.slice(5);
    if (!/^[0-7]+$/.test(v) || parseInt(v, 8) > 0xffffffff) fail(EINVAL);
    mode = parseInt(v, 8) & 0o7777;
  }
  return mode;
}

export class RamfsFS extends TmpfsFS {
  override readonly type = 'ramfs';

  constructor(mf: NativeMemoryFile, private readonly mode: number) {
    super(mf, { rootMode: mode });
  }

  /** simple_statfs's fsid (its device), not tmpfs's uuid. */
  override get fsid(): [number, number] { return devFsid(this.dev); }

  override statfs(): Statfs {
    return {
      type: RAMFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [0, 0],
      namelen: 255, frsize: 4096, flags: 0,
    };
  }

  override mountOptions(): string {
    return this.mode === RAMFS_DEFAULT_MODE ? '' : `mode=${this.mode.toString(8).padStart(3, '0')}`;
  }
}
