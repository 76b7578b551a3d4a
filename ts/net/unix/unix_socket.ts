// A unix-domain socket (Linux net/unix/af_unix.c, gVisor pkg/sentry/socket/unix): its
// name, its state (unconnected, listening, connected), its peer, its receive queue and the
// connections waiting to be accepted, and the send-buffer charge of what it has sent and
// nobody has read yet. Moving data is in unix_stream.ts and unix_dgram.ts; this file is
// naming, connecting, shutting down, closing, and readiness.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EADDRINUSE, EAGAIN, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, ENOTCONN, ENOTSUP as EOPNOTSUPP, ENOTTY, EPERM,
  EPROTOTYPE,
} from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../../abi/linux/poll';
import {
  AF_UNIX, AF_UNSPEC, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK, SHUT_RD, SHUT_RDWR, SIOCINQ, SIOCOUTQ, SOCK_DGRAM,
  SOCK_SEQPACKET, SOCK_STREAM, SOMAXCONN, TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN, UNIX_MAX_DGRAM_QLEN,
} from '../../abi/linux/socket';
import { WaitQueue } from '../../kernel/poll/wait_queue';
import type { ReadinessCallback } from '../../vfs/file_description';
import { Socket, ucredOf, type RecvResult, type SendRequest, type UCred } from '../socket';
import { SockOpts } from '../sockopt';
import { Deadline } from '../sock_wait';
import { familyOf, parseUnixAddr, unnamed, type UnixName } from '../sockaddr';
import { findByPath, mknodSocket, unixNamespaceOf, type UnixNamespace } from './names';
import { dropRights, type Message } from './message';
import { recvStream, sendStream } from './unix_stream';
import { recvDgram, sendDgram } from './unix_dgram';

export class UnixSocket extends Socket {
  readonly opts = new SockOpts();
  readonly ns: UnixNamespace;
  state = TCP_CLOSE;
  peer: UnixSocket | null = null;
  /** The stored sockaddr (family + name) once bound. */
  addr: Uint8Array | null = null;
  private boundKey: { abstract: boolean; key: string } | null = null;
  shutdownBits = 0;
  err = 0;
  readonly recvQueue: Message[] = [];
  readonly acceptQueue: UnixSocket[] = [];
  backlog = 0;
  /** Bytes (truesize) this socket sent that are still queued somewhere: its send buffer use. */
  wmem = 0;
  peerCredVal: UCred | null = null;
  dead = false;
  /** Set while this socket waits in a listener's queue (an "embryo"). */
  embryo = false;
  /** Readers, writers and pollers of this socket (sk_wq). */
  readonly queue = new WaitQueue();
  /** Who waits for room in our receive queue or backlog (unix peer_wait). */
  readonly peerWait = new WaitQueue();
  /** Pollers of sockets whose sends to us were refused for a full queue: told when it drains. */
  readonly drainWatchers = new Set<UnixSocket>();

  /** write(fd, buf, 0) sends an empty datagram (sock_write_iter has no zero-count shortcut);
   *  a stream's zero-length send is a no-op apart from its errors, which the shortcut skips. */
  override readonly writesEmpty: boolean;

  constructor(t: Task, flags: number, type: number) {
    super(flags, AF_UNIX, type, 0, t.creds.euid, t.creds.egid);
    this.writesEmpty = type !== SOCK_STREAM;
    this.ns = unixNamespaceOf(t);
    this.ns.live.add(this);
  }

  get connectionBased(): boolean { return this.type !== SOCK_DGRAM; }
  get listening(): boolean { return this.state === TCP_LISTEN; }
  peerCred(): UCred | null { return this.peerCredVal; }

  takeError(): number {
    const e = this.err;
    this.err = 0;
    return e;
  }

