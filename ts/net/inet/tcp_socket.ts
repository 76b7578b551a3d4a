// A TCP socket (Linux inet_stream_ops + tcp_prot: inet_stream_connect, inet_accept,
// tcp_sendmsg, tcp_recvmsg, tcp_poll, tcp_ioctl, do_tcp_setsockopt): the socket-side
// states (unconnected, connecting, connected), blocking and non-blocking connect (EINPROGRESS,
// then writability and SO_ERROR), accept from the endpoint's queue, and moving data between
// the application and the endpoint's queues with Linux's errors (EPIPE with SIGPIPE, a reset
// reported once as ECONNRESET, ENOTCONN).

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import {
  EHOSTUNREACH, EADDRNOTAVAIL, EAGAIN, EALREADY, EFAULT, ECONNABORTED, ECONNRESET, EINPROGRESS, EINVAL, EISCONN, ENOPROTOOPT, EPERM, ENOTCONN, ENOTSUP as EOPNOTSUPP,
  ENOTTY, EPIPE, ENETUNREACH,
} from '../../abi/linux/errno';
import { setBoundDev } from '../../tcpip/bound_dev';
import { netSysctlsOf } from '../../tcpip/sysctl';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  AF_UNSPEC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SIOCINQ,
  SIOCOUTQ, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_OOBINLINE,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import type { Socket, RecvResult, SendRequest } from '../socket';
import type { Cmsg } from '../control';
import type { Deadline } from '../sock_wait';
import type { Stack } from '../../tcpip/stack';
import { AUTO_BUF, RCV_SHUTDOWN, SEND_SHUTDOWN, TcpEndpoint } from '../../tcpip/tcp/endpoint';
import { TCPS } from '../../tcpip/tcp/states';
import { TCP_CA_NAME_MAX, ccAllowed, ccNameOf } from '../../tcpip/tcp/cc_registry';
import { netCapable } from '../../kernel/ns/net_ns';
import { CAP_NET_ADMIN } from '../netlink/netlink_socket';
import { seqAdd } from '../../tcpip/tcp/seqnum';
import { InetSocket } from './inet_socket';
import { IPPROTO_TCP, intOf, ints } from './inet_opts';
import { buildInetAddr, familyOfRaw, parseInetAddr } from './sockaddr_in';
import { tcpInfo } from './tcp_info';
import { IPV6_RECVERR, IP_RECVERR, recvErrQueue } from './recverr';
import { timeBytes, timestampType } from './inet_cmsg';
import type { Kernel } from '../../kernel/kernel';
import { sendSigurg } from '../../kernel/fasync';
import type { IOVec } from '../../syscalls/linux/user_io';
import {
  bufferSink, bufferSource, copySink, discardSink, userSink, userSource, type RecvSink, type SendSource,
} from './stream_copy';

const EMPTY = new Uint8Array(0);

/** ioctl SIOCATMARK: whether the next byte read is the urgent mark. */
const SIOCATMARK = 0x8905;

const TCP_NODELAY = 1;
const TCP_MAXSEG = 2;
const TCP_CORK = 3;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
const TCP_SYNCNT = 7;
const TCP_LINGER2 = 8;
const TCP_DEFER_ACCEPT = 9;
const TCP_WINDOW_CLAMP = 10;
const TCP_INFO = 11;
const TCP_QUICKACK = 12;
const TCP_CONGESTION = 13;
const TCP_USER_TIMEOUT = 18;
const TCP_FASTOPEN = 23;
const TCP_NOTSENT_LOWAT = 25;
const TCP_INQ = 36;
/** SOCK_MIN_RCVBUF / 2: the smallest TCP_WINDOW_CLAMP (tcp_set_window_clamp). */
const MIN_WINDOW_CLAMP = 1152;
/** TCP_FIN_TIMEOUT_MAX in seconds: TCP_LINGER2's ceiling. */
const TCP_FIN_TIMEOUT_MAX = 120;
/** net.ipv4.tcp_fin_timeout: what TCP_LINGER2 0 means. */
const TCP_FIN_TIMEOUT = 60;
/** TCP_TIMEOUT_INIT and TCP_RTO_MAX in seconds, for TCP_DEFER_ACCEPT's rounding. */
const DEFER_TIMEOUT_INIT = 1, DEFER_RTO_MAX = 120;
const TCP_MSS_DEFAULT = 536;
/** Linux's initial SO_SNDBUF / SO_RCVBUF of a TCP socket (tcp_wmem[1], tcp_rmem[1]). */
const TCP_WMEM_DEFAULT = 16384;
const TCP_RMEM_DEFAULT = 131072;

