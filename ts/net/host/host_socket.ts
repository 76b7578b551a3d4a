// --network=host sockets (gVisor pkg/sentry/socket/hostinet): an AF_INET/AF_INET6 TCP or UDP
// socket of the program is a host socket the sentry made on its behalf. ts/net/host owns the
// host fd: every call is a non-blocking host call through the addon with arguments the
// sentry rebuilt (addresses parsed and re-encoded, a fixed list of options and flags); a call
// that would block waits on the host fd's readiness (polled with backoff) and retries. The
// SOL_SOCKET options the program sets are kept by the socket layer and pushed to the host fd
// before bind, connect and listen.

import * as fs from 'node:fs';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import {
  EAGAIN, EINPROGRESS, EINVAL, ENOPROTOOPT, ENOTSUP as EOPNOTSUPP, EPIPE,
} from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  AF_INET, AF_INET6, AF_UNSPEC, MSG_DONTWAIT, MSG_EOR, MSG_MORE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC,
  MSG_WAITALL, SHUT_RD, SHUT_RDWR, SOCK_STREAM, SOMAXCONN,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import { pollWithBackoff } from '../../kernel/poll/backoff_waiter';
import type { ReadinessCallback } from '../../vfs/file_description';
import { addon } from '../../native/addon';
import { Socket, type RecvResult, type SendRequest, type UCred } from '../socket';
import { SockOpts } from '../sockopt';
import { Deadline } from '../sock_wait';
import { buildInetAddr, familyOfRaw, parseInetAddr } from '../inet/sockaddr_in';

const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_ACCEPTCONN = 30;
const FIONREAD = 0x541b;
/** SOL_SOCKET options pushed to the host fd: SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_REUSEPORT. */
const PUSHED_PLAIN = [2, 9, 6, 15];
const SO_LINGER = 13;
const IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41;
/** Options passed through per level (int-valued or read-only structs): TCP_NODELAY, MAXSEG,
 *  CORK, KEEPIDLE, KEEPINTVL, KEEPCNT, INFO (get), QUICKACK, USER_TIMEOUT, NOTSENT_LOWAT;
 *  IP_TOS, IP_TTL, IP_MULTICAST_TTL, IP_MULTICAST_LOOP; IPV6_UNICAST_HOPS, IPV6_V6ONLY,
 *  IPV6_TCLASS. */
const PASSED = new Map<number, Set<number>>([
  [IPPROTO_TCP, new Set([1, 2, 3, 4, 5, 6, 11, 12, 18, 25])],
  [IPPROTO_IP, new Set([1, 2, 33, 34])],
  [IPPROTO_IPV6, new Set([16, 26, 67])],
]);
const READ_ONLY = new Set([IPPROTO_TCP * 100 + 11]);
const SEND_FLAGS = MSG_OOB | MSG_DONTWAIT | MSG_EOR | MSG_NOSIGNAL | MSG_MORE;
const RECV_FLAGS = MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL;
const MAX_IO = 1 << 20;
/** Event-loop turns, and at least how long, a waiter re-polls its host fd on before the
 *  backoff timers. */
const SPIN_TURNS = 64;
const SPIN_MS = 2;

function check(r: number): number {
  if (r < 0) fail(-r);
  return r;
}

export class HostSocket extends Socket {
  readonly opts = new SockOpts();
  private closed = false;

  constructor(readonly hostFd: number, flags: number, family: number, type: number, protocol: number, uid: number, gid: number) {
    super(flags, family, type, protocol, uid, gid);
  }

  /** The address bytes the host gets: parsed as Linux would, then re-encoded. */
  private hostAddr(raw: Uint8Array, forBind: boolean): Uint8Array {
    const a = parseInetAddr(raw, this.family, forBind);
    const b = buildInetAddr(this.family, a.addr, a.port);
    if (this.family === AF_INET6 && raw.length >= 28) {
      b.set(raw.subarray(4, 8), 4); // sin6_flowinfo
      b.set(raw.subarray(24, 28), 24); // sin6_scope_id
    }
    return b;
  }

