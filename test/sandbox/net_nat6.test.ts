// IPv6 beyond the sandbox's link (issue 8): eth0's fd00::15/64 with a default route via
// fd00::2, which the user-mode NAT takes to the host's ::1, and the resolver fd00::3. The test
// runs a TCP and a UDP echo server and a one-answer DNS resolver on the host's loopback; the C
// client (nat6.c) is differential — natively it talks to ::1 directly. --network=none has no
// route for it. Traffic never leaves the host's loopback.
import * as dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, leftOutOfKvmCi, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const python = '/usr/bin/python3';
let tcpEcho: net.Server;
let udpEcho: dgram.Socket;
let dns: dgram.Socket;
let ports: string[] = [];
let dnsPort = 0;
const queries: string[] = [];

beforeAll(async () => {
  tcpEcho = net.createServer({ allowHalfOpen: true }, (c) => { c.on('error', () => {}); c.pipe(c); });
  await new Promise<void>((r) => tcpEcho.listen(0, '::1', r));
  const refused = net.createServer();
  await new Promise<void>((r) => refused.listen(0, '::1', r));
  const refusedPort = (refused.address() as net.AddressInfo).port;
  await new Promise<void>((r) => refused.close(() => r()));
  udpEcho = dgram.createSocket('udp6');
  udpEcho.on('message', (m, ri) => udpEcho.send(m, ri.port, ri.address));
  await new Promise<void>((r) => udpEcho.bind(0, '::1', r));
  ports = [String((tcpEcho.address() as net.AddressInfo).port), String(refusedPort), String(udpEcho.address().port)];
  // The resolver answers any query with its own id and an empty answer section.
  dns = dgram.createSocket('udp4');
  dns.on('message', (q, ri) => {
    queries.push(q.subarray(12).toString('latin1'));
    const a = Buffer.from(q);
    a[2] = 0x81; a[3] = 0x80;
    dns.send(a, ri.port, ri.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  dnsPort = dns.address().port;
  process.env.TSVISOR_DNS_SERVER = `127.0.0.1:${dnsPort}`;
});

afterAll(() => {
  delete process.env.TSVISOR_DNS_SERVER;
  tcpEcho?.close();
  udpEcho?.close();
  dns?.close();
});

describe.each(platforms)('%s', (platform) => {
  it('TCP (4 MiB echo, half-close, refused) and UDP (echo, closed port) to the host\'s ::1 through fd00::2, as natively', async () => {
    const native = await runNative([fixture('nat6'), '::1', ...ports], { timeoutMs: 60_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('nat6'), 'fd00::2', ...ports], { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.stdout).toContain('echo 4194304 bytes, checksums equal 1');
    expect(r.code).toBe(0);
  }, 120_000);

  it.skipIf(skipBecause(!existsSync(python), 'no /usr/bin/python3') || leftOutOfKvmCi(platform, 'net_nat6\'s DNS case (the NAT\'s; two python3 starts, ~12 s there)'))('DNS over IPv6: a query to [fd00::3]:53 reaches the host\'s resolver; --network=none has no route', async () => {
    const script = [
      'import socket',
      's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(10)',
      "q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x05probe\\x00\\x00\\x01\\x00\\x01'",
      "s.sendto(q, ('fd00::3', 53)); a, peer = s.recvfrom(512)",
      'print(a[:2].hex(), hex(a[2]), peer[0], peer[1])',
      "t = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); t.connect(('fd00::3', 53)); print(t.getsockname()[0])",
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('1234 0x81 fd00::3 53\nfd00::15\n');
    expect(queries.some((q) => q.includes('probe'))).toBe(true);
    const none = await runSandbox([python, '-c', "import socket\ntry: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).connect(('fd00::3', 53))\nexcept OSError as e: print(e.errno)"],
      { platform, timeoutMs: 60_000, extraArgs: ['--network=none'] });
    expect(none.stdout, describeResult(none)).toBe('101\n');
  }, 120_000);
});
