// AF_INET and AF_INET6 sockets (Linux net/ipv4/af_inet.c, net/ipv6/af_inet6.c; gVisor
// pkg/sentry/socket/netstack): ts/net/inet is the glue between the socket layer and the
// TCP/IP stack (ts/tcpip). This file holds what TCP and UDP sockets share: turning a bind
// address into a port reservation (EADDRNOTAVAIL, EACCES below 1024 without
// CAP_NET_BIND_SERVICE, EADDRINUSE), dual-stack addressing (an AF_INET6 socket talks IPv4
// to ::ffff:a.b.c.d unless IPV6_V6ONLY), the IP-level options, and the wait queue the
// endpoint's events feed. tcp_socket.ts and udp_socket.ts move the data.

import { netCapable } from '../../kernel/ns/net_ns';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL, ENOPROTOOPT, ENETUNREACH, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { AF_INET6, SOCK_STREAM, SO_BINDTODEVICE, SO_BINDTOIFINDEX } from '../../abi/linux/socket';
import { setBoundDev } from '../../tcpip/bound_dev';
import { WaitQueue } from '../../kernel/poll/wait_queue';
import type { ReadinessCallback } from '../../vfs/file_description';
import { Socket, type UCred } from '../socket';
import { SockOpts } from '../sockopt';
import { Deadline } from '../sock_wait';
import { V4_LOOPBACK, V6_LOOPBACK, isAny, isV4Mapped, unmap, type IPAddr } from '../../tcpip/addr';
import type { Binding } from '../../tcpip/ports';
import type { Stack } from '../../tcpip/stack';
import { IPPROTO_IP, IPPROTO_IPV6, InetOpts, getIpOpt, getIpv6Opt, setIpOpt, setIpv6Opt } from './inet_opts';
import { parseInetAddr, type InetAddr } from './sockaddr_in';
import { checkPmtuOpt, getPmtuOpt } from './pmtu_opts';
import { McastSock } from './mcast_opts';
import { isMulticast } from '../../tcpip/multicast';

const CAP_NET_BIND_SERVICE = 10;
/** Ports below this need CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start). */
const PROT_SOCK = 1024;

/** Where a packet goes and from where: addresses in the stack's form (4 or 16 bytes). */
export interface Flow { local: IPAddr; remote: IPAddr; port: number }

export abstract class InetSocket extends Socket {
  readonly opts = new SockOpts();
  readonly inet = new InetOpts();
  readonly queue = new WaitQueue();
  readonly mcast: McastSock;

  constructor(readonly stack: Stack, flags: number, family: number, type: number, protocol: number, uid: number, gid: number) {
    super(flags, family, type, protocol, uid, gid);
    this.mcast = new McastSock(stack, type === SOCK_STREAM);
  }

  get v6family(): boolean { return this.family === AF_INET6; }

  /** The stack endpoint the socket's SO_BINDTODEVICE applies to. */
  protected abstract get stackEp(): object;

  override solSocketSet(name: number, _val: Uint8Array): void {
    if (name === SO_BINDTODEVICE || name === SO_BINDTOIFINDEX) setBoundDev(this.stackEp, this.opts.boundDev);
  }

  /** ip_route_output with the socket's bound interface as oif: whether dst's route leaves by
   *  it (true when unbound). */
  routesByBoundDev(dst: IPAddr): boolean {
    const bd = this.opts.boundDev;
    return bd === 0 || this.stack.routeOutput(dst)?.nic.index === bd;
  }

  notify(mask: number): void { this.queue.notify(mask); }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void { return this.queue.subscribe(mask, cb); }

  peerCred(): UCred | null { return null; }

