// /proc/<pid>/net (and /proc/net, a link to self/net) and /proc/sys/net: what the task's
// network namespace shows (/proc/sys/net: the initial namespace's) — the socket tables (net_sockets.ts), interfaces and routes
// (net_dev.ts), counters (net_snmp.ts), and the sysctls programs read, each with the value
// the stack really uses. Read-only but for the few a root program may tune (tcp_timestamps,
// the ICMP rate limits, the fragment reassembly limits, the congestion control default and
// allowed list).

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { netKey } from '../../kernel/ns/net_ns';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';
import { RMEM_DEFAULT, RMEM_MAX, SOMAXCONN, WMEM_DEFAULT, WMEM_MAX } from '../../abi/linux/socket';
import { stackOf, type Stack } from '../../tcpip/stack';
import { netSysctlsOf, type NetSysctls } from '../../tcpip/sysctl';
import { FIN_TIMEOUT_MS, TCP_MAX_RETRIES, TCP_SYNACK_RETRIES, TCP_SYN_RETRIES } from '../../tcpip/tcp/endpoint';
import { netInterfaces } from '../../net/interfaces';
import { KEEPALIVE_DEFAULTS } from '../../tcpip/tcp/keepalive';
import { pingGroupRange } from '../../net/inet/icmp_socket';
import { procNetRaw, procNetTcp, procNetUdp, procNetUnix } from './net_sockets';
import { KSysctl } from '../kernfs/sysctl_file';
import { setTcpTimestamps, tcpTimestampsOf } from '../../tcpip/tcp/timestamps';
import {
  CC_AVAILABLE, TCP_CA_BUF_MAX, TCP_CA_NAME_MAX, allowedCcOf, defaultCcOf, setAllowedCc, setDefaultCc, sysctlString,
} from '../../tcpip/tcp/cc_registry';
import { icmpRateLimiterOf, type IcmpLimits } from '../../tcpip/icmp/ratelimit';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';

/** proc_dou8vec_minmax / proc_dointvec_minmax: one integer in [min, max], else EINVAL. */
export function parseSysctlInt(text: string, min: number, max: number): number {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) fail(EINVAL);
  const v = Number(s);
  if (v < min || v > max) fail(EINVAL);
  return v;
}
import { fragSysctls } from './net_frag_sysctl';
import { procNetDev, procNetIfInet6, procNetIpv6Route, procNetRoute } from './net_dev';
import { ipv4ConfDir } from './net_devconf';
import { procNetIgmp, procNetIgmp6 } from './net_igmp';
import { procNetNetstat, procNetSnmp, procNetSockstat, procNetSockstat6 } from './net_snmp';

/** proc_dointvec's write: the first integer of the text (what follows a blank is ignored,
 *  as the table holds one value), in [min, max], else EINVAL. */
function parseFirstInt(text: string, min: number, max: number): number {
  const m = /^\s*([+-]?\d+)(?:\s|$)/.exec(text);
  if (!m) fail(EINVAL);
  const v = Number(m[1]);
  if (v < min || v > max) fail(EINVAL);
  return v;
}

/** Milliseconds kept in jiffies (proc_dointvec_ms_jiffies, HZ 250 as Debian's and Ubuntu's
 *  kernels): a value reads back rounded up to 4 ms. */
const MS_PER_JIFFY = 4;

/** A writable integer sysctl kept by the stack (tcpip/sysctl.ts): proc_dointvec or
 *  proc_dou8vec_minmax within [min, max]. */
function stackInt(fs: KernFS, kernel: Kernel, key: string, field: keyof NetSysctls, min: number, max: number): KSysctl {
  return new KSysctl(fs, `sys/net/${key}`, () => `${netSysctlsOf(stackOf(kernel))[field]}\n`, (_t, text) => {
    netSysctlsOf(stackOf(kernel))[field] = parseFirstInt(text, min, max);
  });
}

/** ipv4_local_port_range: one or two integers (a missing second keeps the current) in
 *  [1, 65535], the first no more than the second and not below ip_unprivileged_port_start
 *  (1024); else EINVAL. */
function setPortRange(stack: Stack, text: string): void {
  const m = /^\s*([+-]?\d+)(?:\s+([+-]?\d+))?\s*$/.exec(text);
  if (!m) fail(EINVAL);
  const low = Number(m[1]);
  const high = m[2] === undefined ? stack.portRange.high : Number(m[2]);
  if (low < 1 || high > 65535 || high < low || low < 1024) fail(EINVAL);
  stack.portRange.low = low;
  stack.portRange.high = high;
}

