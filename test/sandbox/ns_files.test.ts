// /proc/<pid>/ns and setns(2) (ts/kernel/ns_file.ts, ts/fsimpl/proc/ns_dir.ts,
// ts/syscalls/linux/sys_setns.ts): the ns_files fixture compared with the native run, whose
// namespaces are the host's initial ones as the sandbox's are.
import { readlinkSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';

const INIT_NET = 'net:[4026531833]';
let hostNet = '';
try { hostNet = readlinkSync('/proc/self/ns/net'); } catch { /* no /proc here */ }
const notInit = skipBecause(hostNet !== INIT_NET || process.getuid?.() !== 0,
  `the native run must be root in the host's initial namespaces (net is ${hostNet || 'unknown'})`);

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notInit)('namespace links, files, ioctls and setns are what they are natively', async () => {
    await expectSameAsNative([fixture('ns_files')], platform, 60_000);
  }, 120_000);
});
