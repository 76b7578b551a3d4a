// Unix-domain sockets: the C fixtures (stream; dgram, seqpacket, SCM_RIGHTS, SCM_CREDENTIALS,
// epoll, timeouts and signals) must print what they print natively; then real programs that
// need sockets: Python's socketpair, asyncio and subprocess, and Node's execSync.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const python = '/usr/bin/python3';
const node = '/usr/bin/node';

describe.each(platforms)('%s', (platform) => {
  const same = async (argv: string[]): Promise<void> => {
    const native = await runNative(argv);
    const r = await runSandbox(argv, { platform });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  };

  it('stream: names, errors, options, half-close, EPIPE/SIGPIPE, ECONNRESET, backlog, 8 MiB checksum', () =>
    same([fixture('unix_stream')]));
  it('dgram, seqpacket, SCM_RIGHTS, SCM_CREDENTIALS, epoll, timeouts, EINTR', () => same([fixture('unix_dgram')]));

  it('AF_NETLINK sockets exist; SOCK_STREAM is not one of their types (netif.test.ts has the rest)', async () => {
    const r = await runSandbox([python, '-c', [
      'import socket',
      's = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); print(s.family == socket.AF_NETLINK)',
      'try: socket.socket(socket.AF_NETLINK, socket.SOCK_STREAM, 0)',
      'except OSError as e: print(e.errno)',
    ].join('\n')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('True\n94\n');
  });

  it.skipIf(!existsSync(python))('python3: socketpair, asyncio, subprocess with captured output', async () => {
    const script = [
      'import socket, asyncio, subprocess',
      'a, b = socket.socketpair()',
      'a.sendall(b"ping" * 1000); print(len(b.recv(65536)) > 0)',
      'async def main():',
      '    await asyncio.sleep(0.01)',
      '    p = await asyncio.create_subprocess_exec("echo", "async", stdout=asyncio.subprocess.PIPE)',
      '    out, _ = await p.communicate()',
      '    return out',
      'print(asyncio.run(main()))',
      'print(subprocess.run(["echo", "hi"], capture_output=True).stdout)',
    ].join('\n');
    const r = await runSandbox([python, '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe("True\nb'async\\n'\nb'hi\\n'\n");
    expect(r.code).toBe(0);
  });

  // execSync's stdio are socketpairs. (console.log after it prints nothing in the sandbox yet:
  // not a socket matter, fs.writeSync to the same fd works.)
  it.skipIf(!existsSync(node))('node: child_process.execSync', async () => {
    const script = 'const out = require("child_process").execSync("echo hi").toString(); require("fs").writeSync(1, out)';
    const r = await runSandbox([node, '-e', script],
      { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('hi\n');
    expect(r.code).toBe(0);
  });
});
