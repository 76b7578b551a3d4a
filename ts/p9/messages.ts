// The 9P2000.L messages the client speaks, each described once as a list of fields: one table
// drives both encoding and decoding, so requests and replies cannot drift apart. Every message
// is size[4] type[1] tag[2] then its fields. decodeMessage() is the one entry for bytes from
// the server: it checks the size, the type and that the fields fill the message exactly, and
// throws DecodeError otherwise (never reads out of bounds).

import { Decoder, DecodeError, Encoder, type Qid } from './wire';

export const NOTAG = 0xffff;
export const NOFID = 0xffffffff;
export const HEADER_SIZE = 7;
/** Fixed bytes of an Rread/Twrite around the data: header + count[4] (+ fid, offset for T). */
export const IOHDRSZ = 24;

export const Tlerror = 6, Rlerror = 7, Tstatfs = 8, Rstatfs = 9, Tlopen = 12, Rlopen = 13,
  Tlcreate = 14, Rlcreate = 15, Tsymlink = 16, Rsymlink = 17, Tmknod = 18, Rmknod = 19,
  Trename = 20, Rrename = 21, Treadlink = 22, Rreadlink = 23, Tgetattr = 24, Rgetattr = 25,
  Tsetattr = 26, Rsetattr = 27, Txattrwalk = 30, Rxattrwalk = 31, Txattrcreate = 32,
  Rxattrcreate = 33, Treaddir = 40, Rreaddir = 41, Tfsync = 50, Rfsync = 51, Tlock = 52,
  Rlock = 53, Tgetlock = 54, Rgetlock = 55, Tlink = 70, Rlink = 71, Tmkdir = 72, Rmkdir = 73,
  Trenameat = 74, Rrenameat = 75, Tunlinkat = 76, Runlinkat = 77, Tversion = 100,
  Rversion = 101, Tattach = 104, Rattach = 105, Tflush = 108, Rflush = 109, Twalk = 110,
  Rwalk = 111, Tread = 116, Rread = 117, Twrite = 118, Rwrite = 119, Tclunk = 120,
  Rclunk = 121, Tremove = 122, Rremove = 123;
/** Our extension, only with tsvisor-gofer (crates/gofer/PROTOCOL.md): Treaddir whose entries
 *  carry their attributes, and whose reply says whether the directory ends there. */
export const Treaddirattr = 130, Rreaddirattr = 131;
/** Our extension: Twalk whose reply gives each walked name's attributes (Rgetattr's fields)
 *  and the errno of the name that stopped it (0: every name walked). */
export const Twalkgetattr = 132, Rwalkgetattr = 133;
/** Our extension: Trenameat with renameat2's flags (RENAME_NOREPLACE, _EXCHANGE, _WHITEOUT). */
export const Trenameat2 = 134, Rrenameat2 = 135;

/** Field kinds. u64 must fit a JS number; u64big is kept whole; data is count[4] + bytes. */
type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'u64big' | 'i64' | 'str' | 'qid' | 'qids' | 'strs' | 'data' | 'attrs';
type Field = readonly [name: string, kind: Kind];
export type FieldValue = number | bigint | string | Qid | Qid[] | string[] | Uint8Array | Fields[];
export interface Fields { [name: string]: FieldValue }

const attrTimes: Field[] = ['atime', 'mtime', 'ctime', 'btime'].flatMap((t): Field[] => [[`${t}_sec`, 'i64'], [`${t}_nsec`, 'i64']]);

/** The field list of every message type (Linux's and diod's 9P2000.L layout). */
/** Rgetattr's fields, which Rwalkgetattr gives for each walked name ('attrs'). */
const GETATTR_FIELDS: Field[] = [['valid', 'u64big'], ['qid', 'qid'], ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'],
  ['nlink', 'u64'], ['rdev', 'u64'], ['size', 'u64'], ['blksize', 'u64'], ['blocks', 'u64'],
  ...attrTimes, ['gen', 'u64big'], ['data_version', 'u64big']];

