// GoferSession: one 9P session (the gofer's, or diod's in the tests) as the file systems use
// it. It owns the nodes' fids: a node keeps the fid its walk made while it is among the most
// recently used, and an older one is clunked and walked to again from its parent when needed,
// so the server never holds more than MAX_FIDS of them whatever the program visits (the gofer
// keeps a host fd per fid). The revalidation rule, which makes a host-side change visible:
// what the server said about a file (its attributes, that a name leads to it, and, for the
// read-only lower layer, a directory's whole listing with its entries' attributes) is
// trusted for a window after the server said it (counted from when the request was sent),
// and asked again after that. The window is ATTR_TTL_MS for a tree the sandbox writes to
// (--volume, the root with --overlay=none): the host shares it, and its changes are seen
// within 100 ms. The root's read-only lower layer trusts for LOWER_TTL_MS (its tree's
// TreeTrust): the sandbox never changes that tree (its writes go to the overlay's upper
// layer), Linux leaves a lower layer changed under a mounted overlay undefined and gVisor
// does not revalidate its root by default; a host change there (a package upgraded) is
// still seen within a second, and a program that runs for a second (gcc, python) walks its
// paths about once instead of ten times. Within the window nothing goes to the server: no round trip
// per path component on a warm path. A stale name is checked against its parent's listing
// when that is fresh, else walked again; a directory being scanned (its listing answered
// lookups) is listed again rather than walked name by name (GoferLowerFS). A lookup that
// must ask the server while the path walk has more names to go (`ahead`, the resolver's
// remaining components, last first) asks for all of them in one round trip (walkChain); the
// steps are kept for that same walk only (the same `ahead` array) and answer its next
// lookups and revalidations in order.

import { SyscallError } from '../../kernel/syscall_error';
import { EACCES, EIO, ENOENT, ENOTDIR, ESTALE } from '../../abi/linux/errno';
import { PendingOpens } from './open_pending';
import { S_IFDIR, S_IFMT, type Stat } from '../../abi/linux/stat';
import { O_DIRECTORY, O_RDONLY } from '../../abi/linux/fcntl';
import type { Attr, Client, WalkStep } from '../../p9/client';
import type { Qid } from '../../p9/wire';
import { MAXWELEM, type DirentAttr } from '../../p9/messages';
import { GETATTR_BASIC } from '../../p9/client';
import type { SharedCache } from './shared_cache';
import { inoOfQidPath } from './qid_ino';

const DT_DIR = 4;

/** Fids kept open at once for nodes (files being read or written hold their own). */
const MAX_FIDS = 512;
/** Donated read-only fds kept for files opened recently, to open them again with a dup. Never
 *  writable ones: a host fd open for writing would make the host's exec of it ETXTBSY. */
const MAX_KEPT_FDS = 128;
/** How long attributes from the server are trusted before the next getattr. */
export const ATTR_TTL_MS = 100;
/** The same for the root's read-only lower layer (see the top). */
export const LOWER_TTL_MS = 1000;

/** How long a tree's nodes trust the server at least (the session's window if longer):
 *  shared by every node of the tree, from its root (attach). */
export interface TreeTrust { readonly minTtlMs: number }
const SESSION_TRUST: TreeTrust = { minTtlMs: 0 };
/** Directories whose last listing (with attributes) is kept for lookups, most recent last. */
const MAX_LISTINGS = 256;
/** Names one walkChain asks for at most (the fids it holds until they are used). */
const MAX_AHEAD = 16;
/** Entries whose attributes one lookup in a stale listing asks for at most (attrAhead). */
const MAX_ATTRS_AHEAD = 32;
/** Sibling directories listed along with the one a program lists (listPlan), at
 *  most, and listings so fetched kept at once (each holds a fid until used or stale). */
const MAX_SIBLINGS = 8;
const MAX_PREFETCHED = 64;
/** Bytes of entries a sibling's listing may bring (a bigger directory is listed when asked). */
export const SIBLING_LIST_BYTES = 16 * 1024;

/** Regular files opened along with one a program opens read-only from the lower layer, at
 *  most, and such fds kept at once (unused ones are closed when stale or pushed out). */
const MAX_SIBLING_OPENS = 8;
const MAX_OPENED_AHEAD = 32;
const DT_REG = 8;

/** A read-only host fd of a file opened before any program asked (a sibling of one that was:
 *  tar, cp -r, grep -r open every file of a directory in turn), by parent and name. Used as
 *  a kept fd (SharedFd) by the open it was made for if that comes within ATTR_TTL_MS and
 *  the name still leads to the same file (qid). */
interface OpenedAhead { parent: GoferNode; name: string; fd: number; qidPath: bigint; at: number }

/** A directory listed before any program asked (a sibling of one that was): its entries and
 *  a fid of it, for the listing the traversal likely asks for next. Trusted as any listing:
 *  ATTR_TTL_MS from when it was asked for. */
interface Prefetched { parent: bigint; name: string; kept: number; qidPath: bigint; ents: DirentAttr[] | null; at: number }

/** Directories to list ahead from one directory fid (its qid path keys their listings). */
export interface ListPlan { fid: number; parent: bigint; names: string[] }

/** TSVISOR_P9_TTL_MS: a longer window, for tests that count round trips of a whole program
 *  on a crowded host (a window that runs out under load costs extra writes, not errors). */
function ttlFromEnv(): number {
  const v = Number(process.env.TSVISOR_P9_TTL_MS);
  return Number.isFinite(v) && v > 0 ? v : ATTR_TTL_MS;
}

