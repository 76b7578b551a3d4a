// renameat2's flags on a --volume: RENAME_EXCHANGE, RENAME_NOREPLACE and RENAME_WHITEOUT go to
// the host atomically in the gofer's Trenameat2, and the sandbox's cached names follow both
// sides of an exchange: the output matches the native run in a host directory (EXCHANGE and
// WHITEOUT were EINVAL before). The host directory is then checked from outside.
import { lstatSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSameAsNativeOnVolume, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('renameat2 flags on a --volume answer as the host file system does natively', async () => {
    await expectSameAsNativeOnVolume('rename2_vol', 'tsvisor-rename2-', platform, {
      hostCheck: (volDir) => {
        // On the host: the exchanges and the whiteout happened there.
        expect(lstatSync(path.join(volDir, 'a')).isDirectory()).toBe(true);
        expect(readFileSync(path.join(volDir, 'sub', 'c'), 'utf8')).toBe('A');
        const w = lstatSync(path.join(volDir, 'e'));
        expect(w.isCharacterDevice() && w.rdev === 0, 'a 0:0 whiteout at the old name').toBe(true);
      },
    });
  });
});
