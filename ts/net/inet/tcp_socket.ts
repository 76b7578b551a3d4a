// A TCP socket (Linux inet_stream_ops + tcp_prot: inet_stream_connect, inet_accept,
// tcp_sendmsg, tcp_recvmsg, tcp_poll, tcp_ioctl, do_tcp_setsockopt): the socket-side
// states (unconnected, connecting, connected), blocking and non-blocking connect (EINPROGRESS,
// then writability and SO_ERROR), accept from the endpoint's queue, and moving data between
// the application and the endpoint's queues with Linux's errors (EPIPE with SIGPIPE, a reset
// reported once as ECONNRESET, ENOTCONN).

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import {
  EADDRNOTAVAIL, EAGAIN, EALREADY, ECONNABORTED, EINPROGRESS, EINVAL, EISCONN, ENOENT, ENOPROTOOPT, ENOTCONN, ENOTSUP as EOPNOTSUPP,
  ENOTTY, EPIPE, ENETUNREACH,
} from '../../abi/linux/errno';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  AF_UNSPEC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SIOCINQ,
  SIOCOUTQ, SOCK_STREAM, SO_KEEPALIVE,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import type { Socket, RecvResult, SendRequest } from '../socket';
import type { Deadline } from '../sock_wait';
import type { Stack } from '../../tcpip/stack';
import { AUTO_BUF, RCV_SHUTDOWN, SEND_SHUTDOWN, TcpEndpoint } from '../../tcpip/tcp/endpoint';
import { TCPS } from '../../tcpip/tcp/states';
import { InetSocket } from './inet_socket';
import { IPPROTO_TCP, intOf, ints } from './inet_opts';
import { buildInetAddr, familyOfRaw, parseInetAddr } from './sockaddr_in';
import { tcpInfo } from './tcp_info';

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
const TCP_MSS_DEFAULT = 536;
/** Linux's initial SO_SNDBUF / SO_RCVBUF of a TCP socket (tcp_wmem[1], tcp_rmem[1]). */
const TCP_WMEM_DEFAULT = 16384;
const TCP_RMEM_DEFAULT = 131072;

/** Stored TCP options with their defaults (the keep-alive ones drive the endpoint's probes). */
const TCP_PLAIN: Record<number, number> = {
  [TCP_KEEPIDLE]: 7200, [TCP_KEEPINTVL]: 75, [TCP_KEEPCNT]: 9, [TCP_SYNCNT]: 6, [TCP_LINGER2]: 60,
  [TCP_DEFER_ACCEPT]: 0, [TCP_WINDOW_CLAMP]: 0, [TCP_QUICKACK]: 1, [TCP_USER_TIMEOUT]: 0, [TCP_FASTOPEN]: 0,
  [TCP_NOTSENT_LOWAT]: -1,
};

type SockState = 'unconnected' | 'connecting' | 'connected';

export class TcpSocket extends InetSocket {
  ep: TcpEndpoint;
  sockState: SockState = 'unconnected';
  private readonly tcpPlain = new Map<number, number>();
  /** The stack's one congestion control, NewReno, is Linux's "reno". */
  private congestion = 'reno';

  constructor(stack: Stack, flags: number, family: number, uid: number, gid: number, ep?: TcpEndpoint) {
    super(stack, flags, family, SOCK_STREAM, IPPROTO_TCP, uid, gid);
    this.opts.sndbuf = TCP_WMEM_DEFAULT;
    this.opts.rcvbuf = TCP_RMEM_DEFAULT;
    this.ep = ep ?? new TcpEndpoint(stack, this.v6family);
    this.ep.owner = this;
    if (ep) this.sockState = 'connected';
  }

  get listening(): boolean { return this.ep.state === TCPS.LISTEN; }
  protected get bound(): boolean { return this.ep.lport !== 0; }

  takeError(): number {
    const e = this.ep.err;
    this.ep.err = 0;
    return e;
  }

