// A UDP socket (Linux inet_dgram_ops + udp_prot: udp_sendmsg, udp_recvmsg, ip4_datagram_connect,
// datagram_poll): autobind on first send or connect, a connected socket's default destination
// and peer filter, connect(AF_UNSPEC) to forget it, EMSGSIZE past 64 KiB, MSG_PEEK/MSG_TRUNC,
// the ECONNREFUSED an ICMP port unreachable leaves for the next call, and IP_RECVERR's
// error queue (recverr.ts).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EACCES, EAFNOSUPPORT, EAGAIN, EDESTADDRREQ, EINVAL, EMSGSIZE, ENETUNREACH, ENOTCONN, ENOTSUP as EOPNOTSUPP, ENOTTY, EPIPE,
} from '../../abi/linux/errno';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  AF_INET, AF_INET6, AF_UNSPEC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, SHUT_RD, SHUT_RDWR, SIOCINQ, SIOCOUTQ,
  SOCK_DGRAM, SO_BROADCAST,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import type { RecvResult, SendRequest, Socket } from '../socket';
import type { Deadline } from '../sock_wait';
import type { IPAddr } from '../../tcpip/addr';
import type { Stack } from '../../tcpip/stack';
import { UdpEndpoint } from '../../tcpip/udp/endpoint';
import { InetSocket } from './inet_socket';
import { IPPROTO_UDP, intOf, ints } from './inet_opts';
import { SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE, buildInetAddr, familyOfRaw, parseInetAddr, type InetAddr } from './sockaddr_in';
import { isMulticast } from '../../tcpip/multicast';
import { checkDatagramPmtu } from './pmtu_opts';
import { recvErrQueue, syncRecverr } from './recverr';
import { timeBytes, udpRecvCmsgs, udpSendCmsgs } from './inet_cmsg';
import { ENOENT, ENOPROTOOPT } from '../../abi/linux/errno';

/** ioctl SIOCGSTAMP / SIOCGSTAMPNS: the last datagram's arrival as a timeval / timespec. */
const SIOCGSTAMP = 0x8906;
const SIOCGSTAMPNS = 0x8907;

const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;
const UDP_CORK = 1;
const UDP_NO_CHECK6_TX = 101;
const UDP_NO_CHECK6_RX = 102;
const UDP_SEGMENT = 103;
const UDP_GRO = 104;

export class UdpSocket extends InetSocket {
  readonly ep: UdpEndpoint;
  private shutdownBits = 0;
  /** sk_shutdown, for sock_diag. */
  get shutdownState(): number { return this.shutdownBits; }
  /** The source a connected socket sends from (getsockname shows it). */
  private connSrc: IPAddr | null = null;
  private readonly udpPlain = new Map<number, number>();
  /** Some receive control message is asked for (a cheap test before building them). */
  private recvCmsgsOn = false;
  /** sk_stamp: the arrival (realtime ns) of the last datagram read without SO_TIMESTAMP, for
   *  SIOCGSTAMP; -1n none yet, 0n read but not stamped (the ioctl stamps it then). */
  private lastStamp = -1n;
  /** SIOCGSTAMP was used: Linux's SOCK_TIMESTAMP, datagrams are stamped from then on. */
  private stampAsked = false;
  /** sock_write_iter has no zero-count shortcut: write(fd, buf, 0) sends an empty datagram. */
  override readonly writesEmpty = true;

  constructor(stack: Stack, flags: number, family: number, uid: number, gid: number) {
    super(stack, flags, family, SOCK_DGRAM, IPPROTO_UDP, uid, gid);
    this.ep = new UdpEndpoint(stack);
    this.ep.owner = this;
    this.ep.mcastAllows = (group, src, ifindex) => this.mcast.allows(group, src, ifindex);
    this.ep.filter = this.opts.filter;
  }

  get listening(): boolean { return false; }
  protected get bound(): boolean { return this.ep.lport !== 0; }

  takeError(): number {
    const e = this.ep.err;
    this.ep.err = 0;
    return e;
  }

