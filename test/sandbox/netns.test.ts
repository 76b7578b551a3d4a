// Network namespaces (ts/kernel/ns/net_ns.ts, ts/net/netlink/link_admin.ts): the netns fixture
// compared with the native run, and `unshare -rn` with ip(8) as on Linux: a new namespace has
// only a loopback, down and without addresses, until `ip link set lo up`.
import { existsSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const IP = '/usr/sbin/ip';
let hostNet = '';
try { hostNet = readlinkSync('/proc/self/ns/net'); } catch { /* no /proc here */ }
const notInit = skipBecause(hostNet !== 'net:[4026531833]' || process.getuid?.() !== 0,
  `the native run makes namespaces as root from the host's initial ones (net is ${hostNet || 'unknown'})`);
const noIp = skipBecause(!existsSync(IP), `${IP} (iproute2) is not installed`);

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notInit || noIp)('a new network namespace, its loopback and its sockets behave as natively', async () => {
    await expectSameAsNative([fixture('netns'), IP], platform, 60_000);
  }, 120_000);

  it.skipIf(notInit || noIp)('unshare -rn ip link / ip addr / ip link set lo up, as natively', async () => {
    const script = `cat /proc/self/net/dev; ${IP} link; ${IP} addr; ${IP} link set lo up; ${IP} addr; ${IP} route get 127.0.0.1; ` +
      `${IP} link set lo down; ${IP} link; ${IP} link set eth9 up; echo "rc=$?"`;
    const argv = ['/usr/bin/unshare', '-rn', '/bin/sh', '-c', script];
    const [n, s] = [await runNative(argv), await runSandbox(argv, { platform, timeoutMs: 60_000 })];
    expect(s.code, describeResult(s)).toBe(n.code);
    expect(s.stdout).toBe(n.stdout);
    expect(s.stderr).toBe(n.stderr);
  }, 120_000);
});
