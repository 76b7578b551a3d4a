// Ancillary data of a host socket, both ways. Sending: the program's control buffer is walked
// as Linux walks it (every header CMSG_OK, else EINVAL) and only messages the protocol reads
// are copied, byte for byte, into a fresh buffer for the host, which judges their values
// (ip_cmsg_send, ip6_datagram_send_ctl, __sock_cmsg_send give the errnos). TCP reads only
// SOL_SOCKET messages; UDP reads its family's IP level too; a type Linux does not know at a
// level it reads is EINVAL; SCM_RIGHTS and SCM_CREDENTIALS mean nothing to inet and are
// dropped; SO_MARK would mark host traffic and is EPERM. Receiving: the host's control
// messages become the socket layer's Cmsg list, which put_cmsg-truncates them to the
// program's buffer.

import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { AF_INET, CMSGHDR_SIZE, SCM_CREDENTIALS, SCM_RIGHTS, SOCK_STREAM, SOL_SOCKET, cmsgAlign } from '../../abi/linux/socket';
import { INET_SOCKET_TYPES, walkControl, type Cmsg } from '../control';

const SOL_IP = 0, SOL_IPV6 = 41;
const SO_MARK = 36;
/** ip_cmsg_send: IP_RETOPTS, IP_PKTINFO, IP_TTL, IP_TOS, IP_PROTOCOL. */
const IP_TYPES = new Set([7, 8, 2, 1, 52]);
/** ip6_datagram_send_ctl: IPV6_2292PKTINFO, IPV6_PKTINFO, IPV6_FLOWINFO, IPV6_2292HOPOPTS,
 *  IPV6_HOPOPTS, IPV6_2292DSTOPTS, IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS, IPV6_2292RTHDR,
 *  IPV6_RTHDR, IPV6_2292HOPLIMIT, IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_DONTFRAG. */
const IPV6_TYPES = new Set([2, 50, 11, 3, 54, 4, 59, 55, 5, 57, 8, 52, 67, 62]);
/** The most control bytes handed to the host (Linux's sysctl_optmem_max is 20 KiB). */
const MAX_CONTROL = 20480;

/** The control bytes the host gets for a sendmsg on a socket of family and type (empty: none). */
export function hostSendControl(raw: Uint8Array | null, family: number, type: number): Uint8Array {
  if (!raw || raw.length === 0) return new Uint8Array(0);
  if (raw.length > MAX_CONTROL) fail(EINVAL);
  const keep: Uint8Array[] = [];
  let total = 0;
  walkControl(raw, (off, len, level, ctype) => {
    let pass = false;
    if (level === SOL_SOCKET) {
      if (ctype === SO_MARK) fail(EPERM);
      if (!INET_SOCKET_TYPES.has(ctype)) fail(EINVAL);
      pass = ctype !== SCM_RIGHTS && ctype !== SCM_CREDENTIALS;
    } else if (type !== SOCK_STREAM && level === SOL_IP) {
      // A v6 socket reads them only for a v4-mapped destination; the host decides.
      if (IP_TYPES.has(ctype)) pass = true;
      else if (family === AF_INET) fail(EINVAL);
    } else if (type !== SOCK_STREAM && level === SOL_IPV6 && family !== AF_INET) {
      if (!IPV6_TYPES.has(ctype)) fail(EINVAL);
      pass = true;
    }
    if (pass) {
      const m = raw.slice(off, off + cmsgAlign(len) <= raw.length ? off + cmsgAlign(len) : off + len);
      keep.push(m);
      total += cmsgAlign(m.length);
    }
  });
  const out = new Uint8Array(total);
  let at = 0;
  for (const m of keep) { out.set(m, at); at += cmsgAlign(m.length); }
  return out;
}

/** The host's control messages (n bytes of buf) as the socket layer hands them up. */
export function hostRecvControl(buf: Uint8Array, n: number): Cmsg[] {
  const out: Cmsg[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, Math.min(n, buf.byteLength));
  for (let off = 0; off + CMSGHDR_SIZE <= v.byteLength;) {
    const len = Number(v.getBigUint64(off, true));
    if (len < CMSGHDR_SIZE || len > v.byteLength - off) break;
    const level = v.getInt32(off + 8, true);
    const type = v.getInt32(off + 12, true);
    // No fd or credential ever comes on an inet socket; never hand one up.
    if (!(level === SOL_SOCKET && (type === SCM_RIGHTS || type === SCM_CREDENTIALS))) {
      out.push({ level, type, data: buf.slice(off + CMSGHDR_SIZE, off + len) });
    }
    off += cmsgAlign(len);
  }
  return out;
}
