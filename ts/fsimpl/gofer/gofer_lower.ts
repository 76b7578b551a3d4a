// GoferLowerFS: the overlay's read-only lower layer (LowerFS) served by a gofer tree over 9P.
// Regular files are opened with Tlopen and read through the fd the gofer donates with the
// reply; a server that donates none (diod) is read with Tread on the open fid instead.

import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { O_ACCMODE, O_DIRECTORY, O_RDONLY } from '../../abi/linux/fcntl';
import { OVERLAYFS_SUPER_MAGIC, type Statfs } from '../../abi/linux/fs';
import { S_IFMT, S_IFREG, type Stat } from '../../abi/linux/stat';
import type { FileData } from './file_data';
import { HostFd } from './host_fd';
import type { LowerDirent, LowerFS, LowerNode } from './lower_fs';
import { P9Data } from './p9_data';
import { getxattr9p, listxattr9p } from './xattr_9p';
import { GoferNode, SIBLING_LIST_BYTES, type GoferSession } from './session';

/** Lookups a listing must have answered in its life for a stale one to be made again
 *  (relistIfScanned): past one, listing again costs fewer round trips than the walks the
 *  next window would likely make, whatever the rate the program goes at. */
const RELIST_AFTER_HITS = 2;
import type { DirentAttr } from '../../p9/messages';
import { OpenPending, type Listed, type Opened } from '../../p9/client';
import { takeOpenWait } from '../../vfs/open_wait';
import { inoOfQidPath } from './qid_ino';

export class GoferLowerFS implements LowerFS {
  readonly root: GoferNode;

  /** minTtlMs: how long the tree's nodes trust the server at least (the root's lower layer:
   *  LOWER_TTL_MS; see session.ts). */
  constructor(readonly session: GoferSession, aname: string, uid = 0, minTtlMs = 0) {
    this.root = session.attach(aname, uid, { minTtlMs }, true);
  }

  /** From the directory's fresh listing when there is one (the sandbox never changes this
   *  tree itself: its writes go to the overlay's upper layer). */
  walk(dir: LowerNode, name: string, ahead?: readonly string[]): LowerNode | null {
    this.relistIfScanned(dir as GoferNode);
    return this.session.walkListed(dir as GoferNode, name, ahead, true);
  }

  /** A directory being scanned entry by entry (ls -l, du: its listing answered many lookups)
   *  whose listing went stale is listed again: one round trip for the lookups that follow
   *  rather than one each. */
  private relistIfScanned(dir: GoferNode): void {
    if (dir.listing && dir.listingHits >= RELIST_AFTER_HITS && performance.now() - dir.listingAt >= this.session.ttlOf(dir)) {
      readdirAttrAll(this.session, dir);
      // On a crowded host the listing may come back already stale: the scan goes on.
      if (performance.now() - dir.listingAt >= this.session.ttlOf(dir)) dir.listingHits = RELIST_AFTER_HITS;
    }
  }

  getattr(node: LowerNode): Stat { return this.session.getattr(node as GoferNode); }

  revalidate(node: LowerNode, ahead?: readonly string[]): boolean {
    const n = node as GoferNode;
    if (n.parent) this.relistIfScanned(n.parent);
    return this.session.revalidate(n, ahead, true);
  }

  /** With tsvisor-gofer, the listing brings every entry's attributes and is kept for the
   *  lookups that usually follow (ls -l, find, du: a stat or open of each entry). */
  readdir(dir: LowerNode): LowerDirent[] {
    const s = this.session;
    const ents = s.client.listsWithAttrs ? readdirAttrAll(s, dir as GoferNode) : readdirAll(s, dir as GoferNode);
    return ents
      .filter((e) => e.name !== '.' && e.name !== '..')
      .map((e) => ({ name: e.name, ino: inoOfQidPath(e.qid.path), type: e.type }));
  }

  readlink(node: LowerNode): string { return this.session.readlink(node as GoferNode); }

  getxattr(node: LowerNode, name: string): Uint8Array {
    return getxattr9p(this.session.client, this.session.fidOf(node as GoferNode), name);
  }

  listxattr(node: LowerNode): string[] {
    return listxattr9p(this.session.client, this.session.fidOf(node as GoferNode));
  }

  open(node: LowerNode): FileData {
    const n = node as GoferNode;
    if ((n.attr.mode & S_IFMT) !== S_IFREG) throw new SyscallError(ENXIO);
    return openData(this.session, n, O_RDONLY, true);
  }

  evict(node: LowerNode): void { this.session.forget(node as GoferNode); }

  statfs(): Statfs {
    const s = this.session.client.statfs(this.session.fidOf(this.root));
    return {
      type: OVERLAYFS_SUPER_MAGIC, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, fsid: [0, 0], namelen: s.namelen, frsize: s.bsize, flags: 0,
    };
  }
}

/** Tlopen a clone of node's fid (one round trip): the donated fd if one came (the fid is then let go), else
 *  the open fid for Tread/Twrite. */