  /** Buffer sizes the application set win over autotuning. */
  private syncBuffers(): void {
    const ep = this.ep;
    ep.sndBufSize = this.opts.sndbuf !== TCP_WMEM_DEFAULT ? this.opts.sndbuf : AUTO_BUF;
    ep.rcvBufSize = this.opts.rcvbuf !== TCP_RMEM_DEFAULT ? this.opts.rcvbuf : AUTO_BUF;
    ep.linger0 = this.opts.linger.on && this.opts.linger.secs === 0;
  }

  protected override optionsChanged(): void {
    const dst = this.ep.remote;
    this.ep.ttl = dst ? this.ttlFor(dst) : this.inet.effectiveTtl;
    this.ep.tos = dst ? this.tosFor(dst) : this.inet.tos;
  }

  override sndbufChanged(): void { this.syncBuffers(); this.notify(POLLOUT); }

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
    const src = this.sourceFor(dst, ep.local);
    ep.v6 = dst.length === 16;
    if (ep.lport === 0) {
      const b = { v4: !ep.v6, v6: ep.v6, addr: src, reuseAddr: false, reusePort: false, uid: t.creds.euid, listening: () => false };
      ep.lport = this.reserve(this.stack.tcpPorts, 0, b, ep);
      ep.binding = b;
    } else if (this.stack.connExists(src, ep.lport, dst, a.port)) {
      // __inet_hash_connect: the 4-tuple from this bound port is taken.
      fail(EADDRNOTAVAIL);
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
    this.ep.owner = this;
    this.ep.nodelay = old.nodelay;
    this.ep.cork = old.cork;
    this.ep.userMss = old.userMss;
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
    ns.opts.copyFrom(this.opts);
    for (const [k, v] of this.tcpPlain) ns.tcpPlain.set(k, v);
    ns.keepaliveChanged();
    ns.inet.ttl = this.inet.ttl;
    ns.inet.tos = this.inet.tos;
    ns.inet.v6only = this.inet.v6only;
    for (const [k, v] of this.tcpPlain) ns.tcpPlain.set(k, v);
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
    if (ep.state === TCPS.CLOSE || ep.state === TCPS.SYN_SENT) {
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
    if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
    this.syncBuffers();
    return this.sendFrom(t, req, 0, this.sndDeadline((req.flags & MSG_DONTWAIT) !== 0));
  }

  private sendFrom(t: Task, req: SendRequest, sent: number, dl: Deadline): number | Promise<number> {
    const data = req.data;
    for (;;) {
      const ep = this.ep;
      if (ep.err || (ep.shutdownBits & SEND_SHUTDOWN)) return this.pipeErr(t, req.flags, sent);
      const s = ep.state;
      const connecting = s === TCPS.SYN_SENT || s === TCPS.SYN_RECV;
      if (!connecting && s !== TCPS.ESTABLISHED && s !== TCPS.CLOSE_WAIT) return this.pipeErr(t, req.flags, sent);
      if (sent === data.length) return sent;
      const room = connecting ? 0 : ep.sndSpace;
      if (room === 0) {
        if (dl.nonblocking) {
          if (sent > 0) return sent;
          fail(EAGAIN);
        }
        return dl.wait(t, (wake) => this.queue.subscribe(POLLOUT, wake)).then(
          () => this.sendFrom(t, req, sent, dl),
          (e: unknown) => { if (sent > 0) return sent; throw e; },
        );
      }
      const n = Math.min(room, data.length - sent);
      ep.enqueue(data.subarray(sent, sent + n));
      sent += n;
      ep.output();
      this.stack.flush();
    }
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    if (flags & MSG_OOB) fail(EINVAL);
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    const target = flags & MSG_WAITALL ? max : Math.max(1, Math.min(this.opts.rcvlowat, max));
    return this.gather(t, max, flags, target, [], null, 0, this.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
  }

  /** tcp_recvmsg's loop: data goes into `into` when given (read: no buffer of our own),
   *  else into parts. */
  private gather(t: Task, max: number, flags: number, target: number, parts: Uint8Array[], into: Uint8Array | null,
    copied: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const peek = (flags & MSG_PEEK) !== 0;
    for (;;) {
      const ep = this.ep;
      if (ep.rcvQueued > 0 && copied < max && !(peek && copied > 0)) {
        if (into) {
          copied += ep.readInto(into.subarray(copied, max), peek);
        } else {
          const d = ep.read(max - copied, peek);
          parts.push(d);
          copied += d.length;
        }
        if (!peek) this.stack.flush();
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
        () => this.gather(t, max, flags, target, parts, into, copied, dl),
        (e: unknown) => { if (copied > 0) return done(parts, into, copied); throw e; },
      );
    }
    return done(parts, into, copied);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (this.ep.state === TCPS.LISTEN) fail(ENOTCONN);
    const target = Math.max(1, Math.min(this.opts.rcvlowat, dst.length));
    const r = this.gather(t, dst.length, 0, target, [], dst, 0, this.rcvDeadline(false));
    return r instanceof Promise ? r.then((x) => x.n) : r.n;
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
      if (ep.rcvQueued > 0) m |= POLLIN | POLLRDNORM;
      if (!(shut & SEND_SHUTDOWN)) {
        // sk_stream_is_writeable: free space at least half of what is queued.
        const space = ep.sndSpace;
        if (space > 0 && space >= ep.sndQueued / 2) m |= POLLOUT | POLLWRNORM;
      } else {
        m |= POLLOUT | POLLWRNORM;
      }
    }
    if (ep.err) m |= POLLERR;
    return m;
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    const ep = this.ep;
    switch (cmd) {
      case SIOCINQ:
        if (ep.state === TCPS.LISTEN) fail(EINVAL);
        t.mm.writeI32(arg, ep.rcvQueued);
        return 0;
      case SIOCOUTQ:
        if (ep.state === TCPS.LISTEN) fail(EINVAL);
        t.mm.writeI32(arg, ep.sndQueued);
        return 0;
      default:
        fail(ENOTTY);
    }
  }

  // --- options ---

  protected override getsockoptTransport(level: number, name: number): Uint8Array {
    if (level !== IPPROTO_TCP) fail(ENOPROTOOPT);
    const ep = this.ep;
    switch (name) {
      case TCP_NODELAY: return ints(ep.nodelay ? 1 : 0);
      case TCP_CORK: return ints(ep.cork ? 1 : 0);
      case TCP_MAXSEG:
        return ints(ep.state === TCPS.CLOSE || ep.state === TCPS.LISTEN ? (ep.userMss || TCP_MSS_DEFAULT) : ep.sndMss);
      case TCP_INFO: return tcpInfo(ep);
      case TCP_CONGESTION: {
        const b = new Uint8Array(16);
        b.set(new TextEncoder().encode(this.congestion));
        return b;
      }
      default:
        if (!(name in TCP_PLAIN)) fail(ENOPROTOOPT);
        return ints(this.tcpPlain.get(name) ?? TCP_PLAIN[name]);
    }
  }

  protected override setsockoptTransport(level: number, name: number, val: Uint8Array): void {
    if (level !== IPPROTO_TCP) fail(ENOPROTOOPT);
    const ep = this.ep;
    if (name === TCP_CONGESTION) {
      const end = val.indexOf(0);
      const algo = new TextDecoder().decode(end < 0 ? val : val.subarray(0, end));
      if (algo !== 'reno') fail(ENOENT);
      this.congestion = algo;
      return;
    }
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
      default:
        if (!(name in TCP_PLAIN)) fail(ENOPROTOOPT);
    }
    this.tcpPlain.set(name, v);
    if (name === TCP_KEEPIDLE || name === TCP_KEEPINTVL || name === TCP_KEEPCNT) this.keepaliveChanged();
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
    this.syncBuffers();
    this.ep.close();
    this.stack.flush();
    this.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
  }
}

function done(parts: Uint8Array[], into: Uint8Array | null, n: number): RecvResult {
  let data: Uint8Array;
  if (into) data = into.subarray(0, n);
  else if (parts.length === 1) data = parts[0];
  else {
    data = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { data.set(p, at); at += p.length; }
  }
  return { n, data, from: null, rights: null, creds: null, flags: 0 };
}

