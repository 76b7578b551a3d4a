// /proc items of issue 12: each subcommand of procfs.c must give the same output and status
// in the sandbox as natively.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus } from '../helpers/run';

const TIMEOUT_MS = 20_000;

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string): Promise<void> => {
    const argv = [fixture('procfs'), cmd];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('/proc/<pid>/mem: read, write, lseek, EIO for holes, another process', () => same('mem'));
  it('/proc/<pid>/status of another process', () => same('status'));
  it('/proc/self/task/* and /proc/<tid>', () => same('tasks'));
  it('/proc/self/auxv', () => same('auxv'));
  it('/proc/self/maps shows a fresh mapping at once', () => same('maps'));
  it('lseek on proc files and directories', () => same('seek'));
  it('/proc/<pid>/stat starttime: ticks since boot, later for a later child', () => same('starttime'));
  it('/proc/self/maps: a read-only MAP_SHARED of a host file is shown shared', () => same('sharedmap'));
}, 60_000);