  private pushOpts(): void {
    const a = addon();
    for (const name of PUSHED_PLAIN) {
      const v = this.opts.plainValue(name);
      if (v !== 0) a.hostSetsockopt(this.hostFd, SOL_SOCKET, name, int32(v));
    }
    if (this.opts.linger.on) {
      const l = new Uint8Array(8);
      const dv = new DataView(l.buffer);
      dv.setInt32(0, 1, true);
      dv.setInt32(4, this.opts.linger.secs, true);
      a.hostSetsockopt(this.hostFd, SOL_SOCKET, SO_LINGER, l);
    }
  }

  private deadline(rcv: boolean, dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : rcv ? this.opts.rcvtimeo : this.opts.sndtimeo);
  }

  private waitFor(t: Task, dl: Deadline, events: number): Promise<void> {
    return dl.wait(t, (wake) => this.addWaiter(events, wake));
  }

  bind(_t: Task, raw: Uint8Array): void {
    const b = this.hostAddr(raw, true);
    this.pushOpts();
    check(addon().hostBindConnect(this.hostFd, b, false));
  }

  listen(_t: Task, backlog: number): void {
    if (this.type !== SOCK_STREAM) fail(EOPNOTSUPP);
    this.pushOpts();
    check(addon().hostListen(this.hostFd, Math.max(0, Math.min(backlog, SOMAXCONN))));
  }

  accept(t: Task, flags: number): Socket | Promise<Socket> {
    return this.acceptFrom(t, this.deadline(true, false), flags);
  }

  private acceptFrom(t: Task, dl: Deadline, _flags: number): Socket | Promise<Socket> {
    const fd = addon().hostAccept(this.hostFd);
    if (fd >= 0) {
      const s = new HostSocket(fd, 0, this.family, this.type, this.protocol, this.ownerUid, this.ownerGid);
      s.opts.copyFrom(this.opts);
      return s;
    }
    if (-fd !== EAGAIN || dl.nonblocking) fail(-fd);
    return this.waitFor(t, dl, POLLIN).then(() => this.acceptFrom(t, dl, _flags));
  }

  connect(t: Task, raw: Uint8Array): number | Promise<number> {
    if (raw.length < 2) fail(EINVAL);
    let b: Uint8Array;
    if (familyOfRaw(raw) === AF_UNSPEC) {
      b = new Uint8Array(16);
    } else {
      b = this.hostAddr(raw, false);
      this.pushOpts();
    }
    const r = addon().hostBindConnect(this.hostFd, b, true);
    if (r >= 0) return 0;
    if (-r !== EINPROGRESS) fail(-r);
    const dl = this.deadline(false, false);
    if (dl.nonblocking) fail(EINPROGRESS);
    return this.waitFor(t, dl, POLLOUT).then(() => {
      const e = this.takeError();
      if (e) fail(e);
      // The host connect completed in the background; connecting once more consumes that
      // completion (0), so a later connect is EISCONN as after a blocking connect on Linux.
      addon().hostBindConnect(this.hostFd, b, true);
      return 0;
    }, (e: unknown) => {
      // A timed-out connect goes on in the background (inet_wait_for_connect).
      if (e instanceof SyscallError && e.errno === EAGAIN) fail(EINPROGRESS);
      throw e;
    });
  }

  getsockname(): Uint8Array { return this.name(false); }
  getpeername(): Uint8Array { return this.name(true); }

  private name(peer: boolean): Uint8Array {
    const out = new Uint8Array(128);
    const n = check(addon().hostSockName(this.hostFd, peer, out));
    return out.slice(0, Math.min(n, out.length));
  }

  shutdown(_t: Task, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(EINVAL);
    check(addon().hostShutdown(this.hostFd, how));
  }

  sendmsg(t: Task, req: SendRequest): number | Promise<number> {
    if (req.rights || req.creds) fail(EINVAL);
    const addr = req.addr && req.addr.length > 0 ? this.hostAddr(req.addr, false) : new Uint8Array(0);
    return this.sendFrom(t, req, addr, 0, this.deadline(false, (req.flags & MSG_DONTWAIT) !== 0));
  }

  private sendFrom(t: Task, req: SendRequest, addr: Uint8Array, sent: number, dl: Deadline): number | Promise<number> {
    const flags = req.flags & SEND_FLAGS;
    for (;;) {
      const chunk = req.data.subarray(sent, Math.min(req.data.length, sent + (this.type === SOCK_STREAM ? MAX_IO : req.data.length)));
      const r = addon().hostSendto(this.hostFd, chunk, flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL), addr);
      if (r >= 0) {
        sent += r;
        if (this.type !== SOCK_STREAM || sent >= req.data.length) return sent;
        continue;
      }
      if (-r === EAGAIN && !dl.nonblocking) {
        return this.waitFor(t, dl, POLLOUT).then(() => this.sendFrom(t, req, addr, sent, dl),
          (e: unknown) => { if (sent > 0) return sent; throw e; });
      }
      if (sent > 0) return sent;
      if (-r === EPIPE && !(req.flags & MSG_NOSIGNAL)) sendSignalToThread(t, userSigInfo(t, SIGPIPE));
      fail(-r);
    }
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    return this.recvInto(t, Math.min(max, MAX_IO), null, flags & RECV_FLAGS, 0, this.deadline(true, (flags & MSG_DONTWAIT) !== 0));
  }

  /** Receive into a buffer of at most max bytes, sized by what the host holds (FIONREAD: the
   *  next datagram, or the stream's queued bytes): no megabyte zeroed for a 64-byte answer. */
  private recvInto(t: Task, max: number, buffer: Uint8Array | null, flags: number, got: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const from = new Uint8Array(128);
    const meta = new Int32Array(2);
    let buf = buffer;
    for (;;) {
      if (buf === null) {
        const avail = addon().hostFionread(this.hostFd);
        // Nothing queued yet (or a zero-length datagram): room for any datagram that may
        // land before the call, so none is cut short by a race.
        buf = new Uint8Array(flags & MSG_WAITALL ? max : Math.min(max, avail > 0 ? avail : 65536));
      }
      const b = buf;
      const r = addon().hostRecvfrom(this.hostFd, b.subarray(got), flags & ~(MSG_DONTWAIT | MSG_WAITALL), from, meta);
      if (r >= 0) {
        const stream = this.type === SOCK_STREAM;
        if (stream && (flags & MSG_WAITALL) && r > 0 && got + r < b.length) { got += r; continue; }
        const n = stream ? got + r : r;
        return {
          n, data: b.subarray(0, Math.min(n, b.length)), from: meta[0] > 0 && !stream ? from.slice(0, meta[0]) : null,
          rights: null, creds: null, flags: meta[1],
        };
      }
      if (-r === EAGAIN && !dl.nonblocking) {
        const keep = got > 0 ? b : null;
        return this.waitFor(t, dl, POLLIN).then(() => this.recvInto(t, max, keep, flags, got, dl),
          (e: unknown) => { if (got > 0) return { n: got, data: b.subarray(0, got), from: null, rights: null, creds: null, flags: 0 }; throw e; });
      }
      if (got > 0) return { n: got, data: b.subarray(0, got), from: null, rights: null, creds: null, flags: 0 };
      fail(-r);
    }
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (dst.length === 0 && this.type === SOCK_STREAM) return 0;
    const fin = (r: RecvResult): number => { dst.set(r.data.subarray(0, Math.min(r.data.length, dst.length))); return Math.min(r.n, dst.length); };
    const r = this.recvmsg(t, dst.length, 0);
    return r instanceof Promise ? r.then(fin) : fin(r);
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return this.sendmsg(t, { data: src.slice(), addr: null, rights: null, creds: null, flags: 0 });
  }

  override getsockoptProto(_t: Task, level: number, name: number, len: number): Uint8Array {
    if (!PASSED.get(level)?.has(name)) fail(ENOPROTOOPT);
    const out = new Uint8Array(Math.max(4, Math.min(len, 256)));
    const n = check(addon().hostGetsockopt(this.hostFd, level, name, out));
    return out.slice(0, n);
  }

  override setsockoptProto(_t: Task, level: number, name: number, val: Uint8Array): void {
    if (!PASSED.get(level)?.has(name) || READ_ONLY.has(level * 100 + name)) fail(ENOPROTOOPT);
    if (val.length < 4) fail(EINVAL);
    check(addon().hostSetsockopt(this.hostFd, level, name, val.subarray(0, 4)));
  }

  peerCred(): UCred | null { return null; }

  get listening(): boolean {
    const out = new Uint8Array(4);
    if (addon().hostGetsockopt(this.hostFd, SOL_SOCKET, SO_ACCEPTCONN, out) < 0) return false;
    return out[0] !== 0;
  }

  takeError(): number {
    const out = new Uint8Array(4);
    if (addon().hostGetsockopt(this.hostFd, SOL_SOCKET, SO_ERROR, out) < 0) return 0;
    return new DataView(out.buffer).getInt32(0, true);
  }

  override readiness(mask: number): number {
    const rev = addon().pollHostFd(this.hostFd, mask | POLLERR | POLLHUP);
    return rev < 0 || rev & POLLNVAL ? POLLERR : rev;
  }

  /** The host cannot tell the sentry when the fd is ready: re-poll it, first on the next
   *  few turns of the event loop (an answer to a request usually comes within them), then
   *  on the backoff timers every host fd uses. */
  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    const all = mask | POLLERR | POLLHUP;
    let undo: (() => void) | null = null;
    let turns = 0;
    const since = performance.now();
    let imm: NodeJS.Immediate | null = null;
    let cancelled = false;
    const backoff = (): void => { imm = null; if (!cancelled) undo = pollWithBackoff(() => this.readiness(all), all, cb); };
    const spin = (): void => {
      imm = null;
      if (cancelled) return;
      if (this.readiness(all) & all) {
        cb();
        // Still subscribed (an epoll interest): go on watching at the slower pace.
        if (!cancelled) imm = setImmediate(backoff);
        return;
      }
      imm = ++turns < SPIN_TURNS || performance.now() - since < SPIN_MS ? setImmediate(spin) : setImmediate(backoff);
    };
    imm = setImmediate(spin);
    return () => {
      cancelled = true;
      if (imm !== null) clearImmediate(imm);
      imm = null;
      undo?.();
      undo = null;
    };
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (cmd === FIONREAD) {
      t.mm.writeI32(arg, check(addon().hostFionread(this.hostFd)));
      return 0;
    }
    return super.ioctl(t, cmd, arg) as number;
  }

  override release(): void {
    if (this.closed) return;
    this.closed = true;
    // SO_LINGER set after connect still decides how the close goes.
    this.pushOpts();
    try { fs.closeSync(this.hostFd); } catch { /* already gone */ }
  }
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** socket(2) for a host-network sandbox: the family, type and protocol are checked by the
 *  caller (inet/create.ts) before the host sees them. */
export function newHostSocket(family: number, type: number, protocol: number, nonblock: boolean, uid: number, gid: number): HostSocket {
  if (family !== AF_INET && family !== AF_INET6) fail(EINVAL);
  const fd = check(addon().hostSocket(family, type, protocol));
  return new HostSocket(fd, nonblock ? O_NONBLOCK : 0, family, type, protocol, uid, gid);
}
