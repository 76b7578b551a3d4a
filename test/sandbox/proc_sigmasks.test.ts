// /proc/<pid>/status's SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt and SigQ, seen by the process
// and by its child, compared with the native run of proc_sigmasks.c (they read as zeros before).
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('signal masks in /proc/<pid>/status are as natively', async () => {
    await expectSameAsNative([fixture('proc_sigmasks')], platform, 60_000);
  }, 120_000);
});