/** Stored TCP options with their defaults (the keep-alive ones drive the endpoint's probes). */
const TCP_PLAIN: Record<number, number> = {
  [TCP_KEEPIDLE]: 7200, [TCP_KEEPINTVL]: 75, [TCP_KEEPCNT]: 9, [TCP_SYNCNT]: 6, [TCP_LINGER2]: 60,
  [TCP_DEFER_ACCEPT]: 0, [TCP_WINDOW_CLAMP]: 0, [TCP_QUICKACK]: 1, [TCP_USER_TIMEOUT]: 0, [TCP_FASTOPEN]: 0,
  [TCP_NOTSENT_LOWAT]: -1, [TCP_INQ]: 0,
};

/** secs_to_retrans: TCP_DEFER_ACCEPT's seconds as the SYN-ACK retransmissions that cover them. */
function secsToRetrans(secs: number): number {
  if (secs <= 0) return 0;
  let timeout = DEFER_TIMEOUT_INIT, period = timeout, res = 1;
  while (secs > period && res < 255) {
    res++;
    timeout = Math.min(timeout * 2, DEFER_RTO_MAX);
    period += timeout;
  }
  return res;
}

/** retrans_to_secs: what TCP_DEFER_ACCEPT reads back. */
function retransToSecs(retrans: number): number {
  if (retrans <= 0) return 0;
  let timeout = DEFER_TIMEOUT_INIT, period = timeout;
  while (--retrans > 0) {
    timeout = Math.min(timeout * 2, DEFER_RTO_MAX);
    period += timeout;
  }
  return period;
}

type SockState = 'unconnected' | 'connecting' | 'connected';

export class TcpSocket extends InetSocket {
  ep: TcpEndpoint;

  protected get stackEp(): object { return this.ep; }
  sockState: SockState = 'unconnected';
  private readonly tcpPlain = new Map<number, number>();
  /** process.hrtime of the last data arrival while SO_TIMESTAMP was on (0n: none). */
  private rcvStamp = 0n;

  constructor(stack: Stack, flags: number, family: number, uid: number, gid: number, ep?: TcpEndpoint) {
    super(stack, flags, family, SOCK_STREAM, IPPROTO_TCP, uid, gid);
    this.opts.sndbuf = TCP_WMEM_DEFAULT;
    this.opts.rcvbuf = TCP_RMEM_DEFAULT;
    this.ep = ep ?? new TcpEndpoint(stack, this.v6family);
    this.ep.owner = this;
    this.ep.filter = this.opts.filter;
    this.hookUrgent();
    if (ep) this.sockState = 'connected';
  }

  /** The kernel whose tasks own this socket (SIGURG goes to the F_SETOWN owner there). */
  kernel: Kernel | null = null;

  private hookUrgent(): void {
    this.ep.urg.isInline = () => this.opts.plainValue(SO_OOBINLINE) !== 0;
    this.ep.urg.sigurg = () => { if (this.kernel) sendSigurg(this.kernel, this); };
  }

  get listening(): boolean { return this.ep.state === TCPS.LISTEN; }
  protected get bound(): boolean { return this.ep.lport !== 0; }

  takeError(): number {
    const e = this.ep.err;
    this.ep.err = 0;
    return e;
  }

  /** SO_ERROR falls back on the soft error an ICMP message left (sk_err_soft). */
  override soError(): number {
    const e = this.takeError();
    if (e) return e;
    const soft = this.ep.softErr;
    this.ep.softErr = 0;
    return soft;
  }

  /** Buffer sizes the application set win over autotuning. */
  private syncBuffers(): void {
    const ep = this.ep;
    ep.sndBufSize = this.opts.sndbufLock ? this.opts.sndbuf : AUTO_BUF;
    ep.rcvBufSize = this.opts.rcvbufLock ? this.opts.rcvbuf : AUTO_BUF;
    ep.linger0 = this.opts.linger.on && this.opts.linger.secs === 0;
  }

  protected override optionsChanged(): void {
    const dst = this.ep.remote;
    this.ep.ttl = dst ? this.ttlFor(dst) : this.inet.effectiveTtl;
    this.ep.tos = dst ? this.tosFor(dst) : this.inet.tos;
    const on = this.inet.plain.get(this.ep.v6 ? `ip6${IPV6_RECVERR}` : `ip${IP_RECVERR}`) ?? 0;
    this.ep.recverr = on !== 0;
  }

  /** tcp_init_buffer_space: once a connection is set up, an SO_SNDBUF the program left alone
   *  has grown to what autotuning gives it (tcp_sndbuf_expand, up to tcp_wmem[2]), and reads
   *  so: a non-blocking write of three times that is taken in part, as on Linux. */
  override sndbufNow(): number {
    const s = this.ep.state;
    const setUp = s !== TCPS.CLOSE && s !== TCPS.LISTEN && s !== TCPS.SYN_SENT && s !== TCPS.SYN_RECV;
    return this.opts.sndbufLock || !setUp ? this.opts.sndbuf : AUTO_BUF;
  }