/** Errnos with which a walk says "no such name here" (not a failure of the server). */
function isMiss(errno: number): boolean {
  return errno === ENOENT || errno === ENOTDIR || errno === EACCES;
}

export function statOfAttr(a: Attr): Stat {
  return {
    dev: 0, ino: inoOfQidPath(a.qid.path), mode: a.mode, nlink: a.nlink, uid: a.uid, gid: a.gid, rdev: a.rdev,
    size: a.size, blksize: a.blksize, blocks: a.blocks, atime: a.atime, mtime: a.mtime, ctime: a.ctime,
  };
}

function attrOfEntry(e: DirentAttr): Attr {
  const a = e.attr!;
  return { ...a, valid: GETATTR_BASIC, qid: e.qid, btime: { sec: 0, nsec: 0 } };
}

/** A symlink's text as its directory's listing gave it (Rreaddirattr), trusted as its
 *  attributes are: readlink() then needs no round trip. */
function fromListing(n: GoferNode, e: DirentAttr, at: number): void {
  if (e.target == null) return;
  n.link = e.target;
  n.linkAt = at;
}

/** Misses kept per directory, the oldest dropped first. */
const MAX_MISSES = 64;

function noteMiss(dir: GoferNode, name: string, at: number): void {
  const m = (dir.misses ??= new Map());
  m.delete(name);
  m.set(name, at);
  if (m.size > MAX_MISSES) m.delete(m.keys().next().value as string);
}

/** A donated read-only host fd shared, without a dup, by the session (which keeps it for the
 *  file's next opens) and each open file reading through it; closed when the last lets go. */
export class SharedFd {
  private refs = 1;

  constructor(readonly fd: number, private readonly close: (fd: number) => void) {}

  ref(): this {
    this.refs++;
    return this;
  }

  unref(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.close(this.fd);
  }
}

/** A file the session has walked to: its place (to walk to it again) and its fid, if held. */
export class GoferNode {
  fid = -1;
  attrAt: number;
  /** The file's page cache while MAP_SHARED mappings show it (shared_cache.ts), and how many
   *  mappings of it exist. */
  cache: SharedCache | null = null;
  mappers = 0;
  /** Unlinked (or replaced by a rename): its fid still reaches the file, but once that fid
   *  is given up there is no name to walk to it again. */
  gone = false;
  /** A directory's last listing with its entries' attributes (Treaddirattr) and when the
   *  server made it: lookups within ATTR_TTL_MS of it are answered from it (listed()). */
  listing: Map<string, DirentAttr> | null = null;
  listingAt = 0;
  /** Lookups and revalidations the listing answered since it was made. */
  listingHits = 0;
  /** Entries' attributes fetched along with one lookup once the listing was stale
   *  (walkListed), by name, with when they were asked for: the next lookups use them. */
  attrsAhead: Map<string, { attr: Attr | { errno: number }; at: number; byIno: boolean }> | null = null;
  /** Which of attrAhead's two orders the program's lookups followed, in the last batch. */
  aheadHits = { list: 1, ino: 1 };
  /** The listing's non-directories in inode order (made by attrAhead when first needed). */
  listingByIno: DirentAttr[] | null = null;
  /** The listing came with the directory's revalidation (revalidate(.., listDir)) and no
   *  readdir has used it yet: the next one within the window does. */
  listingUnread = false;
  /** Names a lookup found missing here while the directory had no fresh listing, with when
   *  they were asked for (lower layer only: walkListed). A miss is trusted for the window
   *  as an entry is: the sandbox never changes this tree itself (its writes go to the
   *  overlay's upper layer), and a name the host creates is seen once the window is over. */
  misses: Map<string, number> | null = null;
  /** A symlink's text as the server last gave it, and when it was asked for. */
  link: string | null = null;
  linkAt = 0;
  /** The window of the node's tree (GoferSession.ttlOf). */
  trust: TreeTrust;
  /** Bytes a sequential read through Tread fetched past what it was asked for (P9Data), from
   *  offset, and when they were asked for: trusted for the window; any write drops them. */
  readAhead: { offset: number; data: Uint8Array; at: number } | null = null;

  constructor(
    readonly session: GoferSession,
    public parent: GoferNode | null,
    public name: string,
    public attr: Stat,
    public qid: Qid,
  ) {
    this.attrAt = performance.now();
    this.trust = parent ? parent.trust : SESSION_TRUST;
  }

  setAttr(a: Attr): void {
    this.attr = statOfAttr(a);
    this.qid = a.qid;
    this.attrAt = performance.now();
  }
}

