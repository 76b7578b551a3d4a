// /proc/<pid>/{uid_map,gid_map,projid_map,setgroups} (Linux kernel/user_namespace.c
// proc_*_map_write, map_write, new_idmap_permitted, proc_setgroups_write): the id maps of the
// task's user namespace, taken when the file is opened. Reading shows each extent with its
// lower ids as the opener's namespace (or, for one's own, the parent) names them. A map is
// written once, whole, at offset 0, by a task in the namespace or its parent, under Linux's
// rules; setgroups says "allow" or "deny" (deny only before the gid map is written).

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESPIPE } from '../../abi/linux/errno';
import { S_IFREG } from '../../abi/linux/stat';
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../kernel/capabilities';
import {
  INVALID_ID, MAX_EXTENTS, makeKgid, makeKuid, type IdExtent, type IdMap, type UserNamespace,
} from '../../kernel/ns/user_namespace';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { SnapshotFile } from '../kernfs/file';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';

const CAP_SETFCAP = 31;
const PAGE_SIZE = 4096;
const O_ACCMODE = 3, O_RDONLY = 0;

export type MapKind = 'uid' | 'gid' | 'projid';

function mapOf(ns: UserNamespace, kind: MapKind): IdMap {
  return kind === 'uid' ? ns.uidMap : kind === 'gid' ? ns.gidMap : ns.projidMap;
}

/** The capability a map's write is checked against (none for projid: cap_valid(-1) fails). */
function capOf(kind: MapKind): number {
  return kind === 'uid' ? CAP_SETUID : kind === 'gid' ? CAP_SETGID : -1;
}

/** The user namespace of the task the file describes, as proc_id_map_open takes it. */
function targetNs(task: () => Task | undefined): UserNamespace {
  const t = task();
  if (t === undefined) throw new SyscallError(EINVAL);
  return t.creds.userNs;
}

export class IdMapInode extends KInode {
  constructor(fs: KernFS, key: string, private readonly task: () => Task | undefined, private readonly kind: MapKind,
    attr: KAttr) {
    super(fs, key, S_IFREG | 0o644, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const ns = targetNs(this.task);
    const opener = t?.creds ?? null;
    const seen = opener?.userNs ?? null;
    // uid_m_show: lower ids in the opener's namespace, or its parent's when reading its own.
    const lowerNs = seen === null ? null : seen === ns && ns.parent !== null ? ns.parent : seen;
    const text = mapOf(ns, this.kind).extents.map((e) => {
      const lower = lowerNs === null ? e.lowerFirst : mapOf(lowerNs, this.kind).up(e.lowerFirst);
      return `${String(e.first).padStart(10)} ${String(lower).padStart(10)} ${String(e.count).padStart(10)}\n`;
    }).join('');
    return new IdMapFile(flags, vd, Buffer.from(text), ns, this.kind, opener);
  }
}

class IdMapFile extends SnapshotFile {
  override readonly writesEmpty = true;
  constructor(flags: number, vd: VirtualDentry, data: Uint8Array, private readonly ns: UserNamespace,
    private readonly kind: MapKind, private readonly opener: Credentials | null) {
    super(flags, vd, data, 'seq');
  }

