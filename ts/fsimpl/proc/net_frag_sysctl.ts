// /proc/sys/net/ipv4/ipfrag_* and /proc/sys/net/ipv6/ip6frag_*: the reassembly limits of the
// sandbox's stack (ts/tcpip/frag/), writable by root as Linux's ip4_frags_ns_ctl_table and
// ip6_frags_ns_ctl_table: high_thresh may not go below low_thresh nor low_thresh above
// high_thresh (proc_doulongvec_minmax with each other as bound), the times are seconds
// (proc_dointvec_jiffies), ipfrag_max_dist is at least 0. They change this stack only.

import type { Kernel } from '../../kernel/kernel';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { stackOf } from '../../tcpip/stack';
import { ipv4FragLimits } from '../../tcpip/frag/ipv4';
import { ipv6FragLimits } from '../../tcpip/frag/ipv6';
import type { FragLimits } from '../../tcpip/frag/queue';
import type { Inode } from '../../vfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { KSysctl } from '../kernfs/sysctl_file';

const HZ = 250;
const INT_MAX = 0x7fff_ffff;
const ULONG_MAX = 2 ** 63;

/** The first integer of a write (what follows a blank is ignored), else EINVAL. */
function firstInt(text: string): number {
  const m = /^\s*([+-]?\d+)(?:\s|$)/.exec(text);
  if (!m) fail(EINVAL);
  return Number(m[1]);
}

/** The reassembly sysctls of one family, named prefix + high_thresh, ... (ipfrag_, ip6frag_). */
export function fragSysctls(fs: KernFS, kernel: Kernel, v6: boolean): Record<string, Inode> {
  const dir = v6 ? 'ipv6' : 'ipv4';
  const prefix = v6 ? 'ip6frag_' : 'ipfrag_';
  const lim = (): FragLimits => (v6 ? ipv6FragLimits : ipv4FragLimits)(stackOf(kernel));
  const entry = (name: string, get: () => number, set: (v: number) => void): [string, Inode] =>
    [prefix + name, new KSysctl(fs, `sys/net/${dir}/${prefix}${name}`, () => `${get()}\n`, (_t, text) => set(firstInt(text)))];
  const seconds = (v: number): number => {
    if (v > INT_MAX / HZ || v < -INT_MAX / HZ) fail(EINVAL);
    return v;
  };
  let secretInterval = 0;
  const out: [string, Inode][] = [
    entry('high_thresh', () => lim().highThresh, (v) => {
      if (v < lim().lowThresh || v > ULONG_MAX) fail(EINVAL);
      lim().highThresh = v;
    }),
    entry('low_thresh', () => lim().lowThresh, (v) => {
      if (v < 0 || v > lim().highThresh) fail(EINVAL);
      lim().lowThresh = v;
    }),
    entry('time', () => Math.trunc(lim().timeMs / 1000), (v) => { lim().timeMs = seconds(v) * 1000; }),
    entry('secret_interval', () => secretInterval, (v) => { secretInterval = seconds(v); }),
  ];
  if (!v6) {
    const l4 = (): ReturnType<typeof ipv4FragLimits> => ipv4FragLimits(stackOf(kernel));
    out.push(entry('max_dist', () => l4().maxDist, (v) => {
      if (v < 0 || v > INT_MAX) fail(EINVAL);
      l4().maxDist = v;
    }));
  }
  return Object.fromEntries(out);
}
