// fsnotify (Linux fs/notify/fsnotify.c and include/linux/fsnotify.h): the one place where
// the VFS reports changes to the files that someone watches. Marks (inotify watches) attach
// to inodes, keyed by Inode.notifyKey() so that every object a file system hands out for one
// file shares them. The VFS calls the fsnotify* hooks below where Linux calls its own; each
// returns at once while no mark exists anywhere, so unwatched I/O pays one comparison.
//
// Who hears what follows Linux: events on a file reached by a path (open, read, write,
// close, attribute changes) go to the watches of its parent directory, with the name, and
// then to the file's own; name events (create, delete, move) go to the directory only;
// link-count changes, move-self and delete-self go to the file only.

import {
  IN_ACCESS, IN_ALL_EVENTS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE,
  IN_DELETE_SELF, IN_EXCL_UNLINK, IN_ISDIR, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF, IN_OPEN,
} from '../abi/linux/inotify';
import { O_PATH } from '../abi/linux/fcntl';
import type { Dentry } from './dentry';
import type { FileDescription } from './file_description';
import type { Inode } from './inode';
import type { VirtualDentry } from './virtual_dentry';

/** A watch on one inode (Linux struct fsnotify_mark), implemented by its listener. */
export interface FsnotifyMark {
  /** IN_* event bits wanted, with the watch flags (IN_EXCL_UNLINK, IN_ONESHOT). */
  readonly mask: number;
  /** One event; name is set when the mark is on the parent directory of the subject. */
  handleEvent(mask: number, cookie: number, name: string | null): void;
  /** The inode is gone (Linux fsnotify_destroy_marks at eviction). */
  inodeGone(): void;
}

const marks = new Map<unknown, Set<FsnotifyMark>>();
/** Files fsnotifyOpen counted in their dentry's openCount. */
const pinned = new WeakSet<FileDescription>();
/** Unlinked names still open: the inode whose end waits for their last close. */
const pendingRemoval = new WeakMap<Dentry, Inode>();
/** Linux fsnotify_sync_cookie: pairs IN_MOVED_FROM with IN_MOVED_TO. */
let cookieSeq = 0;

export function addMark(key: unknown, m: FsnotifyMark): void {
  let set = marks.get(key);
  if (!set) marks.set(key, set = new Set());
  set.add(m);
}

export function removeMark(key: unknown, m: FsnotifyMark): void {
  const set = marks.get(key);
  if (!set) return;
  set.delete(m);
  if (set.size === 0) marks.delete(key);
}

function send(key: unknown, mask: number, cookie: number, name: string | null, unlinked: boolean): void {
  const set = marks.get(key);
  if (!set) return;
  for (const m of [...set]) {
    if ((m.mask & mask & IN_ALL_EVENTS) === 0 || !set.has(m)) continue;
    // IN_EXCL_UNLINK: no more file events once the name is gone (only path events carry it).
    if (unlinked && (m.mask & IN_EXCL_UNLINK)) continue;
    m.handleEvent(mask, cookie, name);
  }
}

function withIsDir(inode: Inode, mask: number): number {
  return inode.isDir ? mask | IN_ISDIR : mask;
}

/** fsnotify_parent: the parent directory (with the name), then the file itself. */
function notifyDentry(d: Dentry, mask: number, pathEvent: boolean): void {
  const m = withIsDir(d.inode, mask);
  const unlinked = pathEvent && d.deleted;
  if (d.parent) send(d.parent.inode.notifyKey(), m, 0, d.name, unlinked);
  send(d.inode.notifyKey(), m, 0, null, unlinked);
}

/** fsnotify_inode: the file's own watches only. */
function notifyInode(inode: Inode, mask: number): void {
  send(inode.notifyKey(), withIsDir(inode, mask), 0, null, false);
}

/** The inode is gone: its watches see IN_DELETE_SELF, then are dropped (IN_IGNORED). */
function inodeRemoved(inode: Inode): void {
  notifyInode(inode, IN_DELETE_SELF);
  const key = inode.notifyKey();
  const set = marks.get(key);
  if (!set) return;
  marks.delete(key);
  for (const m of set) m.inodeGone();
}

function vdOf(f: FileDescription): VirtualDentry | null {
  const vd = (f as { vd?: VirtualDentry }).vd;
  return vd && (f.flags & O_PATH) === 0 ? vd : null;
}

// --- hooks ---

/** open(2) made f at vd (Linux fsnotify_open; O_PATH opens are not events). Returns f. */
export function fsnotifyOpen<F extends FileDescription>(f: F, vd: VirtualDentry, flags: number): F {
  if (!pinned.has(f)) {
    pinned.add(f);
    vd.dentry.openCount++;
  }
  if (marks.size !== 0 && (flags & O_PATH) === 0) notifyDentry(vd.dentry, IN_OPEN, true);
  return f;
}

