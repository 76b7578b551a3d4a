// The NAT's host reads straight into send chunks (ts/net/nat/host_reader.ts) against a real
// host socket on 127.0.0.1: 4 MiB sent in uneven writes arrive whole and in order, large reads
// are handed over as pooled chunks (HEADROOM in front, never reused under the holder), small
// ones are copied and their chunk read into again, a sink that says "pause" pauses the socket
// until resumed; after close nothing more is delivered.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { HostReader } from '../../../ts/net/nat/host_reader';
import { HEADROOM } from '../../../ts/tcpip/tcp/send_queue';
import { chunkPool } from '../../../ts/tcpip/tcp/chunk_pool';

const byteAt = (i: number): number => (i * 31 + (i >>> 11)) & 0xff;

describe('NAT host reader', () => {
  it('4 MiB from a host socket: in order, big reads adopted as chunks, small ones copied, pause and resume', async () => {
    const total = 4 << 20;
    const sizes = [1, 70_000, 333, 1 << 20, 5000, 200_000];
    const server = net.createServer((c) => {
      let at = 0;
      let k = 0;
      const go = (): void => {
        while (at < total) {
          const n = Math.min(sizes[k++ % sizes.length], total - at);
          const b = Buffer.alloc(n);
          for (let i = 0; i < n; i++) b[i] = byteAt(at + i);
          at += n;
          if (!c.write(b)) { c.once('drain', go); return; }
        }
        c.end();
      };
      go();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const reader = new HostReader();
    reader.goal = 65_000;
    let got = 0;
    let bad = 0;
    let adopted = 0;
    let copied = 0;
    let pauses = 0;
    const held: Uint8Array[] = [];
    const sock = net.connect({ host: '127.0.0.1', port, onread: reader.onread });
    reader.sink = (chunk, n, adopt) => {
      expect(chunk.length).toBe(HEADROOM + 65_000);
      for (let i = 0; i < n; i++) if (chunk[HEADROOM + i] !== byteAt(got + i)) bad++;
      got += n;
      if (adopt) { adopted++; expect(n).toBeGreaterThanOrEqual(32_500); held.push(chunk.subarray(HEADROOM, HEADROOM + n).slice()); held.push(chunk); }
      else copied++;
      // Every 8th adopted chunk asks for a pause; the socket comes back on the next turn.
      if (adopt && adopted % 8 === 0) { pauses++; setImmediate(() => sock.resume()); return false; }
      return true;
    };
    await new Promise<void>((r) => sock.on('end', () => r()));
    server.close();
    expect([got, bad]).toEqual([total, 0]);
    expect(adopted).toBeGreaterThan(0);
    expect(pauses).toBeGreaterThan(0);
    // An adopted chunk is the holder's: the reader never fills it again.
    let changed = 0;
    for (let i = 0; i < held.length; i += 2) if (Buffer.compare(held[i + 1].subarray(HEADROOM, HEADROOM + held[i].length), held[i]) !== 0) changed++;
    expect(changed).toBe(0);
    for (let i = 1; i < held.length; i += 2) expect(chunkPool.owns(held[i])).toBe(true);
    reader.close();
    expect(reader.onread.callback(10, new Uint8Array(10))).toBe(true);
    sock.destroy();
  }, 60_000);
});
