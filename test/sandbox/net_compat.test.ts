// Socket behaviour the gVisor syscall suites found different from Linux (issue 8's list):
// each fixture runs natively and in the sandbox over the sandbox's own TCP/IP stack (or its
// unix sockets) and must print the same.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[]): Promise<void> => {
    const native = await runNative(argv, { timeoutMs: 60_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox(argv, { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  };

  it('an AF_INET6 UDP socket connects and sends to an AF_INET sockaddr (v4-mapped); TCP takes only sockaddr_in6; bound to one family, the other is EAFNOSUPPORT or ENETUNREACH',
    () => same([fixture('inet_dualstack')]), 120_000);
  it('TCP send buffer: SO_SNDBUF doubled and grown after connect, a non-blocking write of 3x is partial, EAGAIN and no POLLOUT when full, POLLOUT after the peer drains',
    () => same([fixture('tcp_sndbuf')]), 120_000);
  it('close() of an fd another thread is blocked on: the call keeps its file (TCP read/write run to their timeouts, shutdown through a dup ends a read, UDP and pipe reads still get data)',
    () => same([fixture('close_blocked')]), 120_000);
  it('UDP control messages over the sandbox stack: IP_PKTINFO/RECVTTL/RECVTOS, SO_TIMESTAMP(NS), IPV6_RECVPKTINFO/HOPLIMIT/TCLASS received; IP_TTL/TOS/PKTINFO and the IPv6 twins sent; bad ones EINVAL',
    () => same([fixture('inet_cmsg')]), 120_000);
  it('UDP: SIOCGSTAMP(NS) ENOENT, then the last arrival kept under SO_TIMESTAMP; SO_RCVBUF bounds the queue; a v6 socket reading IPv4 gets v4-mapped IPV6_PKTINFO and IP-level messages',
    () => same([fixture('udp_stamp')]), 120_000);
  it('TCP_INQ and its control message, TCP_DEFER_ACCEPT (rounding; no connection offered before data or the deferral\'s end), TCP_LINGER2 (-1 resets an orphan in FIN_WAIT2), TCP_WINDOW_CLAMP bounds, shutdown of a connecting socket and in TIME_WAIT',
    () => same([fixture('tcp_opts')]), 120_000);
  it('SO_REUSEPORT spreads TCP connections and UDP datagrams among a group by the flow\'s hash; getsockopt at a foreign level is EOPNOTSUPP on v4, ENOPROTOOPT on v6',
    () => same([fixture('inet_reuseport')]), 120_000);
  it('socket filters: SO_ATTACH_FILTER drops or trims UDP datagrams (payload, SKF_NET_OFF, SKF_AD_OFF), holds TCP data back until SO_DETACH_FILTER; EINVAL/EFAULT/ENOENT/EPERM as Linux',
    () => same([fixture('sock_filter')]), 120_000);
  it('unix recvmsg with a NULL msg_control and msg_controllen > 0: the data, MSG_CTRUNC, no fd installed',
    () => same([fixture('unix_null_control')]), 120_000);
});
