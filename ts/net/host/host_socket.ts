// --network=host sockets (gVisor pkg/sentry/socket/hostinet): an AF_INET/AF_INET6 TCP or UDP
// socket of the program is a host socket the sentry made on its behalf. ts/net/host owns the
// host fd: every call is a non-blocking host call through the addon with arguments the
// sentry rebuilt (addresses parsed and re-encoded, control messages walked and filtered
// (host_cmsg.ts), an allowlist of options (host_opts.ts)); a call that would block waits for
// the host fd's readiness, which the addon's epoll thread reports (host_watch.ts), and
// retries. SOL_SOCKET options are kept by the socket layer and mirrored to the host fd as
// they are set.

import * as fs from 'node:fs';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import {
  EAGAIN, EINPROGRESS, EINVAL, ENOPROTOOPT, ENOTSUP as EOPNOTSUPP, EPIPE,
} from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  AF_INET, AF_INET6, AF_UNSPEC, MSG_DONTWAIT, MSG_EOR, MSG_ERRQUEUE, MSG_MORE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK,
  MSG_TRUNC, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SOCK_STREAM, SOMAXCONN,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import { sendSigurg } from '../../kernel/fasync';
import type { ReadinessCallback } from '../../vfs/file_description';
import { addon } from '../../native/addon';
import { Socket, type RecvResult, type SendRequest, type UCred } from '../socket';
import { SockOpts } from '../sockopt';
import { Deadline } from '../sock_wait';
import { buildInetAddr, familyOfRaw, parseInetAddr } from '../inet/sockaddr_in';
import { hostRecvControl, hostSendControl } from './host_cmsg';
import { hostOptAllowed, hostSolSocketName } from './host_opts';
import { forgetHostFd, watchHostFd } from './host_watch';

const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_PRIORITY = 12;
const SO_ACCEPTCONN = 30;
const FIONREAD = 0x541b, TIOCOUTQ = 0x5411, SIOCATMARK = 0x8905, SIOCOUTQNSD = 0x894b;
const RECV_FLAGS = MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | MSG_ERRQUEUE;
const MAX_IO = 1 << 20;
const MSG_CONFIRM = 0x800;
/** The addon receives with it (no fd may leak); the program did not ask for it. */
const MSG_CMSG_CLOEXEC = 0x40000000;
const SEND_FLAGS = MSG_OOB | MSG_DONTWAIT | MSG_EOR | MSG_NOSIGNAL | MSG_MORE | MSG_CONFIRM;
/** Room for the host's control messages: every kind a host socket can be asked for at once. */
const CONTROL_ROOM = 4096;

/** A host call's result, or its -errno thrown as the same errno for the application. */
export function check(r: number): number {
  if (r < 0) fail(-r);
  return r;
}

export class HostSocket extends Socket {
  readonly opts = new SockOpts();
  private closed = false;
  /** Stream bytes taken from the host that a reader's buffer could not hold (it faulted
   *  part-way): the next receive gives them first, as Linux leaves them queued. */
  private pending: Uint8Array | null = null;
  /** While the socket has an owner: the watch that sends it SIGURG. */
  private urgWatch: (() => void) | null = null;

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

