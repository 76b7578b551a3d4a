// Shared anonymous memory (Linux shmem_zero_setup): MAP_SHARED|MAP_ANONYMOUS, or MAP_SHARED of
// /dev/zero, maps a fresh tmpfs file of the mapping's size on the internal memfd mount, never
// linked, named "dev/zero" (so /proc/pid/maps shows "/dev/zero (deleted)"). Its pages come
// into being when touched, so a huge MAP_NORESERVE mapping costs nothing until used; fork
// shares the file, mremap keeps it (growing past its size maps pages that are SIGBUS), and
// MADV_REMOVE punches holes in it.

import type { Task } from '../../kernel/task';
import { S_IFREG } from '../../abi/linux/stat';
import type { MappingBacking } from '../../mm/backing';
import type { NativeMemoryFile } from '../../native/addon';
import { TmpfsRegular } from './regular';
import { memfdMount } from './memfd';
import type { TmpfsFS } from './tmpfs';

/** The backing of a new shared anonymous mapping of size bytes (page aligned) for t; name:
 *  what /proc/pid/maps shows (the aio ring's is "/[aio] (deleted)"). */
export function shmemZeroSetup(t: Task, size: number, name = '/dev/zero (deleted)'): MappingBacking {
  return shmemFile(t.kernel.mf, t.creds.fsuid, t.creds.fsgid, size, name);
}

/** shmem_kernel_file_setup: an unlinked S_IRWXUGO tmpfs file of the memory file's internal
 *  mount, owned by uid:gid, as a mapping's backing. */
export function shmemFile(mf: NativeMemoryFile, uid: number, gid: number, size: number, name: string): MappingBacking {
  const fs = memfdMount(mf).fs as TmpfsFS;
  const inode = new TmpfsRegular(fs, S_IFREG | 0o777, uid, gid);
  inode.nlink = 0;
  inode.freshPages = true;
  inode.setattr({ size });
  return { ...inode.backing(name), inode, sharedAnonymous: true };
}

/** Runs map (which maps shmem, or fails): a file no mapping took is let go at once, as Linux
 *  drops its last reference to the file when do_mmap fails. */
export function mapShmem<T>(shmem: MappingBacking | null, map: () => T): T {
  try {
    return map();
  } finally {
    shmem?.hold?.(false);
    shmem?.drop?.(false);
  }
}
