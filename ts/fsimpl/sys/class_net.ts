// /sys/class/net and /sys/devices/virtual/net (Linux net/core/net-sysfs.c): one directory per
// interface of the sandbox's stack (lo, eth0), each a virtual device, with the attributes
// programs read to learn an interface (address, mtu, operstate, flags, statistics...). Values
// are the stack's own (net/interfaces.ts), read at each open. Read-only here: changes go
// through ioctl and netlink, which the stack implements.

import type { Kernel } from '../../kernel/kernel';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { stackOf } from '../../tcpip/stack';
import { netInterfaces, type NetInterface } from '../../net/interfaces';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren, type DirSource } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';

/** operstates[]: IF_OPER_* as text. */
const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];
/** The dev->flags bits sysfs shows: IFF_RUNNING, IFF_LOWER_UP and IFF_DORMANT are
 *  dev_get_flags' additions, not the device's own. */
const IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000, IFF_DORMANT = 0x20000, IFF_UP = 0x1;

const STATISTICS = [
  'collisions', 'multicast', 'rx_bytes', 'rx_compressed', 'rx_crc_errors', 'rx_dropped', 'rx_errors', 'rx_fifo_errors',
  'rx_frame_errors', 'rx_length_errors', 'rx_missed_errors', 'rx_nohandler', 'rx_over_errors', 'rx_packets',
  'tx_aborted_errors', 'tx_bytes', 'tx_carrier_errors', 'tx_compressed', 'tx_dropped', 'tx_errors', 'tx_fifo_errors',
  'tx_heartbeat_errors', 'tx_packets', 'tx_window_errors',
];

const mac = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

function statistic(n: NetInterface, name: string): number {
  const s = n.stats;
  switch (name) {
    case 'rx_bytes': return Number(s.rxBytes);
    case 'rx_packets': return s.rxPackets;
    case 'rx_dropped': return s.rxDropped;
    case 'tx_bytes': return Number(s.txBytes);
    case 'tx_packets': return s.txPackets;
    case 'tx_dropped': return s.txDropped;
    default: return 0; // errors the stack never counts
  }
}

/** The device directory of the interface named `name` (its attributes read the live stack). */
function netDevice(fs: KernFS, kernel: Kernel, name: string): KDir {
  const key = `devices/virtual/net/${name}`;
  const nic = (): NetInterface => {
    const n = netInterfaces(stackOf(kernel)).find((x) => x.name === name);
    if (!n) throw new SyscallError(EINVAL);
    return n;
  };
  const attr = (file: string, text: (n: NetInterface) => string | number): KFile =>
    new KFile(fs, `${key}/${file}`, () => `${text(nic())}\n`);
  const running = (n: NetInterface): boolean => (n.flags & IFF_UP) !== 0;
  return new KDir(fs, key, staticChildren((): Record<string, Inode> => ({
    address: attr('address', (n) => mac(n.hwaddr)),
    addr_len: attr('addr_len', (n) => n.hwaddr.length),
    broadcast: attr('broadcast', (n) => mac(n.hwbroadcast)),
    // carrier of a device that is not up: EINVAL (netif_running false).
    carrier: attr('carrier', (n) => {
      if (!running(n)) throw new SyscallError(EINVAL);
      return (n.flags & IFF_LOWER_UP) !== 0 ? 1 : 0;
    }),
    dev_id: attr('dev_id', () => '0x0'),
    dev_port: attr('dev_port', () => 0),
    flags: attr('flags', (n) => `0x${(n.flags & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT)).toString(16)}`),
    ifindex: attr('ifindex', (n) => n.index),
    iflink: attr('iflink', (n) => n.index),
    mtu: attr('mtu', (n) => n.mtu),
    operstate: attr('operstate', (n) => OPERSTATES[n.operstate] ?? 'unknown'),
    tx_queue_len: attr('tx_queue_len', (n) => n.txqlen),
    type: attr('type', (n) => n.type),
    uevent: new KFile(fs, `${key}/uevent`, () => `INTERFACE=${name}\nIFINDEX=${nic().index}\n`),
    subsystem: new KSymlink(fs, `${key}/subsystem`, () => '../../../../class/net'),
    statistics: new KDir(fs, `${key}/statistics`, staticChildren(() => Object.fromEntries(STATISTICS.map((s) =>
      [s, attr(`statistics/${s}`, (n) => statistic(n, s))])))),
  })));
}

/** The interfaces as a directory: `make` gives each name's entry. */
function interfaces(kernel: Kernel, make: (name: string) => Inode): DirSource {
  const names = (): string[] => netInterfaces(stackOf(kernel)).map((n) => n.name);
  return { names, get: (name) => (names().includes(name) ? make(name) : null) };
}

/** /sys/devices/virtual/net. */
export function virtualNetDir(fs: KernFS, kernel: Kernel): KDir {
  return new KDir(fs, 'devices/virtual/net', interfaces(kernel, (name) => netDevice(fs, kernel, name)));
}

/** /sys/class/net: a link per interface to its device. */
export function classNetDir(fs: KernFS, kernel: Kernel): KDir {
  return new KDir(fs, 'class/net', interfaces(kernel, (name) =>
    new KSymlink(fs, `class/net/${name}`, () => `../../devices/virtual/net/${name}`)));
}