  protected override optionsChanged(): void {
    this.ep.rcvBufSize = this.opts.rcvbuf;
    syncRecverr(this.ep.errQueue, this.inet);
    this.recvCmsgsOn = this.opts.tstamp.on || [...this.inet.plain.values()].some((v) => v !== 0);
    this.ep.stamping = this.opts.tstamp.on || this.stampAsked;
  }

  /** A SOL_SOCKET option changed: SO_RCVBUF bounds the queue from now on, SO_TIMESTAMP(NS)
   *  start or stop stamping. */
  override solSocketSet(name: number, val: Uint8Array): void {
    super.solSocketSet(name, val);
    this.optionsChanged();
  }

  protected get stackEp(): object { return this.ep; }

  bind(t: Task, raw: Uint8Array): void {
    const a = this.parseBind(raw);
    if (this.ep.lport !== 0) fail(EINVAL);
    const b = this.bindingFor(t, a, () => false);
    this.ep.lport = this.reserve(this.stack.udpPorts, a.port, b, this.ep);
    this.ep.binding = b;
    this.ep.local = b.addr;
  }

  /** inet_autobind: an ephemeral port for any address of our family. */
  private autobind(t: Task): void {
    if (this.ep.lport !== 0) return;
    // A bound address outlives a disconnect that gave the port back: the new port is on it.
    this.bind(t, buildInetAddr(this.family, this.ep.local, 0));
  }

  getsockname(): Uint8Array { return buildInetAddr(this.family, this.connSrc ?? this.ep.local, this.ep.lport); }

  getpeername(): Uint8Array {
    // inet_getname: connected to port 0 (connect to any address, or to port 0) is no peer.
    if (this.ep.remote === null || this.ep.rport === 0) fail(ENOTCONN);
    return buildInetAddr(this.family, this.ep.remote, this.ep.rport);
  }

  listen(_t: Task, _backlog: number): void { fail(EOPNOTSUPP); }
  accept(_t: Task, _flags: number): Socket { fail(EOPNOTSUPP); }

  connect(t: Task, raw: Uint8Array): number {
    if (raw.length < 2) fail(EINVAL);
    if (familyOfRaw(raw) === AF_UNSPEC) {
      this.disconnect();
      return 0;
    }
    // __ip6_datagram_connect: an AF_INET6 socket connects to an AF_INET sockaddr as to its
    // v4-mapped twin (glibc's getaddrinfo sorts v4 answers this way on a v6 socket).
    let a: InetAddr;
    if (this.v6family && familyOfRaw(raw) === AF_INET) {
      if (this.inet.v6only) fail(EAFNOSUPPORT);
      a = parseInetAddr(raw, AF_INET);
    } else {
      a = parseInetAddr(raw, this.family);
    }
    const dst = this.destination(a);
    const src = this.sourceFor(dst, this.ep.local);
    this.checkBroadcast(dst);
    this.autobind(t);
    this.ep.remote = dst.slice();
    this.ep.rport = a.port;
    this.ep.err = 0;
    this.connSrc = this.ep.local ?? src;
    this.notify(POLLOUT);
    return 0;
  }

  /** __udp_disconnect: forget the peer, and give back a port the socket did not bind itself
   *  (autobind, or bind to port 0); an address it bound stays. */
  private disconnect(): void {
    this.ep.remote = null;
    this.ep.rport = 0;
    this.connSrc = null;
    const b = this.ep.binding;
    if (b && !b.portLock) {
      this.stack.udpPorts.release(this.ep.lport, b);
      this.ep.binding = null;
      this.ep.lport = 0;
    }
  }

  /** msg_name as udp_sendmsg and udpv6_sendmsg read it (null: none, use the peer). An AF_INET6
   *  socket sends to an AF_INET sockaddr over IPv4 (ENETUNREACH if V6ONLY) and takes AF_UNSPEC
   *  as no address; an AF_INET one reads AF_UNSPEC as AF_INET. */
  private sendAddr(raw: Uint8Array): InetAddr | null {
    const fam = familyOfRaw(raw);
    if (!this.v6family) {
      if (raw.length < SOCKADDR_IN_SIZE) fail(EINVAL);
      if (fam !== AF_INET && fam !== AF_UNSPEC) fail(EAFNOSUPPORT);
      return { addr: raw.slice(4, 8), port: (raw[2] << 8) | raw[3] };
    }
    if (raw.length < 2) fail(EINVAL);
    switch (fam) {
      case AF_INET6: return parseInetAddr(raw, AF_INET6);
      case AF_UNSPEC: return null;
      case AF_INET:
        if (this.inet.v6only) fail(ENETUNREACH);
        return parseInetAddr(raw, AF_INET);
      default: fail(EINVAL);
    }
  }

