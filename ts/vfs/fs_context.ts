// A file system context (Linux fs/fs_context.c, fs/fsopen.c): what fsopen(2) and fspick(2)
// return. Parameters are checked one by one as fsconfig(2) gives them; FSCONFIG_CMD_CREATE
// makes the file system (then fsmount(2) a detached mount of it), FSCONFIG_CMD_RECONFIGURE
// applies them to the picked mount's file system. Errors also leave a message that read(2)
// returns, oldest first. Owns the context's state; the file systems are fsimpl's, the
// syscalls syscalls/linux/sys_fsmount.ts's.

import type { Task } from '../kernel/task';
import { fail } from '../kernel/syscall_error';
import { EMSGSIZE, ENODATA } from '../abi/linux/errno';
import { O_RDWR } from '../abi/linux/fcntl';
import { FileDescription, type Stat } from './file_description';
import { anonInodeStat, anonOwner, type AnonOwner } from '../kernel/anon_inode';
import type { FileSystem } from './file_system';
import type { Inode } from './inode';
import type { Dentry } from './dentry';
import type { Mount } from './mount';

/** The fs_context phases a program can tell apart. */
export type FsContextPhase = 'create-params' | 'awaiting-mount' | 'reconf-params' | 'failed' | 'mounted';

/** What FSCONFIG_CMD_CREATE made. */
export interface CreatedFs { fs: FileSystem; root: Inode; rootDentry?: Dentry }

/** Messages kept at once (the log's ring). */
const LOG_SIZE = 8;

export class FsContext extends FileDescription {
  /** Parameters given so far, as mount(2)'s data would say them. */
  readonly params: string[] = [];
  source: string | null = null;
  created: CreatedFs | null = null;
  private readonly log: string[] = [];
  private readonly owner: AnonOwner;

  constructor(t: Task, readonly fsType: string, public phase: FsContextPhase,
    /** fspick's mount: the one whose file system a reconfigure changes. */
    readonly target: Mount | null = null) {
    super(O_RDWR);
    this.owner = anonOwner(t);
  }

  /** logfc: an error message for read(2); the oldest goes when the ring is full. */
  error(msg: string): void {
    if (this.log.length === LOG_SIZE) this.log.shift();
    this.log.push(`e ${msg}\n`);
  }

  /** fscontext_read: the oldest message, whole (EMSGSIZE drops it when it does not fit);
   *  ENODATA when there is none. */
  override read(_t: Task, dst: Uint8Array, _offset: number): number {
    const msg = this.log.shift();
    if (msg === undefined) fail(ENODATA);
    const bytes = Buffer.from(msg);
    if (bytes.length > dst.length) fail(EMSGSIZE);
    dst.set(bytes);
    return bytes.length;
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[fscontext]'; }
}
