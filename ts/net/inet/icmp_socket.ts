// ICMP sockets (Linux net/ipv4/ping.c + net/ipv6/ping.c, net/ipv4/raw.c + net/ipv6/raw.c for
// IPPROTO_ICMP/ICMPV6): ping sockets (SOCK_DGRAM, for callers whose group is in
// net.ipv4.ping_group_range, else EACCES), which send echo requests under their own
// identifier and receive the matching replies; and raw ICMP sockets (SOCK_RAW, CAP_NET_RAW
// or EPERM), which send any ICMP message and receive a copy of every one that arrives
// (IPv4 with its IP header). The messages travel through the stack (ts/tcpip/icmp).

import { messageResult, readMessage, writeMessage } from '../datagram_io';
import { netCapable } from '../../kernel/ns/net_ns';
import type { Task } from '../../kernel/task';
import type { Kernel } from '../../kernel/kernel';
import { fail } from '../../kernel/syscall_error';
import {
  EACCES, EADDRINUSE, EADDRNOTAVAIL, EAGAIN, EDESTADDRREQ, EINVAL, EMSGSIZE, ENOPROTOOPT, ENOTCONN, ENOTSUP as EOPNOTSUPP,
  ENOTTY, EPERM,
} from '../../abi/linux/errno';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../../abi/linux/poll';
import { AF_UNSPEC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_OOB, MSG_PEEK, SIOCINQ, SIOCOUTQ, SOCK_RAW } from '../../abi/linux/socket';
import type { RecvResult, SendRequest, Socket } from '../socket';
import type { Deadline } from '../sock_wait';
import { isAny, type IPAddr } from '../../tcpip/addr';
import type { Stack } from '../../tcpip/stack';
import { ICMPV6_ECHO_REQUEST, ICMP_ECHO, IcmpEndpoint, identInUse } from '../../tcpip/icmp/endpoint';
import { InetSocket } from './inet_socket';
import { IPPROTO_IPV6, intOf, ints } from './inet_opts';
import { buildInetAddr, familyOfRaw, parseInetAddr } from './sockaddr_in';
import { checkDatagramPmtu } from './pmtu_opts';
import { recvErrQueue, syncRecverr } from './recverr';

export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
const CAP_NET_RAW = 13;
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const ICMP6_FILTER = 1;
const ICMP_HDR = 8;
const IPV6_CHECKSUM = 7;
const ICMPV6_CHECKSUM_OFFSET = 2;

/** net.ipv4.ping_group_range of a sandbox: systemd's default, every group may ping. */
const pingGroups = new WeakMap<Kernel, [number, number]>();
export function pingGroupRange(kernel: Kernel): [number, number] {
  let r = pingGroups.get(kernel);
  if (!r) pingGroups.set(kernel, (r = [0, 0x7fffffff]));
  return r;
}

/** ping_init_sock / inet_create's raw check. */
export function checkIcmpCreate(t: Task, type: number): void {
  if (type === SOCK_RAW) {
    if (!netCapable(t, CAP_NET_RAW)) fail(EPERM);
    return;
  }
  const [lo, hi] = pingGroupRange(t.kernel);
  const c = t.creds;
  const ok = (g: number): boolean => lo <= g && g <= hi;
  if (!ok(c.egid) && !c.groups.some(ok)) fail(EACCES);
}

export class IcmpSocket extends InetSocket {
  readonly ep: IcmpEndpoint;

  protected get stackEp(): object { return this.ep; }
  private connected = false;

  constructor(stack: Stack, flags: number, family: number, type: number, uid: number, gid: number) {
    const v6 = family === 10;
    super(stack, flags, family, type, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, uid, gid);
    this.ep = new IcmpEndpoint(stack, v6, type === SOCK_RAW);
    this.ep.owner = this;
  }

  private get raw(): boolean { return this.type === SOCK_RAW; }
  get listening(): boolean { return false; }
  protected get bound(): boolean { return this.ep.ident !== 0 || this.ep.local !== null; }
  takeError(): number {
    const e = this.ep.err;
    this.ep.err = 0;
    return e;
  }

  protected override optionsChanged(): void {
    this.ep.rcvBufSize = this.opts.rcvbuf;
    syncRecverr(this.ep.errQueue, this.inet);
  }