  override write(t: Task, src: Uint8Array, offset: number): number {
    const ns = this.ns;
    const parent = ns.parent;
    const fileNs = this.opener?.userNs ?? null;
    // proc_uid_map_write: the initial maps are fixed; the opener is in the namespace or its parent.
    if (parent === null) throw new SyscallError(EPERM);
    if (fileNs !== ns && fileNs !== parent) throw new SyscallError(EPERM);
    // seq_open clears FMODE_PWRITE.
    if (offset >= 0) throw new SyscallError(ESPIPE);
    if (this.pos !== 0 || src.length >= PAGE_SIZE) throw new SyscallError(EINVAL);
    const map = mapOf(ns, this.kind);
    if (map.extents.length !== 0) throw new SyscallError(EPERM);
    const cap = capOf(this.kind);
    const opener = this.opener ?? t.creds;
    if (cap >= 0 && !opener.nsCapable(ns, CAP_SYS_ADMIN)) throw new SyscallError(EPERM);
    const extents = parseMap(src);
    if (!permitted(t.creds, opener, ns, this.kind, extents)) throw new SyscallError(EPERM);
    const parentMap = mapOf(parent, this.kind);
    const lowered: IdExtent[] = [];
    for (const e of extents) {
      const lower = parentMap.down(e.lowerFirst, e.count);
      if (lower === INVALID_ID) throw new SyscallError(EPERM);
      lowered.push({ ...e, lowerFirst: lower });
    }
    map.extents = lowered;
    // map_write leaves the position past what it took: another write(2) on this file is EINVAL.
    this.pos = src.length;
    return src.length;
  }
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** simple_strtoul base 10 stored in a u32: the digits there are (none is 0), wrapping. */
function strtoul(s: Uint8Array, i: number): [number, number] {
  let v = 0n;
  while (i < s.length && s[i] >= 0x30 && s[i] <= 0x39) v = (v * 10n + BigInt(s[i++] - 0x30)) & 0xffffffffffffffffn;
  return [Number(v & 0xffffffffn), i];
}

/** map_write's parse: "first lower count" lines, EINVAL for anything else (exported for its fuzz test). */
export function parseMap(src: Uint8Array): IdExtent[] {
  const nul = src.indexOf(0);
  const buf = nul >= 0 ? src.subarray(0, nul) : src;
  const out: IdExtent[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    const line = buf.subarray(start, nl < 0 ? buf.length : nl);
    const more = nl >= 0 && nl + 1 < buf.length;
    let i = 0;
    const skip = (): void => { while (i < line.length && isSpace(line[i])) i++; };
    const at = (): number => (i < line.length ? line[i] : 0);
    const field = (): number => {
      skip();
      const [v, j] = strtoul(line, i);
      i = j;
      return v;
    };
    const first = field();
    if (!isSpace(at())) throw new SyscallError(EINVAL);
    const lowerFirst = field();
    if (!isSpace(at())) throw new SyscallError(EINVAL);
    const count = field();
    if (at() !== 0 && !isSpace(at())) throw new SyscallError(EINVAL);
    skip();
    if (at() !== 0) throw new SyscallError(EINVAL);
    if (first === INVALID_ID || lowerFirst === INVALID_ID) throw new SyscallError(EINVAL);
    if (((first + count) >>> 0) <= first || ((lowerFirst + count) >>> 0) <= lowerFirst) throw new SyscallError(EINVAL);
    const e = { first, lowerFirst, count };
    if (out.some((p) => overlap(p, e))) throw new SyscallError(EINVAL);
    if (out.length + 1 === MAX_EXTENTS && more) throw new SyscallError(EINVAL);
    out.push(e);
    if (!more) return out;
    start = nl + 1;
  }
}

function overlap(a: IdExtent, b: IdExtent): boolean {
  const last = (x: number): number => x + b.count - 1;
  return (a.first <= last(b.first) && a.first + a.count - 1 >= b.first) ||
    (a.lowerFirst <= last(b.lowerFirst) && a.lowerFirst + a.count - 1 >= b.lowerFirst);
}

/** new_idmap_permitted (with verify_root_map for the uid map). `writer` is the writing task's
 *  credentials, `opener` those the file was opened with. */
function permitted(writer: Credentials, opener: Credentials, ns: UserNamespace, kind: MapKind, map: IdExtent[]): boolean {
  const parent = ns.parent as UserNamespace;
  if (kind === 'uid' && map.some((e) => e.lowerFirst === 0)) {
    // Mapping the parent's root needs CAP_SETFCAP: the creator's at creation for one's own map.
    if (opener.userNs === ns ? !ns.parentCouldSetfcap : !opener.nsCapable(parent, CAP_SETFCAP)) return false;
  }
  // The one mapping anyone may write: the owner's own euid (egid, with setgroups denied).
  if (map.length === 1 && map[0].count === 1 && ns.owner === opener.euid) {
    const id = map[0].lowerFirst;
    if (kind === 'uid' && makeKuid(parent, id) === opener.euid) return true;
    if (kind === 'gid' && !ns.setgroupsAllowed && makeKgid(parent, id) === opener.egid) return true;
  }
  const cap = capOf(kind);
  if (cap < 0) return true;
  return writer.nsCapable(parent, cap) && opener.nsCapable(parent, cap);
}

/** /proc/<pid>/setgroups. */
export class SetgroupsInode extends KInode {
  constructor(fs: KernFS, key: string, private readonly task: () => Task | undefined, attr: KAttr) {
    super(fs, key, S_IFREG | 0o644, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const ns = targetNs(this.task);
    // proc_setgroups_open: writing needs CAP_SYS_ADMIN over the namespace.
    if ((flags & O_ACCMODE) !== O_RDONLY && t !== null && !t.creds.nsCapable(ns, CAP_SYS_ADMIN)) {
      throw new SyscallError(EPERM);
    }
    return new SetgroupsFile(flags, vd, Buffer.from(ns.setgroupsAllowed ? 'allow\n' : 'deny\n'), ns);
  }
}

class SetgroupsFile extends SnapshotFile {
  override readonly writesEmpty = true;
  constructor(flags: number, vd: VirtualDentry, data: Uint8Array, private readonly ns: UserNamespace) {
    super(flags, vd, data, 'seq');
  }

  override write(_t: Task, src: Uint8Array, offset: number): number {
    if (offset >= 0) throw new SyscallError(ESPIPE);
    // kbuf is 8 bytes: at most 7 taken, NUL-terminated.
    if (this.pos !== 0 || src.length >= 8) throw new SyscallError(EINVAL);
    const nul = src.indexOf(0);
    const text = Buffer.from(nul >= 0 ? src.subarray(0, nul) : src).toString('latin1');
    let allow: boolean;
    let rest: string;
    if (text.startsWith('allow')) { allow = true; rest = text.slice(5); }
    else if (text.startsWith('deny')) { allow = false; rest = text.slice(4); }
    else throw new SyscallError(EINVAL);
    if (!/^[ \t\n\v\f\r]*$/.test(rest)) throw new SyscallError(EINVAL);
    if (allow) {
      // Once denied, always denied.
      if (!this.ns.setgroupsAllowed) throw new SyscallError(EPERM);
    } else {
      // Too late once the gid map is written.
      if (this.ns.gidMap.extents.length !== 0) throw new SyscallError(EPERM);
      this.ns.setgroupsAllowed = false;
    }
    this.pos = src.length;
    return src.length;
  }
}
