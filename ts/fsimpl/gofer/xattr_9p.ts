// Extended attributes over 9P2000.L (Linux fs/9p/xattr.c): Txattrwalk makes a fid whose
// Treads give a value (or, for the name "", the NUL-separated list of names); Txattrcreate
// turns a fid into one whose Twrites make the value, set when it is clunked (size 0:
// remove). The server answers with the host's errors; tsvisor-gofer serves user.* only.
// Names here are one character per byte; 9P carries UTF-8, so a name that is not valid
// UTF-8 cannot be said (EINVAL).

import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, EIO } from '../../abi/linux/errno';
import type { Client } from '../../p9/client';
import { XATTR_REPLACE } from '../../vfs/xattr';

function wireName(name: string): string {
  const bytes = Buffer.from(name, 'latin1');
  const s = bytes.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(bytes)) throw new SyscallError(EINVAL);
  return s;
}

/** The whole of what an xattrwalk fid holds; the fid is clunked. */
function readAll(c: Client, fid: number, size: number): Uint8Array {
  try {
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const d = c.read(fid, at, size - at);
      if (d.length === 0) break;
      out.set(d, at);
      at += d.length;
    }
    if (at !== size) throw new SyscallError(EIO, '9P: xattr shorter than Rxattrwalk said');
    return out;
  } finally {
    c.clunkLater(fid);
  }
}

/** The bytes a value may have: what XATTR_SIZE_MAX and XATTR_LIST_MAX allow, and a little more
 *  for a server that says otherwise. */
const MAX_XATTR_READ = 1 << 20;

function walkRead(c: Client, fid: number, name: string): Uint8Array {
  const w = c.xattrwalk(fid, name);
  if (w.size > MAX_XATTR_READ) {
    c.clunkLater(w.fid);
    throw new SyscallError(EIO, '9P: xattr larger than any Linux allows');
  }
  return readAll(c, w.fid, w.size);
}

export function getxattr9p(c: Client, fid: number, name: string): Uint8Array {
  return walkRead(c, fid, wireName(name));
}

export function listxattr9p(c: Client, fid: number): string[] {
  const list = Buffer.from(walkRead(c, fid, ''));
  const names: string[] = [];
  for (let at = 0; at < list.length;) {
    let end = list.indexOf(0, at);
    if (end < 0) end = list.length;
    if (end > at) names.push(Buffer.from(list.toString('utf8', at, end), 'utf8').toString('latin1'));
    at = end + 1;
  }
  return names;
}

/** Set (value) or remove (null) name; cloneFid is a fresh fid of the file, used up. */
export function setxattr9p(c: Client, cloneFid: number, name: string, value: Uint8Array | null, flags: number): void {
  let wire: string;
  try {
    wire = wireName(name);
    c.xattrcreate(cloneFid, wire, value?.length ?? 0, value ? flags : XATTR_REPLACE);
  } catch (e) {
    c.clunkLater(cloneFid);
    throw e;
  }
  let ok = false;
  try {
    for (let at = 0; value && at < value.length;) {
      const n = c.write(cloneFid, at, value.subarray(at));
      if (n <= 0) throw new SyscallError(EIO, '9P: xattr write made no progress');
      at += n;
    }
    ok = true;
  } finally {
    // The value is set (or the removal done) at clunk, which reports its error.
    if (ok) c.clunk(cloneFid); else c.clunkLater(cloneFid);
  }
}