  bind(t: Task, raw: Uint8Array): void {
    const a = parseInetAddr(raw, this.family, true);
    if (a.addr.length === 16 && this.family === 2) fail(EINVAL);
    const addr = isAny(a.addr) ? null : a.addr;
    if (addr && !this.stack.isLocalAddress(addr)) fail(EADDRNOTAVAIL);
    if (this.raw) {
      this.ep.local = addr;
      return;
    }
    if (this.ep.ident !== 0) fail(EINVAL);
    if (a.port !== 0 && identInUse(this.stack, this.ep.v6, a.port)) fail(EADDRINUSE);
    this.ep.local = addr;
    this.ep.ident = a.port !== 0 ? a.port : this.freeIdent(t);
  }

  /** ping_get_port with no identifier asked: the first free one. */
  private freeIdent(_t: Task): number {
    for (let i = 1; i <= 0xffff; i++) if (!identInUse(this.stack, this.ep.v6, i)) return i;
    fail(EAGAIN);
  }

  private autobind(t: Task): void {
    if (!this.raw && this.ep.ident === 0) this.ep.ident = this.freeIdent(t);
  }

  /** A raw socket's "port" is its protocol (inet_create sets inet_num to it). */
  getsockname(): Uint8Array { return buildInetAddr(this.family, this.ep.local, this.raw ? this.protocol : this.ep.ident); }

  getpeername(): Uint8Array {
    if (!this.connected || !this.ep.remote) fail(ENOTCONN);
    return buildInetAddr(this.family, this.ep.remote, 0);
  }

  listen(): void { fail(EOPNOTSUPP); }
  accept(): Socket { fail(EOPNOTSUPP); }
  shutdown(): void { fail(EOPNOTSUPP); }

  connect(t: Task, raw: Uint8Array): number {
    if (familyOfRaw(raw) === AF_UNSPEC) {
      this.connected = false;
      this.ep.remote = null;
      return 0;
    }
    const a = parseInetAddr(raw, this.family);
    const dst = this.destination(a);
    const src = this.sourceFor(dst, this.ep.local);
    this.autobind(t);
    // ip4_datagram_connect / ip6_datagram_connect: the route's source becomes the socket's
    // address if it had none.
    this.ep.local ??= src.slice();
    this.ep.remote = dst.slice();
    this.connected = true;
    return 0;
  }

  sendmsg(t: Task, req: SendRequest): number {
    const data = req.data;
    if (data.length > 0xffff) fail(EMSGSIZE);
    if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
    // An ICMPv6 raw socket fills the checksum: the message must reach it (rawv6_push_pending_frames).
    if (this.raw && this.ep.v6 && data.length < ICMPV6_CHECKSUM_OFFSET + 2) fail(EINVAL);
    if (!this.raw) {
      // ping_common_sendmsg: a whole echo request header, of the right type.
      if (data.length < ICMP_HDR) fail(EINVAL);
      if (data[0] !== (this.ep.v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) || data[1] !== 0) fail(EINVAL);
    }
    let dst: IPAddr;
    if (req.addr && req.addr.length > 0) {
      dst = this.destination(parseInetAddr(req.addr, this.family));
    } else {
      if (!this.connected || !this.ep.remote) fail(EDESTADDRREQ);
      dst = this.ep.remote;
    }
    if (dst.length === 4 && dst[3] === 255 && this.opts.plainValue(6 /* SO_BROADCAST */) === 0) fail(EACCES);
    const src = this.sourceFor(dst, this.ep.local);
    // An echo header is as long as a UDP one: the same size rule. The report's port is the
    // flow's: none for IPv4 (inet_dport), the ICMPv6 type and code (fl6_icmp_type) for IPv6.
    checkDatagramPmtu(this.stack, this.inet, dst, dst.length === 16 ? (data[0] << 8) | data[1] : 0, data.length - ICMP_HDR, this.ep);
    // sock_alloc_send_skb: a pending error (an ICMP error report) fails the send first.
    const err = this.takeError();
    if (err) fail(err);
    this.autobind(t);
    this.ep.ttl = this.ttlFor(dst);
    this.ep.tos = this.tosFor(dst);
    this.ep.send(src, dst, data);
    this.stack.flush();
    return data.length;
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    if (flags & MSG_ERRQUEUE) {
      // Raw sockets' error reports (raw_icmp_error) are not modelled: their queue stays empty.
      if (this.raw) fail(EAGAIN);
      return recvErrQueue(this.ep.errQueue, this.family, max, (e) => { this.ep.err = e; this.notify(POLLERR); });
    }
    if (flags & MSG_OOB) fail(EOPNOTSUPP);
    return this.recvFrom(t, max, flags, this.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  private recvFrom(t: Task, max: number, flags: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const err = this.takeError();
    if (err) fail(err);
    const d = this.ep.take((flags & MSG_PEEK) !== 0);
    if (!d) {
      if (dl.nonblocking) fail(EAGAIN);
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN | POLLERR, wake)).then(() => this.recvFrom(t, max, flags, dl));
    }
    return messageResult(d.data, buildInetAddr(this.family, d.from, 0), max, flags);
  }

