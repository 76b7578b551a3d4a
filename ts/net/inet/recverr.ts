// IP_RECVERR and IPV6_RECVERR as a socket sees them (Linux ip_recv_error, ipv6_recv_error,
// the option handlers in ip_sockglue.c / ipv6_sockglue.c): the options set what the
// endpoint's error queue takes (turning one off empties the queue, as Linux purges it), and
// recvmsg(MSG_ERRQUEUE) takes the oldest entry: its quoted payload as data, the offending
// packet's destination as msg_name, and a control message holding struct sock_extended_err
// followed by the offender's sockaddr. An empty queue is EAGAIN, never a wait.

import { fail } from '../../kernel/syscall_error';
import { EAGAIN } from '../../abi/linux/errno';
import { AF_INET, MSG_ERRQUEUE, MSG_TRUNC } from '../../abi/linux/socket';
import { SO_EE_ORIGIN_LOCAL, type ErrQueue } from '../../tcpip/icmp/errqueue';
import type { RecvResult } from '../socket';
import { IPPROTO_IP, IPPROTO_IPV6, type InetOpts } from './inet_opts';
import { buildInetAddr } from './sockaddr_in';

const IP_MTU_DISCOVER = 10;
export const IP_RECVERR = 11;
const IPV6_MTU_DISCOVER = 23;
export const IPV6_RECVERR = 25;
const PMTUDISC_DONT = 0;
const SOCK_EXTENDED_ERR_SIZE = 16;

/** The options changed: copy them into the queue's flags; one turned off purges it. */
export function syncRecverr(q: ErrQueue, o: InetOpts): void {
  const on4 = (o.plain.get(`ip${IP_RECVERR}`) ?? 0) !== 0;
  const on6 = (o.plain.get(`ip6${IPV6_RECVERR}`) ?? 0) !== 0;
  if ((q.recverr4 && !on4) || (q.recverr6 && !on6)) q.clear();
  q.recverr4 = on4;
  q.recverr6 = on6;
  q.pmtuDont4 = o.plain.get(`ip${IP_MTU_DISCOVER}`) === PMTUDISC_DONT;
  q.pmtuDont6 = o.plain.get(`ip6${IPV6_MTU_DISCOVER}`) === PMTUDISC_DONT;
  q.pmtuIgnore4 = (o.plain.get(`ip${IP_MTU_DISCOVER}`) ?? 0) >= 4;
  q.pmtuIgnore6 = (o.plain.get(`ip6${IPV6_MTU_DISCOVER}`) ?? 0) >= 4;
}

/** recvmsg(MSG_ERRQUEUE) on a socket of family with room for max bytes; setErr gets the
 *  socket's pending error as sock_dequeue_err_skb leaves it. */
export function recvErrQueue(q: ErrQueue, family: number, max: number, setErr: (err: number) => void): RecvResult {
  const got = q.shift();
  if (!got) fail(EAGAIN);
  const { e, nextErr } = got;
  if (nextErr !== null) setErr(nextErr);
  const v4 = family === AF_INET;
  const local = e.origin === SO_EE_ORIGIN_LOCAL;
  const offender = local ? new Uint8Array(v4 ? 16 : 28) : buildInetAddr(family, e.offender, 0);
  const hdr = new Uint8Array(SOCK_EXTENDED_ERR_SIZE + offender.length);
  const dv = new DataView(hdr.buffer);
  dv.setUint32(0, e.errno, true);
  hdr[4] = e.origin;
  hdr[5] = e.type;
  hdr[6] = e.code;
  dv.setUint32(8, e.info >>> 0, true);
  dv.setUint32(12, e.data >>> 0, true);
  hdr.set(offender, SOCK_EXTENDED_ERR_SIZE);
  const n = Math.min(max, e.payload.length);
  // ip_recv_error names the destination always; ipv6_recv_error only with a port.
  const from = v4 || e.port !== 0 ? buildInetAddr(family, e.addr, e.port) : null;
  return {
    n, data: e.payload.subarray(0, n), from, rights: null, creds: null,
    flags: MSG_ERRQUEUE | (e.payload.length > max ? MSG_TRUNC : 0),
    cmsgs: [{ level: v4 ? IPPROTO_IP : IPPROTO_IPV6, type: v4 ? IP_RECVERR : IPV6_RECVERR, data: hdr }],
  };
}
