// /sys/class/net/<if>, /sys/devices/virtual/{net,mem,tty} and /sys/dev/char compared with the
// native run of sys_class_net.c: lo's attributes, eth0's against its ioctls, and the device
// number links (before, /sys/class was empty and /sys/dev absent).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('network interfaces and character devices in /sys read as natively', async () => {
    await expectSameAsNative([fixture('sys_class_net')], platform, 60_000);
  }, 120_000);
});