  /** ip_route_output's RTCF_BROADCAST check: a broadcast destination needs SO_BROADCAST. A
   *  connected socket keeps the route it was allowed (send without an address is not checked). */
  private checkBroadcast(dst: IPAddr): void {
    if (dst.length !== 4 || !this.stack.isBroadcastOrMulticast(dst) || (dst[0] >= 224 && dst[0] <= 239)) return;
    if (this.opts.plainValue(SO_BROADCAST) === 0) fail(EACCES);
  }

  shutdown(_t: Task, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(EINVAL);
    // inet_shutdown: an unconnected socket is shut down all the same, then told ENOTCONN.
    this.shutdownBits |= how + 1;
    this.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    if (this.ep.remote === null) fail(ENOTCONN);
  }

  sendmsg(t: Task, req: SendRequest): number {
    if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
    let dst: IPAddr;
    let port: number;
    let scopeId = 0;
    const a = req.addr && req.addr.length > 0 ? this.sendAddr(req.addr) : null;
    if (a) {
      dst = this.destination(a);
      port = a.port;
      if (port === 0) fail(EINVAL);
      this.checkBroadcast(dst);
      if (dst.length === 16 && req.addr && req.addr.length >= SOCKADDR_IN6_SIZE) scopeId = new DataView(req.addr.buffer, req.addr.byteOffset).getUint32(24, true);
    } else {
      if (this.ep.remote === null) fail(EDESTADDRREQ);
      dst = this.ep.remote;
      port = this.ep.rport;
    }
    if (this.shutdownBits & SEND_SHUTDOWN) {
      if (!(req.flags & MSG_NOSIGNAL)) sendSignalToThread(t, userSigInfo(t, SIGPIPE));
      fail(EPIPE);
    }
    if (req.data.length > this.stack.maxDatagram(dst.length === 16)) fail(EMSGSIZE);
    const c = req.control && req.control.length > 0 ? udpSendCmsgs(this.stack, req.control, dst) : null;
    checkDatagramPmtu(this.stack, this.inet, dst, port, req.data.length, this.ep, c?.dontfrag);
    const group = isMulticast(dst) ? this.mcast.route(dst, this.ep.local, scopeId) : null;
    const src = c?.src ?? group?.src ?? this.sourceFor(dst, this.ep.local);
    // sock_alloc_send_skb reports a pending error (an earlier port unreachable) first.
    const err = this.takeError();
    if (err) fail(err);
    this.autobind(t);
    this.ep.ttl = c?.ttl ?? (group ? group.ttl : this.ttlFor(dst));
    this.ep.tos = c?.tos ?? this.tosFor(dst);
    if (group) this.ep.sendMulticast({ ...group, src, ttl: this.ep.ttl }, dst, port, req.data);
    // Bound to an interface the route does not leave by, the datagram goes out that interface
    // to no one who answers here.
    else if (this.routesByBoundDev(dst)) this.ep.send(src, dst, port, req.data);
    this.stack.flush();
    return req.data.length;
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    if (flags & MSG_ERRQUEUE) return recvErrQueue(this.ep.errQueue, this.family, max, (e) => { this.ep.err = e; this.notify(POLLERR); });
    if (flags & MSG_OOB) fail(EINVAL);
    return this.recvFrom(t, max, flags, this.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  private recvFrom(t: Task, max: number, flags: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const err = this.takeError();
    if (err) fail(err);
    const d = this.ep.take((flags & MSG_PEEK) !== 0);
    if (!d) {
      // __skb_recv_datagram: a non-blocking call is EAGAIN before the shut-down check.
      if (dl.nonblocking) fail(EAGAIN);
      if (this.shutdownBits & RCV_SHUTDOWN) return { n: 0, data: new Uint8Array(0), from: null, rights: null, creds: null, flags: 0 };
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN, wake)).then(() => this.recvFrom(t, max, flags, dl));
    }
    const n = Math.min(max, d.data.length);
    const truncated = d.data.length > max;
    // sock_recv_timestamp: with SO_TIMESTAMP the arrival goes in a control message, else it
    // is what SIOCGSTAMP reads next.
    // A datagram that came before stamping began is stamped as it is read (__net_timestamp).
    const at = d.stamp !== 0n ? d.stamp + (t.kernel.realtimeNs() - process.hrtime.bigint())
      : this.opts.tstamp.on ? t.kernel.realtimeNs() : 0n;
    if (!this.opts.tstamp.on) this.lastStamp = at;
    return {
      n: flags & MSG_TRUNC ? d.data.length : n, data: d.data.subarray(0, n), from: buildInetAddr(this.family, d.from, d.port),
      rights: null, creds: null, flags: truncated ? MSG_TRUNC : 0,
      cmsgs: this.recvCmsgsOn ? udpRecvCmsgs(this.opts, this.inet, this.v6family, d, at) : undefined,
    };
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    const fin = (r: RecvResult): number => { dst.set(r.data.subarray(0, Math.min(r.data.length, dst.length))); return Math.min(r.n, dst.length); };
    const r = this.recvmsg(t, dst.length, 0);
    return r instanceof Promise ? r.then(fin) : fin(r);
  }

