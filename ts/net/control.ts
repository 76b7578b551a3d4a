// Control messages (Linux net/core/scm.c __scm_send, put_cmsg, scm_detach_fds). Sending:
// the cmsg chain is walked as CMSG_FIRSTHDR/CMSG_NXTHDR do, SOL_SOCKET entries are taken
// (SCM_RIGHTS fds become references held in flight, SCM_CREDENTIALS are checked against
// the sender's ids) and other levels are skipped. Receiving: credentials first, then as
// many fds as fit; those that do not are closed, and MSG_CTRUNC says so.

import { fail } from '../kernel/syscall_error';
import { EBADF, EINVAL, EPERM, ESRCH } from '../abi/linux/errno';
import {
  CMSGHDR_SIZE, MSG_CTRUNC, SCM_CREDENTIALS, SCM_MAX_FD, SCM_RIGHTS, SOL_SOCKET, cmsgAlign, cmsgLen, cmsgSpace,
} from '../abi/linux/socket';
import type { FileDescription } from '../vfs/file_description';
import type { UCred } from './socket';

/** SOL_SOCKET types a non-unix socket accepts: SCM_RIGHTS, SCM_CREDENTIALS (both ignored),
 *  SO_PRIORITY, SO_MARK, SO_TIMESTAMPING_OLD, SCM_TXTIME, SO_TIMESTAMPING_NEW. */
export const INET_SOCKET_TYPES: ReadonlySet<number> = new Set([SCM_RIGHTS, SCM_CREDENTIALS, 12, 36, 37, 61, 65]);

/** Walk a control buffer as CMSG_FIRSTHDR/CMSG_NXTHDR do; a header that is not CMSG_OK (less
 *  than a header, or past what is left) is EINVAL, as __scm_send says. visit gets each
 *  message's offset, cmsg_len, level and type. */
export function walkControl(buf: Uint8Array, visit: (off: number, len: number, level: number, type: number) => void): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off + CMSGHDR_SIZE <= buf.length;) {
    const lenBig = v.getBigUint64(off, true);
    if (lenBig < BigInt(CMSGHDR_SIZE) || lenBig > BigInt(buf.length - off)) fail(EINVAL);
    const len = Number(lenBig);
    visit(off, len, v.getInt32(off + 8, true), v.getInt32(off + 12, true));
    off += cmsgAlign(len);
  }
}

/** What the sender may claim (scm_check_creds): its own pid, or any with CAP_SYS_ADMIN over
 *  its pid namespace; its own uids and gids, or any with CAP_SETUID / CAP_SETGID. */
export interface CredPolicy {
  tgid: number;
  uids: number[];
  gids: number[];
  anyPid: boolean;
  anyUid: boolean;
  anyGid: boolean;
  pidExists(pid: number): boolean;
  /** The sender's user namespace maps the uid and gid (else EINVAL, checked first). */
  mapped?(uid: number, gid: number): boolean;
}

export interface ParsedControl {
  /** fd numbers of SCM_RIGHTS, in order. */
  fds: number[];
  creds: UCred | null;
}

/** Parse a control buffer; `unix` decides whether SCM_RIGHTS and SCM_CREDENTIALS count. */
export function parseControl(buf: Uint8Array, unix: boolean, policy: CredPolicy): ParsedControl {
  const out: ParsedControl = { fds: [], creds: null };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  walkControl(buf, (off, len, level, type) => {
    if (level === SOL_SOCKET && !unix) {
      // __sock_cmsg_send: fds and credentials mean nothing to other families and are
      // ignored; SO_MARK, SO_TIMESTAMPING, SCM_TXTIME and SO_PRIORITY are the family's.
      if (!INET_SOCKET_TYPES.has(type)) fail(EINVAL);
    } else if (level === SOL_SOCKET) {
      if (type === SCM_RIGHTS) {
        const num = Math.floor((len - CMSGHDR_SIZE) / 4);
        if (num > SCM_MAX_FD || out.fds.length + num > SCM_MAX_FD) fail(EINVAL);
        for (let i = 0; i < num; i++) out.fds.push(v.getInt32(off + CMSGHDR_SIZE + i * 4, true));
      } else if (type === SCM_CREDENTIALS) {
        if (len !== cmsgLen(12)) fail(EINVAL);
        const c = {
          pid: v.getInt32(off + CMSGHDR_SIZE, true),
          uid: v.getUint32(off + CMSGHDR_SIZE + 4, true),
          gid: v.getUint32(off + CMSGHDR_SIZE + 8, true),
        };
        checkCreds(c, policy);
        out.creds = c;
      } else {
        fail(EINVAL);
      }
    }
  });
  return out;
}

