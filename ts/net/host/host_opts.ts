// Which socket options a host socket passes to its host fd (gVisor hostinet's allowlist, in
// the same spirit): options that change only this socket's behaviour, whose values the host
// kernel checks itself, with the bytes the program gave. Left out, and so ENOPROTOOPT:
// anything needing a capability on the host (IP_TRANSPARENT, TCP_REPAIR, SO_MARK, raw-only
// options), loading kernel modules (TCP_ULP, TCP_CONGESTION), and socket-wide state the
// sentry keeps itself (SOL_SOCKET timeouts, credentials).

const IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41;

/** Per level: option -> true if it may be set (false: get only). */
const PASSED = new Map<number, Map<number, boolean>>([
  // TCP_NODELAY, MAXSEG, CORK, KEEPIDLE, KEEPINTVL, KEEPCNT, SYNCNT, LINGER2, DEFER_ACCEPT,
  // WINDOW_CLAMP, INFO (get), QUICKACK, THIN_LINEAR_TIMEOUTS, THIN_DUPACK, USER_TIMEOUT,
  // FASTOPEN, NOTSENT_LOWAT, SAVE_SYN, SAVED_SYN (get), FASTOPEN_CONNECT, INQ, TX_DELAY.
  [IPPROTO_TCP, new Map([[1, true], [2, true], [3, true], [4, true], [5, true], [6, true], [7, true], [8, true],
    [9, true], [10, true], [11, false], [12, true], [16, true], [17, true], [18, true], [23, true], [25, true],
    [27, true], [28, false], [30, true], [36, true], [37, true]])],
  // IP_TOS, TTL, OPTIONS, RECVOPTS, RETOPTS, PKTINFO, MTU_DISCOVER, RECVERR, RECVTTL,
  // RECVTOS, MTU (get), FREEBIND, RECVORIGDSTADDR, MINTTL, NODEFRAG, CHECKSUM,
  // BIND_ADDRESS_NO_PORT, RECVFRAGSIZE, RECVERR_RFC4884, MULTICAST_IF, MULTICAST_TTL,
  // MULTICAST_LOOP, ADD_MEMBERSHIP, DROP_MEMBERSHIP, MULTICAST_ALL, LOCAL_PORT_RANGE.
  [IPPROTO_IP, new Map([[1, true], [2, true], [4, true], [6, true], [7, true], [8, true], [10, true], [11, true],
    [12, true], [13, true], [14, false], [15, true], [20, true], [21, true], [22, true], [23, true], [24, true],
    [25, true], [26, true], [32, true], [33, true], [34, true], [35, true], [36, true], [49, true], [51, true]])],
  // IPV6_UNICAST_HOPS, MULTICAST_IF, MULTICAST_HOPS, MULTICAST_LOOP, ADD_MEMBERSHIP,
  // DROP_MEMBERSHIP, MTU_DISCOVER, MTU (get), RECVERR, V6ONLY, MULTICAST_ALL, RECVPKTINFO,
  // PKTINFO, RECVHOPLIMIT, HOPLIMIT (get), RECVHOPOPTS, RECVRTHDR, RECVDSTOPTS, RECVPATHMTU,
  // PATHMTU (get), DONTFRAG, RECVTCLASS, TCLASS, AUTOFLOWLABEL, ADDR_PREFERENCES,
  // MINHOPCOUNT, RECVORIGDSTADDR, RECVFRAGSIZE, FREEBIND.
  [IPPROTO_IPV6, new Map([[16, true], [17, true], [18, true], [19, true], [20, true], [21, true], [23, true],
    [24, false], [25, true], [26, true], [29, true], [49, true], [50, true], [51, true], [52, false], [53, true],
    [56, true], [58, true], [60, true], [61, false], [62, true], [66, true], [67, true], [70, true], [72, true],
    [73, true], [74, true], [77, true], [78, true]])],
]);

/** May the option be read (get) or set on the host fd? */
export function hostOptAllowed(level: number, name: number, set: boolean): boolean {
  const w = PASSED.get(level)?.get(name);
  return w !== undefined && (!set || w);
}

/** SOL_SOCKET options mirrored to the host fd as the program sets them: SO_REUSEADDR,
 *  SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK,
 *  SO_PRIORITY, SO_LINGER, SO_REUSEPORT, SO_RCVLOWAT, SO_TIMESTAMP(NS)_OLD/_NEW,
 *  SO_RXQ_OVFL. SO_SNDBUFFORCE/SO_RCVBUFFORCE (32/33) go as the plain ones: the host must
 *  not lift its own limits for the sandbox's root. */
const MIRRORED = new Set([2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 18, 29, 35, 63, 64, 40]);

/** The SOL_SOCKET option to set on the host for one the program set, or -1 for none. */
export function hostSolSocketName(name: number): number {
  if (name === 32) return 7;
  if (name === 33) return 8;
  return MIRRORED.has(name) ? name : -1;
}
