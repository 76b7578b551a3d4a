// /proc/sys/fs/nr_open is root's to set (it was read-only), and RLIMIT_NOFILE's hard limit may
// not pass it: nr_open.c compared with the native run, which writes the host's value and puts
// it back.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run writes /proc/sys/fs/nr_open, root\'s');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('sets fs.nr_open and is bounded by it, as natively', async () => {
    await expectSameAsNative([fixture('nr_open')], platform);
  });
});
