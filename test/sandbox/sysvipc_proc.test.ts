// /proc/sysvipc/{shm,sem,msg} (ts/fsimpl/proc/sysvipc.ts): the sysvipc_proc fixture (objects
// made in fresh IPC and pid namespaces, time columns masked) compared with its native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run makes IPC and pid namespaces: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('/proc/sysvipc lists the namespace\'s objects as natively', async () => {
    await expectSameAsNative([fixture('sysvipc_proc')], platform, 60_000);
  }, 120_000);
});
