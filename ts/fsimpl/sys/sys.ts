// sys: the sandbox's /sys, a small tree (Linux sysfs) holding what runtimes read to size
// themselves: the CPU lists (online, possible, present, one cpuN directory each), the
// transparent-huge-page policy, the network interfaces (class_net.ts) and the character
// devices (char_devices.ts). Read-only; it reflects the CPU count the sandbox reports and the
// sandbox's network stack.

import { SYSFS_MAGIC } from '../../abi/linux/fs';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import { KernFS } from '../kernfs/kernfs';
import { cpuCount } from '../../syscalls/linux/task_attrs';
import type { Kernel } from '../../kernel/kernel';
import { classNetDir, virtualNetDir } from './class_net';
import { charClassDirs, devDir, virtualCharClasses } from './char_devices';

export function newSysFS(kernel: Kernel): { fs: KernFS; root: Inode } {
  const fs = new KernFS('sysfs', SYSFS_MAGIC, true, { xattrs: true });
  const file = (key: string, text: () => string): KFile => new KFile(fs, key, text);
  const dir = (key: string, children: () => Record<string, Inode>): KDir => new KDir(fs, key, staticChildren(children));
  const cpuList = (): string => (cpuCount() === 1 ? '0\n' : `0-${cpuCount() - 1}\n`);
  const cpus = (): Record<string, Inode> => {
    const out: Record<string, Inode> = {
      online: file('cpu/online', cpuList),
      possible: file('cpu/possible', cpuList),
      present: file('cpu/present', cpuList),
    };
    for (let i = 0; i < cpuCount(); i++) {
      out[`cpu${i}`] = dir(`cpu/cpu${i}`, () => ({ online: file(`cpu/cpu${i}/online`, () => '1\n') }));
    }
    return out;
  };
  const root = dir('', () => ({
    devices: dir('devices', () => ({
      system: dir('devices/system', () => ({ cpu: dir('cpu', cpus) })),
      virtual: dir('devices/virtual', () => ({ net: virtualNetDir(fs, kernel), ...virtualCharClasses(fs) })),
    })),
    dev: devDir(fs),
    kernel: dir('kernel', () => ({
      mm: dir('kernel/mm', () => ({
        transparent_hugepage: dir('kernel/mm/thp', () => ({
          enabled: file('kernel/mm/thp/enabled', () => 'always [madvise] never\n'),
          defrag: file('kernel/mm/thp/defrag', () => 'always defer defer+madvise [madvise] never\n'),
        })),
      })),
    })),
    fs: dir('fs', () => ({ cgroup: dir('fs/cgroup', () => ({})) })),
    class: dir('class', () => ({ net: classNetDir(fs, kernel), ...charClassDirs(fs) })),
    bus: dir('bus', () => ({})),
  }));
  return { fs, root };
}