export function openData(s: GoferSession, node: GoferNode, flags: number, ahead = false): FileData {
  // A read-only open of a file opened read-only a moment ago: the fd kept then, shared (no
  // host call at all: reads are preads).
  const readOnly = (flags & O_ACCMODE) === O_RDONLY;
  if (readOnly) {
    const kept = s.keptFd(node) ?? (ahead ? s.takeOpenedAhead(node) : null);
    if (kept) return new HostFd(kept.fd, kept.ref());
  }
  // The retry of an open that waited on the host (open_pending.ts) finds it done.
  const mayWait = takeOpenWait();
  let o = s.pendingOpens.take(node.qid.path, flags);
  if (o === null) o = openNow(s, node, flags, ahead && readOnly, mayWait);
  if (o.fd < 0) return new P9Data(s.client, o.fid, node);
  s.client.clunkLater(o.fid);
  if (readOnly) return new HostFd(o.fd, s.keepFd(node, o.fd).ref());
  return new HostFd(o.fd);
}

/** cloneOpen of node; an open the host makes wait becomes the caller's OpenWait if it may
 *  wait (open_wait.ts), else is waited for here. */
function openNow(s: GoferSession, node: GoferNode, flags: number, ahead: boolean, mayWait: boolean): Opened & { fid: number } {
  const from = s.walkFrom(node);
  // The lower layer (ahead): the directory's next regular files are opened in the same write
  // (a program opening one file of a directory opens the others next: tar, cp -r, grep -r).
  const sibs = ahead && node.parent && s.client.inOrder ? s.siblingsToOpen(node) : [];
  const at = performance.now();
  const q = sibs.length > 0 ? s.client.startOpenMany(node.parent!.fid, sibs, flags) : null;
  try { return s.client.cloneOpen(from.fid, flags, from.names, mayWait); } catch (e) {
    if (e instanceof OpenPending) throw s.pendingOpens.waitFor(node.qid.path, flags, e);
    throw e;
  } finally {
    if (q) {
      s.client.finishOpenMany(q).forEach((r, i) => {
        if ('errno' in r || r.fd < 0) return;
        s.keepOpenedAhead(node.parent!, sibs[i], r.fd, r.qid.path, at);
      });
    }
  }
}

/** Every entry of directory node with its attributes (Treaddirattr: one round trip for a
 *  directory whose entries fit one reply, walk and open included), kept as its listing for
 *  walkListed unless keep is false (a writable tree: its own changes would not be in it). */
export function readdirAttrAll(s: GoferSession, dir: GoferNode, keep = true): DirentAttr[] {
  if (keep && dir.listingUnread && dir.listing) {
    // Listed with its revalidation a moment ago (session.revalidate): within the window, that
    // listing is the answer.
    dir.listingUnread = false;
    if (performance.now() - dir.listingAt < s.ttlOf(dir)) return [...dir.listing.values()];
  }
  if (keep) {
    const pre = s.takePrefetched(dir);
    if (pre) {
      s.keepListing(dir, pre.ents, pre.at);
      return pre.ents;
    }
  }
  const at = performance.now();
  const from = s.walkFrom(dir);
  // What a traversal lists next goes in the same write (session.listPlan): queued first,
  // taken after dir's own listing.
  const queued = keep ? s.listPlan(dir).map((g) => ({ g, q: s.client.startListMany(g.fid, g.names, O_RDONLY | O_DIRECTORY, SIBLING_LIST_BYTES) })) : [];
  let r;
  try {
    if (from.names.length > 0) {
      // A directory without a fid (from its parent's listing) gets one in the same round
      // trip: what is listed here is usually opened or listed next, walking from it.
      const k = s.client.walkKeepOpenReaddirAttr(from.fid, from.names, O_RDONLY | O_DIRECTORY);
      s.adopt(dir, k.kept);
      r = k;
    } else {
      r = s.client.walkOpenReaddirAttr(from.fid, from.names, O_RDONLY | O_DIRECTORY);
    }
  } finally {
    for (const { g, q } of queued) keepListedAhead(s, g.parent, g.names, s.client.finishListMany(q), at);
  }
  try {
    const out = [...r.first];
    for (let eof = r.eof, ents = r.first; !eof && ents.length > 0;) {
      ({ ents, eof } = s.client.readdirAttr(r.fid, ents[ents.length - 1].offset));
      out.push(...ents);
    }
    if (keep) {
      s.keepListing(dir, out, at);
      s.listedNow(dir, at);
    }
    return out;
  } finally {
    s.client.clunkLater(r.fid);
  }
}

/** Keeps the whole listings of the directories names of parent (a qid path), fetched at
 *  `at`, for the lookups to come; a listing cut short is of no use (its fid goes). */
function keepListedAhead(s: GoferSession, parent: bigint, names: readonly string[], got: readonly (Listed | { errno: number })[], at: number): void {
  got.forEach((o, i) => {
    if ('errno' in o) return;
    if (o.eof) s.keepPrefetched(parent, names[i], o.kept, o.qid.path, o.first, at);
    else s.client.clunkLater(o.kept);
  });
}

/** Every entry of directory node ('.' and '..' included, as the server gives them). */
export function readdirAll(s: GoferSession, dir: GoferNode): import('../../p9/messages').Dirent[] {
  const { fid, first } = s.client.cloneOpenReaddir(s.fidOf(dir), O_RDONLY | O_DIRECTORY);
  try {
    const out = [...first];
    // Until an empty read: a short one does not mean the end (the gofer reads 64 KiB of host
    // entries at a time).
    for (let ents = first; ents.length > 0;) {
      ents = s.client.readdir(fid, ents[ents.length - 1].offset);
      out.push(...ents);
    }
    return out;
  } finally {
    s.client.clunkLater(fid);
  }
}
