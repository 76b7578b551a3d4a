// Transport: how whole 9P messages reach a server. SocketTransport is a unix stream socket
// driven through the addon (blocking with a deadline, SCM_RIGHTS fds received with replies).

import { addon } from '../native/addon';
import { POLLIN } from '../abi/linux/poll';
import { watchHostFd } from '../net/host/host_watch';

export interface Received {
  msg: Uint8Array;
  /** Host fds that came with the message (SCM_RIGHTS); the receiver owns them. */
  fds: number[];
}

export interface Transport {
  send(msg: Uint8Array): void;
  /** The next whole message from the server (size-checked against maxSize). */
  recv(maxSize: number): Received;
  /** send then recv in one step (one crossing for the common case of one request in flight). */
  call(msg: Uint8Array, maxSize: number): Received;
  /** The next whole message if one is here without waiting (read already, or on the socket
   *  now), else null: the asynchronous path's read (Client.callAsync). */
  poll(maxSize: number): Received | null;
  /** The next whole message if one comes within ms, else null (a reply the server may be
   *  slow to give: Client.finishWithin). */
  recvWithin(maxSize: number, ms: number): Received | null;
  /** fn on each edge of the connection's readability (it may find nothing new), until the
   *  returned undo: while any asynchronous request waits. Holds the sentry alive. */
  watch(fn: () => void): () => void;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** TSVISOR_P9_STATS=1: at exit, stderr gets how many writes (round trips, pipelined requests
 *  counted once) went to the server and how many requests of each type they carried: what a
 *  program costs in gofer traffic, independent of the host's load. TSVISOR_P9_STATS=2 also
 *  prints the request types of each write as it goes. */
class WireStats {
  writes = 0;
  readonly byType = new Map<number, number>();

  constructor(private readonly each: boolean) {}

  count(msg: Uint8Array): void {
    this.writes++;
    const types: number[] = [];
    for (let at = 0; at + 5 <= msg.length;) {
      const size = msg[at] | (msg[at + 1] << 8) | (msg[at + 2] << 16) | (msg[at + 3] << 24);
      this.byType.set(msg[at + 4], (this.byType.get(msg[at + 4]) ?? 0) + 1);
      if (this.each) types.push(msg[at + 4]);
      if (size < 7) break;
      at += size;
    }
    if (this.each) process.stderr.write(`tsvisor-p9: write ${this.writes}: ${types.map((t) => `T${t}`).join(' ')}\n`);
  }

  print(): void {
    const types = [...this.byType].sort((a, b) => a[0] - b[0]).map(([t, n]) => `T${t}:${n}`).join(' ');
    process.stderr.write(`tsvisor-p9: ${this.writes} writes; requests ${types}\n`);
  }
}

function wireStats(): WireStats | null {
  const v = process.env.TSVISOR_P9_STATS;
  if (v !== '1' && v !== '2') return null;
  const s = new WireStats(v === '2');
  process.on('exit', () => s.print());
  return s;
}

/** Bytes one read asks for at least: a pipelined batch of replies in one crossing. */
const READ_BYTES = 64 * 1024;

/** A message size outside [7, maxSize]: the stream cannot be trusted any more. */
export class FramingError extends Error {}

export class SocketTransport implements Transport {
  private readonly fdsOut = new Int32Array(5);
  private closed = false;
  private readonly stats = wireStats();
  /** Bytes read and not yet handed out: buf[start..end]; `base` is the stream offset of
   *  buf[0], so fds are kept by the stream offset of the message they belong to. */
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  private base = 0;
  private readonly fdsAt = new Map<number, number[]>();

