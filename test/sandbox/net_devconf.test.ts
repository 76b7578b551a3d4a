// /proc/sys/net/ipv4/conf/{all,default,lo}/tag per network namespace ("default" reaching
// devices never written, a new namespace starting from the initial one's), compared with the
// native run of net_devconf.c, which writes only in namespaces of its own.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('ipv4 devconf is per namespace as natively', async () => {
    await expectSameAsNative([fixture('net_devconf')], platform, 30_000);
  }, 60_000);
});