export const SCHEMA: ReadonlyMap<number, readonly Field[]> = new Map<number, Field[]>([
  [Rlerror, [['ecode', 'u32']]],
  [Tstatfs, [['fid', 'u32']]],
  [Rstatfs, [['type', 'u32'], ['bsize', 'u32'], ['blocks', 'u64'], ['bfree', 'u64'], ['bavail', 'u64'],
    ['files', 'u64'], ['ffree', 'u64'], ['fsid', 'u64big'], ['namelen', 'u32']]],
  [Tlopen, [['fid', 'u32'], ['flags', 'u32']]],
  [Rlopen, [['qid', 'qid'], ['iounit', 'u32']]],
  [Tlcreate, [['fid', 'u32'], ['name', 'str'], ['flags', 'u32'], ['mode', 'u32'], ['gid', 'u32']]],
  [Rlcreate, [['qid', 'qid'], ['iounit', 'u32']]],
  [Tsymlink, [['fid', 'u32'], ['name', 'str'], ['target', 'str'], ['gid', 'u32']]],
  [Rsymlink, [['qid', 'qid']]],
  [Tmknod, [['dfid', 'u32'], ['name', 'str'], ['mode', 'u32'], ['major', 'u32'], ['minor', 'u32'], ['gid', 'u32']]],
  [Rmknod, [['qid', 'qid']]],
  [Trename, [['fid', 'u32'], ['dfid', 'u32'], ['name', 'str']]],
  [Rrename, []],
  [Treadlink, [['fid', 'u32']]],
  [Rreadlink, [['target', 'str']]],
  [Tgetattr, [['fid', 'u32'], ['mask', 'u64big']]],
  [Rgetattr, GETATTR_FIELDS],
  [Tsetattr, [['fid', 'u32'], ['valid', 'u32'], ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'], ['size', 'u64'],
    ['atime_sec', 'i64'], ['atime_nsec', 'i64'], ['mtime_sec', 'i64'], ['mtime_nsec', 'i64']]],
  [Rsetattr, []],
  [Txattrwalk, [['fid', 'u32'], ['newfid', 'u32'], ['name', 'str']]],
  [Rxattrwalk, [['size', 'u64']]],
  [Txattrcreate, [['fid', 'u32'], ['name', 'str'], ['size', 'u64'], ['flags', 'u32']]],
  [Rxattrcreate, []],
  [Treaddir, [['fid', 'u32'], ['offset', 'u64big'], ['count', 'u32']]],
  [Rreaddir, [['data', 'data']]],
  [Treaddirattr, [['fid', 'u32'], ['offset', 'u64big'], ['count', 'u32']]],
  [Rreaddirattr, [['eof', 'u8'], ['data', 'data']]],
  [Tfsync, [['fid', 'u32'], ['datasync', 'u32']]],
  [Rfsync, []],
  [Tlock, [['fid', 'u32'], ['type', 'u8'], ['flags', 'u32'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 'str']]],
  [Rlock, [['status', 'u8']]],
  [Tgetlock, [['fid', 'u32'], ['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 'str']]],
  [Rgetlock, [['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 'str']]],
  [Tlink, [['dfid', 'u32'], ['fid', 'u32'], ['name', 'str']]],
  [Rlink, []],
  [Tmkdir, [['dfid', 'u32'], ['name', 'str'], ['mode', 'u32'], ['gid', 'u32']]],
  [Rmkdir, [['qid', 'qid']]],
  [Trenameat, [['olddirfid', 'u32'], ['oldname', 'str'], ['newdirfid', 'u32'], ['newname', 'str']]],
  [Rrenameat, []],
  [Trenameat2, [['olddirfid', 'u32'], ['oldname', 'str'], ['newdirfid', 'u32'], ['newname', 'str'], ['flags', 'u32']]],
  [Rrenameat2, []],
  [Tunlinkat, [['dirfid', 'u32'], ['name', 'str'], ['flags', 'u32']]],
  [Runlinkat, []],
  [Tversion, [['msize', 'u32'], ['version', 'str']]],
  [Rversion, [['msize', 'u32'], ['version', 'str']]],
  [Tattach, [['fid', 'u32'], ['afid', 'u32'], ['uname', 'str'], ['aname', 'str'], ['n_uname', 'u32']]],
  [Rattach, [['qid', 'qid']]],
  [Tflush, [['oldtag', 'u16']]],
  [Rflush, []],
  [Twalk, [['fid', 'u32'], ['newfid', 'u32'], ['names', 'strs']]],
  [Twalkgetattr, [['fid', 'u32'], ['newfid', 'u32'], ['names', 'strs']]],
  [Rwalkgetattr, [['ecode', 'u32'], ['steps', 'attrs']]],
  [Rwalk, [['qids', 'qids']]],
  [Tread, [['fid', 'u32'], ['offset', 'u64'], ['count', 'u32']]],
  [Rread, [['data', 'data']]],
  [Twrite, [['fid', 'u32'], ['offset', 'u64'], ['data', 'data']]],
  [Rwrite, [['count', 'u32']]],
  [Tclunk, [['fid', 'u32']]],
  [Rclunk, []],
  [Tremove, [['fid', 'u32']]],
  [Rremove, []],
]);

/** Most names one Twalk may carry (the protocol's MAXWELEM). */
export const MAXWELEM = 16;

/** Every request is encoded here, then copied out whole (finish): no buffer per message. */
const scratch = new Encoder();

export function encodeMessage(type: number, tag: number, fields: Fields): Uint8Array {
  const schema = SCHEMA.get(type);
  if (!schema) throw new RangeError(`unknown 9P message type ${type}`);
  const e = scratch.reset().u32(0).u8(type).u16(tag);
  for (const [name, kind] of schema) {
    const v = fields[name];
    if (v === undefined) throw new RangeError(`9P message ${type}: field ${name} missing`);
    put(e, kind, v);
  }
  return e.finish();
}

function put(e: Encoder, kind: Kind, v: FieldValue): void {
  switch (kind) {
    case 'u8': e.u8(v as number); break;
    case 'u16': e.u16(v as number); break;
    case 'u32': e.u32(v as number); break;
    case 'u64': case 'u64big': case 'i64': e.u64(v as number | bigint); break;
    case 'str': e.str(v as string); break;
    case 'qid': e.qid(v as Qid); break;
    case 'qids': { const q = v as Qid[]; e.u16(q.length); for (const x of q) e.qid(x); break; }
    case 'strs': { const s = v as string[]; e.u16(s.length); for (const x of s) e.str(x); break; }
    case 'data': { const d = v as Uint8Array; e.u32(d.length); e.bytes(d); break; }
    case 'attrs': {
      const a = v as Fields[];
      e.u16(a.length);
      for (const f of a) for (const [name, k] of GETATTR_FIELDS) put(e, k, f[name]);
      break;
    }
  }
}

export interface Message {
  type: number;
  tag: number;
  fields: Fields;
}

/** Decodes one whole message; DecodeError on anything malformed. */
export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < HEADER_SIZE) throw new DecodeError('9P message shorter than its header');
  const d = new Decoder(buf);
  const size = d.u32();
  if (size !== buf.length) throw new DecodeError(`9P size ${size} is not the message's ${buf.length}`);
  const type = d.u8();
  const tag = d.u16();
  const schema = SCHEMA.get(type);
  if (!schema) throw new DecodeError(`unknown 9P message type ${type}`);
  let fields: Fields;
  if (schema === GETATTR_FIELDS) fields = getattrFields(d);
  else {
    fields = {};
    for (const [name, kind] of schema) fields[name] = get(d, kind);
  }
  d.done();
  return { type, tag, fields };
}

function get(d: Decoder, kind: Kind): FieldValue {
  switch (kind) {
    case 'u8': return d.u8();
    case 'u16': return d.u16();
    case 'u32': return d.u32();
    case 'u64': return d.u64();
    case 'u64big': return d.u64big();
    case 'i64': return d.i64();
    case 'str': return d.str();
    case 'qid': return d.qid();
    case 'qids': {
      const n = d.u16();
      if (n > MAXWELEM) throw new DecodeError(`9P walk reply with ${n} qids`);
      const out: Qid[] = [];
      for (let i = 0; i < n; i++) out.push(d.qid());
      return out;
    }
    case 'strs': {
      const n = d.u16();
      if (n > MAXWELEM) throw new DecodeError(`9P walk with ${n} names`);
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(d.str());
      return out;
    }
    case 'data': return d.bytes(d.u32());
    case 'attrs': {
      const n = d.u16();
      if (n > MAXWELEM) throw new DecodeError(`9P walk reply with ${n} steps`);
      const out: Fields[] = [];
      for (let i = 0; i < n; i++) out.push(getattrFields(d));
      return out;
    }
  }
}

/** Rgetattr's fields (GETATTR_FIELDS) as one object literal, read in the table's order (an
 *  object literal's values are evaluated in source order; codec.test.ts checks it against
 *  the table): a lookup decodes one per path component (Rwalkgetattr), and the generic
 *  loop, an object grown key by key, cost about a microsecond more each. */
function getattrFields(d: Decoder): Fields {
  return {
    valid: d.u64big(), qid: d.qid(), mode: d.u32(), uid: d.u32(), gid: d.u32(),
    nlink: d.u64(), rdev: d.u64(), size: d.u64(), blksize: d.u64(), blocks: d.u64(),
    atime_sec: d.i64(), atime_nsec: d.i64(), mtime_sec: d.i64(), mtime_nsec: d.i64(),
    ctime_sec: d.i64(), ctime_nsec: d.i64(), btime_sec: d.i64(), btime_nsec: d.i64(),
    gen: d.u64big(), data_version: d.u64big(),
  };
}

/** One entry of Rreaddir's data: qid[13] offset[8] type[1] name[s]. */
export interface Dirent {
  qid: Qid;
  /** The cookie to ask for to continue after this entry (opaque: servers use all 64 bits). */
  offset: bigint;
  type: number;
  name: string;
}

export function decodeDirents(data: Uint8Array): Dirent[] {
  const d = new Decoder(data);
  const out: Dirent[] = [];
  while (d.remaining > 0) {
    const qid = d.qid();
    const offset = d.u64big();
    out.push({ qid, offset, type: d.u8(), name: d.str() });
  }
  return out;
}

/** The attributes Rreaddirattr gives after each entry (Rgetattr's, without valid/qid/btime). */
export interface EntryAttr {
  mode: number; uid: number; gid: number; nlink: number; rdev: number; size: number;
  blksize: number; blocks: number;
  atime: { sec: number; nsec: number }; mtime: { sec: number; nsec: number }; ctime: { sec: number; nsec: number };
}

/** An Rreaddirattr entry: attr null where the server gave none (mode 0: walk to it instead);
 *  a symlink's target, null where the server could not read it (sent empty: ask Treadlink). */
export interface DirentAttr extends Dirent { attr: EntryAttr | null; target?: string | null }

const S_IFMT = 0o170000, S_IFLNK = 0o120000;

export function decodeDirentsAttr(data: Uint8Array): DirentAttr[] {
  const d = new Decoder(data);
  const out: DirentAttr[] = [];
  while (d.remaining > 0) {
    const qid = d.qid();
    const offset = d.u64big();
    const type = d.u8();
    const name = d.str();
    const mode = d.u32(), uid = d.u32(), gid = d.u32();
    const nlink = d.u64(), rdev = d.u64(), size = d.u64(), blksize = d.u64(), blocks = d.u64();
    const t = () => ({ sec: d.i64(), nsec: d.i64() });
    const atime = t(), mtime = t(), ctime = t();
    const attr = mode === 0 ? null : { mode, uid, gid, nlink, rdev, size, blksize, blocks, atime, mtime, ctime };
    if ((mode & S_IFMT) === S_IFLNK) out.push({ qid, offset, type, name, attr, target: d.str() || null });
    else out.push({ qid, offset, type, name, attr });
  }
  return out;
}

export function encodeDirentsAttr(ents: readonly DirentAttr[]): Uint8Array {
  const e = new Encoder();
  for (const x of ents) {
    e.qid(x.qid).u64(x.offset).u8(x.type).str(x.name);
    const a = x.attr;
    e.u32(a?.mode ?? 0).u32(a?.uid ?? 0).u32(a?.gid ?? 0).u64(a?.nlink ?? 0).u64(a?.rdev ?? 0).u64(a?.size ?? 0)
      .u64(a?.blksize ?? 0).u64(a?.blocks ?? 0);
    for (const t of [a?.atime, a?.mtime, a?.ctime]) e.u64(t?.sec ?? 0).u64(t?.nsec ?? 0);
    if (a && (a.mode & S_IFMT) === S_IFLNK) e.str(x.target ?? '');
  }
  return e.raw();
}

export function encodeDirents(ents: readonly Dirent[]): Uint8Array {
  const e = new Encoder();
  for (const x of ents) e.qid(x.qid).u64(x.offset).u8(x.type).str(x.name);
  return e.raw();
}