  override read(t: Task, dst: Uint8Array): number | Promise<number> { return readMessage(this, t, dst); }
  override write(t: Task, src: Uint8Array): number { return writeMessage(this, t, src); }

  override readiness(_mask: number): number {
    const err = this.ep.err || this.ep.errQueue.length > 0 ? POLLERR : 0;
    return err | (this.ep.queue.length > 0 ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM | POLLWRBAND;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case SIOCINQ: t.mm.writeI32(arg, this.ep.queue[0]?.data.length ?? 0); return 0;
      case SIOCOUTQ: t.mm.writeI32(arg, 0); return 0;
      default: fail(ENOTTY);
    }
  }

  /** IPV6_CHECKSUM of an ICMPv6 raw socket: always at the header's checksum, not settable
   *  (RFC 3542; do_rawv6_setsockopt). */
  override getsockoptProto(t: Task, level: number, name: number, len: number): Uint8Array {
    if (this.raw && this.ep.v6 && level === IPPROTO_IPV6 && name === IPV6_CHECKSUM) return ints(ICMPV6_CHECKSUM_OFFSET);
    return super.getsockoptProto(t, level, name, len);
  }

  override setsockoptProto(t: Task, level: number, name: number, val: Uint8Array): void {
    if (this.raw && this.ep.v6 && level === IPPROTO_IPV6 && name === IPV6_CHECKSUM) fail(EINVAL);
    super.setsockoptProto(t, level, name, val);
  }

  /** ICMP_FILTER (SOL_RAW) on IPv4 raw sockets, ICMP6_FILTER (IPPROTO_ICMPV6) on IPv6 ones. */
  protected override getsockoptTransport(level: number, name: number): Uint8Array {
    if (this.raw && !this.ep.v6 && level === SOL_RAW && name === ICMP_FILTER) return ints(this.ep.filter);
    if (this.raw && this.ep.v6 && level === IPPROTO_ICMPV6 && name === ICMP6_FILTER) {
      return new Uint8Array(this.ep.filter6.buffer.slice(0));
    }
    // ip_getsockopt: a level an IPv4 socket does not know is EOPNOTSUPP (ipv6's: ENOPROTOOPT).
    if ((level === SOL_RAW && this.raw) || !this.ep.v6) fail(EOPNOTSUPP);
    fail(ENOPROTOOPT);
  }

  protected override setsockoptTransport(level: number, name: number, val: Uint8Array): void {
    if (this.raw && !this.ep.v6 && level === SOL_RAW && name === ICMP_FILTER) {
      const b = new Uint8Array(4);
      b.set(val.subarray(0, 4));
      this.ep.filter = intOf(b);
      return;
    }
    if (this.raw && this.ep.v6 && level === IPPROTO_ICMPV6 && name === ICMP6_FILTER) {
      const b = new Uint8Array(32);
      b.set(val.subarray(0, 32));
      this.ep.filter6 = new Uint32Array(b.buffer);
      return;
    }
    if (level === SOL_RAW && this.raw) fail(EOPNOTSUPP);
    fail(ENOPROTOOPT);
  }

  override release(): void {
    this.mcast.dropAll();
    this.ep.close();
  }
}

