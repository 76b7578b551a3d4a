// devpts instances (fsimpl/devpts: one per mount, as Linux 4.7+) compared with the native run
// of devpts_instances.c in a private mount namespace: a ptmx node opens the instance mounted
// on its sibling pts/, numbers start at 0 in each, nodes and options stay in their instance.
import { describe, it } from 'vitest';
import { expectSameAsNativeInFreshDir, platforms, skipBecause } from '../helpers/run';

const notRoot = skipBecause(process.getuid?.() !== 0, 'the native run mounts and makes device nodes: it needs root');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot)('each devpts mount is an instance of its own, as natively', async () => {
    await expectSameAsNativeInFreshDir('devpts_instances', 'tsvisor-devpts-', platform);
  }, 120_000);
});