  rcvDeadline(dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : this.opts.rcvtimeo);
  }

  sndDeadline(dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : this.opts.sndtimeo);
  }

  /** TTL (or hop limit) for packets to dst. */
  ttlFor(dst: IPAddr): number { return dst.length === 4 ? this.inet.effectiveTtl : this.inet.effectiveHops; }
  tosFor(dst: IPAddr): number { return dst.length === 4 ? this.inet.tos : this.inet.tclass; }

  /** The binding a bind address asks for (inet_bind / inet6_bind checks). */
  protected bindingFor(t: Task, a: InetAddr, listening: () => boolean): Binding {
    let addr: IPAddr | null = a.addr;
    let v4 = !this.v6family;
    let v6 = this.v6family;
    if (this.v6family) {
      if (isV4Mapped(a.addr)) {
        if (this.inet.v6only) fail(EINVAL);
        addr = unmap(a.addr);
        v4 = true;
        v6 = false;
      } else if (isAny(a.addr)) {
        v4 = !this.inet.v6only;
      }
    }
    if (isAny(addr)) addr = null;
    else if (isMulticast(addr)) {
      // A group may be bound (to receive only what is sent to it); an IPv6 group of link
      // scope or narrower needs the interface, which a bind here cannot name.
      if (addr.length === 16 && (addr[1] & 0x0f) <= 2) fail(EINVAL);
    } else if (!this.stack.isLocalAddress(addr) && !(addr.length === 4 && this.stack.isBroadcastOrMulticast(addr))) fail(EADDRNOTAVAIL);
    if (a.port !== 0 && a.port < PROT_SOCK && !netCapable(t, CAP_NET_BIND_SERVICE)) fail(EACCES);
    return {
      v4, v6, addr, reuseAddr: this.opts.plainValue(2 /* SO_REUSEADDR */) !== 0,
      reusePort: this.opts.plainValue(15 /* SO_REUSEPORT */) !== 0, uid: t.creds.euid, listening, portLock: a.port !== 0,
    };
  }

  /** Parse a bind address (EINVAL / EAFNOSUPPORT as Linux). */
  protected parseBind(raw: Uint8Array): InetAddr { return parseInetAddr(raw, this.family, true); }

  /** Reserve the port in table for b; EADDRINUSE when taken. */
  protected reserve<T>(table: { reserve(port: number, b: Binding, owner: T): number }, port: number, b: Binding, owner: T): number {
    const p = table.reserve(port, b, owner);
    if (p < 0) fail(EADDRINUSE);
    return p;
  }

  /** A destination in the stack's form: a v4-mapped address becomes IPv4 (ENETUNREACH on a
   *  V6ONLY socket), the wildcard means this host (Linux connects 0.0.0.0 to loopback). */
  protected destination(a: InetAddr): IPAddr {
    let dst = a.addr;
    if (this.v6family && isV4Mapped(dst)) {
      if (this.inet.v6only) fail(ENETUNREACH);
      dst = unmap(dst);
    }
    if (isAny(dst)) dst = dst.length === 4 ? V4_LOOPBACK : V6_LOOPBACK;
    return dst;
  }

  /** The source for dst: the bound address if there is one of dst's family, else the route's.
   *  A socket bound to a v4-mapped address has no IPv6 source (ip6_dst_lookup_tail's
   *  EAFNOSUPPORT); one bound to an IPv6 address has no route to IPv4. */
  protected sourceFor(dst: IPAddr, bound: IPAddr | null): IPAddr {
    const src = this.stack.route(dst);
    if (!src) fail(ENETUNREACH);
    if (bound && bound.length === dst.length) return bound;
    if (bound) fail(bound.length === 4 ? EAFNOSUPPORT : ENETUNREACH);
    return src;
  }

  override getsockoptProto(t: Task, level: number, name: number, len: number, ptr = 0): Uint8Array {
    const mtu = getPmtuOpt(this, level, name);
    if (mtu) return mtu;
    const v6 = level === IPPROTO_IPV6 && this.v6family;
    const head = (level === IPPROTO_IP || v6) ? McastSock.msfilterHeader(v6, name) : 0;
    if (head > 0) {
      // The filter's group and interface come in the caller's buffer (ip_mc_msfget, ip_mc_gsfget).
      if (len < head) fail(EINVAL);
      return this.mcast.getMsfilter(v6, name, t.mm.copyIn(ptr, head));
    }
    if ((level === IPPROTO_IP || v6) && McastSock.owns(v6, name)) return this.mcast.get(v6, name);
    if (level === IPPROTO_IP) return getIpOpt(this.inet, name);
    if (level === IPPROTO_IPV6 && this.v6family) return getIpv6Opt(this.inet, name);
    return this.getsockoptTransport(level, name);
  }

  override setsockoptProto(_t: Task, level: number, name: number, val: Uint8Array): void {
    checkPmtuOpt(level, name, val);
    const v6 = level === IPPROTO_IPV6 && this.v6family;
    if ((level === IPPROTO_IP || v6) && McastSock.owns(v6, name)) { this.mcast.set(v6, name, val); return; }
    if (level === IPPROTO_IP) { setIpOpt(this.inet, name, val, this.type === SOCK_STREAM); this.optionsChanged(); return; }
    if (level === IPPROTO_IPV6 && this.v6family) { setIpv6Opt(this.inet, name, val, this.bound); this.optionsChanged(); return; }
    this.setsockoptTransport(level, name, val);
  }

  /** getsockopt at a level neither IP's nor the protocol's: ip_getsockopt answers EOPNOTSUPP
   *  on an AF_INET socket, ipv6_getsockopt ENOPROTOOPT (setsockopt is ENOPROTOOPT for both). */
  protected foreignLevel(): never { fail(this.v6family ? ENOPROTOOPT : EOPNOTSUPP); }

  protected abstract get bound(): boolean;
  protected getsockoptTransport(_level: number, _name: number): Uint8Array { fail(ENOPROTOOPT); }
  protected setsockoptTransport(_level: number, _name: number, _val: Uint8Array): void { fail(ENOPROTOOPT); }
  /** TTL/TOS changed: the endpoint copies them. */
  protected optionsChanged(): void {}
}
