// FileData: the contents of an open gofer file, however they are reached: a host fd the gofer
// donated (HostFd, the normal case: reads and writes go straight to the file) or, from a
// server that donates nothing (diod), Tread/Twrite on the open fid (P9Data).

import type { MappingBacking } from '../../mm/backing';
import type { Stat } from '../../abi/linux/stat';

export interface FileData {
  /** pread into dst; short only at EOF. */
  pread(dst: Uint8Array, offset: number): number;
  /** pwrite all of src (short only when the file system is full). */
  pwrite(src: Uint8Array, offset: number): number;
  size(): number;
  /** Attributes of the open file itself (fstat: still there once the name is gone). */
  stat(): Stat;
  /** A MappingBacking filling pages from the file (private mappings). */
  backing(name: string): MappingBacking;
  fsync(datasync: boolean): void;
  /** SEEK_DATA/SEEK_HOLE from the file system that knows the extents (a donated host fd);
   *  absent where only 9P reads reach the file: the whole file is then data. */
  seekHoleData?(offset: number, whence: number): number;
  /** The open file is gone (mappings may keep the data alive a while longer). */
  release(): void;
}
