// AF_INET and AF_INET6 over the sandbox's own TCP/IP stack (ts/tcpip, loopback only): the C
// fixtures must print what they print natively (native runs use the host's loopback, with
// ports from bind(0), so nothing collides); then real programs: python's http.server with
// urllib, and an asyncio echo server and client, in one sandbox.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, leftOutOfKvmCi, platforms, runNative, runSandbox } from '../helpers/run';

const python = '/usr/bin/python3';

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[]): Promise<void> => {
    const native = await runNative(argv);
    const r = await runSandbox(argv, { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  };

  it('TCP: 16 MiB echo v4 and v6 with checksums, errnos, non-blocking connect + epoll, half-close, SO_LINGER 0, dual stack',
    () => same([fixture('inet_tcp'), '16']), 120_000);
  it('UDP: echo v4 and v6, MSG_PEEK/TRUNC, connected filter, port unreachable -> ECONNREFUSED, EMSGSIZE',
    () => same([fixture('inet_udp')]), 120_000);
  it('UDP: connect to port 0 is no peer, disconnect gives back an autobound port, zero-length datagrams, SHUT_RD',
    () => same([fixture('udp_connect')]), 120_000);

  // CI's KVM step keeps one http.server and the asyncio case (real programs: threads, fork,
  // exec, polling on kvm); these two check the stack's own answers, as the host's run does.
  it.skipIf(!existsSync(python) || leftOutOfKvmCi(platform, 'inet\'s EAFNOSUPPORT case (the sentry\'s socket families; a python3 start)'))('families the stack does not have are EAFNOSUPPORT', async () => {
    const r = await runSandbox([python, '-c', [
      'import socket',
      'for f, t in ((socket.AF_PACKET, socket.SOCK_RAW),):',
      '  try: socket.socket(f, t)',
      '  except OSError as e: print(e.errno)',
      'print(socket.socket(socket.AF_INET, socket.SOCK_STREAM).family == socket.AF_INET)',
    ].join('\n')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('97\nTrue\n');
  });

  it.skipIf(!existsSync(python))('python3: http.server and urllib in one sandbox', async () => {
    const script = [
      'import subprocess, sys, time, urllib.request',
      'srv = subprocess.Popen([sys.executable, "-m", "http.server", "8000", "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")',
      'for i in range(200):',
      '    try:',
      '        r = urllib.request.urlopen("http://127.0.0.1:8000/")',
      '        print(r.status, b"Directory listing" in r.read()); break',
      '    except OSError: time.sleep(0.1)',
      'srv.terminate(); srv.wait()',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe('200 True\n');
    expect(r.code).toBe(0);
  }, 120_000);

  it.skipIf(!existsSync(python) || leftOutOfKvmCi(platform, 'inet\'s dual-stack http.server case (the stack\'s v4-mapped binding; the other http.server case runs)'))('python3: http.server on the dual-stack default and urllib to 127.0.0.1', async () => {
    const script = [
      'import subprocess, sys, time, urllib.request',
      'srv = subprocess.Popen([sys.executable, "-m", "http.server", "8001"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")',
      'for i in range(200):',
      '    try:',
      '        print(urllib.request.urlopen("http://127.0.0.1:8001/").status); break',
      '    except OSError: time.sleep(0.1)',
      'srv.terminate(); srv.wait()',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe('200\n');
  }, 120_000);

  it.skipIf(!existsSync(python) || leftOutOfKvmCi(platform, 'inet\'s asyncio echo case (the stack\'s TCP v4 and v6; a python3 start of ~12 s there, the http.server case runs)'))('python3: asyncio TCP echo server and client (v4 and v6)', async () => {
    const script = [
      'import asyncio',
      'async def handle(r, w):',
      '    while data := await r.read(65536):',
      '        w.write(data); await w.drain()',
      '    w.close()',
      'async def main(host):',
      '    srv = await asyncio.start_server(handle, host, 0)',
      '    port = srv.sockets[0].getsockname()[1]',
      '    r, w = await asyncio.open_connection(host, port)',
      '    payload = bytes(range(256)) * 4096',
      '    w.write(payload); await w.drain(); w.write_eof()',
      '    got = await r.read()',
      '    print(host, got == payload)',
      '    w.close(); srv.close(); await srv.wait_closed()',
      'asyncio.run(main("127.0.0.1")); asyncio.run(main("::1"))',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 90_000 });
    expect(r.stdout, describeResult(r)).toBe('127.0.0.1 True\n::1 True\n');
  }, 120_000);
});
