// splice, tee and vmsplice compared with the native run of fixture splice.c.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

let dir = '';
beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-splice-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('splice, tee and vmsplice behave as natively', async () => {
    await expectSameAsNative([fixture('splice'), dir], platform);
  });
});
