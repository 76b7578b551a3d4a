// Character devices by number (Linux fs/char_dev.c): opening a device node on any file
// system (devtmpfs, a tmpfs mknod, the overlay) finds its driver here by rdev. Drivers
// (fsimpl/dev) register at start-up; a number without a driver is ENXIO, as on Linux.

import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { ENXIO } from '../abi/linux/errno';
import type { FileDescription } from './file_description';
import type { VirtualDentry } from './virtual_dentry';

export type DeviceOpener = (t: Task | null, vd: VirtualDentry, flags: number) => FileDescription;

const chrdevs = new Map<number, DeviceOpener>();

export function registerCharDevice(rdev: number, open: DeviceOpener): void {
  chrdevs.set(rdev, open);
}

export function openCharDevice(t: Task | null, rdev: number, vd: VirtualDentry, flags: number): FileDescription {
  const open = chrdevs.get(rdev);
  if (!open) throw new SyscallError(ENXIO);
  return open(t, vd, flags);
}
