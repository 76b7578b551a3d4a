// The sandbox's way out (issue 8: eth0, the user-mode NAT, DNS, --publish, --network): the
// test runs its own servers on the host's loopback — a TCP echo, a UDP echo, a tiny DNS
// resolver — and the sandboxed clients reach them through the gateway 10.0.2.2 and the
// resolver 10.0.2.3. The C client is differential: natively it talks to 127.0.0.1 and must
// print the same. Traffic never leaves the host's loopback.
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, repoRoot, runNative, runSandbox, sandboxArgs, skipBecause } from '../helpers/run';
import { spawn } from 'node:child_process';

const python = '/usr/bin/python3';
const noPython = skipBecause(!existsSync(python), 'no /usr/bin/python3');
const goCandidates = ['/usr/local/go/bin/go', '/usr/bin/go'];
const go = goCandidates.find((g) => existsSync(g));
const noGo = skipBecause(go === undefined, `no Go toolchain (${goCandidates.join(', ')})`);

let tcpEcho: net.Server;
let udpEcho: dgram.Socket;
let dns: dgram.Socket;
let web: http.Server;
let tcpPort = 0, udpPort = 0, dnsPort = 0, webPort = 0, refusedPort = 0;
const dnsQueries: string[] = [];
let goDir = '';
let goBinary = '';

/** A DNS answer: every A query gets 192.0.2.7, anything else no answer (RFC 1035 §4). */
function dnsAnswer(q: Buffer): Buffer | null {
  if (q.length < 12) return null;
  let i = 12;
  const labels: string[] = [];
  while (i < q.length && q[i] !== 0) { labels.push(q.subarray(i + 1, i + 1 + q[i]).toString()); i += 1 + q[i]; }
  if (i + 5 > q.length) return null;
  const qtype = q.readUInt16BE(i + 1);
  dnsQueries.push(`${labels.join('.')}/${qtype}`);
  const question = q.subarray(12, i + 5);
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);
  head.writeUInt16BE(0x8180, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(qtype === 1 ? 1 : 0, 6);
  const ans = qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]) : Buffer.alloc(0);
  return Buffer.concat([head, question, ans]);
}

function listenTcp(s: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
}

function bindUdp(s: dgram.Socket): Promise<number> {
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)));
}

beforeAll(async () => {
  tcpEcho = net.createServer({ allowHalfOpen: true }, (c) => { c.on('error', () => {}); c.pipe(c); });
  tcpPort = await listenTcp(tcpEcho);
  udpEcho = dgram.createSocket('udp4');
  udpEcho.on('message', (m, r) => udpEcho.send(m, r.port, r.address));
  udpPort = await bindUdp(udpEcho);
  dns = dgram.createSocket('udp4');
  dns.on('message', (m, r) => { const a = dnsAnswer(m); if (a) dns.send(a, r.port, r.address); });
  dnsPort = await bindUdp(dns);
  web = http.createServer((req, res) => res.end(`hello ${req.url}`));
  webPort = await listenTcp(web);
  // A port nobody listens on: bound, then closed.
  const tmp = net.createServer();
  refusedPort = await listenTcp(tmp);
  await new Promise((r) => tmp.close(r));
  // The sentry forwards 10.0.2.3:53 to this resolver (read from the sentry's environment).
  process.env.TSVISOR_DNS_SERVER = `127.0.0.1:${dnsPort}`;
  // Built ahead by whoever runs this where a build would be too slow (the QEMU guest of
  // test/kvm/guest_suite.mjs: the Go toolchain under TCG takes minutes).
  const prebuilt = process.env.TSVISOR_GO_NETCLIENT;
  if (go !== undefined && prebuilt !== undefined && existsSync(prebuilt)) {
    goBinary = prebuilt;
  } else if (go !== undefined) {
    goDir = mkdtempSync(path.join(tmpdir(), 'tsvisor-go-net-'));
    goBinary = path.join(goDir, 'netclient');
    execFileSync(go, ['build', '-o', goBinary, '.'], {
      cwd: path.join(repoRoot, 'test', 'fixtures', 'go', 'netclient'),
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOCACHE: path.join(goDir, 'cache'), GOPATH: path.join(goDir, 'gopath'), GOFLAGS: '-mod=mod' },
      stdio: 'pipe',
    });
  }
}, 300_000);

