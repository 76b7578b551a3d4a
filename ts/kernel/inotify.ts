// inotify instances (Linux fs/notify/inotify/inotify_user.c, gVisor vfs.Inotify): a file
// whose reads return struct inotify_event records, queued by the watches it holds on
// inodes (fsnotify marks). A read takes as many whole records as fit (EINVAL if not even
// the first does), waits while none is queued (EAGAIN with IN_NONBLOCK), and the file is
// readable while the queue is not empty. An event equal to the last one queued is merged
// into it; past max_queued_events one IN_Q_OVERFLOW record stands for everything dropped.

import type { Task } from './task';
import type { Kernel } from './kernel';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import type { Inode } from '../vfs/inode';
import { addMark, removeMark, type FsnotifyMark } from '../vfs/fsnotify';
import { EAGAIN, EEXIST, EINVAL, EMFILE, ENOSPC, ENOTTY, ENXIO } from '../abi/linux/errno';
import { O_NONBLOCK, O_RDONLY } from '../abi/linux/fcntl';
import { FIONREAD } from '../abi/linux/ioctl';
import {
  IN_ALL_EVENTS, IN_DELETE_SELF, IN_EXCL_UNLINK, IN_IGNORED, IN_ISDIR, IN_MOVE_SELF, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT, IN_Q_OVERFLOW,
  INOTIFY_EVENT_SIZE, INOTIFY_MAX_QUEUED_EVENTS, INOTIFY_MAX_USER_INSTANCES, INOTIFY_MAX_USER_WATCHES,
} from '../abi/linux/inotify';
import { POLLIN, POLLRDNORM } from '../abi/linux/poll';
import { fail } from './syscall_error';
import { block } from './blocking';
import { WaitQueue } from './poll/wait_queue';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';
import { stringBytes } from '../abi/byte_string';

interface InotifyEvent { wd: number; mask: number; cookie: number; name: Uint8Array | null }

/** Bytes one record takes: the header and the name with its NUL, padded to the header size. */
function recordSize(e: InotifyEvent): number {
  return INOTIFY_EVENT_SIZE + nameLen(e);
}

function nameLen(e: InotifyEvent): number {
  if (!e.name) return 0;
  return Math.ceil((e.name.length + 1) / INOTIFY_EVENT_SIZE) * INOTIFY_EVENT_SIZE;
}

/** Per-user instance and watch counts (Linux ucounts UCOUNT_INOTIFY_*), per kernel. */
interface UserCounts { instances: number; watches: number }
const counts = new WeakMap<Kernel, Map<number, UserCounts>>();

function userCounts(k: Kernel, uid: number): UserCounts {
  let m = counts.get(k);
  if (!m) counts.set(k, m = new Map());
  let c = m.get(uid);
  if (!c) m.set(uid, c = { instances: 0, watches: 0 });
  return c;
}


class Watch implements FsnotifyMark {
  constructor(readonly owner: Inotify, readonly wd: number, readonly key: unknown, public mask: number) {}

  handleEvent(mask: number, cookie: number, name: string | null): void {
    // inotify never reported IN_ISDIR with the self events, and Linux keeps it that way.
    if (mask & (IN_MOVE_SELF | IN_DELETE_SELF)) mask &= ~IN_ISDIR;
    this.owner.queueEvent(this.wd, mask, cookie, name);
    if (this.mask & IN_ONESHOT) this.owner.destroyWatch(this);
  }

  inodeGone(): void { this.owner.destroyWatch(this, false); }
}

export class Inotify extends FileDescription {
  override readonly reopenErrno = ENXIO;
  private readonly events: InotifyEvent[] = [];
  private head = 0;
  private queuedBytes = 0;
  private overflowQueued = false;
  private readonly byWd = new Map<number, Watch>();
  private readonly byKey = new Map<unknown, Watch>();
  private nextWd = 1;
  private readonly queue = new WaitQueue();
  private readonly owner: AnonOwner;
  private readonly counts: UserCounts;

  /** inotify_init1: EMFILE past max_user_instances for this user. */
  constructor(t: Task, flags: number) {
    super(O_RDONLY | (flags & O_NONBLOCK));
    const c = userCounts(t.kernel, t.creds.euid);
    if (c.instances >= INOTIFY_MAX_USER_INSTANCES) fail(EMFILE);
    c.instances++;
    this.counts = c;
    this.owner = anonOwner(t);
  }