export class GoferSession {
  /** Opens that waited on the host, for their retries (open_pending.ts). */
  readonly pendingOpens = new PendingOpens<bigint>((o) => this.client.releaseOpened(o));
  /** Nodes holding a fid, least recently used first (Map keeps insertion order). */
  private readonly lru = new Map<GoferNode, true>();
  /** Node -> a donated read-only fd of it, least recently used first. Reads use pread at
   *  explicit offsets, so every open may share the one description. */
  private readonly kept = new Map<GoferNode, SharedFd>();
  /** Directories holding a listing (keepListing), least recently used first. */
  private readonly listings = new Set<GoferNode>();
  /** How long what the server said is trusted (ATTR_TTL_MS; tests that count round trips on
   *  a crowded host lengthen it). */
  ttlMs = ttlFromEnv();
  /** The lower layer's TreeTrust, for what it alone keeps by qid path rather than by node
   *  (listings fetched ahead, files opened ahead). */
  private lowerTrust: TreeTrust = SESSION_TRUST;
  /** The steps of the last walkChain not used yet: the next is for aheadNames[aheadNext]
   *  below aheadDir, for the path walk whose `ahead` array is aheadFor. */
  private aheadSteps: WalkStep[] = [];
  private aheadNames: string[] = [];
  private aheadNext = 0;
  private aheadDir: GoferNode | null = null;
  private aheadFor: readonly string[] | null = null;
  private aheadAt = 0;
  /** Files opened ahead and not used yet, oldest first, by parent and name. */
  private readonly openedAhead = new Map<GoferNode, Map<string, OpenedAhead>>();
  private readonly openedAheadOrder = new Set<OpenedAhead>();
  /** Sibling listings not used yet, oldest first, by parent and name. */
  /** By the parent directory's qid path: a listing fetched ahead may be of a directory whose
   *  parent has no node yet (a cousin: the child of a sibling listed ahead). */
  private readonly prefetched = new Map<bigint, Map<string, Prefetched>>();
  private readonly prefetchOrder = new Set<Prefetched>();

  constructor(readonly client: Client, private readonly closeFd: (fd: number) => void = () => {}) {}

  /** Tattach aname: the tree's root node (its fid is never given up), whose nodes trust
   *  the server for at least minTtlMs (lower: the overlay's lower layer's). */
  attach(aname: string, uid: number, trust: TreeTrust = SESSION_TRUST, lower = false): GoferNode {
    const { fid } = this.client.attach(aname, '', uid);
    const a = this.client.getattr(fid);
    const root = new GoferNode(this, null, '', statOfAttr(a), a.qid);
    root.fid = fid;
    root.trust = trust;
    if (lower) this.lowerTrust = trust;
    return root;
  }

  /** How long what the server said of node is trusted. */
  ttlOf(node: GoferNode): number {
    return Math.max(node.trust.minTtlMs, this.ttlMs);
  }

  private get lowerTtlMs(): number {
    return Math.max(this.lowerTrust.minTtlMs, this.ttlMs);
  }

  /** The node's fid, walking to it again from its parent if it was given up. A file that is
   *  no longer there (removed on the host) is ENOENT. */
  fidOf(node: GoferNode): number {
    if (node.fid >= 0) {
      if (node.parent) { this.lru.delete(node); this.lru.set(node, true); }
      return node.fid;
    }
    const parent = node.parent;
    if (!parent) throw new SyscallError(EIO, 'gofer root lost its fid');
    if (node.gone) throw new SyscallError(ESTALE);
    // From the nearest ancestor holding a fid (nodes from listings and from walkAttrs hold
    // none), in one walk.
    const names = [node.name];
    let from = parent;
    while (from.fid < 0 && from.parent && !from.gone && names.length < MAXWELEM) {
      names.unshift(from.name);
      from = from.parent;
    }
    const w = this.client.walk(this.fidOf(from), names);
    this.hold(node, w.fid);
    return w.fid;
  }

  /** fid, a plain walk to node made along with another request, becomes node's own (or is let
   *  go if node has one meanwhile). */
  adopt(node: GoferNode, fid: number): void {
    if (node.fid >= 0 || !node.parent) this.client.clunkLater(fid);
    else this.hold(node, fid);
  }

  private hold(node: GoferNode, fid: number): void {
    node.fid = fid;
    this.lru.set(node, true);
    if (this.lru.size > MAX_FIDS) {
      const [old] = this.lru.keys();
      this.lru.delete(old);
      this.client.clunkLater(old.fid);
      old.fid = -1;
    }
  }

  /** Gives up node's fid (it was unlinked, or renamed: its place is no longer known). */
  forget(node: GoferNode): void {
    if (node.fid < 0 || !node.parent) return;
    this.lru.delete(node);
    this.client.clunkLater(node.fid);
    node.fid = -1;
  }

  /** The child called name (walk + getattr in one round trip), or null if there is none.
   *  ahead: the names the path walk looks up next below it, last first (see the top). */
  walk(dir: GoferNode, name: string, ahead?: readonly string[], listDir = false): GoferNode | null {
    const step = this.takeAhead(dir, name, ahead) ?? this.fetchAhead(dir, name, ahead);
    if (step) {
      if ('errno' in step) {
        if (isMiss(step.errno)) return null;
        throw new SyscallError(step.errno);
      }
      const node = new GoferNode(this, dir, name, statOfAttr(step.attr), step.attr.qid);
      node.attrAt = this.aheadAt;
      if (step.fid >= 0) this.hold(node, step.fid);
      this.aheadDir = node;
      return node;
    }
    // The last name of a path (openat(dirfd, "sub"): find, du, tar going down) is usually
    // listed next if it is a directory: its listing comes in the same write (for a file, the
    // open as a directory fails at no cost but the gofer's).
    const listing = listDir && this.client.listsWithAttrs && (ahead?.length ?? 0) === 0;
    const at = performance.now();
    let r: { fid: number; attr: Attr; ents?: DirentAttr[] | null };
    try {
      if (!listing && dir.fid < 0 && dir.parent && this.client.walksWithAttrs) {
        // dir was walked through (no fid): one request from its nearest ancestor holding one,
        // rather than a walk to dir first.
        const [st] = this.walkAttrsFrom(dir, [name]);
        if ('errno' in st) throw new SyscallError(st.errno);
        r = st;
      } else {
        // A dir without a fid is named from its nearest ancestor holding one, in the same walk.
        let from = listing ? this.walkFrom(dir) : null;
        if (from && from.names.length >= MAXWELEM) from = { fid: this.fidOf(dir), names: [] };
        r = from
          ? this.client.walkGetattrList(from.fid, name, O_RDONLY | O_DIRECTORY, SIBLING_LIST_BYTES, from.names)
          : this.client.walkGetattr(this.fidOf(dir), [name]);
      }
    } catch (e) {
      // A component that is not a directory reads as "no such entry" from here; so does a
      // host pseudo file system the gofer refuses to enter (EACCES: the sentry checked the
      // permissions itself before asking, and mounts its own /proc and /sys there).
      if (e instanceof SyscallError && isMiss(e.errno)) return null;
      throw e;
    }
    const node = new GoferNode(this, dir, name, statOfAttr(r.attr), r.attr.qid);
    node.attrAt = at;
    this.hold(node, r.fid);
    if (r.ents) {
      this.keepListing(node, r.ents, at);
      this.listedNow(node, at);
      node.listingUnread = true;
    }
    return node;
  }

