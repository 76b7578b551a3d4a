// A sandbox client reconnecting through the NAT from the port of a flow the gateway still
// holds in TIME_WAIT (the host server closed first): the SYN reopens it and goes to the NAT
// as a new flow — a second host connection — instead of being ignored for the 60 s wait.
// Real host sockets on 127.0.0.1 (the gateway address 10.0.2.2 stands for it).
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { newSandboxNetwork } from '../../../ts/net/nat/network';
import { connectToGateway, until as untilEvery } from './nat_client';
import { TCPS } from '../../../ts/tcpip/tcp/states';

const until = (cond: () => boolean, ms = 10_000): Promise<void> => untilEvery(cond, ms, 5);


describe('NAT and TIME_WAIT', () => {
  it('a reconnect from the same port while the gateway holds the old flow in TIME_WAIT reaches the host again', async () => {
    let accepted = 0;
    // The host server speaks first and closes first (as an HTTP/1.0 server does).
    const server = net.createServer((s) => { accepted++; s.end('bye'); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const { stack, gateway, nat } = newSandboxNetwork({ dns: null });
    try {
      const c = connectToGateway(stack, port, 43210, true);
      await until(() => c.finReceived);
      expect([c.state, c.rcvQueued]).toEqual([TCPS.CLOSE_WAIT, 3]);
      c.read(3, false);
      c.close();
      stack.flush();
      await until(() => c.state === TCPS.CLOSE);
      // The gateway's end closed first: it waits in TIME_WAIT.
      const tw = [...gateway.tcpEndpoints()].filter((e) => e.state === TCPS.TIME_WAIT);
      expect(tw.length).toBe(1);
      stack.tcpPorts.release(43210, c.binding!);
      const c2 = connectToGateway(stack, port, 43210, true);
      await until(() => c2.finReceived);
      expect([accepted, c2.rcvQueued, c2.finReceived]).toEqual([2, 3, true]);
      // Taken at once: not after a RST from the client's SYN_SENT ended the wait and the SYN
      // was sent again a second later.
      expect(c2.totalRetrans).toBe(0);
    } finally {
      nat.close();
      server.close();
    }
  }, 30_000);
});
