// /proc/sys/net/ipv4/conf: the reader's network namespace's per-device IPv4 configuration
// (net/devconf.ts), one directory for "all", "default" and each interface, each field an
// integer root may write (proc_dointvec).

import type { Kernel } from '../../kernel/kernel';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import type { KernFS } from '../kernfs/kernfs';
import { KSysctl } from '../kernfs/sysctl_file';
import { netKey } from '../../kernel/ns/net_ns';
import { netInterfaces } from '../../net/interfaces';
import { stackOf } from '../../tcpip/stack';
import { DEVCONF_DEFAULTS, devconfValue, setDevconfValue, type DevconfField } from '../../net/devconf';
import { parseSysctlInt } from './net_dir';

export function ipv4ConfDir(fs: KernFS, kernel: Kernel): KDir {
  const base = 'sys/net/ipv4/conf';
  const confDir = (name: string): KDir => new KDir(fs, `${base}/${name}`, staticChildren(() => {
    const out: Record<string, Inode> = {};
    for (const field of Object.keys(DEVCONF_DEFAULTS) as DevconfField[]) {
      out[field] = new KSysctl(fs, `${base}/${name}/${field}`,
        (t) => `${devconfValue(t === null ? kernel : netKey(t), name, field)}\n`,
        (t, text) => setDevconfValue(netKey(t), name, field, parseSysctlInt(text, -0x8000_0000, 0x7fff_ffff)));
    }
    return out;
  }));
  return new KDir(fs, base, staticChildren(() => {
    const names = ['all', 'default', ...netInterfaces(stackOf(kernel)).map((n) => n.name)];
    return Object.fromEntries(names.map((n) => [n, confDir(n)]));
  }));
}