  /** The kept step for name below dir, if the same path walk fetched it and it is fresh. It
   *  is used up unless peek (revalidate looks first: a step that does not confirm the node
   *  is left for the lookup that follows). */
  private takeAhead(dir: GoferNode, name: string, ahead: readonly string[] | undefined, peek = false): WalkStep | null {
    if (ahead === undefined || ahead !== this.aheadFor || dir !== this.aheadDir) return null;
    const i = this.aheadNext;
    if (i >= this.aheadSteps.length || this.aheadNames[i] !== name) return null;
    if (performance.now() - this.aheadAt >= this.ttlOf(dir)) return null;
    if (!peek) this.aheadNext++;
    return this.aheadSteps[i];
  }

  /** walkChain from dir through name and the plain names ahead (up to a '.' or '..', which
   *  the resolver handles itself), keeping the steps after the first; the first step, or
   *  null when there is nothing ahead (a plain walk does). */
  private fetchAhead(dir: GoferNode, name: string, ahead: readonly string[] | undefined): WalkStep | null {
    if (!ahead || ahead.length === 0 || !this.client.inOrder) return null;
    const names = [name];
    for (let i = ahead.length - 1; i >= 0 && names.length < MAX_AHEAD; i--) {
      const n = ahead[i];
      if (n === '.' || n === '..') break;
      names.push(n);
    }
    if (names.length === 1) return null;
    this.dropAhead();
    const at = performance.now();
    const steps = this.client.walksWithAttrs ? this.walkAttrsFrom(dir, names) : this.client.walkChain(this.fidOf(dir), names);
    this.aheadSteps = steps;
    this.aheadNames = names;
    this.aheadNext = 1;
    this.aheadDir = dir;
    this.aheadFor = ahead;
    this.aheadAt = at;
    return steps[0];
  }

  /** walkAttrs of names below dir, which may hold no fid (walkAttrs gives none to the
   *  directories on the way): then from its nearest ancestor holding one, dir's own names
   *  first in the same request, as long as they still lead to the nodes the sandbox has
   *  (else from dir's own fid, walked to first). names may be cut short to make room. */
  private walkAttrsFrom(dir: GoferNode, names: string[]): WalkStep[] {
    const path: GoferNode[] = [];
    let from = dir;
    while (from.fid < 0 && from.parent && !from.gone && path.length < MAXWELEM - 1) {
      path.unshift(from);
      from = from.parent;
    }
    if (path.length === 0 || from.fid < 0) return this.client.walkAttrs(this.fidOf(dir), names);
    names.length = Math.min(names.length, MAXWELEM - path.length);
    const steps = this.client.walkAttrs(this.fidOf(from), [...path.map((n) => n.name), ...names]);
    const same = path.every((n, i) => { const st = steps[i]; return st !== undefined && 'attr' in st && st.attr.qid.path === n.qid.path; });
    if (same) return steps.slice(path.length);
    const last = steps[steps.length - 1];
    if (last && 'fid' in last && last.fid >= 0) this.client.clunkLater(last.fid);
    return this.client.walkAttrs(this.fidOf(dir), names);
  }

  /** Lets go of the fids of steps nobody used. */
  private dropAhead(): void {
    for (let i = this.aheadNext; i < this.aheadSteps.length; i++) {
      const st = this.aheadSteps[i];
      if ('fid' in st && st.fid >= 0) this.client.clunkLater(st.fid);
    }
    this.aheadSteps = [];
    this.aheadNames = [];
    this.aheadNext = 0;
    this.aheadDir = null;
    this.aheadFor = null;
  }

