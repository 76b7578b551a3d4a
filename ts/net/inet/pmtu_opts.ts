// The path-MTU socket options (Linux do_ip_getsockopt IP_MTU, ipv6_getsockopt IPV6_MTU, the
// *_MTU_DISCOVER checks) and the send-side rule ip_append_data applies under them; the
// path MTU itself is the route's (ts/tcpip/pmtu.ts). IP_MTU / IPV6_MTU read the route of a
// connected socket (ENOTCONN without one); IP_MTU_DISCOVER / IPV6_MTU_DISCOVER take
// IP_PMTUDISC_DONT..IP_PMTUDISC_OMIT (0..5), anything else is EINVAL. A datagram refused for
// its size is reported in the error queue too under IP_RECVERR (a local-origin error).

import { fail } from '../../kernel/syscall_error';
import { EINVAL, EMSGSIZE, ENOTCONN } from '../../abi/linux/errno';
import { AF_INET6 } from '../../abi/linux/socket';
import { isV4Mapped, unmap, type IPAddr } from '../../tcpip/addr';
import { IP_PMTUDISC_OMIT, IP_PMTUDISC_WANT, pathMtu, pmtuLimit } from '../../tcpip/pmtu';
import type { Stack } from '../../tcpip/stack';
import { SO_EE_ORIGIN_LOCAL, type ErrQueue } from '../../tcpip/icmp/errqueue';
import { IPPROTO_IP, IPPROTO_IPV6, IPV6_DONTFRAG, intOf, ints, type InetOpts } from './inet_opts';
import { parseInetAddr } from './sockaddr_in';

const IP_MTU_DISCOVER = 10, IP_MTU = 14;
const IPV6_MTU_DISCOVER = 23, IPV6_MTU = 24;
const UDP_HEADER = 8;

interface PmtuSocket { stack: Stack; family: number; inet: InetOpts; getpeername(): Uint8Array }

/** The connected peer in the stack's form, or ENOTCONN. */
function peerOf(s: PmtuSocket): IPAddr {
  const a = parseInetAddr(s.getpeername(), s.family).addr;
  return s.family === AF_INET6 && isV4Mapped(a) ? unmap(a) : a;
}

/** IP_MTU / IPV6_MTU for this socket, or null when the option is another one. */
export function getPmtuOpt(s: PmtuSocket, level: number, name: number): Uint8Array | null {
  const v6 = s.family === AF_INET6;
  if (!((level === IPPROTO_IP && name === IP_MTU && !v6) || (level === IPPROTO_IPV6 && name === IPV6_MTU && v6))) return null;
  const mtu = pathMtu(s.stack, peerOf(s));
  if (mtu === null) fail(ENOTCONN);
  return ints(mtu);
}

/** Check an IP_MTU_DISCOVER / IPV6_MTU_DISCOVER value before it is stored. */
export function checkPmtuOpt(level: number, name: number, val: Uint8Array): void {
  if ((level === IPPROTO_IP && name === IP_MTU_DISCOVER) || (level === IPPROTO_IPV6 && name === IPV6_MTU_DISCOVER)) {
    const v = intOf(val);
    if (v < 0 || v > IP_PMTUDISC_OMIT) fail(EINVAL);
  }
}

/** Where a refused datagram's local error goes (ip_local_error): the sender's error queue. */
export interface LocalErrTarget { errQueue: ErrQueue; queued: number; rcvBufSize: number }

/** EMSGSIZE for a datagram of n payload bytes to dst:port that may not be fragmented and does
 *  not fit (ip_append_data's maxnonfragsize check); with IP_RECVERR / IPV6_RECVERR the
 *  refusal is queued too, as a local error carrying the MTU (ip_local_error). */
export function checkDatagramPmtu(stack: Stack, o: InetOpts, dst: IPAddr, port: number, n: number, ep: LocalErrTarget, dontfrag?: boolean): void {
  const v6 = dst.length === 16;
  const mode = o.plain.get(v6 ? `ip6${IPV6_MTU_DISCOVER}` : `ip${IP_MTU_DISCOVER}`) ?? IP_PMTUDISC_WANT;
  // IPV6_DONTFRAG (the option, or its cmsg for one datagram) holds an IPv6 datagram to the
  // path MTU whatever the mode (__ip6_append_data).
  const df = v6 && (dontfrag ?? (o.plain.get(`ip6${IPV6_DONTFRAG}`) ?? 0) !== 0);
  const limit = df ? pmtuLimit(stack, dst, mode) ?? pathMtu(stack, dst) : pmtuLimit(stack, dst, mode);
  if (limit === null || n + UDP_HEADER + (v6 ? 40 : 20) <= limit) return;
  if (v6 ? ep.errQueue.recverr6 : ep.errQueue.recverr4) {
    ep.errQueue.push({
      errno: EMSGSIZE, origin: SO_EE_ORIGIN_LOCAL, type: 0, code: 0, info: limit, data: 0,
      offender: new Uint8Array(dst.length), addr: dst, port, payload: new Uint8Array(0),
    }, ep.queued, ep.rcvBufSize);
  }
  fail(EMSGSIZE);
}
