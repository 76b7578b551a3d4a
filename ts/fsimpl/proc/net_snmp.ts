// /proc/net/{snmp,snmp6,netstat,sockstat,sockstat6}: the stack's counters (ts/tcpip/mib.ts and
// Stack.stats) in Linux's layouts (snmp_seq_show, netstat_seq_show, sockstat_seq_show): a line
// of names and a line of values per group. Field lists are Linux 6.x's; a counter of an event
// the stack never has (syncookies, PAWS, MD5, fast open, forwarding) is 0.

import { stackOf } from '../../tcpip/stack';
import { mibOf } from '../../tcpip/mib';
import { TCPS } from '../../tcpip/tcp/states';
import { RTO_MAX_MS, RTO_MIN_MS } from '../../tcpip/tcp/rto';
import { unixTableOf } from '../../net/unix/names';
import { InetSocket } from '../../net/inet/inet_socket';
import { AF_INET6 } from '../../abi/linux/socket';
import { icmpEndpoints } from '../../tcpip/icmp/endpoint';

function group(name: string, fields: [string, number][]): string {
  return `${name}: ${fields.map(([k]) => k).join(' ')}\n${name}: ${fields.map(([, v]) => String(v)).join(' ')}\n`;
}


const TCP_EXT = `
  SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned OfoPruned OutOfWindowIcmps
  LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive PAWSEstab BeyondWindow TSEcrRejected PAWSOldAck
  PAWSTimewait DelayedACKs DelayedACKLocked DelayedACKLost ListenOverflows ListenDrops TCPHPHits TCPPureAcks
  TCPHPAcks TCPRenoRecovery TCPSackRecovery TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder
  TCPFullUndo TCPPartialUndo TCPDSACKUndo TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures
  TCPLossFailures TCPFastRetrans TCPSlowStartRetrans TCPTimeouts TCPLossProbes TCPLossProbeRecovery
  TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce TCPDSACKOldSent TCPDSACKOfoSent
  TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout
  TCPAbortOnLinger TCPAbortFailed TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld
  TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted
  TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop TCPDeferAcceptDrop
  IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail TCPRcvCoalesce
  TCPOFOQueue TCPOFODrop TCPOFOMerge TCPChallengeACK TCPSYNChallenge TCPFastOpenActive TCPFastOpenActiveFail
  TCPFastOpenPassive TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole
  TCPSpuriousRtxHostQueues BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv TCPToZeroWindowAdv
  TCPWantZeroWindowAdv TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect TCPHystartTrainCwnd
  TCPHystartDelayDetect TCPHystartDelayCwnd TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq
  TCPACKSkippedFinWait2 TCPACKSkippedTimeWait TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail
  TCPMTUPSuccess TCPDelivered TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig
  TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs TCPDSACKIgnoredDubious
  TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired TCPAOBad TCPAOKeyNotFound TCPAOGood
  TCPAODroppedIcmps`.trim().split(/\s+/);
const IP_EXT = `
  InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InMcastOctets
  OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts
  ReasmOverlaps`.trim().split(/\s+/);


export function procNetSnmp(kernel: object): string {
  const stack = stackOf(kernel);
  const st = stack.stats;
  const m = mibOf(stack);
  const out = stack.nics().reduce((n, nic) => n + nic.stats.txPackets, 0);
  let estab = 0;
  for (const ep of stack.tcpEndpoints()) if (ep.state === TCPS.ESTABLISHED || ep.state === TCPS.CLOSE_WAIT) estab++;
  const icmpOut = m.icmpOutMsgs;
  let s = group('Ip', [
    ['Forwarding', 2], ['DefaultTTL', 64], ['InReceives', st.ipIn], ['InHdrErrors', st.ipDropped], ['InAddrErrors', 0],
    ['ForwDatagrams', 0], ['InUnknownProtos', 0], ['InDiscards', 0], ['InDelivers', st.ipIn - st.ipDropped],
    ['OutRequests', out], ['OutDiscards', 0], ['OutNoRoutes', 0], ['ReasmTimeout', m.ipReasmTimeout],
    ['ReasmReqds', m.ipReasmReqds], ['ReasmOKs', m.ipReasmOKs], ['ReasmFails', m.ipReasmFails], ['FragOKs', m.ipFragOKs],
    ['FragFails', m.ipFragFails], ['FragCreates', m.ipFragCreates], ['OutTransmits', out],
  ]);
  s += group('Icmp', [
    ['InMsgs', st.icmpIn], ['InErrors', 0], ['InCsumErrors', 0], ['InDestUnreachs', m.icmpInDestUnreachs], ['InTimeExcds', 0],
    ['InParmProbs', 0], ['InSrcQuenchs', 0], ['InRedirects', 0], ['InEchos', m.icmpInEchos], ['InEchoReps', m.icmpInEchoReps],
    ['InTimestamps', 0], ['InTimestampReps', 0], ['InAddrMasks', 0], ['InAddrMaskReps', 0], ['OutMsgs', icmpOut],
    ['OutErrors', 0], ['OutRateLimitGlobal', 0], ['OutRateLimitHost', 0], ['OutDestUnreachs', m.icmpOutDestUnreachs],
    ['OutTimeExcds', m.icmpOutTimeExcds], ['OutParmProbs', 0], ['OutSrcQuenchs', 0], ['OutRedirects', 0], ['OutEchos', m.icmpOutEchos],
    ['OutEchoReps', m.icmpOutEchoReps], ['OutTimestamps', 0], ['OutTimestampReps', 0], ['OutAddrMasks', 0], ['OutAddrMaskReps', 0],
  ]);
  // IcmpMsg lists only the types seen (icmpmsg_put), and nothing at all before the first.
  const types: [string, number][] = ([
    ['InType0', m.icmpInEchoReps], ['InType3', m.icmpInDestUnreachs], ['InType8', m.icmpInEchos],
    ['OutType0', m.icmpOutEchoReps], ['OutType3', m.icmpOutDestUnreachs], ['OutType8', m.icmpOutEchos],
  ] as [string, number][]).filter(([, v]) => v > 0);
  if (types.length > 0) s += group('IcmpMsg', types);
  s += group('Tcp', [
    ['RtoAlgorithm', 1], ['RtoMin', RTO_MIN_MS], ['RtoMax', RTO_MAX_MS], ['MaxConn', -1], ['ActiveOpens', m.tcpActiveOpens],
    ['PassiveOpens', m.tcpPassiveOpens], ['AttemptFails', m.tcpAttemptFails], ['EstabResets', m.tcpEstabResets],
    ['CurrEstab', estab], ['InSegs', st.tcpIn], ['OutSegs', m.tcpOutSegs], ['RetransSegs', m.tcpRetransSegs],
    ['InErrs', m.tcpInErrs], ['OutRsts', m.tcpOutRsts], ['InCsumErrors', 0],
  ]);
  const udp = (inDg: number, noPorts: number, outDg: number, rcvbuf: number): [string, number][] => [
    ['InDatagrams', inDg], ['NoPorts', noPorts], ['InErrors', rcvbuf], ['OutDatagrams', outDg], ['RcvbufErrors', rcvbuf],
    ['SndbufErrors', 0], ['InCsumErrors', 0], ['IgnoredMulti', 0], ['MemErrors', 0],
  ];
  s += group('Udp', udp(m.udpInDatagrams, m.udpNoPorts, m.udpOutDatagrams, m.udpRcvbufErrors));
  s += group('UdpLite', udp(0, 0, 0, 0));
  return s;
}