/** A writable integer sysctl of the stack's ICMP rate limits. */
function icmpLimit(fs: KernFS, kernel: Kernel, key: string, field: keyof IcmpLimits): KSysctl {
  const limits = (): IcmpLimits => icmpRateLimiterOf(stackOf(kernel)).limits;
  const ms = field === 'ratelimit' || field === 'ratelimit6';
  return new KSysctl(fs, key, () => `${limits()[field]}\n`, (_t, text) => {
    const v = parseFirstInt(text, field === 'ratemask' ? -0x8000_0000 : 0, 0x7fff_ffff);
    limits()[field] = ms ? Math.ceil(v / MS_PER_JIFFY) * MS_PER_JIFFY : v;
  });
}

/** /proc/<pid>/net: the network namespace of the task (the initial one once it is gone, or
 *  for the sentry's own reads). */
export function netDir(fs: KernFS, kernel: Kernel, key: string, task?: () => Task | undefined): KDir {
  const net = (): object => { const t = task?.(); return t ? netKey(t) : kernel; };
  const file = (name: string, gen: (n: object) => string): KFile => new KFile(fs, `${key}/${name}`, () => gen(net()));
  return new KDir(fs, key, staticChildren(() => ({
    tcp: file('tcp', (n) => procNetTcp(n, false)),
    tcp6: file('tcp6', (n) => procNetTcp(n, true)),
    udp: file('udp', (n) => procNetUdp(n, false)),
    udp6: file('udp6', (n) => procNetUdp(n, true)),
    raw: file('raw', (n) => procNetRaw(n, false)),
    raw6: file('raw6', (n) => procNetRaw(n, true)),
    unix: file('unix', procNetUnix),
    dev: file('dev', procNetDev),
    if_inet6: file('if_inet6', procNetIfInet6),
    igmp: file('igmp', procNetIgmp),
    igmp6: file('igmp6', procNetIgmp6),
    route: file('route', procNetRoute),
    ipv6_route: file('ipv6_route', procNetIpv6Route),
    snmp: file('snmp', procNetSnmp),
    netstat: file('netstat', procNetNetstat),
    sockstat: file('sockstat', procNetSockstat),
    sockstat6: file('sockstat6', procNetSockstat6),
  })));
}