  override solSocketSet(name: number, val: Uint8Array): void {
    const host = hostSolSocketName(name);
    // A priority above 6 needs CAP_NET_ADMIN on the host: it stays the sandbox's.
    if (host < 0 || (name === SO_PRIORITY && val.length >= 4 && new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true) > 6)) return;
    check(addon().hostSetsockopt(this.hostFd, SOL_SOCKET, host, val));
  }

  private deadline(rcv: boolean, dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : rcv ? this.opts.rcvtimeo : this.opts.sndtimeo);
  }

  private waitFor(t: Task, dl: Deadline, events: number): Promise<void> {
    return dl.wait(t, (wake) => watchHostFd(this.hostFd, events, wake));
  }

  bind(_t: Task, raw: Uint8Array): void {
    const b = this.hostAddr(raw, true);
    check(addon().hostBindConnect(this.hostFd, b, false));
  }

  listen(_t: Task, backlog: number): void {
    if (this.type !== SOCK_STREAM) fail(EOPNOTSUPP);
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
    const addr = req.addr && req.addr.length > 0 ? this.hostAddr(req.addr, false) : new Uint8Array(0);
    const control = hostSendControl(req.control ?? null, this.family, this.type);
    return this.sendFrom(t, req, addr, control, 0, this.deadline(false, (req.flags & MSG_DONTWAIT) !== 0));
  }

  private sendFrom(t: Task, req: SendRequest, addr: Uint8Array, control: Uint8Array, sent: number, dl: Deadline): number | Promise<number> {
    const flags = req.flags & SEND_FLAGS;
    for (;;) {
      const chunk = req.data.subarray(sent, Math.min(req.data.length, sent + (this.type === SOCK_STREAM ? MAX_IO : req.data.length)));
      // The control messages go with the first bytes only.
      const r = addon().hostSendmsg(this.hostFd, chunk, flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL), addr, sent === 0 ? control : NONE);
      if (r >= 0) {
        sent += r;
        if (this.type !== SOCK_STREAM || sent >= req.data.length) return sent;
        continue;
      }
      if (-r === EAGAIN && !dl.nonblocking) {
        return this.waitFor(t, dl, POLLOUT).then(() => this.sendFrom(t, req, addr, control, sent, dl),
          (e: unknown) => { if (sent > 0) return sent; throw e; });
      }
      if (sent > 0) return sent;
      if (-r === EPIPE && !(req.flags & MSG_NOSIGNAL)) sendSignalToThread(t, userSigInfo(t, SIGPIPE));
      fail(-r);
    }
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    // The error queue never waits (ip_recv_error).
    if (flags & MSG_ERRQUEUE) flags |= MSG_DONTWAIT;
    return this.recvInto(t, Math.min(max, MAX_IO), null, flags & RECV_FLAGS, 0, this.deadline(true, (flags & MSG_DONTWAIT) !== 0));
  }

  /** Receive into a buffer of at most max bytes, sized by what the host holds (FIONREAD: the
   *  next datagram, or the stream's queued bytes): no megabyte zeroed for a 64-byte answer. */
  private recvInto(t: Task, max: number, buffer: Uint8Array | null, flags: number, got: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    const held = this.pending;
    if (held !== null && got === 0 && (flags & (MSG_ERRQUEUE | MSG_OOB)) === 0) {
      const take = Math.min(max, held.length);
      const waitAll = (flags & MSG_WAITALL) !== 0 && (flags & MSG_PEEK) === 0 && take < max;
      const b = buffer ?? new Uint8Array(waitAll ? max : take);
      b.set(held.subarray(0, take));
      if ((flags & MSG_PEEK) === 0) this.pending = take === held.length ? null : held.subarray(take);
      if (waitAll) return this.recvInto(t, max, b, flags, take, dl);
      return { n: take, data: b.subarray(0, take), from: null, rights: null, creds: null, flags: 0 };
    }
    const from = new Uint8Array(128);
    const meta = new Int32Array(3);
    const control = new Uint8Array(CONTROL_ROOM);
    let buf = buffer;
    for (;;) {
      if (buf === null) {
        const avail = flags & MSG_ERRQUEUE ? 0 : addon().hostSockIoctl(this.hostFd, FIONREAD);
        // Nothing queued yet (or a zero-length datagram): room for any datagram that may
        // land before the call, so none is cut short by a race.
        buf = new Uint8Array(flags & MSG_WAITALL ? max : Math.min(max, avail > 0 ? avail : 65536));
      }
      const b = buf;
      const r = addon().hostRecvmsg(this.hostFd, b.subarray(got), flags & ~(MSG_DONTWAIT | MSG_WAITALL), from, control, meta);
      if (r >= 0) {
        const stream = this.type === SOCK_STREAM;
        if (stream && (flags & MSG_WAITALL) && r > 0 && got + r < b.length) { got += r; continue; }
        const n = stream ? got + r : r;
        const errq = (flags & MSG_ERRQUEUE) !== 0;
        return {
          n, data: b.subarray(0, Math.min(n, b.length)), from: meta[0] > 0 && (!stream || errq) ? from.slice(0, Math.min(meta[0], from.length)) : null,
          rights: null, creds: null, flags: meta[1] & ~MSG_CMSG_CLOEXEC, cmsgs: meta[2] > 0 ? hostRecvControl(control, meta[2]) : undefined,
        };
      }
      if (-r === EAGAIN && !dl.nonblocking) {
        // A caller's buffer (read) is kept for the retry, as is one partly filled.
        const keep = got > 0 || buffer !== null ? b : null;
        return this.waitFor(t, dl, POLLIN).then(() => this.recvInto(t, max, keep, flags, got, dl),
          (e: unknown) => { if (got > 0) return { n: got, data: b.subarray(0, got), from: null, rights: null, creds: null, flags: 0 }; throw e; });
      }
      if (got > 0) return { n: got, data: b.subarray(0, got), from: null, rights: null, creds: null, flags: 0 };
      fail(-r);
    }
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (dst.length === 0 && this.type === SOCK_STREAM) return 0;
    if (this.type === SOCK_STREAM) {
      // Straight into the caller's buffer: no buffer of our own to zero and copy out of.
      const into = dst.subarray(0, Math.min(dst.length, MAX_IO));
      const r = this.recvInto(t, into.length, into, 0, 0, this.deadline(true, false));
      return r instanceof Promise ? r.then((x) => x.n) : r.n;
    }
    const fin = (r: RecvResult): number => { dst.set(r.data.subarray(0, Math.min(r.data.length, dst.length))); return Math.min(r.n, dst.length); };
    const r = this.recvmsg(t, dst.length, 0);
    return r instanceof Promise ? r.then(fin) : fin(r);
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return this.sendmsg(t, { data: src.slice(), addr: null, rights: null, creds: null, flags: 0 });
  }

  override getsockoptProto(_t: Task, level: number, name: number, len: number): Uint8Array {
    if (!hostOptAllowed(level, name, false)) fail(ENOPROTOOPT);
    const out = new Uint8Array(Math.max(4, Math.min(len, 256)));
    const n = check(addon().hostGetsockopt(this.hostFd, level, name, out));
    return out.slice(0, n);
  }

  override setsockoptProto(_t: Task, level: number, name: number, val: Uint8Array): void {
    if (!hostOptAllowed(level, name, true)) fail(ENOPROTOOPT);
    check(addon().hostSetsockopt(this.hostFd, level, name, val));
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
    const held = this.pending !== null ? mask & (POLLIN | POLLRDNORM) : 0;
    return rev < 0 || rev & POLLNVAL ? POLLERR : rev | held;
  }

  /** Bytes a reader took but could not hold (see pending). */
  override putBack(data: Uint8Array): void {
    if (this.type !== SOCK_STREAM || data.length === 0) return;
    const held = this.pending;
    if (held === null) { this.pending = data.slice(); return; }
    const both = new Uint8Array(data.length + held.length);
    both.set(data);
    both.set(held, data.length);
    this.pending = both;
  }

  /** send_sigurg for a host stream: the owner gets SIGURG when urgent data appears (POLLPRI
   *  rises; data edges are watched too, so its fall is seen before the next rise). */
  override ownerChanged(t: Task, owned: boolean): void {
    this.urgWatch?.();
    this.urgWatch = null;
    if (!owned || this.type !== SOCK_STREAM || this.closed) return;
    const k = t.kernel;
    let pri = (this.readiness(POLLPRI) & POLLPRI) !== 0;
    this.urgWatch = watchHostFd(this.hostFd, POLLIN | POLLPRI, () => {
      const now = (this.readiness(POLLPRI) & POLLPRI) !== 0;
      if (now && !pri) sendSigurg(k, this);
      pri = now;
    }, true);
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return watchHostFd(this.hostFd, mask, cb);
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    if (cmd === FIONREAD || cmd === TIOCOUTQ || cmd === SIOCATMARK || cmd === SIOCOUTQNSD) {
      const held = cmd === FIONREAD ? this.pending?.length ?? 0 : 0;
      t.mm.writeI32(arg, check(addon().hostSockIoctl(this.hostFd, cmd)) + held);
      return 0;
    }
    return super.ioctl(t, cmd, arg) as number;
  }

  override release(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    this.urgWatch?.();
    this.urgWatch = null;
    forgetHostFd(this.hostFd);
    try { fs.closeSync(this.hostFd); } catch { /* already gone */ }
  }
}

const NONE = new Uint8Array(0);

/** socket(2) for a host-network sandbox: the family, type and protocol are checked by the
 *  caller (inet/create.ts) before the host sees them. */
export function newHostSocket(family: number, type: number, protocol: number, nonblock: boolean, uid: number, gid: number): HostSocket {
  if (family !== AF_INET && family !== AF_INET6) fail(EINVAL);
  const fd = check(addon().hostSocket(family, type, protocol));
  return new HostSocket(fd, nonblock ? O_NONBLOCK : 0, family, type, protocol, uid, gid);
}