afterAll(() => {
  tcpEcho?.close();
  udpEcho?.close();
  dns?.close();
  web?.close();
  delete process.env.TSVISOR_DNS_SERVER;
  if (goDir) rmSync(goDir, { recursive: true, force: true });
});

describe.each(platforms)('%s', (platform) => {
  it('C client through the gateway: 16 MiB echo with checksums and half-close, refused port -> ECONNREFUSED, UDP echo; same as native',
    async () => {
      const args = (addr: string): string[] => [fixture('net'), addr, String(tcpPort), String(refusedPort), String(udpPort), '16'];
      const native = await runNative(args(`127.0.0.1`));
      expect(native.stdout).toContain('checksums equal');
      const r = await runSandbox(args('10.0.2.2'), { platform, timeoutMs: 120_000 });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(native.code);
    }, 150_000);

  it.skipIf(noPython)('python3: getaddrinfo through 10.0.2.3 reaches the host resolver; the source address eth0 gives; no TCP to multicast or broadcast', async () => {
    const script = [
      'import socket',
      'print(open("/etc/resolv.conf").read().strip())',
      'print(sorted({a[4][0] for a in socket.getaddrinfo("svc.tsvisor.test", 80, socket.AF_INET)}))',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("192.0.2.1", 9)); print(s.getsockname()[0])',
      'for a in ("224.0.0.1", "255.255.255.255", "10.0.2.255"):',
      '    try: socket.socket().connect((a, 80))',
      '    except OSError as e: print(a, e.errno)',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 90_000 });
    // TCP to a multicast or broadcast address is ENETUNREACH, as tcp_v4_connect says.
    expect(r.stdout, describeResult(r)).toBe("nameserver 10.0.2.3\n['192.0.2.7']\n10.0.2.15\n224.0.0.1 101\n255.255.255.255 101\n10.0.2.255 101\n");
    expect(dnsQueries).toContain('svc.tsvisor.test/1');
  }, 120_000);

  it.skipIf(noPython)('--publish: a Node http client on the host reaches python3 http.server in the sandbox', async () => {
    const hostPort = await (async () => { const t = net.createServer(); const p = await listenTcp(t); await new Promise((r) => t.close(r)); return p; })();
    const child = spawn(process.execPath, sandboxArgs([python, '-u', '-m', 'http.server', '8000', '--bind', '0.0.0.0', '--directory', '/etc'],
      { platform, extraArgs: ['--publish', `${hostPort}:8000`] }), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      for (let i = 0; i < 900 && !out.includes('Serving HTTP'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('Serving HTTP');
      const get = (): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: hostPort, path: '/resolv.conf' }, (res) => {
          let body = '';
          res.on('data', (b: Buffer) => { body += b.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      const a = await get();
      expect(a).toEqual({ status: 200, body: 'nameserver 10.0.2.3\n' });
      const b = await get();
      expect(b.status).toBe(200);
      for (let i = 0; i < 50 && !out.includes('10.0.2.2 - -'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('"GET /resolv.conf HTTP/1.1" 200');
      expect(out).toContain('10.0.2.2 - -');
    } finally {
      child.kill('SIGKILL');
    }
  }, 150_000);

  it.skipIf(noPython)('--publish /udp: a host datagram reaches a python3 UDP echo in the sandbox and its answer comes back', async () => {
    const probe = dgram.createSocket('udp4');
    const hostPort = await bindUdp(probe);
    await new Promise((r) => probe.close(r));
    const script = [
      'import socket',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 9000))',
      'print("ready", flush=True)',
      'for i in range(2):',
      '    d, a = s.recvfrom(2048); s.sendto(d.upper(), a); print(a[0], flush=True)',
    ].join('\n');
    const child = spawn(process.execPath, sandboxArgs([python, '-c', script], { platform, extraArgs: ['--publish', `${hostPort}:9000/udp`] }),
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const c = dgram.createSocket('udp4');
    try {
      for (let i = 0; i < 900 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('ready');
      const got: string[] = [];
      c.on('message', (m) => got.push(m.toString()));
      for (const m of ['one', 'two']) {
        c.send(m, hostPort, '127.0.0.1');
        // Generous: a loaded CI host once needed more than 10 s for the second answer.
        for (let i = 0; i < 300 && got.length < (m === 'one' ? 1 : 2); i++) await new Promise((r) => setTimeout(r, 100));
      }
      expect(got, `sandbox said: ${out}`).toEqual(['ONE', 'TWO']);
      for (let i = 0; i < 50 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toBe('ready\n10.0.2.2\n10.0.2.2\n');
    } finally {
      c.close();
      child.kill('SIGKILL');
    }
  }, 150_000);

  it('hostile: a storm of connects and connects to refused destinations; the host sees only the one connection asked for, the sentry serves on', async () => {
    let accepted = 0;
    const canary = net.createServer((c) => { accepted++; c.on('error', () => {}); c.pipe(c); });
    const canaryPort = await listenTcp(canary);
    try {
      const r = await runSandbox([fixture('net_storm'), String(canaryPort), String(refusedPort), '300'], { platform, timeoutMs: 120_000 });
      expect(r.stdout, describeResult(r)).toBe('storm: 0 connected, 300 refused of 300\nrefused destinations: 0 connected\necho after the storm: 11 still here\n');
      expect(r.code, describeResult(r)).toBe(0);
      expect(accepted).toBe(1);
    } finally {
      canary.close();
    }
  }, 150_000);

  it.skipIf(noPython)('--network=none: lo only, the gateway is ENETUNREACH; a malformed --network or --publish exits 125', async () => {
    const script = [
      'import socket',
      'try: socket.create_connection(("10.0.2.2", 80))',
      'except OSError as e: print(e.errno)',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      'try: s.bind(("10.0.2.15", 0))',
      'except OSError as e: print(e.errno)',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 90_000, extraArgs: ['--network=none'] });
    expect(r.stdout, describeResult(r)).toBe('101\n99\n');
    for (const bad of [['--network=bogus'], ['--publish', '80'], ['--publish', '0:80'], ['--publish', '8080:80/sctp'], ['--network=none', '--publish', '9:9']]) {
      const b = await runSandbox(['/bin/true'], { platform, extraArgs: bad });
      expect(b.code, `${bad.join(' ')}: ${describeResult(b)}`).toBe(125);
    }
  }, 150_000);

  it('--network=host: the inet fixtures and the C client over host sockets print what they print natively', async () => {
    for (const argv of [[fixture('inet_tcp'), '4'], [fixture('inet_udp')],
      [fixture('net'), '127.0.0.1', String(tcpPort), String(refusedPort), String(udpPort), '8']]) {
      const native = await runNative(argv);
      const r = await runSandbox(argv, { platform, timeoutMs: 120_000, extraArgs: ['--network=host'] });
      expect(r.stdout, `${argv[0]}: ${describeResult(r)}`).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(native.code);
    }
  }, 300_000);

  it.skipIf(noGo)('Go: net.Resolver (pure Go) through 10.0.2.3 and net/http through the gateway', async () => {
    const r = await runSandbox([goBinary, 'gohost.tsvisor.test', `10.0.2.2:${webPort}`], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe('lookup [192.0.2.7] <nil>\nget 200 hello /\n');
    expect(r.code, describeResult(r)).toBe(0);
  }, 150_000);
});