/** /proc/sys/net. */
export function sysNetDir(fs: KernFS, kernel: Kernel): KDir {
  const file = (key: string, v: () => string | number): KFile => new KFile(fs, `sys/net/${key}`, () => `${v()}\n`);
  // Sysctl directories have one link (proc_sys_make_inode).
  const dir = (key: string, children: () => Record<string, Inode>): KDir =>
    new KDir(fs, `sys/net/${key}`, { ...staticChildren(children), nlink: () => 1 });
  const ipv6conf = (name: string): KDir => dir(`ipv6/conf/${name}`, () => ({
    disable_ipv6: file(`ipv6/conf/${name}/disable_ipv6`, () => 0),
    forwarding: file(`ipv6/conf/${name}/forwarding`, () => 0),
    hop_limit: file(`ipv6/conf/${name}/hop_limit`, () => 64),
    mtu: file(`ipv6/conf/${name}/mtu`, () => netInterfaces(stackOf(kernel)).find((n) => n.name === name)?.mtu ?? 1280),
  }));
  return dir('', () => ({
    core: dir('core', () => ({
      somaxconn: file('core/somaxconn', () => SOMAXCONN),
      rmem_default: file('core/rmem_default', () => RMEM_DEFAULT),
      rmem_max: file('core/rmem_max', () => RMEM_MAX),
      wmem_default: file('core/wmem_default', () => WMEM_DEFAULT),
      wmem_max: file('core/wmem_max', () => WMEM_MAX),
    })),
    ipv4: dir('ipv4', () => ({
      ip_local_port_range: new KSysctl(fs, 'sys/net/ipv4/ip_local_port_range', () => {
        const r = stackOf(kernel).portRange;
        return `${r.low}\t${r.high}\n`;
      }, (_t, text) => setPortRange(stackOf(kernel), text)),
      ip_default_ttl: file('ipv4/ip_default_ttl', () => 64),
      ping_group_range: file('ipv4/ping_group_range', () => pingGroupRange(kernel).join('\t')),
      ip_forward: stackInt(fs, kernel, 'ipv4/ip_forward', 'ipForward', -0x8000_0000, 0x7fff_ffff),
      tcp_recovery: stackInt(fs, kernel, 'ipv4/tcp_recovery', 'tcpRecovery', 0, 255),
      tcp_fin_timeout: file('ipv4/tcp_fin_timeout', () => FIN_TIMEOUT_MS / 1000),
      tcp_syn_retries: file('ipv4/tcp_syn_retries', () => TCP_SYN_RETRIES),
      tcp_synack_retries: file('ipv4/tcp_synack_retries', () => TCP_SYNACK_RETRIES),
      conf: ipv4ConfDir(fs, kernel),
      tcp_retries2: file('ipv4/tcp_retries2', () => TCP_MAX_RETRIES),
      tcp_window_scaling: file('ipv4/tcp_window_scaling', () => 1),
      tcp_sack: stackInt(fs, kernel, 'ipv4/tcp_sack', 'tcpSack', 0, 255),
      tcp_keepalive_time: file('ipv4/tcp_keepalive_time', () => KEEPALIVE_DEFAULTS.idleMs / 1000),
      tcp_keepalive_intvl: file('ipv4/tcp_keepalive_intvl', () => KEEPALIVE_DEFAULTS.intvlMs / 1000),
      tcp_keepalive_probes: file('ipv4/tcp_keepalive_probes', () => KEEPALIVE_DEFAULTS.cnt),
      tcp_timestamps: new KSysctl(fs, 'sys/net/ipv4/tcp_timestamps', () => `${tcpTimestampsOf(stackOf(kernel))}\n`,
        (_t, text) => setTcpTimestamps(stackOf(kernel), parseSysctlInt(text, 0, 255))),
      icmp_ratelimit: icmpLimit(fs, kernel, 'sys/net/ipv4/icmp_ratelimit', 'ratelimit'),
      icmp_ratemask: icmpLimit(fs, kernel, 'sys/net/ipv4/icmp_ratemask', 'ratemask'),
      icmp_msgs_per_sec: icmpLimit(fs, kernel, 'sys/net/ipv4/icmp_msgs_per_sec', 'msgsPerSec'),
      icmp_msgs_burst: icmpLimit(fs, kernel, 'sys/net/ipv4/icmp_msgs_burst', 'msgsBurst'),
      // proc_tcp_congestion_control and friends: names as proc_dostring takes them.
      tcp_congestion_control: new KSysctl(fs, 'sys/net/ipv4/tcp_congestion_control', () => `${defaultCcOf(stackOf(kernel))}\n`,
        (_t, text) => setDefaultCc(stackOf(kernel), sysctlString(text, TCP_CA_NAME_MAX))),
      tcp_available_congestion_control: file('ipv4/tcp_available_congestion_control', () => CC_AVAILABLE.join(' ')),
      tcp_allowed_congestion_control: new KSysctl(fs, 'sys/net/ipv4/tcp_allowed_congestion_control',
        () => `${allowedCcOf(stackOf(kernel)).join(' ')}\n`,
        (_t, text) => setAllowedCc(stackOf(kernel), sysctlString(text, TCP_CA_BUF_MAX))),
      ...fragSysctls(fs, kernel, false),
    })),
    ipv6: dir('ipv6', () => ({
      bindv6only: file('ipv6/bindv6only', () => 0),
      auto_flowlabels: stackInt(fs, kernel, 'ipv6/auto_flowlabels', 'autoFlowlabels6', 0, 3),
      ip_nonlocal_bind: stackInt(fs, kernel, 'ipv6/ip_nonlocal_bind', 'ipNonlocalBind6', 0, 255),
      ...fragSysctls(fs, kernel, true),
      icmp: dir('ipv6/icmp', () => ({
        ratelimit: icmpLimit(fs, kernel, 'sys/net/ipv6/icmp/ratelimit', 'ratelimit6'),
      })),
      conf: dir('ipv6/conf', () => {
        const names = ['all', 'default', ...netInterfaces(stackOf(kernel)).map((n) => n.name)];
        return Object.fromEntries(names.map((n) => [n, ipv6conf(n)]));
      }),
    })),
  }));
}