  override write(t: Task, src: Uint8Array, _offset: number): number {
    return this.sendmsg(t, { data: src.slice(), addr: null, rights: null, creds: null, flags: 0 });
  }

  override readiness(_mask: number): number {
    let m = 0;
    if (this.ep.err || this.ep.errQueue.length > 0) m |= POLLERR;
    if (this.shutdownBits & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shutdownBits === (RCV_SHUTDOWN | SEND_SHUTDOWN)) m |= POLLHUP;
    if (this.ep.queue.length > 0) m |= POLLIN | POLLRDNORM;
    m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case SIOCINQ:
        t.mm.writeI32(arg, this.ep.queue[0]?.data.length ?? 0);
        return 0;
      case SIOCOUTQ:
        t.mm.writeI32(arg, 0);
        return 0;
      case SIOCGSTAMP: case SIOCGSTAMPNS: {
        // sock_gettstamp: ENOENT before any datagram was read; one read unstamped gets now.
        this.stampAsked = true;
        this.ep.stamping = true;
        if (this.lastStamp < 0n) fail(ENOENT);
        if (this.lastStamp === 0n) this.lastStamp = t.kernel.realtimeNs();
        t.mm.copyOut(arg, timeBytes(this.lastStamp, cmd === SIOCGSTAMPNS));
        return 0;
      }
      default:
        fail(ENOTTY);
    }
  }

  protected override getsockoptTransport(level: number, name: number): Uint8Array {
    if (level !== IPPROTO_UDP) this.foreignLevel();
    if (![UDP_CORK, UDP_NO_CHECK6_TX, UDP_NO_CHECK6_RX, UDP_SEGMENT, UDP_GRO].includes(name)) fail(ENOPROTOOPT);
    return ints(this.udpPlain.get(name) ?? 0);
  }

  protected override setsockoptTransport(level: number, name: number, val: Uint8Array): void {
    if (level !== IPPROTO_UDP || ![UDP_CORK, UDP_NO_CHECK6_TX, UDP_NO_CHECK6_RX, UDP_SEGMENT, UDP_GRO].includes(name)) fail(ENOPROTOOPT);
    this.udpPlain.set(name, intOf(val));
  }

  override sndbufChanged(): void { this.notify(POLLOUT); }

  override release(): void {
    this.mcast.dropAll();
    if (this.ep.binding) this.stack.udpPorts.release(this.ep.lport, this.ep.binding);
    this.ep.binding = null;
    this.ep.owner = null;
    this.ep.queue.length = 0;
    this.ep.errQueue.clear();
  }
}
