// /proc/devices (Linux fs/proc/devices.c): the character device majors the sandbox's drivers
// answer (fsimpl/dev, fsimpl/devpts), with the names Linux registers them under; it has no
// block devices.

import { devMajor } from '../../abi/linux/stat';
import { MEM_MAJOR } from '../dev/mem_devices';
import { DEV_TTY } from '../dev/dev';
import { DEV_CONSOLE } from '../dev/console';
import { DEV_PTMX } from '../devpts/devpts_fs';
import { PTS_MAJOR } from '../devpts/ptmx';

export function procDevices(): string {
  const chr: [number, string][] = [
    [MEM_MAJOR, 'mem'], [devMajor(DEV_TTY), '/dev/tty'], [devMajor(DEV_CONSOLE), '/dev/console'],
    [devMajor(DEV_PTMX), '/dev/ptmx'], [PTS_MAJOR, 'pts'],
  ];
  return `Character devices:\n${chr.map(([m, n]) => `${String(m).padStart(3)} ${n}\n`).join('')}\nBlock devices:\n`;
}
