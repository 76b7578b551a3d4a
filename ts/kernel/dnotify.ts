// dnotify (Linux fs/notify/dnotify/dnotify.c): fcntl(fd, F_NOTIFY, DN_*) on a directory asks
// for the file owner's signal (SIGIO, or the F_SETSIG signal with si_code POLL_MSG and si_fd)
// when a file in the directory, or the directory itself, is accessed, modified, created,
// deleted, renamed inside it or has its attributes changed. One fsnotify mark per directory holds an
// entry per (open file, fd table); F_NOTIFY through the same file again adds its events to
// the entry; without DN_MULTISHOT an entry goes once it has fired; the process's close of any
// fd for the file drops its entries (dnotify_flush, called by FDTable like POSIX locks).

import type { Task } from './task';
import type { FileDescription } from '../vfs/file_description';
import { VfsFile } from '../vfs/vfs_file';
import type { Kernel } from './kernel';
import { addMark, removeMark, type FsnotifyMark } from '../vfs/fsnotify';
import { defaultOwner, signalOwner, POLL_MSG } from './fasync';
import { fail } from './syscall_error';
import { ENOTDIR } from '../abi/linux/errno';
import { IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO } from '../abi/linux/inotify';

export const DN_ACCESS = 0x1, DN_MODIFY = 0x2, DN_CREATE = 0x4, DN_DELETE = 0x8, DN_RENAME = 0x10, DN_ATTRIB = 0x20;
export const DN_MULTISHOT = 0x80000000;
const DN_EVENTS = DN_ACCESS | DN_MODIFY | DN_CREATE | DN_DELETE | DN_RENAME | DN_ATTRIB;

/** The DN_ bits an fsnotify event stands for (convert_arg's inverse). */
function dnOfEvent(mask: number): number {
  let dn = 0;
  if (mask & IN_ACCESS) dn |= DN_ACCESS;
  if (mask & IN_MODIFY) dn |= DN_MODIFY;
  if (mask & IN_ATTRIB) dn |= DN_ATTRIB;
  if (mask & (IN_CREATE | IN_MOVED_TO)) dn |= DN_CREATE;
  if (mask & (IN_DELETE | IN_MOVED_FROM)) dn |= DN_DELETE;
  return dn;
}

function eventsOfDn(dn: number): number {
  let m = 0;
  if (dn & DN_ACCESS) m |= IN_ACCESS;
  if (dn & DN_MODIFY) m |= IN_MODIFY;
  if (dn & DN_ATTRIB) m |= IN_ATTRIB;
  if (dn & DN_CREATE) m |= IN_CREATE | IN_MOVED_TO;
  if (dn & DN_DELETE) m |= IN_DELETE | IN_MOVED_FROM;
  if (dn & DN_RENAME) m |= IN_MOVED_FROM | IN_MOVED_TO;
  return m;
}

interface DnEntry { f: FileDescription; owner: object; fd: number; dn: number; k: Kernel }

class DnotifyMark implements FsnotifyMark {
  entries: DnEntry[] = [];
  mask = 0;
  constructor(readonly key: unknown) {}

  /** The cookie of the last MOVED_FROM seen here: a MOVED_TO with it is a rename inside
   *  this directory, the only rename DN_RENAME reports (Linux too, counted natively). */
  private movedFrom = -1;

  handleEvent(mask: number, cookie: number): void {
    if (mask & IN_MOVED_FROM) this.movedFrom = cookie;
    if ((mask & IN_MOVED_TO) && cookie === this.movedFrom) {
      this.movedFrom = -1;
      this.fire(DN_RENAME);
    }
    this.fire(dnOfEvent(mask));
  }

  /** dnotify_handle_event: each entry that asked for one of dn gets its signal. */
  private fire(dn: number): void {
    if (dn === 0) return;
    for (const e of [...this.entries]) {
      if ((e.dn & dn) === 0) continue;
      signalOwner(e.k, e.f, e.fd, POLL_MSG);
      if ((e.dn & DN_MULTISHOT) === 0) this.drop(e);
    }
  }

  inodeGone(): void {
    for (const e of [...this.entries]) this.drop(e);
  }

  drop(e: DnEntry): void {
    this.entries = this.entries.filter((x) => x !== e);
    byFile.get(e.f)?.delete(this);
    this.recalc();
  }

  recalc(): void {
    this.mask = 0;
    for (const e of this.entries) this.mask |= eventsOfDn(e.dn);
    if (this.entries.length === 0) {
      removeMark(this.key, this);
      marks.delete(this.key);
    }
  }
}

const marks = new Map<unknown, DnotifyMark>();
/** The marks each open file has entries in, for the flush at close. */
const byFile = new WeakMap<FileDescription, Set<DnotifyMark>>();

/** fcntl_dirnotify: arg is the unsigned int fcntl was given. */
export function fcntlDirnotify(t: Task, fd: number, f: FileDescription, arg: number): number {
  const owner = t.fdTable;
  if ((arg & ~DN_MULTISHOT) === 0) {
    dnotifyFlush(f, owner);
    return 0;
  }
  if (!(f instanceof VfsFile) || !f.inode.isDir) fail(ENOTDIR);
  const key = f.inode.notifyKey();
  let mark = marks.get(key);
  if (!mark) {
    mark = new DnotifyMark(key);
    marks.set(key, mark);
    addMark(key, mark);
  }
  defaultOwner(t, f);
  const dn = arg & (DN_EVENTS | DN_MULTISHOT);
  const old = mark.entries.find((e) => e.f === f && e.owner === owner);
  if (old) {
    old.fd = fd;
    old.dn |= dn;
  } else {
    mark.entries.push({ f, owner, fd, dn, k: t.kernel });
    let set = byFile.get(f);
    if (!set) byFile.set(f, set = new Set());
    set.add(mark);
  }
  mark.recalc();
  return 0;
}

/** dnotify_flush: the fd table `owner` closed an fd of f. */
export function dnotifyFlush(f: FileDescription, owner: object): void {
  const set = byFile.get(f);
  if (set === undefined) return;
  for (const mark of [...set]) {
    for (const e of mark.entries) if (e.f === f && e.owner === owner) mark.drop(e);
  }
}