  /** inotify_add_watch on a resolved inode: the watch descriptor, new or updated. */
  addWatch(inode: Inode, mask: number): number {
    const key = inode.notifyKey();
    // Only event bits and the flags that shape delivery are kept on the mark.
    const keep = (mask & (IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONESHOT)) >>> 0;
    const existing = this.byKey.get(key);
    if (existing) {
      if (mask & IN_MASK_CREATE) fail(EEXIST);
      existing.mask = (mask & IN_MASK_ADD) ? (existing.mask | keep) >>> 0 : keep;
      return existing.wd;
    }
    if (this.counts.watches >= INOTIFY_MAX_USER_WATCHES) fail(ENOSPC);
    this.counts.watches++;
    const w = new Watch(this, this.nextWd++, key, keep);
    this.byWd.set(w.wd, w);
    this.byKey.set(key, w);
    addMark(key, w);
    return w.wd;
  }

  /** inotify_rm_watch: EINVAL for a wd this instance does not have. */
  rmWatch(wd: number): void {
    const w = this.byWd.get(wd);
    if (!w) fail(EINVAL);
    this.destroyWatch(w);
  }

  /** Drop a watch and queue IN_IGNORED for it (Linux inotify_freeing_mark). */
  destroyWatch(w: Watch, detach = true): void {
    if (this.byWd.get(w.wd) !== w) return;
    this.byWd.delete(w.wd);
    this.byKey.delete(w.key);
    if (detach) removeMark(w.key, w);
    this.counts.watches--;
    this.queueEvent(w.wd, IN_IGNORED, 0, null);
  }

  /** Linux fsnotify_insert_event with inotify_merge. */
  queueEvent(wd: number, mask: number, cookie: number, name: string | null): void {
    const n = this.events.length - this.head;
    if (n >= INOTIFY_MAX_QUEUED_EVENTS) {
      if (this.overflowQueued) return;
      this.overflowQueued = true;
      this.push({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null });
      return;
    }
    const bytes = name === null ? null : stringBytes(name);
    if (n > 0) {
      const last = this.events[this.events.length - 1]!;
      if (last.wd === wd && last.mask === mask && last.cookie === cookie && sameName(last.name, bytes)) return;
    }
    this.push({ wd, mask, cookie, name: bytes });
  }

  private push(e: InotifyEvent): void {
    this.events.push(e);
    this.queuedBytes += recordSize(e);
    if (this.events.length - this.head === 1) this.queue.notify(POLLIN);
  }

  private shift(): InotifyEvent {
    const e = this.events[this.head]!;
    this.head++;
    if (this.head === this.events.length) { this.events.length = 0; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > this.events.length) { this.events.splice(0, this.head); this.head = 0; }
    this.queuedBytes -= recordSize(e);
    if (e.mask === IN_Q_OVERFLOW && e.wd === -1) this.overflowQueued = false;
    return e;
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (this.head === this.events.length) {
      if (this.flags & O_NONBLOCK) fail(EAGAIN);
      return block<void>(t, (wake) => this.queue.subscribe(POLLIN, () => wake())).then(() => this.read(t, dst, -1));
    }
    const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    let used = 0;
    while (this.head < this.events.length) {
      const e = this.events[this.head]!;
      const size = recordSize(e);
      if (used + size > dst.length) {
        if (used === 0) fail(EINVAL);
        break;
      }
      this.shift();
      view.setInt32(used, e.wd, true);
      view.setUint32(used + 4, e.mask >>> 0, true);
      view.setUint32(used + 8, e.cookie >>> 0, true);
      view.setUint32(used + 12, nameLen(e), true);
      dst.fill(0, used + INOTIFY_EVENT_SIZE, used + size);
      if (e.name) dst.set(e.name, used + INOTIFY_EVENT_SIZE);
      used += size;
    }
    return used;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (cmd !== FIONREAD) fail(ENOTTY);
    t.mm.writeI32(arg, this.queuedBytes);
    return 0;
  }

  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }

  override readiness(_mask: number): number {
    return this.head < this.events.length ? POLLIN | POLLRDNORM : 0;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:inotify'; }
  /** noop_llseek: the position never moves from 0, and every seek says so. */
  override lseek(): number { return 0; }

  /** Closing the instance drops every watch. */
  override release(): void {
    for (const w of this.byWd.values()) removeMark(w.key, w);
    this.counts.watches -= this.byWd.size;
    this.byWd.clear();
    this.byKey.clear();
    this.counts.instances--;
  }
}

function sameName(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
