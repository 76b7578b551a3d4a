// renameat2(RENAME_WHITEOUT) on the sandbox's tmpfs (/dev/shm) answers as on the host's
// tmpfs (Linux's shmem_rename2, fixture rename_whiteout.c): a 0:0 character device of mode 0
// at the old name, owned as a new file of the caller, for a file and a directory, over a
// replaced name, unprivileged; ENOTEMPTY before any whiteout. It was EINVAL on wt-base25.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const TMPFS_MAGIC = 0x01021994;

describe.each(platforms)('%s', (platform) => {
  it('RENAME_WHITEOUT on tmpfs leaves what Linux leaves', async () => {
    if (statfsSync('/dev/shm').type !== TMPFS_MAGIC) {
      console.log('skipped: the host\'s /dev/shm is not a tmpfs to compare with');
      return;
    }
    const nd = mkdtempSync(path.join('/dev/shm', 'tsvisor-whiteout-'));
    try {
      const native = await runNative([fixture('rename_whiteout'), nd]);
      expect(native.code, describeResult(native)).toBe(0);
      // The sandbox's own /dev/shm: a tmpfs of the sentry's, empty at start.
      const r = await runSandbox([fixture('rename_whiteout'), '/dev/shm'], { platform });
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
      expect(r.code, describeResult(r)).toBe(0);
    } finally {
      rmSync(nd, { recursive: true, force: true });
    }
  });
});
