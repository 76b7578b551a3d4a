// Transport: how whole 9P messages reach a server. SocketTransport is a unix stream socket
// driven through the addon (blocking with a deadline, SCM_RIGHTS fds received with replies).

import { addon } from '../native/addon';

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

export class SocketTransport implements Transport {
  private readonly fdsOut = new Int32Array(5);
  private closed = false;
  private readonly stats = wireStats();

  constructor(readonly fd: number, private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

  send(msg: Uint8Array): void {
    this.stats?.count(msg);
    addon().p9Send(this.fd, msg, this.timeoutMs);
  }

  recv(maxSize: number): Received {
    return this.take(addon().p9Recv(this.fd, this.fdsOut, maxSize, this.timeoutMs));
  }

  call(msg: Uint8Array, maxSize: number): Received {
    this.stats?.count(msg);
    return this.take(addon().p9Call(this.fd, msg, this.fdsOut, maxSize, this.timeoutMs));
  }

  private take(msg: Buffer): Received {
    const n = this.fdsOut[0];
    const fds: number[] = [];
    for (let i = 0; i < n; i++) fds.push(this.fdsOut[1 + i]);
    return { msg: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), fds };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    addon().p9Close(this.fd);
  }
}
