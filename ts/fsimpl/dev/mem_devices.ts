// The memory character devices (Linux drivers/char/mem.c, major 1): null, zero, full, random
// and urandom, all in the sentry: no host device is ever opened for them.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { ENOSPC } from '../../abi/linux/errno';
import { makeDev } from '../../abi/linux/stat';
import type { MappingBacking } from '../../mm/backing';
import { VfsFile } from '../../vfs/vfs_file';
import { registerCharDevice } from '../../vfs/devices';
import type { VirtualDentry } from '../../vfs/virtual_dentry';

export const MEM_MAJOR = 1;
export const DEV_NULL = makeDev(MEM_MAJOR, 3);
export const DEV_ZERO = makeDev(MEM_MAJOR, 5);
export const DEV_FULL = makeDev(MEM_MAJOR, 7);
export const DEV_RANDOM = makeDev(MEM_MAJOR, 8);
export const DEV_URANDOM = makeDev(MEM_MAJOR, 9);

type Kind = 'null' | 'zero' | 'full' | 'random';

class MemDeviceFile extends VfsFile {
  override readonly seekable = true;

  constructor(flags: number, vd: VirtualDentry, private readonly kind: Kind) {
    super(flags, vd);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number {
    if (this.kind === 'null') return 0;
    if (this.kind === 'random') t.kernel.fillRandom(dst);
    else dst.fill(0);
    return dst.length;
  }

  override write(_t: Task, src: Uint8Array, _offset: number): number {
    if (this.kind === 'full') throw new SyscallError(ENOSPC);
    return src.length;
  }

  /** Linux null_lseek/zero_lseek: the position is always 0. */
  override lseek(_offset: number, _whence: number): number { return 0; }

  /** mmap of /dev/zero is anonymous memory: pages arrive zeroed, there is nothing to fill. */
  override mappable(): MappingBacking | null {
    if (this.kind !== 'zero') return null;
    return { name: '/dev/zero (deleted)', fill: () => {}, sharedAnonymous: true };
  }
}

let registered = false;

export function registerMemDevices(): void {
  if (registered) return;
  registered = true;
  const reg = (rdev: number, kind: Kind): void =>
    registerCharDevice(rdev, (_t, vd, flags) => new MemDeviceFile(flags, vd, kind));
  reg(DEV_NULL, 'null');
  reg(DEV_ZERO, 'zero');
  reg(DEV_FULL, 'full');
  reg(DEV_RANDOM, 'random');
  reg(DEV_URANDOM, 'random');
}
