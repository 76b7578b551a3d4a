// --network=host (issue 8): the program's inet sockets are host sockets the sentry made. The
// fixtures run natively and in the sandbox with --network=host on the host's loopback and must
// print the same: ancillary data both ways and the errnos of malformed control messages
// (inet_cmsg.c), real port-unreachables through IP_RECVERR / MSG_ERRQUEUE (icmp_err.c udp),
// urgent data with SIOCATMARK, POLLPRI and SIGURG to the F_SETOWN owner (tcp_urgent.c), an
// option turned off reaching the host (udp_bcast.c), TCP echo and shutdown (inet_tcp.c). Every wait in them (poll, epoll, accept,
// connect, recv) is woken by the addon's epoll thread, never by polling.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[]): Promise<void> => {
    const n = await runNative(argv, { timeoutMs: 60_000 });
    expect(n.code, describeResult(n)).toBe(0);
    const r = await runSandbox(argv, { platform, timeoutMs: 90_000, extraArgs: ['--network=host'] });
    expect(r.stdout, describeResult(r)).toBe(n.stdout);
    expect(r.code, describeResult(r)).toBe(n.code);
  };

  it('ancillary data: IP_PKTINFO/RECVTTL/RECVTOS, SO_TIMESTAMP(NS), IPV6_RECVPKTINFO/HOPLIMIT/TCLASS; IP_TTL/TOS/PKTINFO and IPv6 twins sent; MSG_CTRUNC; bad control messages EINVAL; SCM_RIGHTS ignored on inet; SIOCINQ/SIOCOUTQ',
    () => same([fixture('inet_cmsg')]), 120_000);
  it('UDP port unreachable through the host: ECONNREFUSED, IP_RECVERR pending error, POLLERR, MSG_ERRQUEUE records v4 and v6',
    () => same([fixture('icmp_err'), 'udp']), 120_000);
  it('urgent data: MSG_OOB, SIOCATMARK, POLLPRI, SO_OOBINLINE, SIGURG to the owner (v4 and v6)',
    () => same([fixture('tcp_urgent')]), 120_000);
  it('SO_BROADCAST set and cleared again reaches the host socket', () => same([fixture('udp_bcast')]), 120_000);
  it('a read whose buffer faults part-way leaves what it could not hold queued on the host socket (read, recv, readv, recvmsg): the stream arrives whole',
    () => same([fixture('tcp_fault_keep')]), 120_000);
  it('TCP through host sockets: a checksummed 16 MiB echo (a stream read goes straight into the read buffer), half-close, SO_LINGER 0, v4 and v6',
    () => same([fixture('inet_tcp'), '16']), 180_000);
});
