// LoadableFile: what the loader needs of an executable or interpreter — its header bytes
// and a MappingBacking to map its segments from. The VFS (execve) and host_file.ts (the
// first program) provide it.

import type { MappingBacking } from '../mm/backing';
import type { ExeFile } from '../mm/exe_file';

export interface LoadableFile {
  readonly path: string;
  readonly size: number;
  /** Bytes [offset, +length), short at EOF. */
  read(offset: number, length: number): Uint8Array;
  readonly backing: MappingBacking;
  /** Owner, mode and whether its mount honours set-id bits (for execve's credentials);
   *  absent for files that cannot be set-id. */
  readonly setid?: { mode: number; uid: number; gid: number; maySuid: boolean };
  /** The file as the program of an address space (writes to it are ETXTBSY while it runs);
   *  absent for what is no file of the sandbox's tree. */
  readonly exeFile?: ExeFile;
}