  /** How long a receive (or accept) may wait. */
  rcvDeadline(dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : this.opts.rcvtimeo);
  }

  sndDeadline(dontwait: boolean): Deadline {
    return new Deadline(dontwait || (this.flags & O_NONBLOCK) ? 0n : this.opts.sndtimeo);
  }

  // --- names ---

  bind(t: Task, raw: Uint8Array): void {
    const name = parseUnixAddr(raw, true);
    if (name.kind === 'autobind') {
      if (!this.addr) this.autobind();
      return;
    }
    if (this.addr) fail(EINVAL);
    if (name.kind === 'abstract') {
      if (this.ns.abstract.has(name.key)) fail(EADDRINUSE);
      this.ns.abstract.set(name.key, this);
      this.boundKey = { abstract: true, key: name.key };
    } else {
      const key = mknodSocket(t, name.path);
      this.ns.byInode.set(key, this);
      this.boundKey = { abstract: false, key };
    }
    this.addr = name.raw;
  }

  /** The socket file a bind made (device and inode), for sock_diag's UNIX_DIAG_VFS. */
  boundInode(): { dev: number; ino: number } | null {
    if (!this.boundKey || this.boundKey.abstract) return null;
    const [dev, ino] = this.boundKey.key.split(':').map(Number);
    return { dev, ino };
  }

  autobind(): void {
    const { key, raw } = this.ns.autobindName();
    this.ns.abstract.set(key, this);
    this.boundKey = { abstract: true, key };
    this.addr = raw;
  }

  /** Share the listener's name (an accepted socket's getsockname is the listener's). */
  inheritName(addr: Uint8Array | null): void { this.addr = addr; }

  getsockname(): Uint8Array { return this.addr ?? unnamed(); }

  getpeername(): Uint8Array {
    if (!this.peer || (this.connectionBased && this.state !== TCP_ESTABLISHED)) fail(ENOTCONN);
    return this.peer.addr ?? unnamed();
  }

  /** unix_find_other: the socket a name leads to, of our type. */
  findOther(t: Task, name: UnixName): UnixSocket {
    let other: UnixSocket | undefined;
    if (name.kind === 'path') other = findByPath(t, name.path);
    else if (name.kind === 'abstract') other = this.ns.abstract.get(name.key);
    if (!other || other.dead) fail(ECONNREFUSED);
    // Abstract names are looked up per type (another type's name is not found); a socket
    // file of another type is EPROTOTYPE.
    if (other.type !== this.type) fail(name.kind === 'abstract' ? ECONNREFUSED : EPROTOTYPE);
    return other;
  }

  // --- connecting ---

  listen(t: Task, backlog: number): void {
    if (this.type === SOCK_DGRAM) fail(EOPNOTSUPP);
    if (!this.addr) fail(EINVAL);
    if (this.state !== TCP_CLOSE && this.state !== TCP_LISTEN) fail(EINVAL);
    const b = backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog;
    if (b > this.backlog) this.peerWait.notify(POLLOUT);
    this.backlog = b;
    this.state = TCP_LISTEN;
    this.peerCredVal = ucredOf(t);
  }

  connect(t: Task, raw: Uint8Array): number | Promise<number> {
    if (this.type === SOCK_DGRAM) return this.connectDgram(t, raw);
    const name = parseUnixAddr(raw, false);
    if (this.opts.passcred && !this.addr) this.autobind();
    return this.connectStream(t, name, this.sndDeadline(false));
  }

  private connectStream(t: Task, name: UnixName, dl: Deadline): number | Promise<number> {
    const other = this.findOther(t, name);
    if (this.state === TCP_ESTABLISHED) fail(EISCONN);
    if (this.state !== TCP_CLOSE) fail(EINVAL);
    if (other.state !== TCP_LISTEN || (other.shutdownBits & RCV_SHUTDOWN)) fail(ECONNREFUSED);
    if (other.acceptQueue.length > other.backlog) {
      if (dl.nonblocking) fail(EAGAIN);
      return dl.wait(t, (wake) => other.peerWait.subscribe(POLLOUT, wake)).then(() => this.connectStream(t, name, dl));
    }
    const newsk = new UnixSocket(t, 0, this.type);
    newsk.embryo = true;
    newsk.inheritName(other.addr);
    newsk.peerCredVal = ucredOf(t);
    newsk.opts.passcred = other.opts.passcred;
    newsk.peer = this;
    newsk.state = TCP_ESTABLISHED;
    this.peerCredVal = other.peerCredVal;
    this.peer = newsk;
    this.state = TCP_ESTABLISHED;
    other.acceptQueue.push(newsk);
    other.queue.notify(POLLIN);
    return 0;
  }

  private connectDgram(t: Task, raw: Uint8Array): number {
    if (raw.length < 2) fail(EINVAL);
    if (familyOf(raw) === AF_UNSPEC) {
      if (this.peer) this.disconnectDgram();
      return 0;
    }
    const name = parseUnixAddr(raw, false);
    if (this.opts.passcred && !this.addr) this.autobind();
    const other = this.findOther(t, name);
    if (other.peer && other.peer !== this) fail(EPERM);
    if (this.peer && this.peer !== other) this.disconnectDgram();
    this.peer = other;
    this.state = TCP_ESTABLISHED;
    this.queue.notify(POLLOUT);
    return 0;
  }

  /** unix_dgram_disconnected: what the old peer sent us is dropped. */
  disconnectDgram(): void {
    this.peer = null;
    this.state = TCP_CLOSE;
    this.purge();
  }

  accept(t: Task, _flags: number): Socket | Promise<Socket> {
    if (this.type !== SOCK_STREAM && this.type !== SOCK_SEQPACKET) fail(EOPNOTSUPP);
    if (this.state !== TCP_LISTEN) fail(EINVAL);
    return this.acceptFrom(t, this.rcvDeadline(false));
  }

  private acceptFrom(t: Task, dl: Deadline): Socket | Promise<Socket> {
    const newsk = this.acceptQueue.shift();
    if (!newsk) {
      if (dl.nonblocking) fail(EAGAIN);
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN, wake)).then(() => {
        if (this.state !== TCP_LISTEN) fail(EINVAL);
        return this.acceptFrom(t, dl);
      });
    }
    newsk.embryo = false;
    newsk.opts.passcred = this.opts.passcred;
    this.peerWait.notify(POLLOUT);
    return newsk;
  }

  shutdown(_t: Task, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(EINVAL);
    const mode = how + 1;
    this.shutdownBits |= mode;
    this.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    this.peerWait.notify(POLLOUT);
    const other = this.peer;
    if (other && this.connectionBased) {
      const peerMode = ((mode & RCV_SHUTDOWN) ? SEND_SHUTDOWN : 0) | ((mode & SEND_SHUTDOWN) ? RCV_SHUTDOWN : 0);
      other.shutdownBits |= peerMode;
      other.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    }
  }

  // --- data ---

  sendmsg(t: Task, req: SendRequest): number | Promise<number> {
    return this.type === SOCK_STREAM ? sendStream(t, this, req) : sendDgram(t, this, req);
  }

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    return this.type === SOCK_STREAM ? recvStream(t, this, max, flags) : recvDgram(t, this, max, flags);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    const r = this.recvmsg(t, dst.length, 0);
    const done = (res: RecvResult): number => {
      dst.set(res.data.subarray(0, Math.min(res.data.length, dst.length)));
      if (res.rights) for (const f of res.rights) f.decRef();
      return Math.min(res.data.length, dst.length);
    };
    return r instanceof Promise ? r.then(done) : done(r);
  }

  override write(t: Task, src: Uint8Array, _offset: number): number | Promise<number> {
    return this.sendmsg(t, { data: src.slice(), addr: null, rights: null, creds: null, flags: 0 });
  }

  /** A message we sent left a queue: our send buffer has that much more room. */
  uncharge(n: number): void {
    const wasWritable = this.writableNow();
    this.wmem -= n;
    if (!wasWritable || this.wmem < this.opts.sndbuf) this.queue.notify(POLLOUT);
  }

  /** A message left our receive queue: senders waiting for room may go on. */
  dequeued(): void {
    this.peerWait.notify(POLLOUT);
    for (const s of this.drainWatchers) s.queue.notify(POLLOUT);
    this.drainWatchers.clear();
  }

  override sndbufChanged(): void { this.queue.notify(POLLOUT); }

  /** Drop everything queued to us (close, dgram reconnect). */
  purge(): void {
    const had = this.recvQueue.length > 0;
    for (const m of this.recvQueue.splice(0)) {
      dropRights(m);
      m.sender.uncharge(m.truesize);
    }
    if (had) this.dequeued();
  }

  // --- readiness ---

  private writableNow(): boolean {
    return this.state !== TCP_LISTEN && this.wmem * 4 <= this.opts.sndbuf;
  }

  /** The receiver refuses us for a full queue (unix_dgram_sendmsg's unix_recvq_full test). */
  peerQueueFull(other: UnixSocket): boolean {
    return other !== this && other.peer !== this && other.recvQueue.length > UNIX_MAX_DGRAM_QLEN;
  }

  override readiness(mask: number): number {
    let m = 0;
    if (this.err) m |= POLLERR;
    if (this.shutdownBits === SHUTDOWN_MASK) m |= POLLHUP;
    if (this.shutdownBits & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.recvQueue.length > 0 || this.acceptQueue.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.connectionBased && this.state === TCP_CLOSE) m |= POLLHUP;
    let writable = this.writableNow();
    if (writable && this.type !== SOCK_STREAM && (mask & (POLLOUT | POLLWRNORM | POLLWRBAND))) {
      const other = this.peer;
      if (other && this.peerQueueFull(other)) {
        writable = false;
        other.drainWatchers.add(this);
      }
    }
    if (writable) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case SIOCINQ: {
        if (this.state === TCP_LISTEN) fail(EINVAL);
        let n = 0;
        if (this.type === SOCK_DGRAM) n = this.recvQueue[0]?.data.length ?? 0;
        else for (const m of this.recvQueue) n += m.data.length - m.consumed;
        t.mm.writeI32(arg, n);
        return 0;
      }
      case SIOCOUTQ:
        t.mm.writeI32(arg, this.wmem);
        return 0;
      default:
        fail(ENOTTY);
    }
  }

  // --- closing ---

  override release(): void {
    this.dead = true;
    this.ns.live.delete(this);
    if (this.boundKey) {
      const table = this.boundKey.abstract ? this.ns.abstract : this.ns.byInode;
      if (table.get(this.boundKey.key) === this) table.delete(this.boundKey.key);
      this.boundKey = null;
    }
    const hadUnread = this.recvQueue.length > 0;
    this.shutdownBits = SHUTDOWN_MASK;
    this.state = TCP_CLOSE;
    const skpair = this.peer;
    if (skpair && this.connectionBased) {
      skpair.shutdownBits = SHUTDOWN_MASK;
      if (hadUnread || this.embryo) skpair.err = ECONNRESET;
      skpair.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
      skpair.peerWait.notify(POLLOUT);
    }
    this.peer = null;
    this.purge();
    for (const e of this.acceptQueue.splice(0)) e.decRef();
    this.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
    this.peerWait.notify(POLLOUT);
    for (const s of this.drainWatchers) s.queue.notify(POLLOUT);
  }
}
