// What an ICMP error does to a TCP connection (Linux tcp_v4_err / tcp_v6_err, tcp_req_err,
// tcp_v4_mtu_reduced). The quoted sequence number must lie in [snd.una, snd.nxt] (RFC 5927:
// a blind attacker must guess it), and an embryonic connection's must be its ISS. While the
// connection is being opened an error is hard: connect fails with it. Once established it is
// soft: kept in sk_err_soft for SO_ERROR and for the timeout's errno, unless the socket asked
// for IP_RECVERR, when it is reported at once. A failed connect leaves its report in the
// error queue (IPv4 always, as Linux's ip_icmp_error; IPv6 under IPV6_RECVERR). "Fragmentation needed" / "packet too big"
// only lowers the MSS (path MTU discovery). An IPv4 net or host unreachable about the first
// unacknowledged segment while it is being retransmitted undoes one doubling of the RTO
// (RFC 6069, tcp_ld_RTO_revert): the path is down, not congested, so the retries should not
// drift apart.

import { EMSGSIZE } from '../../abi/linux/errno';
import { POLLERR } from '../../abi/linux/poll';
import { IPV4_HEADER } from '../header/ipv4';
import { IPV6_HEADER } from '../header/ipv6';
import { TCP_HEADER } from '../header/tcp';
import type { TcpEndpoint } from './endpoint';
import type { SockExtendedErr } from '../icmp/errqueue';
import { seqDiff } from './seqnum';
import { TCPS } from './states';

/** ip_rt_min_pmtu and IPV6_MIN_MTU: a path MTU is never taken below these. */
const MIN_PMTU_V4 = 552;
const MIN_PMTU_V6 = 1280;
const ICMP_DEST_UNREACH = 3;
const ICMP_NET_UNREACH = 0;
const ICMP_HOST_UNREACH = 1;

export interface TcpIcmp {
  /** The sequence number of the quoted segment. */
  seq: number;
  err: number;
  /** A new path MTU (frag needed / packet too big), else null. */
  pmtu: number | null;
  /** Whether an embryonic (SYN_RECV) connection is dropped by it. */
  reqAbort: boolean;
  /** The error-queue record of it (payload: the quoted TCP header on). */
  report: SockExtendedErr;
  v6: boolean;
}

/** between(seq, una, nxt) of Linux: una <= seq <= nxt in sequence space. */
function between(seq: number, una: number, nxt: number): boolean {
  return (seqDiff(nxt, una) >>> 0) >= (seqDiff(seq, una) >>> 0);
}

export function tcpIcmpError(ep: TcpEndpoint, r: TcpIcmp): void {
  const s = ep.state;
  if (s === TCPS.TIME_WAIT || s === TCPS.CLOSE || s === TCPS.LISTEN) return;
  if (s === TCPS.SYN_RECV && ep.listener) {
    // tcp_req_err: only an error about our SYN-ACK, and only some, drop the request.
    if (r.seq === ep.iss && r.reqAbort) {
      ep.listener.synQueue.delete(ep);
      ep.destroy();
    }
    return;
  }
  if (!between(r.seq, ep.sndUna, ep.sndMax)) return;
  if (r.pmtu !== null) { mtuReduced(ep, r.pmtu); return; }
  if (s === TCPS.SYN_SENT || s === TCPS.SYN_RECV) {
    // ip_icmp_error queues the report whatever IP_RECVERR says; ipv6_icmp_error only under it.
    if (!r.v6 || ep.recverr) ep.errQueue.push(r.report, ep.rcvQueued, ep.rcvBufSize);
    ep.reset(r.err);
    return;
  }
  if (!r.v6 && r.report.type === ICMP_DEST_UNREACH && (r.report.code === ICMP_NET_UNREACH || r.report.code === ICMP_HOST_UNREACH)) {
    ep.rtoRevert(r.seq);
  }
  if (ep.recverr) {
    ep.err = r.err;
    ep.owner?.notify(POLLERR);
  } else {
    ep.softErr = r.err;
  }
}

function mtuReduced(ep: TcpEndpoint, mtu: number): void {
  const min = ep.v6 ? MIN_PMTU_V6 : MIN_PMTU_V4;
  // A path MTU below the floor is taken as the floor, and the connection remembers that
  // its packets may still be too big.
  if (mtu < min && !ep.v6) ep.softErr = EMSGSIZE;
  const pmtu = Math.max(mtu, min);
  const mss = pmtu - (ep.v6 ? IPV6_HEADER : IPV4_HEADER) - TCP_HEADER;
  if (mss < ep.sndMss) ep.sndMss = mss;
}
