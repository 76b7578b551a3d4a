// Reading a NAT flow's host socket straight into the gateway endpoint's send chunks (Node's
// net onread with a buffer of ours): the host kernel writes the bytes where the segments that
// carry them into the sandbox are views of — no copy in the sentry on the way in. A read that
// filled less than half a chunk is copied into the queue instead (it coalesces with the next
// ones there) and the chunk is read into again, so a trickle does not pin a chunk per read.

import { HEADROOM } from '../../tcpip/tcp/send_queue';
import { chunkPool } from '../../tcpip/tcp/chunk_pool';

/** Where the bytes go: the chunk (HEADROOM, then n bytes) is the sink's to keep when adopt;
 *  otherwise it must copy them. Returns false to pause the host socket. */
export type HostSink = (chunk: Uint8Array, n: number, adopt: boolean) => boolean;

export class HostReader {
  /** Bytes per chunk (the endpoint's MSS, so the chunk is one segment's view). */
  goal = 65536;
  sink: HostSink | null = null;
  private spare: Uint8Array | null = null;
  private closed = false;

  /** The onread option of net.connect. */
  readonly onread = {
    buffer: (): Uint8Array => {
      if (!this.spare || this.spare.length !== HEADROOM + this.goal) this.spare = chunkPool.take(HEADROOM + this.goal);
      return this.spare.subarray(HEADROOM);
    },
    callback: (n: number, _buf: Uint8Array): boolean => {
      const chunk = this.spare;
      if (!chunk || !this.sink || this.closed || n <= 0) return true;
      const adopt = n >= this.goal >> 1;
      if (adopt) this.spare = null;
      return this.sink(chunk, n, adopt);
    },
  };

  /** The flow ended: the spare chunk goes back only if no read can still be filling it. */
  close(): void {
    this.closed = true;
    this.sink = null;
    this.spare = null;
  }
}
