// pidfds (Linux kernel/pid.c, fs/pidfs.c): a file that names a process. It polls readable
// once every thread of the process has exited, waitid(P_PIDFD) waits for exactly that child,
// pidfd_send_signal signals it without pid reuse races, and pidfd_getfd copies a file out of
// it. Made by pidfd_open and by clone's CLONE_PIDFD; close-on-exec always.

import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { POLLIN, POLLRDNORM } from '../abi/linux/poll';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';

export class PidFd extends FileDescription {
  private readonly owner: AnonOwner;
  private readonly waiters = new Set<ReadinessCallback>();
  private exited = false;

  constructor(t: Task, readonly tg: ThreadGroup, nonblock: boolean) {
    super(O_RDWR | (nonblock ? O_NONBLOCK : 0));
    this.owner = anonOwner(t);
    void tg.exited.then(() => {
      this.exited = true;
      for (const w of [...this.waiters]) w();
    });
  }

  /** thread_group_exited: every thread gone (zombie or reaped). */
  get processExited(): boolean { return this.exited || this.tg.zombie || this.tg.reaped; }

  override get pollable(): boolean { return true; }
  override readiness(_mask: number): number { return this.processExited ? POLLIN | POLLRDNORM : 0; }
  override addWaiter(_mask: number, cb: ReadinessCallback): () => void {
    this.waiters.add(cb);
    return () => { this.waiters.delete(cb); };
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[pidfd]'; }
}
