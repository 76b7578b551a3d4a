// A 9P transport for unit tests of the client: every request the client writes (several may
// come in one write) is decoded, recorded in `sent`, and answered with what the test's server
// function returns, queued in order for the client's next reads.
import * as m from '../../ts/p9/messages';
import type { Received, Transport } from '../../ts/p9/transport';

export class ScriptedTransport implements Transport {
  readonly sent: m.Message[] = [];
  protected readonly ready: Received[] = [];
  constructor(private readonly serve: (req: m.Message) => Received[] = () => []) {}
  send(msgs: Uint8Array): void {
    for (let at = 0; at < msgs.length;) {
      const size = new DataView(msgs.buffer, msgs.byteOffset + at).getUint32(0, true);
      const req = m.decodeMessage(msgs.subarray(at, at + size));
      at += size;
      this.sent.push(req);
      this.ready.push(...this.serve(req));
    }
  }
  recv(): Received {
    const r = this.ready.shift();
    if (!r) throw new Error('ECONNRESET: no reply');
    return r;
  }
  call(msg: Uint8Array): Received { this.send(msg); return this.recv(); }
  poll(): Received | null { return this.ready.shift() ?? null; }
  recvWithin(): Received | null { return this.ready.shift() ?? null; }
  watch(_fn: () => void): () => void { return () => {}; }
  close(): void {}
}

export function p9Reply(type: number, tag: number, fields: m.Fields, fds: number[] = []): Received {
  return { msg: m.encodeMessage(type, tag, fields), fds };
}
