// Raw IP sockets of protocols other than ICMP (Linux net/ipv4/raw.c raw_sendmsg, raw_recvmsg;
// net/ipv6/raw.c): SOCK_RAW with CAP_NET_RAW (checked by create.ts). A send carries the
// caller's bytes as the payload of a packet of the socket's protocol, or, with IP_HDRINCL
// (always on for IPPROTO_RAW), the whole IPv4 packet, whose length, identifier, checksum and
// missing source the stack completes. Receives are copies of every packet of the protocol
// (../../tcpip/raw/endpoint.ts). The "port" getsockname shows is the protocol; there is never
// a peer to name (ENOTCONN), and shutdown after connect changes nothing a datagram sees.

import { messageResult, readMessage, writeMessage } from '../datagram_io';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EADDRNOTAVAIL, EAGAIN, EDESTADDRREQ, EINVAL, EMSGSIZE, ENOPROTOOPT, ENOTCONN, ENOTSUP as EOPNOTSUPP, ENOTTY,
} from '../../abi/linux/errno';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../../abi/linux/poll';
import { AF_INET, AF_UNSPEC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_OOB, MSG_PEEK, SHUT_RD, SHUT_RDWR, SIOCINQ, SIOCOUTQ, SOCK_RAW } from '../../abi/linux/socket';
import type { RecvResult, SendRequest, Socket } from '../socket';
import type { Deadline } from '../sock_wait';
import { isAny, type IPAddr } from '../../tcpip/addr';
import type { Stack } from '../../tcpip/stack';
import { RawEndpoint, fillChecksum6 } from '../../tcpip/raw/endpoint';
import { InetSocket } from './inet_socket';
import { IPPROTO_IP, IPPROTO_IPV6, intOf, ints } from './inet_opts';
import { SOCKADDR_IN_SIZE, buildInetAddr, familyOfRaw, parseInetAddr } from './sockaddr_in';
import { udpRecvCmsgs, udpSendCmsgs } from './inet_cmsg';

const IPPROTO_RAW = 255;
const IP_HDRINCL = 3;
const IPV6_CHECKSUM = 7;
const SOL_RAW = 255;
const IPV4_HDR = 20;
const RCV_SHUTDOWN = 1;

export class RawSocket extends InetSocket {
  readonly ep: RawEndpoint;

  protected get stackEp(): object { return this.ep; }
  private connected = false;
  private shutdownBits = 0;

  constructor(stack: Stack, flags: number, family: number, protocol: number, uid: number, gid: number) {
    super(stack, flags, family, SOCK_RAW, protocol, uid, gid);
    this.ep = new RawEndpoint(stack, this.v6family, protocol);
    this.ep.owner = this;
    // inet_create / inet6_create: IPPROTO_RAW sends whole packets.
    if (protocol === IPPROTO_RAW) this.inet.plain.set(`ip${IP_HDRINCL}`, 1);
  }

  get listening(): boolean { return false; }
  protected get bound(): boolean { return this.ep.local !== null; }
  takeError(): number { return 0; }

  private get hdrincl(): boolean { return (this.inet.plain.get(`ip${IP_HDRINCL}`) ?? 0) !== 0; }

  protected override optionsChanged(): void { this.ep.rcvBufSize = this.opts.rcvbuf; }

  bind(_t: Task, raw: Uint8Array): void {
    const a = parseInetAddr(raw, this.family, true);
    const addr = isAny(a.addr) ? null : a.addr;
    if (addr && !this.stack.isLocalAddress(addr) && !this.stack.isBroadcastOrMulticast(addr)) fail(EADDRNOTAVAIL);
    this.ep.local = addr;
  }

  getsockname(): Uint8Array { return buildInetAddr(this.family, this.ep.local, this.protocol); }
  getpeername(): Uint8Array { fail(ENOTCONN); }
  listen(): void { fail(EOPNOTSUPP); }
  accept(): Socket { fail(EOPNOTSUPP); }

  shutdown(_t: Task, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(EINVAL);
    this.shutdownBits |= how + 1;
    this.notify(POLLIN | POLLOUT);
    if (!this.connected) fail(ENOTCONN);
  }

  connect(_t: Task, raw: Uint8Array): number {
    if (familyOfRaw(raw) === AF_UNSPEC) {
      this.connected = false;
      this.ep.remote = null;
      return 0;
    }
    const dst = this.destination(parseInetAddr(raw, this.family));
    // ip4_datagram_connect: the route's source becomes the socket's address if it had none.
    this.ep.local ??= this.sourceFor(dst, this.ep.local).slice();
    this.ep.remote = dst.slice();
    this.connected = true;
    return 0;
  }

  sendmsg(_t: Task, req: SendRequest): number {
    if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
    let dst: IPAddr;
    if (req.addr && req.addr.length > 0) {
      // raw_sendmsg takes AF_UNSPEC as AF_INET (old programs); rawv6 wants a sockaddr_in6.
      const addr = !this.v6family && req.addr.length >= SOCKADDR_IN_SIZE && familyOfRaw(req.addr) === AF_UNSPEC
        ? Uint8Array.of(AF_INET, 0, ...req.addr.subarray(2)) : req.addr;
      dst = this.destination(parseInetAddr(addr, this.family));
    } else {
      if (!this.connected || !this.ep.remote) fail(EDESTADDRREQ);
      dst = this.ep.remote;
    }
    const data = req.data;
    if (data.length > 0xffff) fail(EMSGSIZE);
    // raw_sendmsg's ip_cmsg_send / rawv6's ip6_datagram_send_ctl: the same messages as UDP's.
    const c = req.control && req.control.length > 0 ? udpSendCmsgs(this.stack, req.control, dst) : null;
    const src = c?.src ?? this.sourceFor(dst, this.ep.local);
    if (this.hdrincl) {
      if (this.v6family) {
        // An IPv6 packet whole is at least its header; ours take none (rawv6_send_hdrinc's
        // caller: a short one is EINVAL).
        fail(EINVAL);
      }
      this.sendHeaderIncluded(data, src, dst);
    } else {
      const ipLen = this.stack.ipHeaderLen(this.v6family);
      const pkt = new Uint8Array(ipLen + data.length);
      pkt.set(data, ipLen);
      if (this.v6family && this.ep.checksumOffset >= 0) {
        if (this.ep.checksumOffset + 2 > data.length) fail(EINVAL);
        fillChecksum6(pkt.subarray(ipLen), src, dst, this.protocol, this.ep.checksumOffset);
      }
      this.stack.sendIP(pkt, src, dst, this.protocol, c?.ttl ?? this.ttlFor(dst), c?.tos ?? this.tosFor(dst));
    }
    this.stack.flush();
    return data.length;
  }

