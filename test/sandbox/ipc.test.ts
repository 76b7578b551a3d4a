// System V IPC (shared memory, semaphores, message queues) and POSIX message queues,
// compared with the native run of each fixture. The fixtures use IPC_PRIVATE or ftok keys
// of their own temp files and remove everything they make, so the host is left clean.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox } from '../helpers/run';

const fixtures = ['sysv_shm', 'sysv_sem', 'sysv_msg', 'posix_mq'];

describe.each(platforms)('%s', (platform) => {
  it.each(fixtures)('%s behaves as natively', async (name) => {
    const native = await runNative([fixture(name)], { timeoutMs: 30_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture(name)], { platform, timeoutMs: 30_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(native.code);
  }, 60_000);
});