  override sndbufChanged(): void { this.syncBuffers(); this.notify(POLLOUT); }
  /** A listener's new size is its next connections' (their SYN-ACK's window and scale, as the
   *  child Linux makes from the listener when the SYN comes), an open one's from now on. */
  override rcvbufChanged(): void { this.syncBuffers(); }

  // --- names ---

  bind(t: Task, raw: Uint8Array): void {
    const a = this.parseBind(raw);
    const ep = this.ep;
    if (ep.lport !== 0 || ep.state !== TCPS.CLOSE) fail(EINVAL);
    const b = this.bindingFor(t, a, () => ep.state === TCPS.LISTEN);
    ep.lport = this.reserve(this.stack.tcpPorts, a.port, b, ep);
    ep.binding = b;
    ep.local = b.addr;
  }

  getsockname(): Uint8Array { return buildInetAddr(this.family, this.ep.local, this.ep.lport); }

  override acceptedPeer(): Uint8Array { return buildInetAddr(this.family, this.ep.remote, this.ep.rport); }

  getpeername(): Uint8Array {
    const ep = this.ep;
    if (ep.remote === null || ep.state === TCPS.CLOSE || ep.state === TCPS.SYN_SENT || ep.state === TCPS.LISTEN) fail(ENOTCONN);
    return buildInetAddr(this.family, ep.remote, ep.rport);
  }

  // --- connecting ---

  listen(t: Task, backlog: number): void {
    const ep = this.ep;
    if (this.sockState !== 'unconnected' || (ep.state !== TCPS.CLOSE && ep.state !== TCPS.LISTEN)) fail(EINVAL);
    if (ep.state === TCPS.LISTEN) { ep.backlog = Math.max(backlog, 0); return; }
    if (ep.lport === 0) {
      const any = new Uint8Array(this.v6family ? 28 : 16);
      any[0] = this.family;
      this.bind(t, any);
    }
    this.syncBuffers();
    this.optionsChanged();
    this.syncTcpOpts();
    ep.sackEnabled = netSysctlsOf(this.stack).tcpSack !== 0;
    ep.listen(Math.max(backlog, 0));
  }

  connect(t: Task, raw: Uint8Array): number | Promise<number> {
    if (raw.length < 2) fail(EINVAL);
    if (familyOfRaw(raw) === AF_UNSPEC) {
      // tcp_disconnect: drop whatever the socket had, it may connect again.
      if (this.ep.state !== TCPS.CLOSE) this.ep.abort();
      this.stack.flush();
      this.fresh();
      return 0;
    }
    const a = parseInetAddr(raw, this.family);
    switch (this.sockState) {
      case 'connected': fail(EISCONN);
      case 'connecting':
        if (this.ep.state === TCPS.CLOSE) return this.connectFailed();
        if (this.ep.state === TCPS.SYN_SENT) fail(EALREADY);
        // The first connect after a non-blocking one completed reports success.
        this.sockState = 'connected';
        return 0;
    }
    const ep = this.ep;
    if (ep.state !== TCPS.CLOSE) fail(EISCONN);
    const dst = this.destination(a);
    // tcp_v4_connect / tcp_v6_connect: no stream to a multicast or broadcast address.
    if (this.stack.isBroadcastOrMulticast(dst)) fail(ENETUNREACH);
    // Bound to an interface the route does not leave by: ip_route_connect has no route.
    if (!this.routesByBoundDev(dst)) fail(EHOSTUNREACH);
    const src = this.sourceFor(dst, ep.local);
    ep.v6 = dst.length === 16;
    ep.sackEnabled = netSysctlsOf(this.stack).tcpSack !== 0;
    if (ep.lport === 0) {
      // inet_hash_connect: the port carries the socket's SO_REUSEADDR/SO_REUSEPORT (sk_reuse),
      // which its TIME_WAIT will still have for a later bind.
      const b = {
        v4: !ep.v6, v6: ep.v6, addr: src, reuseAddr: this.opts.plainValue(2 /* SO_REUSEADDR */) !== 0,
        reusePort: this.opts.plainValue(15 /* SO_REUSEPORT */) !== 0, uid: t.creds.euid, listening: () => false,
      };
      ep.lport = this.reserve(this.stack.tcpPorts, 0, b, ep);
      ep.binding = b;
    } else {
      const old = this.stack.connOf(src, ep.lport, dst, a.port);
      if (old) {
        // __inet_check_established: the 4-tuple from this bound port is taken — unless by a
        // TIME_WAIT that used timestamps (tcp_twsk_unique; an explicitly bound port needs no
        // tcp_tw_reuse): the new connection takes its place, its ISN past the old sequence space.
        if (old.state !== TCPS.TIME_WAIT || !old.ts.ok || old.ts.recentAt === 0) fail(EADDRNOTAVAIL);
        this.stack.twIsn = (seqAdd(old.sndMax, 65535 + 2) >>> 0) || 1;
        old.destroy();
      }
    }
    ep.local = src.slice();
    ep.remote = dst.slice();
    ep.rport = a.port;
    this.syncBuffers();
    this.optionsChanged();
    this.stack.registerConn(ep);
    ep.connect();
    this.stack.flush();
    this.sockState = 'connecting';
    const dl = this.sndDeadline(false);
    if (dl.nonblocking) fail(EINPROGRESS);
    return this.waitConnected(t, dl);
  }