  /** raw_send_hdrinc: the caller's IPv4 header, with the length, identifier, checksum and a
   *  zero source filled in; it goes where the route to dst leads. */
  private sendHeaderIncluded(data: Uint8Array, src: IPAddr, dst: IPAddr): void {
    // Never fragmented: what the device cannot carry whole is refused first.
    const mtu = this.stack.routeOutput(dst)?.nic.mtu;
    if (mtu !== undefined && data.length > mtu) fail(EMSGSIZE);
    if (data.length < IPV4_HDR) fail(EINVAL);
    const pkt = data.slice();
    const ihl = (pkt[0] & 0xf) * 4;
    if (ihl > pkt.length || ihl < IPV4_HDR) fail(EINVAL);
    if (pkt.subarray(12, 16).every((b) => b === 0)) pkt.set(src, 12);
    pkt[2] = pkt.length >> 8;
    pkt[3] = pkt.length & 0xff;
    this.stack.completeIPv4Header(pkt, ihl);
    this.stack.sendPrebuilt(pkt, dst);
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    // No ICMP error reaches a raw socket's error queue here (raw_icmp_error is not modelled).
    if (flags & MSG_ERRQUEUE) fail(EAGAIN);
    if (flags & MSG_OOB) fail(EOPNOTSUPP);
    return this.recvFrom(t, max, flags, this.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  private recvFrom(t: Task, max: number, flags: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const d = this.ep.take((flags & MSG_PEEK) !== 0);
    if (!d) {
      if (dl.nonblocking) fail(EAGAIN);
      if (this.shutdownBits & RCV_SHUTDOWN) return { n: 0, data: new Uint8Array(0), from: null, rights: null, creds: null, flags: 0 };
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN, wake)).then(() => this.recvFrom(t, max, flags, dl));
    }
    const r = messageResult(d.data, buildInetAddr(this.family, d.from, 0), max, flags);
    // raw_recvmsg / rawv6_recvmsg: the same receive messages as a UDP socket's (ip_cmsg_recv,
    // ip6_datagram_recv_ctl), stamped as the packet is read.
    if (this.opts.tstamp.on || [...this.inet.plain.values()].some((v) => v !== 0)) {
      r.cmsgs = udpRecvCmsgs(this.opts, this.inet, this.v6family, d, this.opts.tstamp.on ? t.kernel.realtimeNs() : 0n);
    }
    return r;
  }

  override read(t: Task, dst: Uint8Array): number | Promise<number> { return readMessage(this, t, dst); }
  override write(t: Task, src: Uint8Array): number { return writeMessage(this, t, src); }

  override readiness(_mask: number): number {
    const readable = this.ep.queue.length > 0 || (this.shutdownBits & RCV_SHUTDOWN) !== 0;
    return (readable ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM | POLLWRBAND;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case SIOCINQ: t.mm.writeI32(arg, this.ep.queue[0]?.data.length ?? 0); return 0;
      case SIOCOUTQ: t.mm.writeI32(arg, 0); return 0;
      default: fail(ENOTTY);
    }
  }

  /** An IPv6 raw socket takes no IP-level options (ipv6_setsockopt passes SOL_IP on only for
   *  other types); IPV6_CHECKSUM is its own. */
  override getsockoptProto(t: Task, level: number, name: number, len: number): Uint8Array {
    if (this.v6family && level === IPPROTO_IP) fail(ENOPROTOOPT);
    if (this.v6family && (level === IPPROTO_IPV6 || level === SOL_RAW) && name === IPV6_CHECKSUM) return ints(this.ep.checksumOffset);
    return super.getsockoptProto(t, level, name, len);
  }

  override setsockoptProto(t: Task, level: number, name: number, val: Uint8Array): void {
    if (this.v6family && level === IPPROTO_IP) fail(ENOPROTOOPT);
    if (this.v6family && (level === IPPROTO_IPV6 || level === SOL_RAW) && name === IPV6_CHECKSUM) {
      if (val.length < 4) fail(EINVAL);
      const v = intOf(val);
      if (v > 0 && (v & 1)) fail(EINVAL);
      this.ep.checksumOffset = v < 0 ? -1 : v;
      return;
    }
    super.setsockoptProto(t, level, name, val);
  }

  protected override getsockoptTransport(level: number, _name: number): Uint8Array {
    fail(level === SOL_RAW || !this.v6family ? EOPNOTSUPP : ENOPROTOOPT);
  }

  protected override setsockoptTransport(level: number, _name: number, _val: Uint8Array): void {
    fail(level === SOL_RAW ? EOPNOTSUPP : ENOPROTOOPT);
  }

  override release(): void {
    this.mcast.dropAll();
    this.ep.close();
  }
}
