// FS_IOC_GETFLAGS/SETFLAGS on tmpfs and the VFS rules for immutable and append-only files:
// fsflags.c (in a private tmpfs mount; root needed natively) compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run needs root (a tmpfs mount, CAP_LINUX_IMMUTABLE)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('keeps and enforces inode flags as Linux does', async () => {
    await expectSameAsNative([fixture('fsflags')], platform, 60_000);
  }, 120_000);
});