  private waitConnected(t: Task, dl: Deadline): number | Promise<number> {
    const s = this.ep.state;
    if (s !== TCPS.SYN_SENT && s !== TCPS.SYN_RECV) {
      if (s === TCPS.CLOSE) return this.connectFailed();
      this.sockState = 'connected';
      return 0;
    }
    return dl.wait(t, (wake) => this.queue.subscribe(POLLOUT | POLLERR, wake)).then(
      () => this.waitConnected(t, dl),
      (e: unknown) => {
        // A timed-out connect goes on in the background (inet_wait_for_connect).
        if (e instanceof SyscallError && e.errno === EAGAIN) fail(EINPROGRESS);
        throw e;
      },
    );
  }

  private connectFailed(): number {
    const e = this.takeError() || ECONNABORTED;
    this.fresh();
    fail(e);
  }

  /** A closed endpoint gets a successor the socket can bind and connect again. */
  private fresh(): void {
    const old = this.ep;
    this.ep = new TcpEndpoint(this.stack, this.v6family);
    setBoundDev(this.ep, this.opts.boundDev);
    this.ep.owner = this;
    this.ep.filter = this.opts.filter;
    this.ep.nodelay = old.nodelay;
    this.ep.cork = old.cork;
    this.ep.userMss = old.userMss;
    this.ep.recverr = old.recverr;
    this.ep.errQueue.moveFrom(old.errQueue);
    this.hookUrgent();
    this.sockState = 'unconnected';
  }

  accept(t: Task, _flags: number): Socket | Promise<Socket> {
    if (this.ep.state !== TCPS.LISTEN) fail(EINVAL);
    return this.acceptFrom(t, this.rcvDeadline(false));
  }