  /** walk(), answered from dir's listing while it is fresh (ATTR_TTL_MS, the same rule as for
   *  attributes): a name not in it is absent, a name in it is a node with the listed
   *  attributes and no fid yet (fidOf walks to it when a request needs one). For a tree the
   *  sandbox does not change itself (the overlay's lower layer): a writable file system's own
   *  changes would not be in the listing. */
  walkListed(dir: GoferNode, name: string, ahead?: readonly string[], listDir = false): GoferNode | null {
    // Steps this path walk fetched come first: they keep the following lookups in step.
    if (this.takeAhead(dir, name, ahead, true)) {
      const at = this.aheadAt;
      const node = this.walk(dir, name, ahead);
      if (!node && listDir) noteMiss(dir, name, at);
      return node;
    }
    const listing = dir.listing;
    if (listing && performance.now() - dir.listingAt < this.ttlOf(dir)) {
      const e = listing.get(name);
      dir.listingHits++;
      // Kept by use, not by age: a big directory being walked into (find in /usr/share/doc)
      // must outlive the 256 listings of its subdirectories, or each of its next lookups is
      // a round trip.
      this.listings.delete(dir);
      this.listings.add(dir);
      if (!e) return null;
      if (e.attr) {
        const node = new GoferNode(this, dir, name, statOfAttr(attrOfEntry(e)), e.qid);
        node.attrAt = dir.listingAt;
        fromListing(node, e, dir.listingAt);
        return node;
      }
    }
    if (listDir && listing && (ahead?.length ?? 0) === 0) {
      const got = this.attrAhead(dir, name, listing);
      if (got !== undefined) return got;
    }
    // A search path (PATH, -I dirs, ld's library dirs) asks the same missing names of the
    // same directories again and again: gcc hello, ~250 misses, a round trip each.
    const missAt = dir.misses?.get(name);
    if (missAt !== undefined) {
      if (performance.now() - missAt < this.ttlOf(dir)) return null;
      dir.misses!.delete(name);
    }
    const at = performance.now();
    const node = this.walk(dir, name, ahead, listDir);
    if (!node && listDir) noteMiss(dir, name, at);
    return node;
  }

  /** A lookup of name in dir whose listing is stale (a scan of a big directory outlasts the
   *  window: du, ls -l, find -type f): the attributes of name and of the next entries of the
   *  old listing are asked for in one write (getattrMany), and the next lookups use them
   *  within the window, instead of a round trip each. undefined: not for this name (a
   *  directory, which a walk lists too; or one the old listing lacks). */
  private attrAhead(dir: GoferNode, name: string, listing: Map<string, DirentAttr>): GoferNode | null | undefined {
    const got = this.attrsFor(dir, name, listing);
    if (got === undefined) return undefined;
    if ('errno' in got.attr) {
      if (isMiss(got.attr.errno)) return null;
      throw new SyscallError(got.attr.errno);
    }
    const node = new GoferNode(this, dir, name, statOfAttr(got.attr), got.attr.qid);
    node.attrAt = got.at;
    return node;
  }

