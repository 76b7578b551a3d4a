// The sandbox's character devices as sysfs shows them (Linux drivers/base/core.c): each a
// virtual device directory (devices/virtual/<class>/<name>) with its number (dev) and uevent,
// a link from its class (class/<class>/<name>) and one from /sys/dev/char/<major>:<minor>,
// which is how libudev and lsblk-like tools go from a stat()'s st_rdev to a device. The list
// is the devices fsimpl/dev and devpts serve; there are no block devices.

import { devMajor, devMinor } from '../../abi/linux/stat';
import { DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_URANDOM, DEV_ZERO } from '../dev/mem_devices';
import { DEV_TTY } from '../dev/dev';
import { DEV_CONSOLE } from '../dev/console';
import { DEV_PTMX } from '../devpts/devpts_fs';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';

interface CharDevice { cls: 'mem' | 'tty'; name: string; dev: number; /** The node's mode its class asks for (devnode). */ mode?: number }

const CHAR_DEVICES: CharDevice[] = [
  { cls: 'mem', name: 'null', dev: DEV_NULL, mode: 0o666 }, { cls: 'mem', name: 'zero', dev: DEV_ZERO, mode: 0o666 },
  { cls: 'mem', name: 'full', dev: DEV_FULL, mode: 0o666 }, { cls: 'mem', name: 'random', dev: DEV_RANDOM, mode: 0o666 },
  { cls: 'mem', name: 'urandom', dev: DEV_URANDOM, mode: 0o666 }, { cls: 'tty', name: 'tty', dev: DEV_TTY, mode: 0o666 },
  { cls: 'tty', name: 'console', dev: DEV_CONSOLE }, { cls: 'tty', name: 'ptmx', dev: DEV_PTMX, mode: 0o666 },
];

const number = (d: CharDevice): string => `${devMajor(d.dev)}:${devMinor(d.dev)}`;

function deviceDir(fs: KernFS, d: CharDevice): KDir {
  const key = `devices/virtual/${d.cls}/${d.name}`;
  const mode = d.mode === undefined ? '' : `DEVMODE=0${d.mode.toString(8)}\n`;
  return new KDir(fs, key, staticChildren(() => ({
    dev: new KFile(fs, `${key}/dev`, () => `${number(d)}\n`),
    uevent: new KFile(fs, `${key}/uevent`, () => `MAJOR=${devMajor(d.dev)}\nMINOR=${devMinor(d.dev)}\nDEVNAME=${d.name}\n${mode}`),
    subsystem: new KSymlink(fs, `${key}/subsystem`, () => `../../../../class/${d.cls}`),
  })));
}

/** devices/virtual/<class> for each class with character devices. */
export function virtualCharClasses(fs: KernFS): Record<string, Inode> {
  const out: Record<string, Inode> = {};
  for (const cls of ['mem', 'tty'] as const) {
    out[cls] = new KDir(fs, `devices/virtual/${cls}`, staticChildren(() => Object.fromEntries(
      CHAR_DEVICES.filter((d) => d.cls === cls).map((d) => [d.name, deviceDir(fs, d)]))));
  }
  return out;
}

/** class/<class>: a link per device. */
export function charClassDirs(fs: KernFS): Record<string, Inode> {
  const out: Record<string, Inode> = {};
  for (const cls of ['mem', 'tty'] as const) {
    out[cls] = new KDir(fs, `class/${cls}`, staticChildren(() => Object.fromEntries(CHAR_DEVICES.filter((d) => d.cls === cls)
      .map((d) => [d.name, new KSymlink(fs, `class/${cls}/${d.name}`, () => `../../devices/virtual/${cls}/${d.name}`)]))));
  }
  return out;
}

/** /sys/dev: char/<major>:<minor> links, and an empty block. */
export function devDir(fs: KernFS): KDir {
  return new KDir(fs, 'dev', staticChildren(() => ({
    char: new KDir(fs, 'dev/char', staticChildren(() => Object.fromEntries(CHAR_DEVICES.map((d) =>
      [number(d), new KSymlink(fs, `dev/char/${number(d)}`, () => `../../devices/virtual/${d.cls}/${d.name}`)])))),
    block: new KDir(fs, 'dev/block', staticChildren(() => ({}))),
  })));
}
