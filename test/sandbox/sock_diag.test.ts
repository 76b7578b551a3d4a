// NETLINK_SOCK_DIAG (ts/net/netlink/sock_diag.ts): the sock_diag fixture's dumps, lookups,
// attributes and errors compared with the native run, and `ss` listing the sockets a program
// holds (TCP with its process, unix listeners) from the netlink answers, not /proc.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';
import { existsSync } from 'node:fs';

const noSs = skipBecause(!existsSync('/usr/bin/ss') && !existsSync('/bin/ss'), 'iproute2 ss is not installed');
const noPython = skipBecause(!existsSync('/usr/bin/python3'), 'python3 is not installed');

describe.each(platforms)('%s', (platform) => {
  it('sock_diag dumps, lookups and errors are what they are natively', async (ctx) => {
    const native = await runNative([fixture('sock_diag')], { timeoutMs: 60_000 });
    // Natively inet_diag may be a module the machine has not loaded (the KVM step's guest
    // loads only what it boots with): then there is nothing to compare with.
    if (skipBecause(native.stdout.startsWith('tcp dump: ENOENT\n'),
      'the native kernel has no inet_diag (a module not loaded): its sock_diag dump of TCP is ENOENT, nothing to compare the sandbox with')) ctx.skip();
    const r = await runSandbox([fixture('sock_diag')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000 * TIME_SCALE);

  it.skipIf(noSs || noPython)('ss lists a listener, a connection with its process, and a unix listener, without a /proc fallback', async () => {
    const script = [
      'import socket, subprocess',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16); port = s.getsockname()[1]',
      'c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept(); c.send(b"x" * 100)',
      'u = socket.socket(socket.AF_UNIX); u.bind("/tmp/tsvisor-ss-test"); u.listen(5)',
      'for args in (["ss", "-ltnp"], ["ss", "-tn", "state", "established"], ["ss", "-xl"]):',
      '    r = subprocess.run(args, capture_output=True, text=True)',
      '    print(r.stderr, end=""); print(r.stdout.replace(str(port), "PORT"), end="")',
    ].join('\n');
    const r = await runSandbox(['/usr/bin/python3', '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout, describeResult(r)).not.toContain('Cannot open netlink socket');
    const lines = r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines, describeResult(r)).toContain('LISTEN 0 16 127.0.0.1:PORT 0.0.0.0:* users:(("python3.11",pid=1,fd=3))');
    expect(lines.filter((l) => /^100 0 127\.0\.0\.1:PORT 127\.0\.0\.1:\d+$/.test(l)), describeResult(r)).toHaveLength(1);
    expect(lines.filter((l) => /^u_str LISTEN 0 5 \/tmp\/tsvisor-ss-test \d+ \* 0$/.test(l)), describeResult(r)).toHaveLength(1);
  }, 120_000 * TIME_SCALE);
});