export function procNetNetstat(kernel: object): string {
  const stack = stackOf(kernel);
  const m = mibOf(stack);
  const known: Record<string, number> = {
    DelayedACKs: m.delayedAcks, TCPRenoRecovery: m.tcpRenoRecovery, TCPSackRecovery: m.tcpSackRecovery,
    TCPFastRetrans: m.tcpFastRetrans, TCPTimeouts: m.tcpTimeouts, TCPAbortOnTimeout: m.tcpAbortOnTimeout,
    TCPOFOQueue: m.tcpOfoQueue, TCPKeepAlive: m.tcpKeepAliveTimeouts, TCPOrigDataSent: m.tcpOutSegs,
  };
  const sum = (f: (s: { rxBytes: number; txBytes: number }) => number): number => stack.nics().reduce((n, nic) => n + f(nic.stats), 0);
  const ipKnown: Record<string, number> = {
    InOctets: sum((s) => s.rxBytes), OutOctets: sum((s) => s.txBytes), InNoECTPkts: stack.stats.ipIn, ReasmOverlaps: m.ipReasmOverlaps,
  };
  return group('TcpExt', TCP_EXT.map((n) => [n, known[n] ?? 0])) + group('IpExt', IP_EXT.map((n) => [n, ipKnown[n] ?? 0]));
}

interface Counts { tcp4: number; tcp6: number; udp4: number; udp6: number; raw4: number; raw6: number; tw: number; orphan: number }

function counts(kernel: object): Counts {
  const stack = stackOf(kernel);
  const c: Counts = { tcp4: 0, tcp6: 0, udp4: 0, udp6: 0, raw4: 0, raw6: 0, tw: 0, orphan: 0 };
  for (const ep of stack.tcpEndpoints()) {
    if (ep.state === TCPS.TIME_WAIT) { c.tw++; continue; }
    if (ep.orphan) c.orphan++;
    const o = ep.owner;
    if (o instanceof InetSocket ? o.family === AF_INET6 : ep.v6) c.tcp6++;
    else c.tcp4++;
  }
  const seen = new Set<unknown>();
  for (const [, ep] of stack.udpPorts.entries()) {
    if (seen.has(ep)) continue;
    seen.add(ep);
    if (ep.owner instanceof InetSocket && ep.owner.family === AF_INET6) c.udp6++;
    else c.udp4++;
  }
  // Ping sockets are in no line (Linux counts ping_prot apart and shows it nowhere).
  for (const ep of icmpEndpoints(stack)) {
    if (!ep.raw) continue;
    if (ep.v6) c.raw6++;
    else c.raw4++;
  }
  return c;
}

export function procNetSockstat(kernel: object): string {
  const c = counts(kernel);
  const used = c.tcp4 + c.tcp6 + c.udp4 + c.udp6 + c.raw4 + c.raw6 + unixTableOf(kernel).live.size;
  return `sockets: used ${used}\nTCP: inuse ${c.tcp4} orphan ${c.orphan} tw ${c.tw} alloc ${c.tcp4 + c.tcp6 + c.tw} mem 0\n`
    + `UDP: inuse ${c.udp4} mem 0\nUDPLITE: inuse 0\nRAW: inuse ${c.raw4}\nFRAG: inuse 0 memory 0\n`;
}

export function procNetSockstat6(kernel: object): string {
  const c = counts(kernel);
  return `TCP6: inuse ${c.tcp6}\nUDP6: inuse ${c.udp6}\nUDPLITE6: inuse 0\nRAW6: inuse ${c.raw6}\nFRAG6: inuse 0 memory 0\n`;
}
