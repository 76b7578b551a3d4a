// struct tcp_info (include/uapi/linux/tcp.h, 232 bytes as of Linux 6.x): the fields this
// stack knows (state, congestion state, options, window scales, keep-alive probes, RTO and
// RTT, MSS, unacknowledged and SACKed segments, ssthresh and cwnd, windows, byte and segment
// counters); the rest stay zero.

import type { TcpEndpoint } from '../../tcpip/tcp/endpoint';
import { seqDiff } from '../../tcpip/tcp/seqnum';

export const TCP_INFO_SIZE = 232;
const TCPI_OPT_TIMESTAMPS = 1;
const TCPI_OPT_SACK = 2;
const TCPI_OPT_WSCALE = 4;

export function tcpInfo(ep: TcpEndpoint): Uint8Array {
  const b = new Uint8Array(TCP_INFO_SIZE);
  const v = new DataView(b.buffer);
  b[0] = ep.state;
  b[1] = ep.cc.state;
  b[2] = Math.min(ep.retransmits, 255);
  b[3] = Math.min(ep.keepalive.probesOut, 255);
  b[5] = (ep.wscaleOk ? TCPI_OPT_WSCALE : 0) | (ep.sackOk ? TCPI_OPT_SACK : 0)
    | (ep.ts.ok ? TCPI_OPT_TIMESTAMPS : 0);
  b[6] = (ep.sndWscale & 0xf) | ((ep.rcvWscale & 0xf) << 4);
  const mss = ep.sndMss;
  const inflight = Math.max(0, seqDiff(ep.sndNxt, ep.sndUna));
  v.setUint32(8, Math.round(ep.rtt.rto * 1000), true); // tcpi_rto, µs
  v.setUint32(12, 40_000, true); // tcpi_ato
  v.setUint32(16, mss, true); // tcpi_snd_mss
  v.setUint32(20, mss, true); // tcpi_rcv_mss
  v.setUint32(24, Math.ceil(inflight / Math.max(mss, 1)), true); // tcpi_unacked
  v.setUint32(28, Math.ceil(ep.sacked.bytes() / Math.max(mss, 1)), true); // tcpi_sacked
  v.setUint32(60, 65536, true); // tcpi_pmtu: the loopback MTU
  v.setUint32(64, ep.rcvBufSize, true); // tcpi_rcv_ssthresh
  v.setUint32(68, Math.round(ep.rtt.srtt * 1000), true); // tcpi_rtt
  v.setUint32(72, Math.round(ep.rtt.rttvar * 1000), true); // tcpi_rttvar
  v.setUint32(76, ep.cc.ssthresh, true); // tcpi_snd_ssthresh
  v.setUint32(80, ep.cc.cwnd, true); // tcpi_snd_cwnd
  v.setUint32(84, mss, true); // tcpi_advmss
  v.setUint32(88, 3, true); // tcpi_reordering
  v.setUint32(96, ep.rcvBufSize, true); // tcpi_rcv_space
  v.setUint32(100, ep.totalRetrans, true);
  v.setBigUint64(120, BigInt(ep.bytesAcked), true);
  v.setBigUint64(128, BigInt(ep.bytesReceived), true);
  v.setUint32(136, ep.segsOut, true);
  v.setUint32(140, ep.segsIn, true);
  v.setBigUint64(200, BigInt(ep.bytesAcked + Math.max(0, ep.sndQueued)), true); // tcpi_bytes_sent (approx.)
  v.setUint32(228, ep.sndWnd, true); // tcpi_snd_wnd
  return b;
}
