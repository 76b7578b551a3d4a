// One TCP flow of the user-mode NAT: a TCP endpoint of the gateway stack (the sandbox's peer)
// joined to a host socket (slirp's tcp_emu-less splice). Bytes the sandbox sent are read from
// the endpoint and written to the host socket; while the host socket's buffer is full the
// endpoint is not read, so its receive window closes and the sandbox waits. Bytes from the
// host go into the endpoint's send queue; past its send buffer the host socket is paused.
// A FIN either way becomes the other side's end (half-close kept: allowHalfOpen); a reset
// either way becomes a reset (RST on the wire, resetAndDestroy on the host). Bytes are not
// copied in the sentry either way: the endpoint's receive views go to the host socket as they
// are (one writev per round, each view held until its write is done), and the host socket
// reads straight into send chunks (host_reader.ts).

import type * as net from 'node:net';
import type { TcpEndpoint } from '../../tcpip/tcp/endpoint';
import { TCPS } from '../../tcpip/tcp/states';
import type { Stack } from '../../tcpip/stack';
import { HEADROOM } from '../../tcpip/tcp/send_queue';
import { chunkPool } from '../../tcpip/tcp/chunk_pool';
import type { HostReader } from './host_reader';

/** Bytes taken from the endpoint per round of host writes. */
const CHUNK = 256 << 10;

export class TcpSplice {
  private scheduled = false;
  /** Host chunks are queued whose segments wait for the end of the read burst. */
  private burst = false;
  private hostBlocked = false;
  private hostPaused = false;
  private hostEnded = false;
  private sentEnd = false;
  private done = false;

  constructor(private readonly gw: Stack, readonly ep: TcpEndpoint, private readonly sock: net.Socket,
    private readonly onDone: () => void, private readonly reader: HostReader | null = null) {
    ep.owner = this;
    if (reader) {
      reader.goal = ep.sndMss;
      reader.sink = (chunk, n, adopt) => this.fromHostChunk(chunk, n, adopt);
    }
    sock.on('data', (b: Buffer) => this.fromHost(b));
    sock.on('end', () => { this.hostEnded = true; if (!this.done) { this.ep.shutdownSend(); this.gw.flush(); this.pump(); } });
    sock.on('drain', () => { this.hostBlocked = false; this.pump(); });
    sock.on('error', () => this.hostReset());
    sock.on('close', (hadError: boolean) => { if (hadError) this.hostReset(); });
    this.pump();
  }

  /** The endpoint's events (called from inside the stack: the work is done later). */
  notify(_mask: number): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    queueMicrotask(() => { this.scheduled = false; this.pump(); });
  }

  /** Host bytes as a stream's data events bring them (a socket without a reader). */
  private fromHost(b: Buffer): void {
    if (this.done) return;
    this.ep.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.length));
    this.sent();
    if (this.hostPaused) this.sock.pause();
  }

  /** Host bytes the reader put in a send chunk; false pauses the host socket. A chunk read
   *  full is likely one of a burst (libuv reads on while its buffer fills, up to 32 times a
   *  turn): its segments leave after the burst (GRO-like), so the sandbox's reader wakes once
   *  for all of it instead of once per chunk. A short read ends the burst: everything leaves
   *  now, so a lone message is not delayed. */
  private fromHostChunk(chunk: Uint8Array, n: number, adopt: boolean): boolean {
    if (this.done) return true;
    if (adopt) this.ep.enqueueChunk(chunk, n);
    else this.ep.enqueue(chunk.subarray(HEADROOM, HEADROOM + n));
    if (n >= (this.reader?.goal ?? Infinity) && this.ep.sndSpace > 0) {
      if (!this.burst) {
        this.burst = true;
        setImmediate(() => { this.burst = false; if (!this.done) this.sent(); });
      }
      return true;
    }
    this.sent();
    return !this.hostPaused;
  }

  private sent(): void {
    this.ep.output();
    this.gw.flush();
    if (this.ep.sndSpace <= 0) this.hostPaused = true;
  }

  /** One round of sandbox → host: the receive queue's views, corked into one writev. */
  private toHost(): void {
    const ep = this.ep;
    const sock = this.sock;
    sock.cork();
    let taken = 0;
    while (taken < CHUNK && ep.rcvQueued > 0) {
      taken += ep.readTo(CHUNK - taken, false, (v) => {
        // A pooled view stays ours until the host has it (the queue lets go of it now).
        const held = chunkPool.retain(v);
        sock.write(v, held ? () => chunkPool.release(v.buffer) : undefined);
        return v.length;
      });
    }
    sock.uncork();
    if (sock.writableNeedDrain) this.hostBlocked = true;
  }

  private pump(): void {
    if (this.done) return;
    const ep = this.ep;
    if (ep.state === TCPS.SYN_SENT || ep.state === TCPS.SYN_RECV) return;
    if (ep.state === TCPS.CLOSE && ep.err !== 0) { this.finish(true); return; }
    // sandbox → host
    while (!this.hostBlocked && ep.rcvQueued > 0) this.toHost();
    if (ep.finReceived && ep.rcvQueued === 0 && !this.sentEnd) { this.sentEnd = true; this.sock.end(); }
    // host → sandbox
    if (this.hostPaused && ep.sndSpace >= ep.sndBufSize >> 1) { this.hostPaused = false; this.sock.resume(); }
    this.gw.flush();
    if (ep.state === TCPS.CLOSE) { this.finish(false); return; }
    if (this.sentEnd && this.hostEnded) {
      // Both directions ended: the endpoint finishes its FIN exchange alone.
      this.done = true;
      this.reader?.close();
      ep.close();
      this.gw.flush();
      this.onDone();
    }
  }

  private hostReset(): void {
    if (this.done) return;
    this.done = true;
    this.reader?.close();
    this.ep.owner = null;
    if (this.ep.state !== TCPS.CLOSE) this.ep.abort();
    this.gw.flush();
    this.sock.destroy();
    this.onDone();
  }

  private finish(reset: boolean): void {
    this.done = true;
    this.reader?.close();
    this.ep.owner = null;
    if (reset) this.sock.resetAndDestroy();
    else if (!this.sentEnd) this.sock.end();
    this.onDone();
  }

  /** Tear down (the sandbox ends). */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.reader?.close();
    this.ep.owner = null;
    this.sock.destroy();
  }
}