/** The last reference to an open file is going (Linux __fput: fsnotify_close, then the
 *  dentry is put, which may end an unlinked file). */
export function fsnotifyClose(f: FileDescription): void {
  const vd = (f as { vd?: VirtualDentry }).vd;
  if (!vd) return;
  if (marks.size !== 0 && (f.flags & O_PATH) === 0) {
    notifyDentry(vd.dentry, f.writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE, true);
  }
  if (!pinned.delete(f)) return;
  const d = vd.dentry;
  if (--d.openCount !== 0) return;
  const gone = pendingRemoval.get(d);
  if (gone) {
    pendingRemoval.delete(d);
    inodeRemoved(gone);
  }
}

/** A read (or getdents) transferred data: IN_ACCESS once it settles with n > 0. */
export function fsnotifyAccess<T>(f: FileDescription, r: T | Promise<T>, always = false): T | Promise<T> {
  return afterTransfer(f, r, IN_ACCESS, always);
}

/** A write transferred data: IN_MODIFY once it settles with n > 0. */
export function fsnotifyModify<T>(f: FileDescription, r: T | Promise<T>): T | Promise<T> {
  return afterTransfer(f, r, IN_MODIFY, false);
}

function afterTransfer<T>(f: FileDescription, r: T | Promise<T>, mask: number, always: boolean): T | Promise<T> {
  if (marks.size === 0) return r;
  const fire = (n: T): T => {
    const vd = vdOf(f);
    if (vd && (always || (typeof n === 'number' && n > 0))) notifyDentry(vd.dentry, mask, true);
    return n;
  };
  return r instanceof Promise ? r.then(fire) : fire(r);
}

/** setattr through a path or fd (Linux fsnotify_change): IN_ATTRIB, or IN_MODIFY for a size
 *  or mtime-only change, IN_ACCESS for an atime-only one. */
export function fsnotifyChange(vd: VirtualDentry, mask: number): void {
  if (marks.size === 0 || mask === 0) return;
  notifyDentry(vd.dentry, mask, false);
}

/** A name was made in dir (Linux fsnotify_create/fsnotify_mkdir). */
export function fsnotifyCreate(dir: Inode, name: string, child: Inode): void {
  if (marks.size === 0) return;
  send(dir.notifyKey(), withIsDir(child, IN_CREATE), 0, name, false);
}

/** link(2): the file gained a link (IN_ATTRIB on it); IN_CREATE follows from fsnotifyCreate. */
export function fsnotifyLinkCount(inode: Inode): void {
  if (marks.size === 0) return;
  notifyInode(inode, IN_ATTRIB);
}

/** unlink/rmdir removed the name d from dir (Linux d_delete_notify). */
export function fsnotifyUnlink(dir: Inode, name: string, d: Dentry): void {
  if (marks.size === 0) return;
  const child = d.inode;
  if (!child.isDir) notifyInode(child, IN_ATTRIB);
  if (child.isDir || child.stat().nlink === 0) removedName(d);
  send(dir.notifyKey(), withIsDir(child, IN_DELETE), 0, name, false);
}

/** The file's last name is gone: it ends now, or when the last open file of it closes. */
function removedName(d: Dentry): void {
  if (d.openCount > 0) pendingRemoval.set(d, d.inode);
  else inodeRemoved(d.inode);
}

/** rename moved `moved` from oldDir/oldName to newDir/newName, replacing `replaced` (or
 *  swapping with it for RENAME_EXCHANGE) (Linux fsnotify_move). */
export function fsnotifyRename(oldDir: Inode, oldName: string, newDir: Inode, newName: string, moved: Inode,
  replacedName: Dentry | null, exchange: boolean): void {
  if (marks.size === 0) return;
  const replaced = replacedName?.inode ?? null;
  move(oldDir, oldName, newDir, newName, moved, exchange ? null : replaced);
  if (exchange && replaced) move(newDir, newName, oldDir, oldName, replaced, null);
  // The replaced file's last name is gone once its dentry is put, after the move events.
  if (!exchange && replacedName && replaced && (replaced.isDir || replaced.stat().nlink === 0)) removedName(replacedName);
}

function move(from: Inode, fromName: string, to: Inode, toName: string, moved: Inode, target: Inode | null): void {
  const cookie = cookieSeq = (cookieSeq + 1) >>> 0;
  send(from.notifyKey(), withIsDir(moved, IN_MOVED_FROM), cookie, fromName, false);
  send(to.notifyKey(), withIsDir(moved, IN_MOVED_TO), cookie, toName, false);
  if (target) notifyInode(target, IN_ATTRIB);
  notifyInode(moved, IN_MOVE_SELF);
}