  constructor(readonly fd: number, private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

  send(msg: Uint8Array): void {
    this.stats?.count(msg);
    addon().p9Send(this.fd, msg, this.timeoutMs);
  }

  recv(maxSize: number): Received {
    for (;;) {
      const m = this.whole(maxSize);
      if (m) return m;
      this.take(addon().p9RecvSome(this.fd, this.fdsOut, this.wanted(), this.timeoutMs));
    }
  }

  call(msg: Uint8Array, maxSize: number): Received {
    this.stats?.count(msg);
    if (this.end > this.start) {
      // Replies already here go first (a caller with nothing in flight never sees this).
      addon().p9Send(this.fd, msg, this.timeoutMs);
      return this.recv(maxSize);
    }
    this.take(addon().p9CallSome(this.fd, msg, this.fdsOut, this.wanted(), this.timeoutMs));
    return this.recv(maxSize);
  }

  poll(maxSize: number): Received | null {
    return this.recvWithin(maxSize, 0);
  }

  recvWithin(maxSize: number, ms: number): Received | null {
    const deadline = performance.now() + ms;
    for (;;) {
      const m = this.whole(maxSize);
      if (m) return m;
      let chunk: Buffer;
      try {
        chunk = addon().p9RecvSome(this.fd, this.fdsOut, this.wanted(), Math.max(0, Math.ceil(deadline - performance.now())));
      } catch (e) {
        // The deadline passed with nothing (more) on the socket.
        if (e instanceof Error && e.message.startsWith('ETIMEDOUT')) return null;
        throw e;
      }
      this.take(chunk);
    }
  }

  watch(fn: () => void): () => void {
    return watchHostFd(this.fd, POLLIN, fn);
  }

  /** How much the next read asks for: the rest of a message begun, and at least READ_BYTES. */
  private wanted(): number {
    const have = this.end - this.start;
    if (have < 4) return READ_BYTES;
    const b = this.buf, i = this.start;
    const size = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
    return Math.max(READ_BYTES, Math.min(size, 64 << 20) - have);
  }

  /** Appends one read's bytes; its fds go to the last message starting within them. */
  private take(chunk: Buffer): void {
    const nfds = this.fdsOut[0];
    const fds: number[] = [];
    for (let i = 0; i < nfds; i++) fds.push(this.fdsOut[1 + i]);
    if (this.end + chunk.length > this.buf.length) {
      const keep = this.end - this.start;
      const next = keep + chunk.length > this.buf.length ? new Uint8Array(Math.max(2 * this.buf.length, keep + chunk.length, READ_BYTES)) : this.buf;
      next.set(this.buf.subarray(this.start, this.end), 0);
      this.base += this.start;
      this.buf = next;
      this.start = 0;
      this.end = keep;
    }
    const from = this.end;
    this.buf.set(chunk, from);
    this.end += chunk.length;
    if (fds.length === 0) return;
    // The starts of the messages within [from, end): walk the framing from the next one.
    let owner = -1;
    for (let at = this.start; at < this.end;) {
      if (at >= from) owner = at;
      if (at + 4 > this.end) break;
      const b = this.buf;
      const size = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
      if (size < 7) break;
      at += size;
    }
    if (owner < 0) {
      for (const f of fds) addon().p9Close(f);
      throw new FramingError('9P: fds came with no message of their own');
    }
    const key = this.base + owner;
    this.fdsAt.set(key, [...(this.fdsAt.get(key) ?? []), ...fds]);
  }

  /** The next whole message, if buf holds it. */
  private whole(maxSize: number): Received | null {
    const have = this.end - this.start;
    if (have < 4) return null;
    const b = this.buf, i = this.start;
    const size = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
    if (size < 7 || size > maxSize) throw new FramingError(`9P: message size ${size} outside [7, ${maxSize}]`);
    if (have < size) return null;
    const msg = b.slice(i, i + size);
    const key = this.base + i;
    const fds = this.fdsAt.get(key) ?? [];
    this.fdsAt.delete(key);
    this.start += size;
    if (this.start === this.end) { this.base += this.start; this.start = this.end = 0; }
    return { msg, fds };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fds of this.fdsAt.values()) for (const f of fds) addon().p9Close(f);
    this.fdsAt.clear();
    addon().p9Close(this.fd);
  }
}