function checkCreds(c: UCred, p: CredPolicy): void {
  if (p.mapped && !p.mapped(c.uid, c.gid)) fail(EINVAL);
  if (!((c.pid === p.tgid || p.anyPid) && (p.uids.includes(c.uid) || p.anyUid) && (p.gids.includes(c.gid) || p.anyGid))) fail(EPERM);
  if (c.pid !== p.tgid && !p.pidExists(c.pid)) fail(ESRCH);
  // (uid_t)-1 is not a valid id.
  if (c.uid === 0xffff_ffff || c.gid === 0xffff_ffff) fail(EINVAL);
}

/** Turn fd numbers into references (EBADF for one that is not open), all or none. */
export function takeRights(fds: number[], lookup: (fd: number) => FileDescription | undefined): FileDescription[] {
  const got: FileDescription[] = [];
  for (const fd of fds) {
    const f = lookup(fd);
    if (!f) {
      for (const g of got) g.decRef();
      fail(EBADF);
    }
    f.incRef();
    got.push(f);
  }
  return got;
}

/** A control message of another level a family hands up (IP_RECVERR's, ...). */
export interface Cmsg { level: number; type: number; data: Uint8Array }

/** The control buffer a receiver gets, built into `cap` bytes (msg_controllen). */
export interface BuiltControl { bytes: Uint8Array; used: number; flags: number }

/** put_cmsg, then scm_detach_fds. `install` gives an fd for a description (or throws when
 *  none is left, e.g. EMFILE); every reference in `rights` is consumed either way. */
export function buildControl(cap: number, creds: UCred | null, rights: FileDescription[] | null,
  install: (f: FileDescription) => number, extra: readonly Cmsg[] | null = null): BuiltControl {
  const bytes = new Uint8Array(Math.max(0, Math.min(cap, 1 << 20)));
  const v = new DataView(bytes.buffer);
  let used = 0;
  let flags = 0;
  const left = (): number => bytes.length - used;
  // put_cmsg: a header that does not fit ends the message short (MSG_CTRUNC), as does data.
  const put = (level: number, type: number, data: Uint8Array): void => {
    if (left() < CMSGHDR_SIZE) { flags |= MSG_CTRUNC; return; }
    let cmlen = cmsgLen(data.length);
    if (left() < cmlen) { flags |= MSG_CTRUNC; cmlen = left(); }
    v.setBigUint64(used, BigInt(cmlen), true);
    v.setInt32(used + 8, level, true);
    v.setInt32(used + 12, type, true);
    bytes.set(data.subarray(0, cmlen - CMSGHDR_SIZE), used + CMSGHDR_SIZE);
    used += Math.min(cmsgSpace(data.length), left());
  };
  if (creds) {
    const data = new Uint8Array(12);
    const dv = new DataView(data.buffer);
    dv.setInt32(0, creds.pid, true);
    dv.setUint32(4, creds.uid >>> 0, true);
    dv.setUint32(8, creds.gid >>> 0, true);
    put(SOL_SOCKET, SCM_CREDENTIALS, data);
  }
  for (const c of extra ?? []) put(c.level, c.type, c.data);
  if (rights && rights.length > 0) {
    const fdmax = Math.min(left() > CMSGHDR_SIZE ? Math.floor((left() - CMSGHDR_SIZE) / 4) : 0, rights.length);
    let i = 0;
    for (; i < fdmax; i++) {
      let fd: number;
      try {
        fd = install(rights[i]);
      } catch {
        break;
      }
      v.setInt32(used + CMSGHDR_SIZE + i * 4, fd, true);
    }
    if (i > 0) {
      v.setBigUint64(used, BigInt(cmsgLen(i * 4)), true);
      v.setInt32(used + 8, SOL_SOCKET, true);
      v.setInt32(used + 12, SCM_RIGHTS, true);
      used += Math.min(cmsgSpace(i * 4), left());
    }
    if (i < rights.length || fdmax <= 0) flags |= MSG_CTRUNC;
  }
  if (rights) for (const f of rights) f.decRef();
  return { bytes: bytes.subarray(0, used), used, flags };
}