  private acceptFrom(t: Task, dl: Deadline): Socket | Promise<Socket> {
    const ep = this.ep;
    const child = ep.acceptQueue.shift();
    if (!child) {
      if (dl.nonblocking) fail(EAGAIN);
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN, wake)).then(() => {
        if (this.ep.state !== TCPS.LISTEN) fail(EINVAL);
        return this.acceptFrom(t, dl);
      });
    }
    const ns = new TcpSocket(this.stack, 0, this.family, this.ownerUid, this.ownerGid, child);
    ns.kernel = this.kernel;
    ns.opts.copyFrom(this.opts);
    for (const [k, v] of this.tcpPlain) ns.tcpPlain.set(k, v);
    ns.keepaliveChanged();
    ns.syncTcpOpts();
    ns.inet.ttl = this.inet.ttl;
    ns.inet.tos = this.inet.tos;
    ns.inet.v6only = this.inet.v6only;
    for (const [k, v] of this.inet.plain) ns.inet.plain.set(k, v);
    ns.optionsChanged();
    // Whatever arrived before accept is already queued; readers will see it.
    return ns;
  }

  shutdown(_t: Task, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(EINVAL);
    const ep = this.ep;
    const mode = how + 1;
    if (ep.state === TCPS.LISTEN) {
      // Shutting a listener's receive side stops it (tcp_disconnect in inet_shutdown).
      if (mode & RCV_SHUTDOWN) { ep.close(); this.fresh(); this.notify(POLLIN | POLLHUP); }
      return;
    }
    if (ep.state === TCPS.SYN_SENT) {
      // inet_shutdown's SYN_SENT case: tcp_disconnect drops the attempt (nothing to reset)
      // and leaves ECONNRESET; shutdown succeeds and the socket may connect again.
      ep.destroy();
      this.fresh();
      this.ep.err = ECONNRESET;
      this.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
      return;
    }
    // A connection in TIME_WAIT has left its socket (tcp_time_wait's tcp_done): TCP_CLOSE.
    if (ep.state === TCPS.CLOSE || ep.state === TCPS.TIME_WAIT) {
      ep.shutdownBits |= mode;
      this.notify(POLLIN | POLLOUT | POLLHUP);
      fail(ENOTCONN);
    }
    if (mode & RCV_SHUTDOWN) ep.shutdownBits |= RCV_SHUTDOWN;
    if (mode & SEND_SHUTDOWN) ep.shutdownSend();
    this.stack.flush();
    this.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
  }

  // --- data ---

  private pipeErr(t: Task, flags: number, sent: number): number {
    if (sent > 0) return sent;
    const e = this.takeError();
    if (e) fail(e);
    if (!(flags & MSG_NOSIGNAL)) sendSignalToThread(t, userSigInfo(t, SIGPIPE));
    fail(EPIPE);
  }

  sendmsg(t: Task, req: SendRequest): number | Promise<number> {
    return this.sendSource(t, bufferSource(req.data), req.flags);
  }

  /** sendmsg from the application's iovecs (the syscall layer's one-copy path). */
  override sendUser(t: Task, iovs: readonly IOVec[], req: SendRequest): number | Promise<number> {
    let total = 0;
    for (const v of iovs) total += v.len;
    return this.sendSource(t, userSource(t, iovs, total), req.flags);
  }

  override writeDirect(t: Task, ranges: readonly IOVec[], _offset: number): number | Promise<number> {
    return this.sendUser(t, ranges, { data: EMPTY, addr: null, rights: null, creds: null, flags: 0 });
  }

  private sendSource(t: Task, src: SendSource, flags: number): number | Promise<number> {
    this.syncBuffers();
    return this.sendFrom(t, src, flags, 0, this.sndDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  /** tcp_sendmsg's loop: wait for room, copy what fits straight into the send queue, send. */
  private sendFrom(t: Task, src: SendSource, flags: number, sent: number, dl: Deadline): number | Promise<number> {
    for (;;) {
      const ep = this.ep;
      if (ep.err || (ep.shutdownBits & SEND_SHUTDOWN)) return this.pipeErr(t, flags, sent);
      const s = ep.state;
      const connecting = s === TCPS.SYN_SENT || s === TCPS.SYN_RECV;
      if (!connecting && s !== TCPS.ESTABLISHED && s !== TCPS.CLOSE_WAIT) return this.pipeErr(t, flags, sent);
      if (sent === src.length) return sent;
      const room = connecting ? 0 : ep.sndSpace;
      if (room === 0) {
        if (dl.nonblocking) {
          if (sent > 0) return sent;
          fail(EAGAIN);
        }
        return dl.wait(t, (wake) => this.queue.subscribe(POLLOUT, wake)).then(
          () => this.sendFrom(t, src, flags, sent, dl),
          (e: unknown) => { if (sent > 0) return sent; throw e; },
        );
      }
      const want = Math.min(room, src.length - sent);
      const n = ep.enqueueFrom(want, src.fill);
      sent += n;
      if (n > 0) {
        if (flags & MSG_OOB) ep.urg.mark();
        ep.output();
        this.stack.flush();
      }
      if (n < want) {
        // A fault: what was copied before it is sent (tcp_sendmsg's do_fault).
        if (sent === 0) fail(EFAULT);
        return sent;
      }
    }
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    if (flags & (MSG_ERRQUEUE | MSG_OOB)) return this.recvSpecial(max, flags);
    const copy = flags & MSG_TRUNC ? null : copySink();
    const r = this.recvTo(t, max, flags, copy ?? discardSink());
    const res = (n: number): RecvResult => ({ n, data: copy ? copy.result() : EMPTY, from: null, rights: null, creds: null, flags: 0, cmsgs: this.recvCmsgs(t) });
    return r instanceof Promise ? r.then(res) : res(r);
  }

  /** recvmsg into the application's iovecs (the syscall layer's one-copy path). */
  override recvUser(t: Task, iovs: readonly IOVec[], flags: number): RecvResult | Promise<RecvResult> {
    let max = 0;
    for (const v of iovs) max += v.len;
    if (flags & (MSG_ERRQUEUE | MSG_OOB)) return this.recvSpecial(max, flags);
    const r = this.recvTo(t, max, flags, flags & MSG_TRUNC ? discardSink() : userSink(t, iovs));
    const res = (n: number): RecvResult => ({ n, data: EMPTY, from: null, rights: null, creds: null, flags: 0, cmsgs: this.recvCmsgs(t) });
    return r instanceof Promise ? r.then(res) : res(r);
  }

  override readDirect(t: Task, ranges: readonly IOVec[], _offset: number): number | Promise<number> {
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    let max = 0;
    for (const v of ranges) max += v.len;
    const target = Math.max(1, Math.min(this.opts.rcvlowat, max));
    return this.gather(t, max, 0, target, userSink(t, ranges), 0, this.rcvDeadline(false));
  }

  private recvSpecial(max: number, flags: number): RecvResult {
    if (flags & MSG_ERRQUEUE) return recvErrQueue(this.ep.errQueue, this.family, max, (e) => { this.ep.err = e; });
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    return this.recvUrgent(max, flags);
  }

  private recvTo(t: Task, max: number, flags: number, sink: RecvSink): number | Promise<number> {
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    const target = flags & MSG_WAITALL ? max : Math.max(1, Math.min(this.opts.rcvlowat, max));
    return this.gather(t, max, flags, target, sink, 0, this.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  /** tcp_recv_urg: the urgent byte, never a wait. */
  private recvUrgent(max: number, flags: number): RecvResult {
    const ep = this.ep;
    const c = ep.urg.take((flags & MSG_PEEK) !== 0);
    if (c === 'inval') fail(EINVAL);
    if (ep.state === TCPS.CLOSE && !ep.finReceived && c === 'notyet') fail(ENOTCONN);
    if (c === 'notyet') {
      if (ep.state === TCPS.CLOSE || (ep.shutdownBits & RCV_SHUTDOWN)) return { n: 0, data: EMPTY, from: null, rights: null, creds: null, flags: 0 };
      fail(EAGAIN);
    }
    if (max === 0) return { n: 0, data: new Uint8Array(0), from: null, rights: null, creds: null, flags: MSG_OOB | MSG_TRUNC };
    const data = flags & MSG_TRUNC ? new Uint8Array(0) : new Uint8Array([c]);
    return { n: 1, data, from: null, rights: null, creds: null, flags: MSG_OOB };
  }

  /** tcp_recvmsg's loop: data goes to the sink (application memory for reads and recvmsg:
   *  the one copy). Urgent data: reads stop at the mark; out of line, the urgent byte is
   *  skipped (urgent.ts). A fault ends the read: the bytes before it are the count, EFAULT
   *  if there are none. */
  private gather(t: Task, max: number, flags: number, target: number, sink: RecvSink, copied: number,
    dl: Deadline): number | Promise<number> {
    const peek = (flags & MSG_PEEK) !== 0;
    for (;;) {
      const ep = this.ep;
      const until = ep.urg.untilMark();
      if (until === 0 && copied > 0) break;
      const skip = until === 0 && !ep.urg.isInline() ? 1 : 0;
      if (skip && !peek && ep.rcvQueued > 0 && copied < max) {
        ep.read(1, false);
        ep.urg.consumed();
        continue;
      }
      if (ep.rcvQueued > skip && copied < max && !(peek && copied > 0)) {
        const end = Math.min(max, until > 0 ? copied + until : max);
        if (skip) {
          // A peek at the mark looks past the urgent byte.
          copied += sink.put(ep.read(end - copied + 1, true).subarray(1));
        } else {
          copied += ep.readTo(end - copied, peek, (v) => sink.put(v));
        }
        if (!peek) { ep.urg.consumed(); this.stack.flush(); }
        if (sink.faulted) {
          if (copied === 0) fail(EFAULT);
          break;
        }
        continue;
      }
      if (copied >= target || (peek && copied > 0)) break;
      if (copied > 0 && (ep.err || ep.finReceived || ep.state === TCPS.CLOSE)) break;
      if (ep.finReceived) break;
      if (ep.err) fail(this.takeError());
      if (ep.shutdownBits & RCV_SHUTDOWN) break;
      if (ep.state === TCPS.CLOSE) {
        if (!ep.wasConnected) fail(ENOTCONN);
        break;
      }
      if (dl.nonblocking) {
        if (copied > 0) break;
        fail(EAGAIN);
      }
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN | POLLRDHUP, wake)).then(
        () => this.gather(t, max, flags, target, sink, copied, dl),
        (e: unknown) => { if (copied > 0) return copied; throw e; },
      );
    }
    return copied;
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    const target = Math.max(1, Math.min(this.opts.rcvlowat, dst.length));
    return this.gather(t, dst.length, 0, target, bufferSink(dst), 0, this.rcvDeadline(false));
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    // The endpoint copies what it takes (enqueue): the caller's buffer may be reused.
    return this.sendmsg(t, { data: src, addr: null, rights: null, creds: null, flags: 0 });
  }

  // --- readiness (tcp_poll) ---

  override readiness(_mask: number): number {
    const ep = this.ep;
    const s = ep.state;
    if (s === TCPS.LISTEN) return ep.acceptQueue.length > 0 ? POLLIN | POLLRDNORM : 0;
    let m = 0;
    const shut = ep.shutdownBits;
    if (shut === (RCV_SHUTDOWN | SEND_SHUTDOWN) || s === TCPS.CLOSE) m |= POLLHUP;
    if (shut & RCV_SHUTDOWN) m |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (s !== TCPS.SYN_SENT && s !== TCPS.SYN_RECV) {
      // At the mark, an out-of-line urgent byte is not data to read (tcp_poll's target++).
      const urgByte = ep.urg.atMark() && !ep.urg.isInline() ? 1 : 0;
      if (ep.rcvQueued > urgByte) m |= POLLIN | POLLRDNORM;
      if (ep.urg.pri) m |= POLLPRI;
      if (!(shut & SEND_SHUTDOWN)) {
        // sk_stream_is_writeable: free space at least half of what is queued.
        const space = ep.sndSpace;
        if (space > 0 && space >= ep.sndQueued / 2) m |= POLLOUT | POLLWRNORM;
      } else {
        m |= POLLOUT | POLLWRNORM;
      }
    }
    if (ep.err || ep.errQueue.length > 0) m |= POLLERR;
    return m;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    const ep = this.ep;
    switch (cmd) {
      case SIOCINQ: {
        if (ep.state === TCPS.LISTEN) fail(EINVAL);
        // tcp_inq: with an out-of-line urgent byte ahead, only what comes before it.
        const until = ep.urg.isInline() ? Infinity : ep.urg.untilMark();
        t.mm.writeI32(arg, Math.min(ep.rcvQueued, until));
        return 0;
      }
      case SIOCOUTQ:
        if (ep.state === TCPS.LISTEN) fail(EINVAL);
        t.mm.writeI32(arg, ep.sndQueued);
        return 0;
      case SIOCATMARK:
        t.mm.writeI32(arg, ep.urg.atMark() ? 1 : 0);
        return 0;
      default:
        fail(ENOTTY);
    }
  }

  // --- options ---

  protected override getsockoptTransport(level: number, name: number): Uint8Array {
    if (level !== IPPROTO_TCP) this.foreignLevel();
    const ep = this.ep;
    switch (name) {
      case TCP_NODELAY: return ints(ep.nodelay ? 1 : 0);
      case TCP_CORK: return ints(ep.cork ? 1 : 0);
      case TCP_MAXSEG:
        return ints(ep.state === TCPS.CLOSE || ep.state === TCPS.LISTEN ? (ep.userMss || TCP_MSS_DEFAULT) : ep.sndMss);
      case TCP_INFO: return tcpInfo(ep);
      case TCP_DEFER_ACCEPT: return ints(retransToSecs(this.tcpPlain.get(TCP_DEFER_ACCEPT) ?? 0));
      case TCP_LINGER2: {
        // tp->linger2: -1, or seconds with 0 meaning tcp_fin_timeout.
        const v = this.tcpPlain.get(TCP_LINGER2) ?? 0;
        return ints(v < 0 ? -1 : v === 0 ? TCP_FIN_TIMEOUT : v);
      }
      // Whether ACKs go out at once: not while the exchange is interactive (delayed_ack.ts).
      case TCP_QUICKACK: return ints(ep.delack.pingpong ? 0 : 1);
      // An accepted connection has its listener's clamp.
      case TCP_WINDOW_CLAMP: return ints(ep.windowClamp);
      case TCP_CONGESTION: {
        // The name in TCP_CA_NAME_MAX bytes, NUL-padded (the caller's length cuts it).
        const b = new Uint8Array(TCP_CA_NAME_MAX);
        b.set(new TextEncoder().encode(ep.cc.ops.name));
        return b;
      }
      default:
        if (!(name in TCP_PLAIN)) fail(ENOPROTOOPT);
        return ints(this.tcpPlain.get(name) ?? TCP_PLAIN[name]);
    }
  }

  override setsockoptProto(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level === IPPROTO_TCP && name === TCP_CONGESTION) { this.setCongestion(t, val); return; }
    super.setsockoptProto(t, level, name, val);
  }

  /** TCP_CONGESTION (tcp_set_congestion_control): a name as ccNameOf takes it; one outside
   *  tcp_allowed_congestion_control needs CAP_NET_ADMIN (EPERM). */
  private setCongestion(t: Task, val: Uint8Array): void {
    const algo = ccNameOf(val);
    if (algo !== this.ep.cc.ops.name && !ccAllowed(this.stack, algo) && !netCapable(t, CAP_NET_ADMIN)) fail(EPERM);
    this.ep.setCongestion(algo);
  }

  protected override setsockoptTransport(level: number, name: number, val: Uint8Array): void {
    if (level !== IPPROTO_TCP) fail(ENOPROTOOPT);
    const ep = this.ep;
    const v = val.length >= 4 ? intOf(val) : fail(EINVAL);
    switch (name) {
      case TCP_NODELAY:
        ep.nodelay = v !== 0;
        if (ep.nodelay) { ep.output(); this.stack.flush(); }
        return;
      case TCP_CORK:
        ep.cork = v !== 0;
        if (!ep.cork) { ep.output(); this.stack.flush(); }
        return;
      case TCP_MAXSEG:
        if (v !== 0 && (v < 88 || v > 65535)) fail(EINVAL);
        ep.userMss = v;
        return;
      case TCP_KEEPIDLE: case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) fail(EINVAL);
        break;
      case TCP_KEEPCNT: case TCP_SYNCNT:
        if (v < 1 || v > 127) fail(EINVAL);
        break;
      case TCP_USER_TIMEOUT:
        if (v < 0) fail(EINVAL);
        break;
      case TCP_INQ:
        if (v < 0 || v > 1) fail(EINVAL);
        break;
      case TCP_DEFER_ACCEPT:
        this.tcpPlain.set(name, secsToRetrans(v));
        this.syncTcpOpts();
        return;
      case TCP_LINGER2:
        this.tcpPlain.set(name, v < 0 ? -1 : Math.min(v, TCP_FIN_TIMEOUT_MAX));
        this.syncTcpOpts();
        return;
      case TCP_WINDOW_CLAMP:
        // tcp_set_window_clamp: 0 only before a connection, anything else at least half the
        // smallest receive buffer; it bounds the window offered from now on.
        if (v === 0 && ep.state !== TCPS.CLOSE) fail(EINVAL);
        ep.windowClamp = v === 0 ? 0 : Math.max(v, MIN_WINDOW_CLAMP);
        this.tcpPlain.set(name, ep.windowClamp);
        return;
      case TCP_QUICKACK:
        ep.setQuickack(v);
        this.stack.flush();
        return;
      default:
        if (!(name in TCP_PLAIN)) fail(ENOPROTOOPT);
    }
    this.tcpPlain.set(name, v);
    if (name === TCP_KEEPIDLE || name === TCP_KEEPINTVL || name === TCP_KEEPCNT) this.keepaliveChanged();
  }

  /** TCP_DEFER_ACCEPT and TCP_LINGER2, handed to the endpoint (a listener's and an orphan's). */
  private syncTcpOpts(): void {
    this.ep.deferAccept = this.tcpPlain.get(TCP_DEFER_ACCEPT) ?? 0;
    const l2 = this.tcpPlain.get(TCP_LINGER2) ?? 0;
    this.ep.finTimeoutMs = l2 < 0 ? -1 : (l2 === 0 ? TCP_FIN_TIMEOUT : l2) * 1000;
  }

  /** tcp_recvmsg's control messages: SO_TIMESTAMP(NS) (tcp_recv_timestamp), then TCP_INQ's
   *  (tcp_inq_hint: rcv_nxt - copied_seq, what is left to read and the peer's FIN once it
   *  came). The stamp is when data last arrived (Linux's is the last segment read's). */
  private recvCmsgs(t: Task): Cmsg[] | undefined {
    const inqOn = (this.tcpPlain.get(TCP_INQ) ?? 0) !== 0;
    const ts = this.opts.tstamp;
    if (!inqOn && !(ts.on && this.rcvStamp !== 0n)) return undefined;
    const out: Cmsg[] = [];
    if (ts.on && this.rcvStamp !== 0n) {
      const at = this.rcvStamp + (t.kernel.realtimeNs() - process.hrtime.bigint());
      out.push({ level: SOL_SOCKET, type: timestampType(ts), data: timeBytes(at, ts.ns) });
    }
    if (inqOn) {
      const ep = this.ep;
      out.push({ level: IPPROTO_TCP, type: TCP_INQ, data: ints(ep.rcvQueued + (ep.finReceived ? 1 : 0)) });
    }
    return out;
  }

  /** Data came: with SO_TIMESTAMP on, when (skb->tstamp for the next read's message). */
  override notify(mask: number): void {
    if ((mask & POLLIN) !== 0 && this.opts.tstamp.on) this.rcvStamp = process.hrtime.bigint();
    super.notify(mask);
  }

  /** SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT, handed to the endpoint. */
  override keepaliveChanged(): void {
    const get = (n: number): number => this.tcpPlain.get(n) ?? TCP_PLAIN[n];
    this.ep.keepalive.configure({
      on: this.opts.plainValue(SO_KEEPALIVE) !== 0, idleMs: get(TCP_KEEPIDLE) * 1000, intvlMs: get(TCP_KEEPINTVL) * 1000,
      cnt: get(TCP_KEEPCNT),
    });
  }

  // --- closing ---

  override release(): void {
    this.mcast.dropAll();
    this.syncBuffers();
    this.syncTcpOpts();
    this.ep.close();
    this.stack.flush();
    this.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
  }
}
