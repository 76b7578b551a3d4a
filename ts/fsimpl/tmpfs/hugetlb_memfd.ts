// memfd_create(MFD_HUGETLB) files (Linux fs/hugetlbfs): huge pages back them, and the sandbox
// has no huge page pool (/proc/meminfo: HugePages_Total 0), so, as on such a Linux, the file
// exists and has a size (a multiple of its page size) but never data: reads see zeros, write
// is EINVAL, allocation ENOSPC, and every mmap ENOMEM. Seals work as on any memfd.

import * as fs from 'node:fs';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, ENOSPC } from '../../abi/linux/errno';
import type { Stat } from '../../abi/linux/stat';
import type { MappingBacking } from '../../mm/backing';
import type { SetAttr } from '../../vfs/inode';
import { TmpfsRegular } from './regular';
import type { TmpfsFS } from './tmpfs';

const MB2 = 21, GB1 = 30;
let gigantic: boolean | null = null;

/** hstate_sizelog: the huge page size for log2 `log` (0: the default 2 MiB), or null when the
 *  CPU has no such page size (1 GiB needs pdpe1gb). */
export function hugePageSize(log: number): number | null {
  if (log === 0 || log === MB2) return 2 ** MB2;
  if (log !== GB1) return null;
  gigantic ??= (() => {
    try { return /\bpdpe1gb\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')); } catch { return false; }
  })();
  return gigantic ? 2 ** GB1 : null;
}

export class HugetlbRegular extends TmpfsRegular {
  constructor(fsys: TmpfsFS, mode: number, uid: number, gid: number, readonly pageSize: number) {
    super(fsys, mode, uid, gid);
  }

  override write(): number { throw new SyscallError(EINVAL); }
  override writeFromUser(): number { throw new SyscallError(EINVAL); }

  /** No pool to take pages from. */
  override allocate(): void { throw new SyscallError(ENOSPC); }

  /** hugetlbfs_setattr: a size that is not a whole number of huge pages is EINVAL. */
  override setattr(a: SetAttr): void {
    if (a.size !== undefined && a.size % this.pageSize !== 0) throw new SyscallError(EINVAL);
    super.setattr(a);
  }

  override stat(): Stat { return { ...super.stat(), blksize: this.pageSize }; }

  override backing(name: string): MappingBacking { return { ...super.backing(name), hugetlb: true }; }
}
