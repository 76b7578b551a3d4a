// /proc items of issue 12: each subcommand of procfs.c must give the same output and status
// in the sandbox as natively.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asCurrentKernel, hostKernelBefore, type LineEdit } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus, skipBecause } from '../helpers/run';

const TIMEOUT_MS = 20_000;
/** The host's vsyscall page as its own maps shows it: the sandbox shows vsyscall=xonly's. */
const hostGateXonly = /^ffffffffff600000-ffffffffff601000 --xp .*\[vsyscall\]$/m.test(readFileSync('/proc/self/maps', 'utf8'));

/** AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN came with Linux 6.3, right after AT_PLATFORM (15);
 *  the sandbox gives them as a current kernel does (28 and 32 on x86-64). */
const noRseqAuxv = skipBecause(hostKernelBefore(6, 3),
  'host kernel predates 6.3: its /proc/self/auxv has no AT_RSEQ_FEATURE_SIZE/AT_RSEQ_ALIGN, so auxv checks the native lines and expects 6.3\'s two entries from the sandbox');
const AUXV_6_3: LineEdit[] = noRseqAuxv ? [{ old: /^type 15 matches getauxval: 1\n/m, now: 'type 15 matches getauxval: 1\ntype 27 = 28\ntype 28 = 32\n' }] : [];

const notRoot = skipBecause(process.getuid?.() !== 0, 'proc_access_other needs root (a thread becomes nobody)');

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string, edits: LineEdit[] = []): Promise<void> => {
    const argv = [fixture('procfs'), cmd];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, edits));
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('/proc/<pid>/mem: read, write, lseek, EIO for holes, another process', () => same('mem'));
  it('/proc/<pid>/status of another process', () => same('status'));
  it('/proc/self/task/* and /proc/<tid>', () => same('tasks'));
  it('/proc/self/auxv', () => same('auxv', AUXV_6_3));
  it('/proc/self/maps shows a fresh mapping at once', () => same('maps'));
  it('lseek on proc files and directories', () => same('seek'));
  it('/proc/<pid>/stat starttime: ticks since boot, later for a later child', () => same('starttime'));
  it('/proc/self/maps: a read-only MAP_SHARED of a host file is shown shared', () => same('sharedmap'));
  it('/proc/self/maps and smaps end with the [vsyscall] gate area, also in a child', async () => {
    if (skipBecause(!hostGateXonly, 'the host\'s vsyscall mode is not xonly (the sandbox shows xonly\'s gate)')) return;
    await same('gate');
  });
  /** A fixture of its own, which must end as natively. */
  const sameProgram = async (name: string): Promise<void> => {
    const argv = [fixture(name)];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  };
  it('/proc/self/fd/N of a socket or an anonymous-inode file does not open again (ENXIO); O_PATH and pipes do; ' +
    'O_DIRECTORY is ENOTDIR first', () => sameProgram('proc_fd_reopen'));
  it('link counts of pid, task, /proc and /proc/sys directories', () => sameProgram('proc_nlink'));
  it.skipIf(notRoot)('another user\'s /proc/<pid>: maps, smaps and the exe/cwd/root links need ptrace access',
    () => sameProgram('proc_access_other'));
  it('/proc/self/maps names mapped files by stat\'s dev:ino; fd links\' modes say how each is open',
    () => sameProgram('proc_fd_maps'));
  it('/proc/self/maps: an anonymous line ends with a blank; the area holding the brk heap is [heap]',
    () => sameProgram('proc_maps_lines'));
}, 60_000);
