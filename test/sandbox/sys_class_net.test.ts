// /sys/class/net/<if>, /sys/devices/virtual/{net,mem,tty} and /sys/dev/char compared with the
// native run of sys_class_net.c: lo's attributes, eth0's against its ioctls, and the device
// number links (before, /sys/class was empty and /sys/dev absent).
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsCurrentKernel, type LineEdit } from '../helpers/native_kernel';
import { fixture, platforms, skipBecause } from '../helpers/run';

/** The sandbox's own network stack always has eth0 (--network sandbox, the default); a host
 *  without one (the QEMU guest has lo only; hosts naming their NIC otherwise) prints "no eth0"
 *  natively. There, the sandbox's eth0 lines are held to what a host with one prints: every
 *  attribute agreeing with its ioctl, up, Ethernet's broadcast address. */
const ETH0: LineEdit[] = skipBecause(!existsSync('/sys/class/net/eth0'), 'the host has no eth0 (the sandbox always has one): ' +
  'the native "no eth0" is read as a host\'s with one, whose attributes agree with its ioctls')
  ? [{
    old: /^no eth0$/m,
    now: [...['ifindex agrees', 'mtu agrees', 'address agrees', 'type agrees', 'flags agree'].map((l) => `eth0 ${l}: 1`),
      'eth0 operstate: up', 'eth0 broadcast: ff:ff:ff:ff:ff:ff'].join('\n'),
  }] : [];

describe.each(platforms)('%s', (platform) => {
  it('network interfaces and character devices in /sys read as natively', async () => {
    await expectSameAsCurrentKernel([fixture('sys_class_net')], platform, ETH0, 60_000);
  }, 120_000);
});