  /** attrAhead's answer for name: fetched ahead by an earlier lookup and fresh, else asked
   *  for now with the next entries'. undefined: not for this name (see attrAhead). */
  private attrsFor(dir: GoferNode, name: string, listing: Map<string, DirentAttr>): { attr: Attr | { errno: number }; at: number } | undefined {
    const kept = dir.attrsAhead?.get(name);
    if (kept) {
      dir.attrsAhead!.delete(name);
      if (kept.byIno) dir.aheadHits.ino++; else dir.aheadHits.list++;
      if (performance.now() - kept.at < this.ttlOf(dir) && !('errno' in kept.attr && !isMiss(kept.attr.errno))) return kept;
    }
    const e = listing.get(name);
    if (!e || e.type === DT_DIR || dir.fid < 0) return undefined;
    // The next entries in the listing's order (ls -l, find) and in inode order (fts sorts a
    // big directory by inode number before it stats: du), shared as the last batch's
    // lookups followed one or the other (a quarter at least each).
    const h = dir.aheadHits;
    const inListOrder = Math.round(Math.min(0.75, Math.max(0.25, h.list / (h.list + h.ino))) * MAX_ATTRS_AHEAD);
    dir.aheadHits = { list: 1, ino: 1 };
    const names = [name];
    const taken = new Set(names);
    let seen = false;
    for (const [n, x] of listing) {
      if (names.length >= inListOrder) break;
      if (n === name) { seen = true; continue; }
      if (seen && x.type !== DT_DIR) { names.push(n); taken.add(n); }
    }
    if (!dir.listingByIno) {
      dir.listingByIno = [...listing.values()].filter((x) => x.type !== DT_DIR);
      dir.listingByIno.sort((a, b) => (a.qid.path < b.qid.path ? -1 : a.qid.path > b.qid.path ? 1 : 0));
    }
    const byIno = dir.listingByIno;
    let lo = 0, hi = byIno.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byIno[mid].qid.path <= e.qid.path) lo = mid + 1; else hi = mid;
    }
    const firstByIno = names.length;
    for (let i = lo; i < byIno.length && names.length < MAX_ATTRS_AHEAD; i++) {
      if (!taken.has(byIno[i].name)) names.push(byIno[i].name);
    }
    const at = performance.now();
    const got = this.client.getattrMany(dir.fid, names);
    const ahead = new Map<string, { attr: Attr | { errno: number }; at: number; byIno: boolean }>();
    for (let i = 1; i < names.length; i++) ahead.set(names[i], { attr: got[i], at, byIno: i >= firstByIno });
    dir.attrsAhead = ahead;
    return { attr: got[0], at };
  }

  /** dir's entries were changed by the sandbox (a rename): its listing and the attributes
   *  fetched ahead in it no longer answer lookups, nor its own attributes. */
  changed(dir: GoferNode): void {
    dir.attrAt = -Infinity;
    dir.listing = null;
    dir.listingByIno = null;
    dir.attrsAhead = null;
    dir.misses = null;
    this.listings.delete(dir);
  }

  /** Keeps dir's listing for walkListed (at most MAX_LISTINGS directories keep theirs). */
  keepListing(dir: GoferNode, ents: readonly DirentAttr[], at: number): void {
    dir.misses = null; // the listing answers for them now
    const m = new Map<string, DirentAttr>();
    for (const e of ents) if (e.name !== '.' && e.name !== '..') m.set(e.name, e);
    dir.listing = m;
    dir.listingAt = at;
    dir.listingHits = 0;
    dir.listingUnread = false;
    dir.attrsAhead = null;
    dir.listingByIno = null;
    this.listings.delete(dir);
    this.listings.add(dir);
    if (this.listings.size > MAX_LISTINGS) {
      const [old] = this.listings;
      this.listings.delete(old);
      old.listing = null;
    }
  }

  /** May names nobody asked for be listed or opened in the same write? Not where a tree may
   *  block (the client has a stall gate): a stalled one would hold the batch, and the
   *  sentry's thread with it, for a listing the program did not ask for. */
  private aheadSafe(): boolean { return this.client.gate === null; }

  /** Directories worth listing in the same write as dir (a traversal that lists one lists
   *  these next: find, du, tar, ls -R), up to MAX_SIBLINGS, none with a fresh listing
   *  fetched ahead or made: dir's siblings from its parent's last listing (those after it,
   *  then before), walked from the parent's fid; then its cousins: the subdirectories of the
   *  siblings listed ahead and not visited yet, walked from those siblings' fids. */
  listPlan(dir: GoferNode): ListPlan[] {
    const p = dir.parent;
    if (!p || !this.aheadSafe()) return [];
    const now = performance.now();
    const fresh = (key: bigint, name: string): boolean => {
      const pre = this.prefetched.get(key)?.get(name);
      return pre !== undefined && now - pre.at < this.lowerTtlMs;
    };
    const plan: ListPlan[] = [];
    let left = MAX_SIBLINGS;
    if (p.fid >= 0 && p.listing) {
      const after: string[] = [], before: string[] = [];
      let seen = false;
      for (const [name, e] of p.listing) {
        if (name === dir.name) { seen = true; continue; }
        if (e.type !== DT_DIR || fresh(p.qid.path, name)) continue;
        (seen ? after : before).push(name);
        if (after.length >= left) break;
      }
      const names = [...after, ...before].slice(0, left);
      if (names.length > 0) plan.push({ fid: p.fid, parent: p.qid.path, names });
      left -= names.length;
    }
    const gp = p.parent;
    const aunts = gp ? this.prefetched.get(gp.qid.path) : undefined;
    if (aunts) {
      for (const a of aunts.values()) {
        if (left <= 0) break;
        if (!a.ents || a.kept < 0 || now - a.at >= this.lowerTtlMs || a.qidPath === p.qid.path) continue;
        const names: string[] = [];
        for (const e of a.ents) {
          if (names.length >= left) break;
          if (e.type !== DT_DIR || e.name === '.' || e.name === '..' || fresh(a.qidPath, e.name)) continue;
          names.push(e.name);
        }
        if (names.length > 0) plan.push({ fid: a.kept, parent: a.qidPath, names });
        left -= names.length;
      }
    }
    return plan;
  }

  /** Keeps a sibling's listing (whole ones only) and its fid until it is used or stale. */
  keepPrefetched(parent: bigint, name: string, kept: number, qidPath: bigint, ents: DirentAttr[] | null, at: number): void {
    // The old entry goes first: dropping a parent's last entry drops its map too.
    const old = this.prefetched.get(parent)?.get(name);
    if (old) this.dropPrefetched(old);
    let byName = this.prefetched.get(parent);
    if (!byName) this.prefetched.set(parent, byName = new Map());
    const pre: Prefetched = { parent, name, kept, qidPath, ents, at };
    byName.set(name, pre);
    this.prefetchOrder.add(pre);
    for (const x of this.prefetchOrder) {
      if (this.prefetchOrder.size <= MAX_PREFETCHED && performance.now() - x.at < this.lowerTtlMs) break;
      this.dropPrefetched(x);
    }
  }

  private dropPrefetched(pre: Prefetched, keepFid = false): void {
    this.prefetchOrder.delete(pre);
    const byName = this.prefetched.get(pre.parent);
    if (byName?.get(pre.name) === pre) {
      byName.delete(pre.name);
      if (byName.size === 0) this.prefetched.delete(pre.parent);
    }
    if (!keepFid && pre.kept >= 0) this.client.clunkLater(pre.kept);
  }

  /** dir was just listed (at `at`): its siblings' next listings do not list it again ahead
   *  within the window (an entry without a fid or entries, which takePrefetched passes by). */
  listedNow(dir: GoferNode, at: number): void {
    if (dir.parent) this.keepPrefetched(dir.parent.qid.path, dir.name, -1, dir.qid.path, null, at);
  }

  /** dir's listing, if a sibling's listing fetched it within the window and its name still
   *  led to dir's file then (same qid): dir takes its fid. Used up either way. */
  takePrefetched(dir: GoferNode): { ents: DirentAttr[]; at: number } | null {
    const p = dir.parent;
    const pre = p ? this.prefetched.get(p.qid.path)?.get(dir.name) : undefined;
    if (!pre?.ents) return null;
    const fresh = performance.now() - pre.at < this.ttlOf(dir) && pre.qidPath === dir.qid.path && !dir.gone;
    this.dropPrefetched(pre, fresh);
    if (!fresh) return null;
    this.adopt(dir, pre.kept);
    this.listedNow(dir, pre.at);
    return { ents: pre.ents, at: pre.at };
  }

  /** Regular files of node's directory worth opening read-only in the same write as node:
   *  from the parent's listing, those after node (then before it) with no fresh fd opened
   *  ahead or kept, up to MAX_SIBLING_OPENS. Only when the parent holds a fid. */
  siblingsToOpen(node: GoferNode): string[] {
    const p = node.parent;
    // The listing only names the candidates (a stale one too): what each open finds is
    // checked (qid) when it is used.
    if (!p || p.fid < 0 || !p.listing || !this.aheadSafe()) return [];
    const now = performance.now();
    const have = this.openedAhead.get(p);
    const after: string[] = [], before: string[] = [];
    let seen = false;
    for (const [name, e] of p.listing) {
      if (name === node.name) { seen = true; continue; }
      if (e.type !== DT_REG) continue;
      const o = have?.get(name);
      if (o && now - o.at < this.lowerTtlMs) continue;
      (seen ? after : before).push(name);
      if (after.length >= MAX_SIBLING_OPENS) break;
    }
    return [...after, ...before].slice(0, MAX_SIBLING_OPENS);
  }

  /** Keeps fd, opened ahead for parent/name at `at`, for that file's next open. */
  keepOpenedAhead(parent: GoferNode, name: string, fd: number, qidPath: bigint, at: number): void {
    let byName = this.openedAhead.get(parent);
    if (!byName) this.openedAhead.set(parent, byName = new Map());
    const old = byName.get(name);
    if (old) this.dropOpenedAhead(old, true);
    const o: OpenedAhead = { parent, name, fd, qidPath, at };
    byName.set(name, o);
    this.openedAheadOrder.add(o);
    for (const x of this.openedAheadOrder) {
      if (this.openedAheadOrder.size <= MAX_OPENED_AHEAD && performance.now() - x.at < this.lowerTtlMs) break;
      this.dropOpenedAhead(x, true);
    }
  }

  private dropOpenedAhead(o: OpenedAhead, close: boolean): void {
    this.openedAheadOrder.delete(o);
    const byName = this.openedAhead.get(o.parent);
    if (byName?.get(o.name) === o) {
      byName.delete(o.name);
      if (byName.size === 0) this.openedAhead.delete(o.parent);
    }
    if (close) this.closeFd(o.fd);
  }

  /** The fd opened ahead for node, if fresh and of the same file: it becomes node's kept fd
   *  (keepFd), and the caller takes a reference. Used up either way. */
  takeOpenedAhead(node: GoferNode): SharedFd | null {
    const p = node.parent;
    const o = p ? this.openedAhead.get(p)?.get(node.name) : undefined;
    if (!o) return null;
    const fresh = performance.now() - o.at < this.ttlOf(node) && o.qidPath === node.qid.path && !node.gone;
    this.dropOpenedAhead(o, !fresh);
    return fresh ? this.keepFd(node, o.fd) : null;
  }

  /** Where a walk to node starts: its own fid (names []), or, when it holds none, its
   *  parent's and its name (one walk instead of two when the caller opens it at once). */
  walkFrom(node: GoferNode): { fid: number; names: string[] } {
    if (node.fid >= 0 || !node.parent) return { fid: this.fidOf(node), names: [] };
    if (node.gone) throw new SyscallError(ESTALE);
    // From the nearest ancestor holding a fid (directories walked through with walkAttrs hold
    // none): its names go in the request that needs them, no walk of its own first.
    const names = [node.name];
    let from = node.parent;
    while (from.fid < 0 && from.parent && !from.gone && names.length < MAXWELEM) {
      names.unshift(from.name);
      from = from.parent;
    }
    return { fid: this.fidOf(from), names };
  }

  /** The link text of symlink node: with its walk in the same round trip when it holds no
   *  fid (a node from a listing); no round trip within the window of the last read. */
  readlink(node: GoferNode): string {
    // Path resolution reads a link (/bin -> usr/bin) at every traversal: the text is trusted
    // for the window as attributes are.
    const at = performance.now();
    if (node.link !== null && at - node.linkAt < this.ttlOf(node)) return node.link;
    let target: string;
    if (node.fid >= 0 || !node.parent || node.gone) target = this.client.readlink(this.fidOf(node));
    else {
      const r = this.client.walkReadlink(this.fidOf(node.parent), node.name);
      this.hold(node, r.fid);
      target = r.target;
    }
    node.link = target;
    node.linkAt = at;
    return target;
  }

  /** Attributes no older than ATTR_TTL_MS (or fresh, with maxAge 0). */
  getattr(node: GoferNode, maxAge = this.ttlOf(node)): Stat {
    if (performance.now() - node.attrAt < maxAge) return node.attr;
    if (node.fid < 0 && node.parent && !node.gone) {
      // No fid (a node from a listing, or one given up): walk and getattr in one round trip.
      const r = this.client.walkGetattr(this.fidOf(node.parent), [node.name]);
      this.hold(node, r.fid);
      node.setAttr(r.attr);
      return node.attr;
    }
    node.setAttr(this.client.getattr(this.fidOf(node)));
    return node.attr;
  }

  /** d_revalidate for node: within ATTR_TTL_MS of its last check, yes; after, its name must
   *  still lead to the same file (qid path and type): as its parent's listing says when that
   *  is fresh (the lower layer), else as a new walk says (one round trip). */
  revalidate(n: GoferNode, ahead?: readonly string[], listDir = false): boolean {
    if (!n.parent) return true;
    const p = n.parent;
    const step = this.takeAhead(p, n.name, ahead, true);
    if (step) return this.revalidateFrom(n, step);
    if (performance.now() - n.attrAt < this.ttlOf(n)) return true;
    const fetched = this.fetchAhead(p, n.name, ahead);
    if (fetched) {
      // fetchAhead used the step up; revalidateFrom takes it again if it confirms n.
      this.aheadNext = 0;
      return this.revalidateFrom(n, fetched);
    }
    if (p.listing && p.listingAt > n.attrAt && performance.now() - p.listingAt < this.ttlOf(p)) {
      const e = p.listing.get(n.name);
      p.listingHits++;
      if (e?.attr) {
        if (e.qid.path !== n.qid.path || (e.attr.mode & 0o170000) !== (n.attr.mode & 0o170000)) {
          this.dropKeptFd(n);
          return false;
        }
        n.setAttr(attrOfEntry(e));
        n.attrAt = p.listingAt;
        fromListing(n, e, p.listingAt);
        return true;
      }
      if (!e) {
        this.dropKeptFd(n);
        return false;
      }
    }
    // A file in a directory whose (stale) listing names it: checked with its neighbours'
    // attributes in one write (attrAhead: a scan revisiting cached names, as ls -l after du).
    if (listDir && p.listing && (ahead?.length ?? 0) === 0 && (n.attr.mode & S_IFMT) !== S_IFDIR) {
      const got = this.attrsFor(p, n.name, p.listing);
      if (got !== undefined) {
        const a = got.attr;
        if ('errno' in a) {
          if (!isMiss(a.errno) && a.errno !== ESTALE) throw new SyscallError(a.errno);
          this.dropKeptFd(n);
          return false;
        }
        if (a.qid.path !== n.qid.path || (a.mode & S_IFMT) !== (n.attr.mode & S_IFMT)) {
          this.dropKeptFd(n);
          return false;
        }
        n.setAttr(a);
        n.attrAt = got.at;
        return true;
      }
    }
    // A directory at the end of a path (openat(dirfd, "sub"): find, du, tar going down) is
    // usually listed next: its listing comes with the revalidation, in the same write.
    const listing = listDir && (n.attr.mode & S_IFMT) === S_IFDIR && this.client.listsWithAttrs && (ahead?.length ?? 0) === 0;
    const at = performance.now();
    let r: { fid: number; attr: Attr; ents?: DirentAttr[] | null };
    try {
      r = listing
        ? this.client.walkGetattrList(this.fidOf(n.parent), n.name, O_RDONLY | O_DIRECTORY, SIBLING_LIST_BYTES)
        : this.client.walkGetattr(this.fidOf(n.parent), [n.name]);
    } catch (e) {
      if (e instanceof SyscallError && (e.errno === ENOENT || e.errno === ENOTDIR || e.errno === EACCES || e.errno === ESTALE)) {
        this.dropKeptFd(n);
        return false;
      }
      throw e;
    }
    if (r.attr.qid.path !== n.qid.path || (r.attr.mode & 0o170000) !== (n.attr.mode & 0o170000)) {
      this.client.clunkLater(r.fid);
      this.dropKeptFd(n);
      return false;
    }
    this.forget(n);
    this.hold(n, r.fid);
    n.setAttr(r.attr);
    n.attrAt = at;
    if (r.ents) {
      this.keepListing(n, r.ents, at);
      this.listedNow(n, at);
      n.listingUnread = true;
    }
    return true;
  }

  /** revalidate() by a step fetched ahead: one that confirms n is used up (n takes its fid);
   *  any other is left for the lookup the VFS makes next. */
  private revalidateFrom(n: GoferNode, step: WalkStep): boolean {
    if ('errno' in step) {
      if (!isMiss(step.errno) && step.errno !== ESTALE) throw new SyscallError(step.errno);
      this.dropKeptFd(n);
      return false;
    }
    if (step.attr.qid.path !== n.qid.path || (step.attr.mode & 0o170000) !== (n.attr.mode & 0o170000)) {
      this.dropKeptFd(n);
      return false;
    }
    this.aheadNext++;
    // A step without a fid (walkAttrs) confirms n; n keeps the fid it has, if any.
    if (step.fid >= 0) {
      this.forget(n);
      this.hold(n, step.fid);
    }
    n.setAttr(step.attr);
    n.attrAt = this.aheadAt;
    this.aheadDir = n;
    return true;
  }

  /** The kept read-only fd of node, or null; the caller takes a reference (ref()). */
  keptFd(node: GoferNode): SharedFd | null {
    const k = this.kept.get(node);
    if (k === undefined) return null;
    this.kept.delete(node);
    this.kept.set(node, k);
    return k;
  }

  /** Keeps donated read-only fd for node's next opens; the session holds one reference. */
  keepFd(node: GoferNode, fd: number): SharedFd {
    this.dropKeptFd(node);
    const k = new SharedFd(fd, this.closeFd);
    this.kept.set(node, k);
    if (this.kept.size > MAX_KEPT_FDS) {
      const [[old, oldK]] = this.kept;
      this.kept.delete(old);
      oldK.unref();
    }
    return k;
  }

  /** The file changed identity or went away: its kept fd is of no use to later opens (the
   *  open files using it keep it until they close). */
  dropKeptFd(node: GoferNode): void {
    const k = this.kept.get(node);
    if (k === undefined) return;
    this.kept.delete(node);
    k.unref();
  }

  /** A fresh fid for node (a clone), for opening: the caller clunks it. */
  clone(node: GoferNode): number {
    return this.client.walk(this.fidOf(node), []).fid;
  }
}
