// Host bytes coming into the sandbox through the NAT in bursts (ts/net/nat/tcp_splice.ts):
// the chunks libuv reads full in one turn leave as segments together once the burst ends, so
// a sandbox reader woken by them finds the burst, not one chunk (each wake of a sleeping task
// costs a hand-off: one per chunk made a 1 MiB read take 16 of them); a lone short message
// leaves at once. Real host sockets on 127.0.0.1 (the gateway address 10.0.2.2 stands for it).
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { newSandboxNetwork } from '../../../ts/net/nat/network';
import { connectToGateway, until as untilEvery } from './nat_client';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { POLLIN } from '../../../ts/abi/linux/poll';

const until = (cond: () => boolean, ms = 20_000): Promise<void> => untilEvery(cond, ms, 2);


const byteAt = (i: number): number => (i * 7 + (i >>> 13)) & 0xff;

describe('NAT: host bursts into the sandbox', () => {
  it('a reader woken by host data finds whole bursts, the bytes intact; a lone message is not held', async () => {
    const total = 16 << 20;
    let hostSide: net.Socket | null = null;
    const server = net.createServer((s) => {
      hostSide = s;
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const { stack, nat } = newSandboxNetwork({ dns: null });
    try {
      const c = connectToGateway(stack, port);
      await until(() => c.state === TCPS.ESTABLISHED && hostSide !== null);
      expect(c.state).toBe(TCPS.ESTABLISHED);
      // A lone short message arrives without waiting for anything after it.
      hostSide!.write('hello');
      await until(() => c.rcvQueued === 5, 5_000);
      expect(c.read(5, false).toString()).toBe('104,101,108,108,111');

      // The sandbox's reader: woken (a microtask after the notification, as a blocked task
      // resumes), it takes everything queued.
      let wakes = 0;
      let got = 0;
      let bad = 0;
      let scheduled = false;
      const drain = (): void => {
        scheduled = false;
        if (c.rcvQueued === 0) return;
        wakes++;
        const v = c.read(c.rcvQueued, false);
        for (let i = 0; i < v.length; i++) if (v[i] !== byteAt(got + i)) bad++;
        got += v.length;
        stack.flush();
      };
      c.owner = { notify: (m: number) => { if (m & POLLIN && !scheduled) { scheduled = true; queueMicrotask(drain); } } };
      const b = Buffer.alloc(total);
      for (let i = 0; i < total; i++) b[i] = byteAt(i);
      hostSide!.end(b);
      await until(() => got === total || c.finReceived);
      await until(() => got === total);
      expect([got, bad]).toEqual([total, 0]);
      // 16 MiB is about 256 host chunks of the MSS; read one chunk per wake it took about
      // 256 wakes, read per burst (libuv reads up to 32 chunks a turn) far fewer.
      expect(wakes).toBeLessThan(total / 65_483 / 4);
    } finally {
      nat.close();
      server.close();
    }
  }, 60_000);
});
