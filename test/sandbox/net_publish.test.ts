// --publish of several ports at once, and for IPv6 (issue 8): one sandbox publishes a TCP port
// on the host's 127.0.0.1 and the same sandbox port on [::1], and a UDP port on [::1]; a
// dual-stack python3 server in the sandbox answers each host client with the address it saw:
// the gateway 10.0.2.2 (v4-mapped on its :: socket) for 127.0.0.1, fd00::2 for [::1]. The
// host's clients are Node's; traffic stays on the host's loopback.
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { platforms, repoRoot, sandboxArgs, skipBecause } from '../helpers/run';

const python = '/usr/bin/python3';

/** Whether the host has ::1 to listen on. */
const haveV6 = await new Promise<boolean>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(0, '::1', () => s.close(() => resolve(true)));
});
const skip = skipBecause(!existsSync(python), 'no /usr/bin/python3') || skipBecause(!haveV6, 'the host has no ::1');

async function freePort(udp: boolean, host: string): Promise<number> {
  if (udp) {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function tcpAsk(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const c = net.connect({ host, port }, () => {});
    c.on('data', (b: Buffer) => { got += b.toString(); });
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skip)('three --publish at once: TCP on 127.0.0.1 and on [::1] to one sandbox port, UDP on [::1]', async () => {
    const [a, b, c] = [await freePort(false, '127.0.0.1'), await freePort(false, '::1'), await freePort(true, '::1')];
    const script = [
      'import socket',
      't = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.bind(("::", 7001)); t.listen(8)',
      'u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", 7002))',
      'print("ready", flush=True)',
      'for i in range(2):',
      '    s, peer = t.accept(); s.sendall(peer[0].encode()); s.close(); print("tcp", peer[0], flush=True)',
      'd, peer = u.recvfrom(100); u.sendto(d.upper() + b" " + peer[0].encode(), peer); print("udp", peer[0], flush=True)',
    ].join('\n');
    const child = spawn(process.execPath, sandboxArgs([python, '-c', script], {
      platform, extraArgs: ['--publish', `${a}:7001`, '--publish', `[::1]:${b}:7001`, '--publish', `[::1]:${c}:7002/udp`],
    }), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (x: Buffer) => { out += x.toString(); });
    child.stderr.on('data', (x: Buffer) => { out += x.toString(); });
    const u = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    try {
      for (let i = 0; i < 900 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('ready');
      expect(await tcpAsk('127.0.0.1', a)).toBe('::ffff:10.0.2.2');
      expect(await tcpAsk('::1', b)).toBe('fd00::2');
      const got: string[] = [];
      u.on('message', (m) => got.push(m.toString()));
      for (let i = 0; i < 300 && got.length === 0; i++) {
        if (i % 50 === 0) u.send('hello', c, '::1');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got, `sandbox said: ${out}`).toEqual(['HELLO fd00::2']);
      for (let i = 0; i < 50 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toBe('ready\ntcp ::ffff:10.0.2.2\ntcp fd00::2\nudp fd00::2\n');
    } finally {
      u.close();
      child.kill('SIGKILL');
    }
  }, 150_000);

  it('a malformed or non-loopback host address is refused (exit 125)', async () => {
    const { runSandbox, describeResult } = await import('../helpers/run');
    for (const bad of ['[::2]:8080:80', '0.0.0.0:8080:80', '[::1]8080:80', '[::1]:0:80', '10.0.0.1:80:80']) {
      const r = await runSandbox(['/bin/true'], { platform, extraArgs: ['--publish', bad] });
      expect(r.code, `${bad}: ${describeResult(r)}`).toBe(125);
    }
  }, 120_000);
});
