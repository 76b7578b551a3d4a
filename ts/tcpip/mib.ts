// The stack's SNMP counters (Linux include/uapi/linux/snmp.h, RFC 4022 / RFC 4113 / RFC 2011
// MIBs) that /proc/net/snmp and /proc/net/netstat show. Endpoints and the stack count into
// the one Mib of their stack; only events the stack really has are counted, so a counter for
// something it never does (syncookies, forwarding) stays 0 as on a host that never saw one.

import { perStack } from './per_stack';

export class Mib {
  // Ip: (fragments: ../frag/), and Ip6's reassembly and fragmentation.
  ipReasmTimeout = 0;
  ipReasmReqds = 0;
  ipReasmOKs = 0;
  ipReasmFails = 0;
  ipReasmOverlaps = 0;
  ipFragOKs = 0;
  ipFragFails = 0;
  ipFragCreates = 0;
  ip6ReasmTimeout = 0;
  ip6ReasmReqds = 0;
  ip6ReasmOKs = 0;
  ip6ReasmFails = 0;
  ip6FragOKs = 0;
  ip6FragCreates = 0;
  ip6InHdrErrors = 0;
  // Tcp:
  tcpActiveOpens = 0;
  tcpPassiveOpens = 0;
  tcpAttemptFails = 0;
  tcpEstabResets = 0;
  tcpOutSegs = 0;
  tcpRetransSegs = 0;
  tcpInErrs = 0;
  tcpOutRsts = 0;
  // TcpExt:
  tcpFastRetrans = 0;
  tcpTimeouts = 0;
  tcpSackRecovery = 0;
  tcpRenoRecovery = 0;
  tcpKeepAliveTimeouts = 0;
  tcpOfoQueue = 0;
  tcpSackBlocksOut = 0;
  tcpAbortOnTimeout = 0;
  delayedAcks = 0;
  // Udp:
  udpInDatagrams = 0;
  udpOutDatagrams = 0;
  udpNoPorts = 0;
  udpInErrors = 0;
  udpRcvbufErrors = 0;
  // Icmp:
  icmpOutMsgs = 0;
  icmpInDestUnreachs = 0;
  icmpOutDestUnreachs = 0;
  icmpOutTimeExcds = 0;
  icmpInEchos = 0;
  icmpInEchoReps = 0;
  icmpOutEchos = 0;
  icmpOutEchoReps = 0;
  icmp6InMsgs = 0;
  icmp6OutMsgs = 0;
}

export const mibOf = perStack(() => new Mib());
