// MqFile: an open description of a POSIX message queue (what mq_open returns). Reading it
// gives the queue's status line, as Linux's mqueue files do; poll and epoll see POLLIN while
// a message waits and POLLOUT while there is room.

import type { Task } from '../../kernel/task';
import { FileDescription, type ReadinessCallback, type Stat } from '../../vfs/file_description';
import type { MQueue } from './queue';

const MQUEUE_DEV = 0x13;

export class MqFile extends FileDescription {
  private pos = 0;

  constructor(flags: number, readonly mq: MQueue, private readonly ino: number) {
    super(flags);
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const text = new TextEncoder().encode(this.mq.status());
    const at = offset >= 0 ? offset : this.pos;
    const n = Math.max(0, Math.min(dst.length, text.length - at));
    dst.set(text.subarray(at, at + n));
    if (offset < 0) this.pos += n;
    return n;
  }

  override get pollable(): boolean { return true; }
  override readiness(_mask: number): number { return this.mq.readiness(); }
  override addWaiter(mask: number, cb: ReadinessCallback): () => void { return this.mq.queue.subscribe(mask, cb); }

  override stat(): Stat {
    const ts = { sec: 0, nsec: 0 };
    return {
      dev: MQUEUE_DEV, ino: this.ino, mode: 0o100000 | this.mq.mode, nlink: 1, uid: this.mq.uid, gid: this.mq.gid,
      rdev: 0, size: this.mq.qsize, blksize: 4096, blocks: 0, atime: ts, mtime: ts, ctime: ts,
    };
  }

  override describe(): string { return `/${this.mq.name}`; }
}
